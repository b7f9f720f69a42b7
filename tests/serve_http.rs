//! `proofstep serve`: llmstep's request and response shapes, refusals of bad requests with a
//! 4xx and a reason, batching of concurrent clients, the time limit, and the binary end to end.
//! The model is a tiny random-weight Llama folder made here through src/model's API and loaded
//! the way the CLI loads it; its suggestions are gibberish, which is all the protocol needs.

mod common;

use common::http_client::exchange;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use candle_core::Device;
use proofstep::model::{
    save_model, CausalLm, Decoding, GenerateOptions, Generator, ModelConfig, Predictor,
};
use proofstep::serve::{BatchOptions, HttpOptions, SuggestServer};
use serde_json::{json, Value};

/// A random-weight Llama folder (config, safetensors, the GPT-NeoX tokenizer) in `dir`.
fn tiny_model(dir: &Path, shared: &Path) -> PathBuf {
    let config = json!({
        "model_type": "llama", "vocab_size": 50304, "hidden_size": 32, "intermediate_size": 48,
        "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
        "eos_token_id": 0, "tie_word_embeddings": true
    });
    let lm = CausalLm::random_seeded(
        ModelConfig::from_json(&config.to_string()).unwrap(),
        &Device::Cpu,
        7,
    )
    .unwrap();
    let out = dir.join("tiny-model");
    save_model(&lm, &out, usize::MAX).unwrap();
    std::fs::copy(
        shared.join("tokenizers/gpt-neox-20b-tokenizer.json"),
        out.join("tokenizer.json"),
    )
    .unwrap();
    out
}

fn options() -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![1.0],
            samples: 4,
            top_p: 1.0,
        },
        max_new_tokens: 6,
        seed: 7,
    }
}

/// POSTs `request` to `/`, expects 200, and returns the answer.
fn post_ok(addr: SocketAddr, request: &Value) -> Value {
    let (status, body) = exchange(addr, "POST", "/", request.to_string().as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    json_of(&body)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

struct World {
    _dir: tempfile::TempDir,
    model: PathBuf,
    generator: Arc<Generator>,
}

fn world(test: &str) -> Option<World> {
    let shared = common::shared_dir(test)?;
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), &shared);
    let generator = Arc::new(Generator::load(&model).unwrap());
    Some(World {
        _dir: dir,
        model,
        generator,
    })
}

fn start(w: &World, batch: BatchOptions, http: HttpOptions) -> SuggestServer {
    SuggestServer::start("127.0.0.1:0", w.generator.clone(), options(), batch, http).unwrap()
}

#[test]
fn answers_llmstep_requests_with_prefixed_suggestions() {
    let Some(w) = world("answers_llmstep_requests_with_prefixed_suggestions") else {
        return;
    };
    let server = start(&w, BatchOptions::default(), HttpOptions::default());
    let state = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q";
    let request =
        json!({"tactic_state": state, "prefix": "exact", "context": "prelude\nimport Mini\n"});
    let answer = post_ok(server.address(), &request);
    let got: Vec<String> = answer["suggestions"]
        .as_array()
        .expect("a suggestions array")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(!got.is_empty());
    // The model's own candidates for llmstep's prompt, with the prefix put back in front.
    let direct = w
        .generator
        .generate(&[format!("[GOAL]{state}[PROOFSTEP]exact")], &options())
        .unwrap()
        .remove(0);
    let mut want: Vec<String> = Vec::new();
    for c in direct {
        let s = format!("exact{}", c.text);
        if !s.trim().is_empty() && !want.contains(&s) {
            want.push(s);
        }
    }
    assert_eq!(got, want);
    assert_eq!(answer["scores"].as_array().unwrap().len(), got.len());
    // llmstep's older client sends no context.
    let old = json!({"tactic_state": state, "prefix": ""});
    let (status, body) = exchange(server.address(), "POST", "/", old.to_string().as_bytes());
    assert_eq!(status, 200);
    assert!(json_of(&body)["suggestions"].is_array());
}

/// The suggestions and scores of an answer.
fn suggestions(answer: &Value) -> (Vec<String>, Vec<f64>) {
    let texts = answer["suggestions"]
        .as_array()
        .expect("a suggestions array");
    let scores = answer["scores"].as_array().expect("a scores array");
    (
        texts
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
        scores.iter().map(|s| s.as_f64().unwrap()).collect(),
    )
}

#[test]
fn listed_tactics_that_extend_the_prefix_follow_the_models_suggestions() {
    let Some(w) = world("listed_tactics_that_extend_the_prefix_follow_the_models_suggestions")
    else {
        return;
    };
    let listed = ["exact ⟨hp, hq⟩", " simp_all ", "exact"].map(String::from);
    let server = start(
        &w,
        BatchOptions::default(),
        HttpOptions {
            also_try: listed.to_vec(),
            ..HttpOptions::default()
        },
    );
    let state = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q";
    let ask = |prefix: &str| {
        let request = json!({"tactic_state": state, "prefix": prefix});
        suggestions(&post_ok(server.address(), &request))
    };
    // Only what extends the prefix is listed, after the model's own at its lowest score.
    let (texts, scores) = ask("exact ");
    assert_eq!(texts.last().unwrap(), "exact ⟨hp, hq⟩", "{texts:?}");
    assert!(texts[..texts.len() - 1]
        .iter()
        .all(|t| t.starts_with("exact ") && !t.contains("simp_all")));
    let direct = w
        .generator
        .generate(&[format!("[GOAL]{state}[PROOFSTEP]exact ")], &options())
        .unwrap()
        .remove(0);
    let floor = direct.iter().map(|c| c.score).fold(f64::INFINITY, f64::min);
    let last = *scores.last().unwrap();
    assert!(
        (last - floor).abs() < 1e-6,
        "{last} is the model's lowest, {floor}"
    );
    let (texts, _) = ask("");
    assert_eq!(
        texts[texts.len() - 3..].to_vec(),
        vec!["exact ⟨hp, hq⟩", "simp_all", "exact"],
        "{texts:?}"
    );
}

