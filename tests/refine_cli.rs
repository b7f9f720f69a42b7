//! `proofstep refine` from the command line against the test world's real Lean, the model
//! played by `StandInServer` (a scripted OpenAI chat endpoint standing in for a hosted model):
//! the key comes from the environment variable `--api-key-env` names, the JSON says which
//! attempt and round proved it and what it cost, and no proof is exit code 1.

mod common;

use common::openai_standin::{StandInReply, StandInServer};

/// The chat model's answer `content`, with token counts.
fn chat_answer(content: &str) -> StandInReply {
    StandInReply::Answer(
        200,
        serde_json::json!({
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 15, "total_tokens": 135}
        })
        .to_string(),
    )
}

fn answering(content: &'static str) -> StandInServer {
    StandInServer::start(move |_, _| chat_answer(content))
}

fn refine(server: &StandInServer, extra: &[&str]) -> std::process::Output {
    refine_at(&server.url(), extra)
}

/// `proofstep refine` of `and_swap` with the model at `url`.
fn refine_at(url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "refine",
        "--file",
        "lean/mini/Example.lean",
        "--theorem",
        "and_swap",
        "--api-url",
        url,
        "--api-model",
        "stand-in",
        "--api-key-env",
        "PROOFSTEP_TEST_REFINE_KEY",
        "--backend",
        "file",
    ];
    args.extend_from_slice(extra);
    std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(&args)
        .current_dir(common::repo_root())
        .env_remove("PROOFSTEP_LEAN")
        .env_remove("LEAN_PATH")
        .env("PROOFSTEP_TEST_REFINE_KEY", "sk-test-123")
        .output()
        .expect("the proofstep binary runs")
}

