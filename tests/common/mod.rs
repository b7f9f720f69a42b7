//! Shared helpers of the integration tests: where the test world's real Lean lives, and the
//! rule for tests that need it (run when present; with CI=true a missing Lean is a failure;
//! elsewhere the test says by name that it skipped); an untrained model folder for the binary.

#![allow(dead_code)]

pub mod http_client;
pub mod local_hub;
pub mod openai_standin;
pub mod torch_checkpoint;

use std::path::{Path, PathBuf};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test world's toolchain, as installed by `lean/mini/setup.sh`.
pub struct TestLean {
    /// The `lean` executable.
    pub lean: PathBuf,
    /// The folder holding `Mini.olean` (goes on LEAN_PATH).
    pub lib: PathBuf,
}

/// The test world's Lean, or None (after printing that `test` skipped) when it is not installed.
/// Panics when CI=true and it is missing: CI must run the real-Lean tests.
pub fn test_lean(test: &str) -> Option<TestLean> {
    let root = repo_root();
    let lean = root.join("lean/mini/.toolchain/bin/lean");
    let lib = root.join("lean/mini/build");
    if lean.exists() && lib.join("Mini.olean").exists() {
        return Some(TestLean { lean, lib });
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{test}: the test world's Lean is missing under CI=true; run `bash lean/mini/setup.sh` first");
    }
    eprintln!("SKIPPED {test}: no test-world Lean (run `bash lean/mini/setup.sh`)");
    None
}

/// `../shared` beside the repository, or None (after printing that `test` skipped).
/// Panics when CI=true and it is missing.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap());
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{test}: ../shared is missing under CI=true");
    }
    eprintln!("SKIPPED {test}: ../shared is not present");
    None
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Compiles (again) the module `name` from `text` in `dir` with the test world's library on
/// LEAN_PATH, so `dir` on LEAN_PATH too makes `import name` work.
pub fn compile_module(t: &TestLean, dir: &Path, name: &str, text: &str) {
    write_file(dir, &format!("{name}.lean"), text);
    // Lean names a module after its path below the folder it runs in.
    let out = std::process::Command::new(&t.lean)
        .args([
            "-o",
            &format!("{name}.olean"),
            "-i",
            &format!("{name}.ilean"),
            &format!("{name}.lean"),
        ])
        .current_dir(dir)
        .env("LEAN_PATH", &t.lib)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the built `proofstep` binary from the repository root (where it finds the test world by
/// itself), with no toolchain variables inherited from the caller's environment.
pub fn proofstep_at_root(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("PROOFSTEP_LEAN")
        .env_remove("PROOFSTEP_LAKE")
        .env_remove("PROOFSTEP_REPL")
        .env_remove("LEAN_PATH")
        .output()
        .expect("the proofstep binary runs")
}

/// The largest absolute difference between two tensors of one shape (model agreement checks).
pub fn max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs())
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0))
        .and_then(|d| d.to_scalar())
        .expect("tensors of the same shape")
}

impl TestLean {
    /// The command running this `lean` with the prelude on LEAN_PATH.
    pub fn command(&self) -> proofstep::lean::LeanCommand {
        let mut cmd = proofstep::lean::LeanCommand::new(&self.lean);
        cmd.env
            .push(("LEAN_PATH".into(), self.lib.display().to_string()));
        // As `Toolchain::lean_command` sets it: where a rebuild of the imports is looked for.
        cmd.libraries = vec![self.lib.clone()];
        cmd
    }
}

/// The command running the test world's `lean`, or None (after saying `test` skipped).
pub fn test_lean_command(test: &str) -> Option<proofstep::lean::LeanCommand> {
    test_lean(test).map(|t| t.command())
}

/// The state of an `Open` outcome; panics on any other outcome.
pub fn expect_open(outcome: proofstep::lean::Outcome) -> proofstep::lean::ProofState {
    match outcome {
        proofstep::lean::Outcome::Open(state) => state,
        other => panic!("expected open goals, got {other:?}"),
    }
}

/// The error of a `Failed` outcome; panics on any other outcome.
pub fn expect_failed(outcome: proofstep::lean::Outcome) -> String {
    match outcome {
        proofstep::lean::Outcome::Failed(text) => text,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A random-weight Llama folder in `dir`, with a small BPE tokenizer trained by the binary on a
/// few proof steps (a small vocabulary keeps generation fast in debug builds).
pub fn untrained_model(dir: &Path) -> PathBuf {
    let data = dir.join("steps.jsonl");
    let steps = [
        ("m n : Nat\nh : m = n\n⊢ n + 0 = m", "rw [Nat.add_zero]"),
        ("p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "constructor"),
    ];
    let text: String = steps
        .iter()
        .map(|(s, t)| format!("{}\n", serde_json::json!({"input": format!("[GOAL]{s}[PROOFSTEP]"), "output": format!("{t}<|endoftext|>")})))
        .collect();
    std::fs::write(&data, text).unwrap();
    let out = dir.join("tiny-model");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["tokenizer", "train", "--vocab-size", "300", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let config = serde_json::json!({
        "model_type": "llama", "vocab_size": 320, "hidden_size": 32, "intermediate_size": 48,
        "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
        "eos_token_id": 0, "tie_word_embeddings": true
    });
    let lm = proofstep::model::CausalLm::random_seeded(
        proofstep::model::ModelConfig::from_json(&config.to_string()).unwrap(),
        &candle_core::Device::Cpu,
        7,
    )
    .unwrap();
    proofstep::model::save_model(&lm, &out, usize::MAX).unwrap();
    out
}

/// A `proofstep serve` process, stopped when dropped.
pub struct ServeProcess {
    child: std::process::Child,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
}

impl ServeProcess {
    /// Starts `proofstep serve` with `args` (and `env` set) from the repository root, and
    /// waits for the line saying where it listens.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> ServeProcess {
        use std::io::BufRead;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"));
        command
            .arg("serve")
            .args(args)
            .current_dir(repo_root())
            .env_remove("LLMSTEP_HOST")
            .env_remove("LLMSTEP_PORT")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("proofstep serve starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("serve did not say where it listens ({e}): {line:?}"));
        let addr = event["address"].as_str().unwrap().parse().unwrap();
        ServeProcess { child, addr }
    }

    /// `http://ADDR/v1`, as a user gives it to --predictor-url.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A random model of `config` (config.json's fields) from `seed`, its weights multiplied by
/// `scale` so that its logits lie far apart (reduced-precision tests compare them).
pub fn scaled_random_model(
    config: serde_json::Value,
    seed: u64,
    scale: f64,
) -> proofstep::model::CausalLm {
    let config = proofstep::model::ModelConfig::from_json(&config.to_string()).unwrap();
    let lm =
        proofstep::model::CausalLm::random_seeded(config, &candle_core::Device::Cpu, seed).unwrap();
    for var in lm.varmap().all_vars() {
        var.set(&(var.as_tensor() * scale).unwrap()).unwrap();
    }
    lm
}