#[test]
fn bad_requests_get_a_4xx_with_a_reason_and_the_server_lives_on() {
    let Some(w) = world("bad_requests_get_a_4xx_with_a_reason_and_the_server_lives_on") else {
        return;
    };
    let server = start(
        &w,
        BatchOptions::default(),
        HttpOptions {
            max_body_bytes: 1000,
            ..HttpOptions::default()
        },
    );
    let a = server.address();
    let big = json!({"tactic_state": "x".repeat(5000), "prefix": ""}).to_string();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("POST", "/", b"not json at all".to_vec(), 400, "not JSON"),
        ("POST", "/", b"[1, 2]".to_vec(), 400, "JSON object"),
        (
            "POST",
            "/",
            br#"{"prefix": "exact"}"#.to_vec(),
            400,
            "tactic_state",
        ),
        (
            "POST",
            "/",
            br#"{"tactic_state": 5, "prefix": ""}"#.to_vec(),
            400,
            "must be a string",
        ),
        (
            "POST",
            "/",
            br#"{"tactic_state": "s", "prefix": 1}"#.to_vec(),
            400,
            "prefix",
        ),
        (
            "POST",
            "/",
            br#"{"tactic_state": ""}"#.to_vec(),
            400,
            "empty",
        ),
        ("POST", "/", vec![0xff, 0xfe, 0x00], 400, "not JSON"),
        ("POST", "/", big.into_bytes(), 413, "1000 bytes"),
        ("GET", "/", Vec::new(), 405, "POST"),
        (
            "PUT",
            "/",
            br#"{"tactic_state": "s"}"#.to_vec(),
            405,
            "POST",
        ),
        (
            "POST",
            "/suggest",
            br#"{"tactic_state": "s"}"#.to_vec(),
            404,
            "POST /",
        ),
    ];
    for (method, path, body, want, reason) in cases {
        let (status, reply) = exchange(a, method, path, &body);
        assert_eq!(
            status,
            want,
            "{method} {path} {:?}",
            String::from_utf8_lossy(&body)
        );
        let error = json_of(&reply)["error"]
            .as_str()
            .expect("an error reason")
            .to_string();
        assert!(
            error.contains(reason),
            "{method} {path}: {error:?} lacks {reason:?}"
        );
    }
    let good = json!({"tactic_state": "⊢ True", "prefix": ""}).to_string();
    let (status, _) = exchange(a, "POST", "/", good.as_bytes());
    assert_eq!(status, 200);
}

#[test]
fn concurrent_clients_are_all_answered_in_shared_batches() {
    let Some(w) = world("concurrent_clients_are_all_answered_in_shared_batches") else {
        return;
    };
    let server = start(
        &w,
        BatchOptions {
            window: Duration::from_millis(300),
            max_batch: 16,
            ..BatchOptions::default()
        },
        HttpOptions::default(),
    );
    let a = server.address();
    let clients = 8;
    let barrier = Arc::new(Barrier::new(clients));
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let body = json!({"tactic_state": format!("h : P {i}\n⊢ Q {i}"), "prefix": ""});
                barrier.wait();
                exchange(a, "POST", "/", body.to_string().as_bytes())
            })
        })
        .collect();
    for h in handles {
        let (status, body) = h.join().unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(json_of(&body)["suggestions"].is_array());
    }
    let stats = server.batcher().stats();
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(stats.prompts.load(Relaxed), clients);
    assert!(
        stats.largest.load(Relaxed) > 1,
        "no two requests shared a batch ({} batches)",
        stats.batches.load(Relaxed)
    );
    assert!(stats.batches.load(Relaxed) < clients);
}

#[test]
fn a_request_past_the_time_limit_gets_503() {
    let Some(w) = world("a_request_past_the_time_limit_gets_503") else {
        return;
    };
    // The batch window alone outlasts the limit.
    let server = start(
        &w,
        BatchOptions {
            window: Duration::from_millis(500),
            ..BatchOptions::default()
        },
        HttpOptions {
            timeout: Duration::from_millis(50),
            ..HttpOptions::default()
        },
    );
    let body = json!({"tactic_state": "⊢ True", "prefix": ""}).to_string();
    let (status, reply) = exchange(server.address(), "POST", "/", body.as_bytes());
    assert_eq!(status, 503);
    assert!(json_of(&reply)["error"]
        .as_str()
        .unwrap()
        .contains("--timeout"));
}

#[test]
fn the_binary_serves_on_localhost_and_says_where() {
    let Some(w) = world("the_binary_serves_on_localhost_and_says_where") else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args([
            "serve",
            "--port",
            "0",
            "-n",
            "3",
            "--max-new-tokens",
            "5",
            "--model",
        ])
        .arg(&w.model)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let event: Value = serde_json::from_str(&line).expect("a JSON line saying where it listens");
    let addr: SocketAddr = event["address"].as_str().unwrap().parse().unwrap();
    assert!(
        addr.ip().is_loopback(),
        "binds to localhost by default: {addr}"
    );
    let body = json!({"tactic_state": "⊢ True", "prefix": "exact ", "context": ""}).to_string();
    let (status, reply) = exchange(addr, "POST", "/", body.as_bytes());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let suggestions = json_of(&reply)["suggestions"].as_array().unwrap().clone();
    assert!(!suggestions.is_empty());
    assert!(suggestions
        .iter()
        .all(|s| s.as_str().unwrap().starts_with("exact ")));
}
