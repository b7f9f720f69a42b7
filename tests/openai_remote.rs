//! The remote predictor (`--predictor-url`) against real servers: a `proofstep serve` process
//! on 127.0.0.1 with a small model (random, or the committed default one), whose candidates
//! must be the local model's; the
//! search on the test world's real Lean through a served model; and stand-ins for what a
//! third-party server does that `proofstep serve` does not (ignoring `n`, failing, hanging,
//! answering without log-probabilities).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::openai_standin::{answer_with, StandInReply, StandInServer};
use common::ServeProcess;
use proofstep::model::{Decoding, GenerateOptions, Generator, Predictor};
use proofstep::openai::{RemoteOptions, RemotePredictor};

fn options(temperatures: Vec<f32>, samples: usize) -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Sample {
            temperatures,
            samples,
            top_p: 0.95,
        },
        max_new_tokens: 12,
        seed: 11,
    }
}

fn connect(url: &str) -> RemotePredictor {
    RemotePredictor::connect(RemoteOptions {
        url: url.to_string(),
        ..RemoteOptions::default()
    })
    .unwrap()
}

/// A predictor naming its model, each request allowed `timeout` and retried `retries` times.
fn patient(url: &str, timeout: Duration, retries: usize) -> RemotePredictor {
    RemotePredictor::connect(RemoteOptions {
        url: url.to_string(),
        model: Some("m".into()),
        timeout,
        retries,
        ..RemoteOptions::default()
    })
    .unwrap()
}

/// A predictor naming its model, so that it asks no `/v1/models` first.
fn named(url: &str) -> RemotePredictor {
    RemotePredictor::connect(RemoteOptions {
        url: url.to_string(),
        model: Some("m".into()),
        ..RemoteOptions::default()
    })
    .unwrap()
}

fn prompts() -> Vec<String> {
    [
        "m n : Nat\nh : m = n\n⊢ n + 0 = m",
        "p q : Prop\nh : p ∧ q\n⊢ q ∧ p",
        "⊢ True",
    ]
    .iter()
    .map(|s| proofstep::prompt::prompt(s))
    .collect()
}

fn serve(model: &Path) -> ServeProcess {
    ServeProcess::start(&["--port", "0", "--model", model.to_str().unwrap()], &[])
}

#[test]
fn greedy_candidates_and_scores_are_the_local_models() {
    // The committed default model: small, and trained, so its greedy steps are tactics (a
    // random model's are empty).
    let model = common::repo_root().join("models/testworld-small");
    let server = serve(&model);
    let remote = connect(&server.url());
    assert_eq!(
        remote.model(),
        Some("testworld-small"),
        "the name /v1/models lists"
    );
    let local = Generator::load(&model).unwrap();
    let greedy = options(vec![0.0], 4);
    let got = remote.generate(&prompts(), &greedy).unwrap();
    let want = local.generate(&prompts(), &greedy).unwrap();
    assert!(
        want.iter().all(|c| !c[0].text.is_empty()),
        "the model's greedy steps are tactics: {want:?}"
    );
    assert_eq!(got.len(), want.len());
    for (got, want) in got.iter().zip(&want) {
        assert_eq!(got.len(), 1, "greedy gives one candidate: {got:?}");
        assert_eq!(got[0].text, want[0].text);
        // Equal up to f32 rounding: the server may batch the requests as they arrive, and a
        // different batch takes the f32 kernels' other summation order (seen under load: 1.6e-7).
        assert!(
            (got[0].score - want[0].score).abs() < 1e-5,
            "{} vs {}: the mean log-probability with the end token, both sides",
            got[0].score,
            want[0].score
        );
    }
    assert_eq!(
        remote.requests(),
        prompts().len(),
        "one request per prompt: greedy samples are all alike, so one is asked for"
    );
}