#[test]
fn refine_prints_which_attempt_and_round_proved_it_with_the_token_counts() {
    if common::test_lean("refine_prints_which_attempt_and_round_proved_it_with_the_token_counts")
        .is_none()
    {
        return;
    }
    let server = answering("```lean\nconstructor\n· exact h.right\n· exact h.left\n```");
    let out = refine(&server, &["--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["proved"], true, "{json}");
    assert_eq!(
        (json["attempt"].as_u64(), json["round"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(json["found_by"], "model");
    assert_eq!(json["model_calls"], 1);
    assert_eq!(json["tokens"]["prompt"], 120);
    assert_eq!(json["tokens"]["completion"], 15);
    assert!(json["proof_text"]
        .as_str()
        .unwrap()
        .starts_with("theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  constructor\n"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].line.starts_with("POST /v1/chat/completions"));
    assert!(requests[0]
        .headers
        .iter()
        .any(|(name, value)| name == "authorization" && value == "Bearer sk-test-123"));
}

#[test]
fn refine_without_a_proof_exits_1_and_says_what_to_try() {
    if common::test_lean("refine_without_a_proof_exits_1_and_says_what_to_try").is_none() {
        return;
    }
    let server = answering("```lean\nexact h\n```");
    let out = refine(&server, &["--attempts", "1", "--rounds", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--then-search") && stderr.contains("2 rounds"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unset_key_variable_is_a_usage_error_naming_it() {
    let server = answering("rfl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args([
            "refine",
            "--file",
            "lean/mini/Example.lean",
            "--theorem",
            "and_swap",
            "--api-url",
            &server.url(),
            "--api-key-env",
            "PROOFSTEP_TEST_REFINE_UNSET",
        ])
        .current_dir(common::repo_root())
        .env_remove("PROOFSTEP_TEST_REFINE_UNSET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PROOFSTEP_TEST_REFINE_UNSET"), "{stderr}");
    assert!(server.requests().is_empty());
}

/// The whole-proof model's failures name its own flags (`--api-*`), never the step
/// predictor's (`--predictor-*`, which `refine` also takes for `--then-search`): a refused
/// key, a server that does not answer in time, an answer that is not the API's.
#[test]
fn the_whole_proof_models_errors_name_its_own_flags() {
    let refused = StandInServer::start(|_, _| StandInReply::Answer(401, "{}".into()));
    let silent = StandInServer::start(|_, _| StandInReply::Hang);
    let garbage = StandInServer::start(|_, _| StandInReply::Answer(200, "<html>".into()));
    for (server, extra, expected) in [
        (&refused, &[][..], "--api-key-env"),
        (
            &silent,
            &["--api-timeout", "1", "--api-retries", "0"][..],
            "--api-timeout",
        ),
        (&garbage, &[][..], "point --api-url"),
    ] {
        let out = refine(server, extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("--predictor-"), "{stderr}");
    }
}

/// A step Lean takes about a second over (here; `decide` unfolding a nested recursion) and
/// accepts.
const SLOW_STEP: &str = "have slow : Nat.rec (motive := fun _ => Nat) 0 (fun k ih => Nat.rec \
     (motive := fun _ => Nat) ih (fun _ j => Nat.succ j) k) 500 = 124750 := by set_option \
     maxHeartbeats 0 in set_option maxRecDepth 1000000 in decide";

#[test]
fn the_time_limit_stops_a_rounds_lean_calls_not_only_the_next_round() {
    if common::test_lean("the_time_limit_stops_a_rounds_lean_calls_not_only_the_next_round")
        .is_none()
    {
        return;
    }
    // Five slow steps Lean accepts, then one it rejects. Verifying the whole proof takes
    // longer than the 2 s limit, so nothing after it may start: not the positioned errors, not
    // the steps one by one (the file backend re-checks every step's prefix: fifteen slow
    // steps), which the run used to go through before it looked at the clock again.
    let answer: &'static str =
        Box::leak(format!("```lean\n{}\nexact h\n```", [SLOW_STEP; 5].join("\n")).into_boxed_str());
    let server = answering(answer);
    let out = refine(
        &server,
        &[
            "--json",
            "--attempts",
            "1",
            "--rounds",
            "3",
            "--time-limit",
            "2",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stop"], "time_limit", "{json}");
    assert_eq!(json["model_calls"], 1, "{json}");
    let feedback = &json["rounds"][0]["feedback"];
    assert_eq!(feedback["cut_by_time_limit"], true, "{feedback}");
    assert_eq!(feedback["status"], "error", "{feedback}");
    assert_eq!(feedback["total_steps"], 6, "{feedback}");
    assert!(
        feedback["accepted_steps"].as_u64().unwrap() < 5,
        "{feedback}"
    );
    // The verdict's messages stand in for the positioned ones.
    assert!(
        feedback["messages"].to_string().contains("mismatch"),
        "{feedback}"
    );
    let plain = refine(&server, &["--attempts", "1", "--time-limit", "2"]);
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        stderr.contains("TimeLimit") && stderr.contains("raise --time-limit"),
        "{stderr}"
    );
}

#[test]
fn the_time_limit_cuts_a_request_to_a_silent_model_short() {
    if common::test_lean("the_time_limit_cuts_a_request_to_a_silent_model_short").is_none() {
        return;
    }
    // A model that takes its requests and never answers: each would wait out --api-timeout
    // (30 s) and its retries; --time-limit 2 ends the request, and the run, there. Nothing
    // was answered, so there is no verdict: the model's failure (exit 4), not "not proved".
    let server = StandInServer::start(|_, _| StandInReply::Hang);
    let started = std::time::Instant::now();
    let out = refine(
        &server,
        &["--json", "--time-limit", "2", "--api-timeout", "30"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("answered nothing before the time limit"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // A request that runs out its own --api-timeout before the time limit: the model's
    // failure (exit 4), not the run's time.
    let out = refine(
        &server,
        &[
            "--time-limit",
            "5",
            "--api-timeout",
            "1",
            "--api-retries",
            "0",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no answer"), "{stderr}");
}

#[test]
fn a_model_that_cannot_be_reached_is_an_error_even_when_the_time_limit_cuts_its_retries() {
    if common::test_lean(
        "a_model_that_cannot_be_reached_is_an_error_even_when_the_time_limit_cuts_its_retries",
    )
    .is_none()
    {
        return;
    }
    // No server on port 9: each request fails at once, the pauses between retries grow, and
    // the 1.5 s limit comes during one. That is the model's failure (exit 4), not a run that
    // ran out of time (exit 1 with "raise --time-limit").
    let out = refine_at(
        "http://127.0.0.1:9/v1",
        &["--time-limit", "1.5", "--api-retries", "6"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}

/// A proof of `and_swap` as a chat model writes it.
const PROOF: &str = "```lean\nexact ⟨h.2, h.1⟩\n```";

/// Two attempts at once, one round each, their requests' seeds 100 and 101.
const TWO_ATTEMPTS_AT_ONCE: [&str; 9] = [
    "--json",
    "--attempts",
    "2",
    "--api-parallel",
    "2",
    "--rounds",
    "0",
    "--seed",
    "100",
];

#[test]
fn a_proof_stands_when_an_attempt_beside_it_fails() {
    if common::test_lean("a_proof_stands_when_an_attempt_beside_it_fails").is_none() {
        return;
    }
    // Two attempts at once: the second's request (seed 101) is refused at once, the first's
    // (seed 100) answered a moment later with a proof. Run one after another, the second
    // would never have run: the proof is the result, not the second's error.
    let server = StandInServer::start(|_, received| {
        let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
        if body["seed"] == 101 {
            return StandInReply::Answer(400, r#"{"error": {"message": "bad request"}}"#.into());
        }
        std::thread::sleep(std::time::Duration::from_millis(700));
        chat_answer(PROOF)
    });
    let out = refine(&server, &TWO_ATTEMPTS_AT_ONCE);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["proved"].clone(), json["attempt"].clone()),
        (true.into(), 1.into())
    );
    assert_eq!(server.requests().len(), 2);
    // The other way round: the first attempt's server fails (503) until the time limit cuts
    // its retries, the second proves it. The proof Lean verified stands.
    let server = StandInServer::start(|_, received| {
        let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
        if body["seed"] == 100 {
            return StandInReply::busy();
        }
        chat_answer(PROOF)
    });
    let out = refine(
        &server,
        &[
            &TWO_ATTEMPTS_AT_ONCE[..],
            &["--time-limit", "3", "--api-retries", "20"],
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["proved"].clone(), json["attempt"].clone()),
        (true.into(), 2.into())
    );
}
