//! `serve`'s OpenAI completions route: `POST /v1/completions` answers in the API's shape from
//! the served model (choices, tokens with their log-probabilities, finish reasons, usage),
//! greedy choices are the model's own, seeds repeat, stop strings cut, `GET /v1/models` names
//! the model, and requests it cannot honour get a 4xx in OpenAI's error shape. The model is
//! a small random Llama made by the tests' helper, or (for greedy steps that are real
//! tactics) the committed default model, loaded as the CLI loads it.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::http_client::exchange;
use proofstep::model::{Decoding, GenerateOptions, Generator, Predictor};
use proofstep::serve::{BatchOptions, HttpOptions, SuggestServer};
use serde_json::{json, Value};

struct World {
    _dir: tempfile::TempDir,
    generator: Arc<Generator>,
    server: SuggestServer,
}

/// The server on a random model (`untrained_model`), or with `trained` on the committed
/// default model, whose greedy steps are real tactics (the random one's are all empty).
fn world_of(trained: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let model = if trained {
        common::repo_root().join("models/testworld-small")
    } else {
        common::untrained_model(dir.path())
    };
    let generator = Arc::new(Generator::load(&model).unwrap());
    let server = SuggestServer::start(
        "127.0.0.1:0",
        generator.clone(),
        GenerateOptions::default(),
        BatchOptions::default(),
        HttpOptions {
            model_name: "tiny".into(),
            ..HttpOptions::default()
        },
    )
    .unwrap();
    World {
        _dir: dir,
        generator,
        server,
    }
}

fn world() -> World {
    world_of(false)
}

fn post(addr: SocketAddr, request: &Value) -> (u16, Value) {
    let (status, body) = exchange(
        addr,
        "POST",
        "/v1/completions",
        request.to_string().as_bytes(),
    );
    (status, serde_json::from_slice(&body).unwrap())
}

const STATE: &str = "[GOAL]p q : Prop\nh : p ∧ q\n⊢ q ∧ p[PROOFSTEP]";

#[test]
fn completions_answer_in_the_openai_shape() {
    let w = world();
    let request = json!({"model": "tiny", "prompt": [STATE, "[GOAL]⊢ True[PROOFSTEP]"],
                         "n": 3, "max_tokens": 10, "temperature": 1.0, "logprobs": 2, "seed": 5});
    let (status, answer) = post(w.server.address(), &request);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["object"], "text_completion");
    assert_eq!(answer["model"], "tiny");
    assert!(answer["id"].as_str().unwrap().starts_with("cmpl-"));
    let choices = answer["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 6, "n choices per prompt");
    let tokenizer = w.generator.tokenizer();
    let prompt_tokens = tokenizer.encode(STATE).unwrap().len()
        + tokenizer.encode("[GOAL]⊢ True[PROOFSTEP]").unwrap().len();
    assert_eq!(answer["usage"]["prompt_tokens"], prompt_tokens);
    let mut completion_tokens = 0;
    for (i, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], i);
        let lp = &choice["logprobs"];
        let n = lp["tokens"].as_array().unwrap().len();
        completion_tokens += n;
        assert_eq!(lp["token_logprobs"].as_array().unwrap().len(), n);
        assert_eq!(lp["text_offset"].as_array().unwrap().len(), n);
        let tops = lp["top_logprobs"].as_array().unwrap();
        assert!(tops.iter().all(|t| t.as_object().unwrap().len() == 2));
        match choice["finish_reason"].as_str().unwrap() {
            "stop" => assert_eq!(lp["tokens"][n - 1], "<|endoftext|>"),
            "length" => assert_eq!(n, 10),
            other => panic!("finish_reason {other}"),
        }
        let text_tokens: String = lp["tokens"].as_array().unwrap()
            [..n - usize::from(choice["finish_reason"] == "stop")]
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            text_tokens,
            choice["text"].as_str().unwrap(),
            "the tokens spell the text"
        );
    }
    assert_eq!(answer["usage"]["completion_tokens"], completion_tokens);
    assert_eq!(
        answer["usage"]["total_tokens"],
        prompt_tokens + completion_tokens
    );
    let (_, again) = post(w.server.address(), &request);
    assert_eq!(
        again["choices"], answer["choices"],
        "the same seed, the same choices"
    );
}