#[test]
fn sampling_asks_n_per_temperature_in_one_request_each() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let server = serve(&model);
    let remote = connect(&server.url());
    let sampled = options(vec![0.8, 1.5], 6);
    let got = remote.generate(&prompts(), &sampled).unwrap();
    assert_eq!(remote.requests(), 2 * prompts().len());
    assert!(!remote.ignores_n(), "proofstep serve honours n");
    for candidates in &got {
        assert!(
            candidates.len() > 1,
            "several distinct samples: {candidates:?}"
        );
        assert!(candidates.windows(2).all(|w| w[0].score >= w[1].score));
        let mut texts: Vec<&str> = candidates.iter().map(|c| c.text.as_str()).collect();
        texts.dedup();
        assert_eq!(texts.len(), candidates.len(), "duplicates removed");
        assert!(candidates.iter().all(|c| c.score <= 0.0));
    }
    // The same texts; the scores may differ in the last bits, since the server may batch this
    // prompt with a different set of concurrent requests (f32 sums in another order).
    let again = remote.generate(&prompts(), &sampled).unwrap();
    assert_eq!(again.len(), got.len());
    for (a, b) in again.iter().zip(&got) {
        let texts = |c: &[proofstep::model::Candidate]| -> Vec<String> {
            c.iter().map(|c| c.text.clone()).collect()
        };
        assert_eq!(
            texts(a),
            texts(b),
            "the same seed gives the same candidates"
        );
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.score - y.score).abs() < 1e-6,
                "{} vs {}",
                x.score,
                y.score
            );
        }
    }
}

#[test]
fn a_server_that_ignores_n_is_asked_once_per_sample() {
    // llama-cpp-python's server answers one choice whatever n is; the text follows the seed.
    let standin = StandInServer::start(|_, received| {
        let request: serde_json::Value = serde_json::from_str(&received.body).unwrap();
        let seed = request["seed"].as_u64().unwrap();
        StandInReply::Answer(200, answer_with(&[&format!("tac{}", seed % 5)], -0.5))
    });
    let remote = RemotePredictor::connect(RemoteOptions {
        url: standin.url(),
        model: Some("stand-in".into()),
        ..RemoteOptions::default()
    })
    .unwrap();
    let sampled = options(vec![1.0], 4);
    let first = remote.generate(&prompts()[..1], &sampled).unwrap();
    assert_eq!(
        standin.requests().len(),
        4,
        "one request, then three for the missing samples"
    );
    assert!(remote.ignores_n());
    let seeds: std::collections::HashSet<u64> = standin
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seeds.len(), 4, "each sample has its own seed");
    let second = remote.generate(&prompts()[..1], &sampled).unwrap();
    assert_eq!(
        standin.requests().len(),
        8,
        "from then on one sample per request"
    );
    assert_eq!(first, second);
    assert!(first[0]
        .iter()
        .all(|c| c.score == -0.5 && c.text.starts_with("tac")));
    let sent: serde_json::Value = serde_json::from_str(&standin.requests()[0].body).unwrap();
    assert_eq!(sent["stop"], serde_json::json!(["<|endoftext|>"]));
    assert_eq!(sent["model"], "stand-in");
    assert_eq!(
        sent["prompt"],
        prompts()[0].as_str(),
        "the prompt format, unchanged"
    );
    assert_eq!(sent["max_tokens"], 12);
    assert_eq!(sent["logprobs"], 1);
}

