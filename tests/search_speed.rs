//! Set-up of the `benchmarks/search_speed` benchmark, not a test: ignored by `cargo test`, run by
//! `benchmarks/search_speed/run.sh` with `--ignored`. It replays the test world's proofs on the
//! real Lean server to collect (proof state, tactic) pairs in the seed's format, then trains a
//! tiny from-scratch model on them with the `proofstep` binary, so that the benchmark's searches
//! are driven by a real model proposing real tactics. The folder comes from
//! PROOFSTEP_BENCH_DIR.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use proofstep::lean::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::source::SourceFile;
use proofstep::lean::{Outcome, ProofBackend};
use proofstep::model::format_prompt;
use proofstep::model::tokenizer::END_OF_TEXT;

/// The top-level steps of a tactic block: a line at the block's indentation starts a step;
/// deeper lines and `|` alternatives continue the step before.
fn steps(block: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(indent)
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let text = &line[base.min(indent(line))..];
        let continues = indent(line) > base || text.starts_with('|');
        match out.last_mut() {
            Some(last) if continues => {
                last.push('\n');
                last.push_str(text);
            }
            _ => out.push(text.to_string()),
        }
    }
    out
}

/// (state, tactic) pairs of every proof in `files` that replays to the end on `backend`.
fn replay(backend: &dyn ProofBackend, files: &[PathBuf]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for file in files {
        let source = SourceFile::parse(&std::fs::read_to_string(file).unwrap());
        for (index, theorem) in source.theorems.iter().enumerate() {
            let block = theorem.tactic_block();
            let Ok(mut state) = backend.start(source.text_before(index), &theorem.statement) else {
                continue;
            };
            let mut found = Vec::new();
            let mut proved = false;
            for step in steps(&block) {
                found.push((state.pretty(), step.clone()));
                match backend.apply(&state, &step) {
                    Ok(Outcome::Open(next)) => state = next,
                    Ok(Outcome::Proved(_)) => {
                        proved = true;
                        break;
                    }
                    _ => break,
                }
            }
            if proved {
                pairs.extend(found);
            }
        }
    }
    pairs
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap();
    assert!(status.success(), "{cmd:?} failed");
}

#[test]
#[ignore = "benchmark set-up; run by benchmarks/search_speed/run.sh"]
fn build_benchmark_model() {
    let Some(lean) = common::test_lean("build_benchmark_model") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("PROOFSTEP_BENCH_DIR").expect("set PROOFSTEP_BENCH_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let cmd = lean.command();
    let backend = ServerBackend::start(&cmd, ServerBackendOptions::default()).unwrap();
    let root = common::repo_root().join("lean/mini");
    let mut files = vec![root.join("Example.lean")];
    let mut samples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    samples.retain(|p| p.extension().is_some_and(|e| e == "lean"));
    samples.sort();
    files.extend(samples);
    let pairs = replay(&backend, &files);
    assert!(pairs.len() >= 20, "only {} pairs replayed", pairs.len());
    let data = dir.join("train.jsonl");
    let mut text = String::new();
    for (state, tactic) in &pairs {
        let line = serde_json::json!({"input": format_prompt(state), "output": format!("{tactic}{END_OF_TEXT}")});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&data, text).unwrap();
    eprintln!(
        "{} (state, tactic) pairs from {} files",
        pairs.len(),
        files.len()
    );

    let bin = env!("CARGO_BIN_EXE_proofstep");
    let tokenizer = dir.join("tokenizer");
    run(Command::new(bin)
        .args(["tokenizer", "train", "--vocab-size", "600", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&tokenizer));
    let model = dir.join("model");
    run(Command::new(bin)
        .args(["train", "--from-scratch", "llama-tiny", "--tokenizer"])
        .arg(&tokenizer)
        .arg("--train-data-path")
        .arg(&data)
        .arg("--output-dir")
        .arg(&model)
        .args([
            "--max-steps",
            "400",
            "--learning-rate",
            "0.003",
            "--per-device-train-batch-size",
            "16",
        ])
        .args([
            "--warmup-ratio",
            "0.05",
            "--save-strategy",
            "no",
            "--logging-steps",
            "100",
            "--seed",
            "0",
        ]));
    assert!(
        Path::new(&model).join("config.json").exists() || model.read_dir().unwrap().count() > 0
    );
}
