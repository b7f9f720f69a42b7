//! `eval --mode refine` end to end: the real binary on the test world's real Lean, the
//! whole-proof model played by `StandInServer` (a scripted OpenAI chat endpoint standing in
//! for a hosted model). The summary gives the pass rate by model calls with intervals —
//! pass@k for `--rounds 0`, refine@k otherwise — and the tokens; a rerun with other refine
//! settings is refused, naming the flag.

mod common;

use std::path::Path;
use std::process::Output;

use common::openai_standin::{StandInReply, StandInServer};

const DATASET: &str = "prelude\nimport Mini\n\n\
theorem t_first (p : Prop) (hp : p) : p := by\n  sorry\n\n\
theorem t_repair (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  sorry\n\n\
theorem t_never (p q : Prop) (hp : p) : q := by\n  sorry\n";

/// Proves `t_first` at once, `t_repair` only once the request carries Lean's error about the
/// wrong proof, and never `t_never`.
fn standin() -> StandInServer {
    StandInServer::start(|_, request| {
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        let prompt = body["messages"][0]["content"].as_str().unwrap_or_default();
        let answer = if prompt.contains("theorem t_repair") {
            if prompt.contains("Type mismatch") && prompt.contains("line 2, column") {
                "constructor\n· exact h.right\n· exact h.left"
            } else {
                "constructor\n· exact h.left\n· exact h.right"
            }
        } else {
            "exact hp"
        };
        let content = format!("```lean\n{answer}\n```");
        StandInReply::Answer(
            200,
            serde_json::json!({
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
            })
            .to_string(),
        )
    })
}

fn eval(dir: &Path, server: &StandInServer, out: &str, flags: &[&str]) -> Output {
    let lean = common::test_lean("eval_refine").unwrap();
    let url = server.url();
    let mut args = vec![
        "eval",
        "--mode",
        "refine",
        "--dataset",
        "refine.lean",
        "--out",
        out,
        "--api-url",
        &url,
        "--api-model",
        "stand-in",
        "--backend",
        "file",
        "--json",
    ];
    args.extend_from_slice(flags);
    std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(&args)
        .arg("--lean")
        .arg(&lean.lean)
        .env("LEAN_PATH", &lean.lib)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `(calls, proved)` of the summary's curve.
fn curve(summary: &serde_json::Value) -> Vec<(u64, u64)> {
    summary["refine"]["by_model_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["calls"].as_u64().unwrap(), p["proved"].as_u64().unwrap()))
        .collect()
}

#[test]
fn refine_at_k_and_pass_at_k_come_with_intervals_and_token_counts() {
    if common::test_lean("refine_at_k_and_pass_at_k_come_with_intervals_and_token_counts").is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::write_file(dir.path(), "refine.lean", DATASET);
    let server = standin();

    let refined = eval(
        dir.path(),
        &server,
        "refine.jsonl",
        &["--attempts", "1", "--rounds", "2"],
    );
    let stderr = String::from_utf8_lossy(&refined.stderr);
    assert!(refined.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&refined.stdout).unwrap();
    assert_eq!(
        (summary["theorems"].as_u64(), summary["proved"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(curve(&summary), [(1, 1), (2, 2), (3, 2)]);
    let at_two = &summary["refine"]["by_model_calls"][1];
    let (low, high) = (
        at_two["ci95"][0].as_f64().unwrap(),
        at_two["ci95"][1].as_f64().unwrap(),
    );
    assert!(low < 2.0 / 3.0 && 2.0 / 3.0 < high, "{at_two}");
    // t_first 1 call, t_repair 2, t_never 3.
    assert_eq!(summary["refine"]["model_calls"], 6);
    assert_eq!(summary["refine"]["prompt_tokens"], 600);
    let lines = std::fs::read_to_string(dir.path().join("refine.jsonl")).unwrap();
    let repaired = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["name"] == "t_repair")
        .unwrap();
    assert_eq!(repaired["refine"]["calls_to_proof"], 2);
    assert_eq!(repaired["refine"]["round"], 1);

    // The same model without repairs, at the same number of calls: pass@3 proves less.
    let sampled = eval(
        dir.path(),
        &server,
        "pass.jsonl",
        &["--attempts", "3", "--rounds", "0"],
    );
    assert!(
        sampled.status.success(),
        "{}",
        String::from_utf8_lossy(&sampled.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&sampled.stdout).unwrap();
    assert_eq!(curve(&summary), [(1, 1), (2, 1), (3, 1)]);

    // Resuming the refine run with other refine settings would mix two runs.
    let other = eval(
        dir.path(),
        &server,
        "refine.jsonl",
        &["--attempts", "1", "--rounds", "0"],
    );
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("--rounds: 2 in the recorded run, 0 now"),
        "{stderr}"
    );
}