#[test]
fn server_errors_are_retried_and_then_reported_with_the_fix() {
    let standin = StandInServer::start(|i, _| {
        if i < 2 {
            StandInReply::Answer(503, r#"{"error": {"message": "model is loading"}}"#.into())
        } else {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        }
    });
    let with_retries = |retries| {
        RemotePredictor::connect(RemoteOptions {
            url: standin.url(),
            model: Some("m".into()),
            retries,
            ..RemoteOptions::default()
        })
        .unwrap()
    };
    let got = with_retries(3)
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap();
    assert_eq!(got[0][0].text, "rfl");
    assert_eq!(
        standin.requests().len(),
        3,
        "two failures retried, the third answered"
    );

    let failing = StandInServer::start(|_, _| {
        StandInReply::Answer(500, r#"{"error": "out of memory"}"#.into())
    });
    let err = RemotePredictor::connect(RemoteOptions {
        url: failing.url(),
        model: Some("m".into()),
        retries: 1,
        ..RemoteOptions::default()
    })
    .unwrap()
    .generate(&prompts()[..1], &options(vec![0.0], 1))
    .unwrap_err()
    .to_string();
    assert_eq!(failing.requests().len(), 2);
    for part in [
        "failed 2 time(s)",
        "HTTP 500: out of memory",
        &format!("curl {}/models", failing.url()),
        "--predictor-retries",
    ] {
        assert!(err.contains(part), "{err:?} lacks {part:?}");
    }
}

#[test]
fn a_server_that_does_not_answer_times_out_and_says_so() {
    let standin = StandInServer::start(|_, _| StandInReply::Hang);
    let err = patient(&standin.url(), Duration::from_millis(300), 1)
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("failed 2 time(s)")
            && err.contains("no answer within 0.3 s (--predictor-timeout)"),
        "{err}"
    );
}

#[test]
fn refusals_are_reported_at_once_and_unreachable_servers_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let server = serve(&model);
    let remote = connect(&server.url());
    let mut too_long = options(vec![0.5], 2);
    too_long.max_new_tokens = 100_000;
    let err = remote
        .generate(&prompts()[..1], &too_long)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 400") && err.contains("\"max_tokens\" must be from 1 to 2048"),
        "{err}"
    );
    // Not retried: the one other request is a short prompt asked the same way, refused too,
    // which tells that the way of asking is refused, not this prompt.
    assert_eq!(remote.requests(), 2);

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", free.local_addr().unwrap());
    drop(free);
    let err = match RemotePredictor::connect(RemoteOptions {
        url: url.clone(),
        retries: 0,
        ..RemoteOptions::default()
    }) {
        Ok(_) => panic!("nothing listens at {url}"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!("{url}/models")) && err.contains("check that the server is running"),
        "{err}"
    );
}

#[test]
fn answers_without_log_probabilities_and_beam_search_are_refused_clearly() {
    let standin = StandInServer::start(|_, _| {
        StandInReply::Answer(200, r#"{"choices": [{"text": "rfl", "index": 0}]}"#.into())
    });
    let remote = RemotePredictor::connect(RemoteOptions {
        url: standin.url(),
        model: Some("m".into()),
        ..RemoteOptions::default()
    })
    .unwrap();
    let err = remote
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("returned no log-probabilities"), "{err}");
    let beam = GenerateOptions {
        decoding: Decoding::Beam { width: 4 },
        ..options(vec![0.0], 1)
    };
    let err = remote
        .generate(&prompts()[..1], &beam)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--beam") && err.contains("--temperatures"),
        "{err}"
    );
}

