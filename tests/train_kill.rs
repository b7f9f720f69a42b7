//! A training run killed with SIGKILL at any moment leaves only whole, loadable checkpoints
//! and resumes from them; Ctrl-C (SIGINT) saves a checkpoint and exits with status 130.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proofstep::data::traces::read_trace_examples;
use proofstep::model::generate::Generator;
use proofstep::train::bpe::{save_tokenizer, train_tokenizer};
use proofstep::train::checkpoint::{list_checkpoints, read_state};
use proofstep::train::metrics::read_records;

fn trace_data(test: &str, dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let traces = common::shared_dir(test)?.join("data/traces/llmstep-pythia2.8b-minif2f-test");
    let mut examples = Vec::new();
    for i in 0..4 {
        examples.extend(read_trace_examples(&traces.join(format!("results_{i}.json"))).unwrap());
    }
    let jsonl = dir.join("train.jsonl");
    std::fs::write(
        &jsonl,
        examples
            .iter()
            .map(|e| e.to_seed_json() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let tok = dir.join("tokenizer");
    save_tokenizer(&train_tokenizer(&examples, 600).unwrap(), &tok, 256).unwrap();
    Some((jsonl, tok))
}

fn start(data: &Path, tok: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["train", "--from_scratch", "llama-tiny", "--tokenizer"])
        .arg(tok)
        .arg("--train_data_path")
        .arg(data)
        .arg("--output_dir")
        .arg(out)
        .args([
            "--per_device_train_batch_size",
            "8",
            "--learning_rate",
            "3e-3",
            "--logging_steps",
            "1",
        ])
        .args(["--model_max_length", "256", "--threads", "1"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn partial_exists(out: &Path) -> bool {
    std::fs::read_dir(out)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        })
        .unwrap_or(false)
}

/// Every checkpoint-* folder is whole: the model folder loads, the state and optimizer are there.
fn assert_loadable(out: &Path) -> Vec<usize> {
    let found = list_checkpoints(out);
    for (step, dir) in &found {
        assert_eq!(read_state(dir).unwrap().global_step, *step);
        assert!(
            dir.join("optimizer.safetensors").is_file() && dir.join("scheduler.json").is_file()
        );
        Generator::load(dir).unwrap_or_else(|e| panic!("{} does not load: {e}", dir.display()));
    }
    // A folder named checkpoint-* without its state would be a torn save.
    for entry in std::fs::read_dir(out).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("checkpoint-") {
            assert!(
                entry.path().join("trainer_state.json").is_file(),
                "{name} is incomplete"
            );
        }
    }
    found.into_iter().map(|(s, _)| s).collect()
}

#[test]
fn a_killed_run_leaves_loadable_checkpoints_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok)) = trace_data("a_killed_run_leaves_loadable_checkpoints", dir.path())
    else {
        return;
    };
    let out = dir.path().join("run");
    let mut child = start(
        &data,
        &tok,
        &out,
        &["--max_steps", "2000", "--save_steps", "2"],
    );
    // Kill it while it is writing its third checkpoint if we catch that moment, else right after.
    wait_until("two checkpoints", Duration::from_secs(120), || {
        list_checkpoints(&out).len() >= 2
    });
    let started = Instant::now();
    while !partial_exists(&out) && started.elapsed() < Duration::from_secs(5) {
        std::hint::spin_loop();
    }
    let caught_mid_save = partial_exists(&out);
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "killed {} a checkpoint save",
        if caught_mid_save {
            "during"
        } else {
            "just after"
        }
    );
    let steps = assert_loadable(&out);
    let last = *steps.last().unwrap();
    let metrics = read_records(&out.join("metrics.jsonl")).unwrap();
    assert!(
        metrics.iter().filter(|r| r.get("loss").is_some()).count() >= last,
        "every step before the kill was logged"
    );

    let resumed = start(
        &data,
        &tok,
        &out,
        &[
            "--max_steps",
            &(last + 3).to_string(),
            "--save_steps",
            "2",
            "--resume_from_checkpoint",
            "true",
        ],
    );
    let run = resumed.wait_with_output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["global_step"], last + 3);
    assert!(
        !partial_exists(&out),
        "the leftover partial checkpoint was cleaned up"
    );
    let steps: Vec<u64> = read_records(&out.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .filter(|r| r.get("loss").is_some())
        .map(|r| r["step"].as_u64().unwrap())
        .collect();
    assert_eq!(
        steps,
        (1..=(last as u64 + 3)).collect::<Vec<_>>(),
        "metrics describe one run, no step twice"
    );
    assert_loadable(&out);
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok)) = trace_data("ctrl_c_saves_a_checkpoint", dir.path()) else {
        return;
    };
    let out = dir.path().join("run");
    let child = start(
        &data,
        &tok,
        &out,
        &["--max_steps", "2000", "--save_strategy", "no"],
    );
    wait_until("three logged steps", Duration::from_secs(120), || {
        read_records(&out.join("metrics.jsonl"))
            .map(|r| r.len() >= 3)
            .unwrap_or(false)
    });
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let run = child.wait_with_output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let step = report["global_step"].as_u64().unwrap();
    let saved = PathBuf::from(report["interrupted_checkpoint"].as_str().unwrap());
    assert_eq!(saved, out.join(format!("checkpoint-{step}")));
    assert_eq!(assert_loadable(&out), vec![step as usize]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("--resume_from_checkpoint"));
}

/// A checkpoint damaged after it was written (here its optimizer state cut short) does not
/// resume; the error says to delete it, and then `true` resumes from the one before.
#[test]
fn a_damaged_checkpoint_names_the_way_on() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok)) = trace_data("a_damaged_checkpoint_names_the_way_on", dir.path()) else {
        return;
    };
    let out = dir.path().join("run");
    let first = start(
        &data,
        &tok,
        &out,
        &["--max_steps", "4", "--save_steps", "2"],
    );
    assert!(first.wait_with_output().unwrap().status.success());
    let newest = out.join("checkpoint-4");
    let optimizer = newest.join("optimizer.safetensors");
    let bytes = std::fs::read(&optimizer).unwrap();
    std::fs::write(&optimizer, &bytes[..bytes.len() / 2]).unwrap();
    let resume = ["--max_steps", "6", "--save_steps", "2"];
    let again = |extra: &[&str]| {
        let args: Vec<&str> = resume.iter().chain(extra).copied().collect();
        start(&data, &tok, &out, &args).wait_with_output().unwrap()
    };
    let run = again(&["--resume_from_checkpoint", "true"]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(6), "{err}");
    assert!(
        err.contains("checkpoint-4") && err.contains("delete it"),
        "{err}"
    );
    // A folder that is no checkpoint at all gets no advice to delete anything.
    let run = again(&["--resume_from_checkpoint", "no-such-checkpoint"]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(6), "{err}");
    assert!(!err.contains("delete it"), "{err}");
    std::fs::remove_dir_all(&newest).unwrap();
    // `yes`, as train's boolean flags read it, is the newest checkpoint.
    let run = again(&["--resume_from_checkpoint", "yes"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["global_step"], 6);
}