#[test]
fn a_greedy_choice_is_the_models_candidate_with_its_score() {
    let w = world_of(true);
    let prompts = [
        STATE,
        "[GOAL]m n : Nat\nh : m = n\n⊢ n + 0 = m[PROOFSTEP]",
        "[GOAL]⊢ True[PROOFSTEP]",
        "[GOAL]p : Prop\nhp : p\n⊢ p[PROOFSTEP]",
    ];
    let (status, answer) = post(
        w.server.address(),
        &json!({"prompt": prompts, "max_tokens": 24, "temperature": 0, "logprobs": 0}),
    );
    assert_eq!(status, 200, "{answer}");
    let options = GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![0.0],
            samples: 1,
            top_p: 1.0,
        },
        max_new_tokens: 24,
        seed: 0,
    };
    let prompts: Vec<String> = prompts.iter().map(|p| p.to_string()).collect();
    let want = w.generator.generate(&prompts, &options).unwrap();
    for (choice, want) in answer["choices"].as_array().unwrap().iter().zip(&want) {
        let want = &want[0];
        assert_eq!(choice["text"], want.text.as_str());
        let logprobs: Vec<f64> = choice["logprobs"]["token_logprobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mean = logprobs.iter().sum::<f64>() / logprobs.len() as f64;
        assert!((mean - want.score).abs() < 1e-9, "{mean} vs {}", want.score);
    }
    assert!(
        want.iter().any(|c| !c[0].text.is_empty()),
        "some greedy choice has text: {want:?}"
    );
}

#[test]
fn stop_strings_cut_each_choice_before_them() {
    let w = world();
    let sampled = json!({"prompt": STATE, "max_tokens": 24, "n": 8, "temperature": 1.0,
                         "seed": 3, "logprobs": 0});
    let (_, full) = post(w.server.address(), &sampled);
    let texts: Vec<String> = full["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_string())
        .collect();
    let longest = texts.iter().max_by_key(|t| t.chars().count()).unwrap();
    let chars: Vec<char> = longest.chars().collect();
    assert!(chars.len() >= 3, "a sample {longest:?} long enough to cut");
    let stop: String = chars[chars.len() / 2..=chars.len() / 2].iter().collect();
    let mut cut_request = sampled.clone();
    cut_request["stop"] = json!([stop]);
    let (status, cut) = post(w.server.address(), &cut_request);
    assert_eq!(status, 200, "{cut}");
    for (text, choice) in texts.iter().zip(cut["choices"].as_array().unwrap()) {
        let Some(at) = text.find(&stop) else {
            assert_eq!(choice["text"], text.as_str(), "no stop string, no cut");
            continue;
        };
        let before = &text[..at];
        assert_eq!(choice["text"], before);
        assert_eq!(choice["finish_reason"], "stop");
        let tokens = choice["logprobs"]["tokens"].as_array().unwrap();
        let spelled: String = tokens.iter().map(|t| t.as_str().unwrap()).collect();
        assert!(
            spelled.starts_with(before) && spelled[before.len()..].starts_with(&stop),
            "the tokens up to the one completing the stop string: {spelled:?}"
        );
        assert!(!spelled.contains("<|endoftext|>"));
    }
}

#[test]
fn the_models_route_names_the_model_and_bad_requests_get_openai_errors() {
    let w = world();
    let a = w.server.address();
    let (status, body) = exchange(a, "GET", "/v1/models", b"");
    assert_eq!(status, 200);
    let models: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(models["data"][0]["id"], "tiny");
    for (method, path, body, want, says) in [
        (
            "POST",
            "/v1/completions",
            r#"{"prompt": "x", "n": 100}"#,
            400,
            "\"n\" must be from 1 to 64",
        ),
        (
            "POST",
            "/v1/completions",
            r#"{"prompt": "x", "stream": true}"#,
            400,
            "streaming",
        ),
        (
            "POST",
            "/v1/completions",
            r#"{"prompt": "x", "n": "2"}"#,
            400,
            "field \"n\"",
        ),
        ("POST", "/v1/completions", "[]", 400, "prompt"),
        (
            "GET",
            "/v1/completions",
            "",
            405,
            "use POST /v1/completions",
        ),
        ("POST", "/v1/models", "{}", 405, "use GET /v1/models"),
    ] {
        let (status, reply) = exchange(a, method, path, body.as_bytes());
        assert_eq!(status, want, "{method} {path} {body}");
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{method} {path} {body}: {reply}");
        assert_eq!(reply["error"]["type"], "invalid_request_error");
    }
    let (status, reply) = exchange(a, "POST", "/v2/chat", b"{}");
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&reply).contains("POST /v1/completions"));
    // llmstep's route is as it was.
    let (status, reply) = exchange(
        a,
        "POST",
        "/",
        br#"{"tactic_state": "\u22a2 True", "prefix": ""}"#,
    );
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<Value>(&reply).unwrap()["suggestions"].is_array());
}