/// Answers that would rank or empty the search without a word: no choices at all (every
/// theorem would be recorded "not proved"), an empty log-probability list beside a text,
/// log-probabilities that are not finite or above 0 (ranked first), a redirect: each is an
/// error naming what is wrong, not a candidate.
#[test]
fn answers_with_no_choices_impossible_log_probabilities_or_a_redirect_are_errors() {
    let bodies = [
        (r#"{"choices": []}"#.to_string(), "no choices"),
        (
            r#"{"choices": [{"text": "rfl", "index": 0, "logprobs": {}}]}"#.to_string(),
            "returned no log-probabilities",
        ),
        (answer_with(&["rfl"], 1e308), "log-probability of"),
        (answer_with(&["rfl"], 2.5), "log-probability of 2.5"),
    ];
    for (body, expected) in bodies {
        let answer = body.clone();
        let standin = StandInServer::start(move |_, _| StandInReply::Answer(200, answer.clone()));
        let err = named(&standin.url())
            .generate(&prompts()[..1], &options(vec![0.0], 1))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{body}: {err}");
    }
    // A redirect is not followed (a 302 would turn the POST into a GET elsewhere, whose
    // answer would be taken for the model's): an error saying so.
    let standin = StandInServer::start(|_, _| StandInReply::Answer(307, String::new()));
    let err = named(&standin.url())
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 307") && err.contains("follows no redirect"),
        "{err}"
    );
    // An answer past the 16 MiB cap is refused once, not downloaded again by each retry.
    let huge = format!(
        "{{\"choices\": [{{\"text\": \"{}\"}}]}}",
        "a".repeat(17 << 20)
    );
    let standin = StandInServer::start(move |_, _| StandInReply::Answer(200, huge.clone()));
    let err = named(&standin.url())
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("longer than 16777216 bytes"), "{err}");
    assert_eq!(standin.requests().len(), 1);
    // A score at the edge stays a score: 0 and just below.
    let standin =
        StandInServer::start(|_, _| StandInReply::Answer(200, answer_with(&["rfl"], -0.0)));
    let found = named(&standin.url())
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap();
    assert_eq!(found[0][0].text, "rfl");
    assert_eq!(found[0][0].score, 0.0);
}

#[test]
fn the_api_key_comes_from_the_named_variable() {
    let standin = StandInServer::start(|_, received| {
        let authorized = received
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer sk-test");
        if received.line.starts_with("GET /v1/models") {
            StandInReply::Answer(200, r#"{"data": [{"id": "hosted"}]}"#.into())
        } else if authorized {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        } else {
            StandInReply::Answer(401, r#"{"error": {"message": "bad key"}}"#.into())
        }
    });
    let goal = "--goal=⊢ True";
    let generate = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_proofstep"));
        command.args([
            "generate",
            goal,
            "--temperature",
            "0",
            "--json",
            "--predictor-url",
            &standin.url(),
            "--predictor-api-key-env",
            "PROOFSTEP_TEST_KEY",
        ]);
        command.env_remove("PROOFSTEP_TEST_KEY");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    let ok = generate(&[("PROOFSTEP_TEST_KEY", "sk-test")]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json["candidates"][0]["text"], "rfl");
    let sent: serde_json::Value =
        serde_json::from_str(&standin.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["model"], "hosted", "the one model the server lists");
    let missing = generate(&[]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("--predictor-api-key-env PROOFSTEP_TEST_KEY: the variable is not set"),
        "{err}"
    );
    let wrong = generate(&[("PROOFSTEP_TEST_KEY", "sk-wrong")]);
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("HTTP 401: bad key") && err.contains("--predictor-api-key-env"),
        "{err}"
    );
}

#[test]
fn the_command_line_refuses_beam_search_and_a_model_beside_a_server() {
    let out = common::proofstep_at_root(&[
        "prove",
        "--theorem",
        "test_thm",
        "--file",
        "lean/mini/Example.lean",
        "--predictor-url",
        "http://127.0.0.1:9/v1",
        "--beam",
        "4",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a usage error: {err}");
    assert!(
        err.contains("beam search (--beam) cannot run on a remote predictor"),
        "{err}"
    );
    let out = common::proofstep_at_root(&[
        "serve",
        "--model",
        "models/testworld-small",
        "--predictor-url",
        "http://127.0.0.1:9/v1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Whether `err` says the deadline came before the server answered anything in the call
/// (which the search reads as its time running out when the server answered it before, and
/// as no verdict when it never did).
fn no_answer_in_time(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<proofstep::openai::RemoteError>(),
        Some(proofstep::openai::RemoteError::NoAnswerInTime { .. })
    )
}

/// A server that does not answer holds a caller with a deadline only until it: the requests
/// in flight are cut short there and answer nothing (`NoAnswerInTime`), where `generate`
/// would wait out its 30 s timeout twice — while the server has answered within that time.
#[test]
fn a_deadline_cuts_a_silent_server_short_with_no_candidates() {
    let standin = StandInServer::start(|_, _| StandInReply::Hang);
    let remote = patient(&standin.url(), Duration::from_secs(30), 1);
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_millis(800);
    let err = remote
        .generate_until(&prompts()[..2], &options(vec![0.0, 1.0], 4), deadline)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(no_answer_in_time(&err), "{err}");
    // Silent for longer than a request with its retries could take (2 s here): the server's
    // failure, not the caller's time, so an evaluation stops instead of recording theorems
    // "not proved" one time limit after another.
    let remote = patient(&standin.url(), Duration::from_secs(2), 0);
    let started = std::time::Instant::now();
    let err = loop {
        let deadline = std::time::Instant::now() + Duration::from_millis(600);
        match remote.generate_until(&prompts()[..1], &options(vec![0.0], 1), deadline) {
            Err(err) if no_answer_in_time(&err) => {}
            Err(err) => break err.to_string(),
            Ok(found) => panic!("{found:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never an error"
        );
    };
    assert!(err.contains("no answer for"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// The server's silence counts only while it has a request: a search that spends longer
/// than a request's patience checking candidates in Lean (here a 1.5 s pause, against a
/// patience of 1 s) and then runs out of time on its next request is out of time, not facing
/// a dead server. A request it then holds for longer than the patience is the failure.
#[test]
fn time_between_requests_is_not_the_servers_silence() {
    let standin = StandInServer::start(|i, _| {
        if i == 0 {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        } else {
            StandInReply::Hang
        }
    });
    let remote = patient(&standin.url(), Duration::from_secs(1), 0);
    let first = remote
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap();
    assert_eq!(first[0].len(), 1, "{first:?}");
    std::thread::sleep(Duration::from_millis(1500));
    let cut = |ms| {
        let deadline = std::time::Instant::now() + Duration::from_millis(ms);
        remote.generate_until(&prompts()[..1], &options(vec![0.0], 1), deadline)
    };
    let err = cut(400).unwrap_err();
    assert!(no_answer_in_time(&err), "{err}");
    // Still unanswered since that request: 0.4 + 0.8 s is past the patience.
    let err = cut(800).unwrap_err().to_string();
    assert!(err.contains("no answer for"), "{err}");
}

/// A server that answers, even only to say it lacks a route (`/v1/models`: 404), is not
/// silent: a request held past a search's deadline after a pause longer than the patience
/// (Lean's time, here 1.5 s against 0.5 s × 2) is out of time. A failure to retry (503) whose
/// retries the deadline cuts is neither an answer nor a dead server: its own error, which
/// `eval` records as a theorem to search again.
#[test]
fn answers_are_not_silence_and_a_cut_retry_is_its_own_failure() {
    let standin = StandInServer::start(|i, received| {
        if received.line.starts_with("GET") {
            StandInReply::Answer(404, "{}".into())
        } else if i == 1 {
            StandInReply::Hang
        } else {
            StandInReply::busy()
        }
    });
    let remote = RemotePredictor::connect(RemoteOptions {
        url: standin.url(),
        timeout: Duration::from_millis(500),
        retries: 1,
        ..RemoteOptions::default()
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let cut = |ms| {
        let deadline = std::time::Instant::now() + Duration::from_millis(ms);
        remote.generate_until(&prompts()[..1], &options(vec![0.0], 1), deadline)
    };
    let err = cut(150).unwrap_err();
    assert!(no_answer_in_time(&err), "{err}");
    let err = cut(150).unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<proofstep::openai::RemoteError>(),
            Some(proofstep::openai::RemoteError::CutAfterFailure { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 503: busy"), "{err}");
    // Failing for longer than the patience (0.5 s × 2) since the unanswered request: the
    // server's failure, which stops an evaluation.
    std::thread::sleep(Duration::from_millis(1000));
    let err = cut(150).unwrap_err().to_string();
    assert!(err.contains("no answer for"), "{err}");
}

/// A server that refuses one prompt (vLLM's 400 for a prompt past its context) but answers
/// others: that state gets no candidates and the caller goes on, whether or not the server has
/// answered before (a short prompt asked the same way tells); a server that refuses every
/// request (a flag it rejects) is still an error.
#[test]
fn a_refused_prompt_is_no_candidates_and_a_refused_request_an_error() {
    let too_long = StandInServer::start(|_, received| {
        if received.body.contains("h : p") {
            StandInReply::Answer(
                400,
                r#"{"error": {"message": "This model's maximum context length is 2048 tokens"}}"#
                    .into(),
            )
        } else {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        }
    });
    // Its first request refused: a short prompt tells it is the prompt.
    let remote = named(&too_long.url());
    let found = remote
        .generate(&prompts()[1..2], &options(vec![0.0], 1))
        .unwrap();
    assert!(found[0].is_empty(), "{found:?}");
    // Beside prompts it answers.
    let found = remote
        .generate(&prompts()[..3], &options(vec![0.0], 1))
        .unwrap();
    assert!(
        !found[0].is_empty() && found[1].is_empty() && !found[2].is_empty(),
        "{found:?}"
    );
    // A way of asking the server refuses whatever the prompt (max_tokens past its context,
    // n > 1), after it has answered other requests: still the run's error, not a refused prompt.
    let fussy = StandInServer::start(|_, received| {
        let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
        if body["max_tokens"].as_u64().unwrap_or(0) > 100 || body["n"].as_u64().unwrap_or(1) > 1 {
            StandInReply::Answer(
                400,
                r#"{"error": {"message": "max_tokens or n too large"}}"#.into(),
            )
        } else {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        }
    });
    let remote = named(&fussy.url());
    let found = remote
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap();
    assert!(!found[0].is_empty(), "{found:?}");
    let mut long = options(vec![0.0], 1);
    long.max_new_tokens = 4096;
    let err = remote
        .generate(&prompts()[..1], &long)
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 400"), "{err}");
    let err = remote
        .generate(&prompts()[..1], &options(vec![1.0], 4))
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 400"), "{err}");
    // Every real prompt refused while the short one passes (--max-tokens nearly filling the
    // context): after 16 in a row, the run's error.
    let all_long = StandInServer::start(|_, received| {
        if received.body.contains("⊢ True") {
            StandInReply::Answer(200, answer_with(&["rfl"], -0.1))
        } else {
            StandInReply::Answer(400, r#"{"error": {"message": "too long"}}"#.into())
        }
    });
    let remote = named(&all_long.url());
    let calls = (1..=20)
        .find(|_| {
            remote
                .generate(&prompts()[..1], &options(vec![0.0], 1))
                .is_err()
        })
        .unwrap();
    assert_eq!(calls, 16);
    let refusing = StandInServer::start(|_, _| {
        StandInReply::Answer(400, r#"{"error": {"message": "unknown field"}}"#.into())
    });
    let err = named(&refusing.url())
        .generate(&prompts()[..1], &options(vec![0.0], 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 400") && err.contains("unknown field"),
        "{err}"
    );
}

/// A server that fails (no connection here) until the deadline cuts the retries short is
/// reported with its failure, not as a search out of time: an evaluation must not record
/// theorems "not proved" that no model was asked about.
#[test]
fn retries_cut_by_the_deadline_end_in_the_servers_failure() {
    let remote = patient("http://127.0.0.1:9/v1", Duration::from_secs(5), 8);
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_millis(1200);
    let err = remote
        .generate_until(&prompts()[..1], &options(vec![0.0], 1), deadline)
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// `prove test_thm --json` with the model at `url` alone (no listed tactics), within 3 s.
fn prove_within_3_s(url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "prove",
        "--theorem",
        "test_thm",
        "--file",
        "lean/mini/Example.lean",
        "--predictor-url",
        url,
        "--predictor-model",
        "m",
        "--no-also-try",
        "--time-limit",
        "3",
        "--json",
    ];
    args.extend_from_slice(extra);
    common::proofstep_at_root(&args)
}

/// `prove --time-limit` bounds the time spent waiting on a server, not only on Lean: against a
/// server that never answers (30 s per request, retried), the search stops at its limit. The
/// model answered nothing, so that is no verdict on the theorem: the model's failure (exit 4),
/// not "not proved".
#[test]
fn prove_stops_at_its_time_limit_while_the_server_is_silent() {
    let Some(_) = common::test_lean("prove_stops_at_its_time_limit_while_the_server_is_silent")
    else {
        return;
    };
    let standin = StandInServer::start(|_, _| StandInReply::Hang);
    let started = std::time::Instant::now();
    let out = prove_within_3_s(&standin.url(), &["--predictor-timeout", "30"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}: {stderr}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("answered nothing before the time limit"),
        "{stderr}"
    );
}

/// A search the model has answered before ends out of time when its last request fails as the
/// time limit comes (a 503 whose retries the limit cuts): a verdict like any search's, not a
/// failure of the model (exit 1, not 4).
#[test]
fn a_failure_at_the_time_limit_after_answers_ends_the_search_out_of_time() {
    let Some(_) =
        common::test_lean("a_failure_at_the_time_limit_after_answers_ends_the_search_out_of_time")
    else {
        return;
    };
    let standin = StandInServer::start(|i, _| {
        if i == 0 {
            StandInReply::Answer(200, answer_with(&["exact (1 : Nat)"], -0.1))
        } else {
            StandInReply::busy()
        }
    });
    let out = prove_within_3_s(
        &standin.url(),
        &["--predictor-retries", "20", "--samples", "1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["stop"], "time_limit", "{result}");
    assert!(standin.requests().len() >= 2);
}

/// An evaluation against a server that fails (503) whenever the time limit cuts its retries,
/// or never answers before it, records no verdict: each theorem is marked to search again,
/// and the rerun against a working server searches them all instead of resuming "not proved"
/// lines.
#[test]
fn eval_searches_again_the_theorems_a_failing_server_left_unsearched() {
    let Some(_) =
        common::test_lean("eval_searches_again_the_theorems_a_failing_server_left_unsearched")
    else {
        return;
    };
    searched_again_after(StandInServer::start(|_, _| StandInReply::busy()));
    searched_again_after(StandInServer::start(|_, _| StandInReply::Hang));
}

/// `eval` of the example file into `out` through the model at `url` alone, three seconds per
/// theorem (Lean's start, which comes out of them, took 0.6 s on a loaded CI machine), the
/// request retried six times; `extra` flags last.
fn eval_example_through(url: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        "--dataset",
        "lean/mini/Example.lean",
        "--predictor-url",
        url,
        "--predictor-model",
        "m",
        "--predictor-retries",
        "6",
        "--no-also-try",
        "--time-limit",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::proofstep_at_root(&args)
}

/// An evaluation of the example file against `failing`, then again against a working server.
fn searched_again_after(failing: StandInServer) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.jsonl");
    let eval = |url: &str| eval_example_through(url, &results, &[]);
    let out = eval(&failing.url());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty(), "{stderr}");
    // Results written, the run not complete: not 0, so that a scheduler does not go on.
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(
        lines
            .iter()
            .all(|r| r["retry"] == true && r["proved"] == false),
        "{lines:?}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("because Lean or the model server failed"),
        "{stdout}{stderr}"
    );
    let working =
        StandInServer::start(|_, _| StandInReply::Answer(200, answer_with(&["simp_all"], -0.1)));
    let out = eval(&working.url());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{} searched", lines.len())) && said.contains("0 resumed"),
        "{said}"
    );
}

/// Shards of one run where the server failed for one of them: the merge keeps a verdict from
/// any file over a record to retry, says how many are still to search and exits 8 (not done);
/// the whole run's `eval` on the merged file searches just those.
#[test]
fn a_merge_holding_theorems_to_retry_is_unfinished_until_they_are_searched() {
    let test = "a_merge_holding_theorems_to_retry_is_unfinished_until_they_are_searched";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    // One server for the whole run (its URL is part of the run's settings), failing on demand.
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let switch = failing.clone();
    let server = StandInServer::start(move |_, _| {
        if switch.load(std::sync::atomic::Ordering::Relaxed) {
            StandInReply::busy()
        } else {
            StandInReply::Answer(200, answer_with(&["simp_all"], -0.1))
        }
    });
    let url = server.url();
    let eval = |out: &str, extra: &[&str]| eval_example_through(&url, &at(out), extra);
    let said = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let failed = eval("s0_failed.jsonl", &["--shard", "0/2"]);
    assert_eq!(failed.status.code(), Some(8), "{}", said(&failed));
    let to_retry = std::fs::read_to_string(at("s0_failed.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert!(to_retry > 0);
    failing.store(false, std::sync::atomic::Ordering::Relaxed);
    let one = eval("s1.jsonl", &["--shard", "1/2"]);
    assert_eq!(one.status.code(), Some(0), "{}", said(&one));
    let again = eval("s0_again.jsonl", &["--shard", "0/2"]);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));

    let merge = |out: &str, shards: &[&str]| {
        let out = at(out);
        let mut args = vec!["eval", "merge", "--out", out.to_str().unwrap()];
        let shards: Vec<String> = shards.iter().map(|s| at(s).display().to_string()).collect();
        args.extend(shards.iter().map(String::as_str));
        common::proofstep_at_root(&args)
    };
    // The failed shard alone: written, but not a finished run.
    let partial = merge("m1.jsonl", &["s0_failed.jsonl", "s1.jsonl"]);
    let text = said(&partial);
    assert_eq!(partial.status.code(), Some(8), "{text}");
    assert!(
        text.contains(&format!("{to_retry} theorems are still to search")),
        "{text}"
    );
    let report = std::fs::read_to_string(at("m1.report.md")).unwrap();
    assert!(report.contains("**Not complete:**"), "{report}");
    // Its verdicts in another file, given after it: they replace the records to retry.
    let whole = merge(
        "m2.jsonl",
        &["s0_failed.jsonl", "s1.jsonl", "s0_again.jsonl"],
    );
    let text = said(&whole);
    assert_eq!(whole.status.code(), Some(0), "{text}");
    assert!(!text.contains("still to search"), "{text}");
    // The whole run on the first merge searches exactly the theorems to retry.
    let resumed = eval("m1.jsonl", &[]);
    let text = said(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("this run: {to_retry} searched")),
        "{text}"
    );
}

#[test]
fn a_search_through_a_served_model_proves_test_thm_on_real_lean() {
    let Some(_) = common::test_lean("a_search_through_a_served_model_proves_test_thm_on_real_lean")
    else {
        return;
    };
    // The default model, served; the search asks it over HTTP.
    let server = ServeProcess::start(&["--port", "0"], &[]);
    let out = common::proofstep_at_root(&[
        "prove",
        "--theorem",
        "test_thm",
        "--file",
        "lean/mini/Example.lean",
        "--predictor-url",
        &server.url(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["proved"], true);
    assert_eq!(result["stop"], "proved");
    let text = result["proof_text"].as_str().unwrap();
    assert!(text.starts_with("theorem test_thm"), "{text}");
    assert!(
        result["trace"][0]["candidates"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "the served model proposed the steps: {result}"
    );
}
