//! `proofstep iterate` end to end on the test world's real Lean: round 0 validates the starting
//! model, round 1 searches the pool, learns from the proofs Lean verified and validates the
//! fine-tuned model; a second command with more rounds resumes after the finished ones.

mod common;

use std::process::Command;

const POOL: &str = "prelude\nimport Mini\n\
theorem pool_a (p q : Prop) (hp : p) (hq : q) : p ∧ q := by sorry\n\
theorem pool_b (a b : Prop) (h : a) : a ∨ b := by sorry\n\
theorem pool_c (x y : Prop) (hx : x) (hy : y) : y ∧ x := by sorry\n";

const VAL: &str = "prelude\nimport Mini\n\
theorem val_a (r s : Prop) (hr : r) (hs : s) : s ∧ r ∧ s := by\n  exact ⟨hs, hr, hs⟩\n\
theorem val_b (t : Prop) (ht : t) : t := by\n  exact ht\n";

fn iterate(dir: &std::path::Path, rounds: &str) -> std::process::Output {
    iterate_with(dir, rounds, &[])
}

fn iterate_with(dir: &std::path::Path, rounds: &str, extra: &[&str]) -> std::process::Output {
    let lean = common::test_lean("iterate").unwrap();
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["iterate", "--statements"])
        .arg(dir.join("Pool.lean"))
        .arg("--val")
        .arg(dir.join("Val.lean"))
        .args(["--rounds", rounds, "--out"])
        .arg(dir.join("out"))
        .arg("--model")
        .arg(dir.join("tiny-model"))
        .args([
            "--steps",
            "3",
            "--batch-size",
            "2",
            "--learning-rate",
            "1e-4",
        ])
        .args(["--expansions", "4", "--samples", "1", "--max-tokens", "4"])
        .args([
            "--also-try",
            "constructor",
            "--also-try",
            "assumption",
            "--also-try",
            "left",
        ])
        .args(["--backend", "file", "--lean-workers", "2"])
        .args(extra)
        .env("PROOFSTEP_LEAN", &lean.lean)
        .env("LEAN_PATH", &lean.lib)
        .output()
        .unwrap()
}

/// A folder holding the pool, the validation file and an untrained model; none where the
/// test-world Lean is not set up (the test is skipped).
fn pool_and_val(test: &str) -> Option<tempfile::TempDir> {
    common::test_lean(test)?;
    let dir = tempfile::tempdir().unwrap();
    common::write_file(dir.path(), "Pool.lean", POOL);
    common::write_file(dir.path(), "Val.lean", VAL);
    common::untrained_model(dir.path());
    Some(dir)
}

/// The round records of the run in `dir/out`, in order.
fn rounds(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("out/rounds.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn rounds_learn_from_verified_proofs_and_a_rerun_resumes() {
    let Some(dir) = pool_and_val("rounds_learn_from_verified_proofs_and_a_rerun_resumes") else {
        return;
    };
    let out = iterate(dir.path(), "1");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let first = rounds(dir.path());
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0]["round"], 0);
    // No pool statement is a validation theorem up to renaming, so all are searched.
    assert_eq!(first[1]["pool_searched"], 3);
    // The listed tactics close every pool statement: each proof's steps become examples.
    let pool = std::fs::read_to_string(dir.path().join("out/round-1/pool.jsonl")).unwrap();
    assert_eq!(first[1]["pool_proved"], 3, "{pool}");
    let examples = std::fs::read_to_string(dir.path().join("out/round-1/examples.jsonl")).unwrap();
    assert!(examples.lines().count() >= 5, "{examples}");
    assert!(examples.contains("[GOAL]"), "{examples}");
    assert!(dir
        .path()
        .join("out/round-1/model/model.safetensors")
        .is_file());
    assert_eq!(first[1]["val_total"], 2);
    // Without examples to replay the found ones are all the training data, once each.
    assert_eq!(first[1]["found_repeats"], 1);
    let train = std::fs::read_to_string(dir.path().join("out/round-1/train.jsonl")).unwrap();
    assert_eq!(train, examples);
    let svg = std::fs::read_to_string(dir.path().join("out/rounds.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("round"));

    // More rounds later: round 0 and 1 are not run again; round 2 finds nothing left to prove.
    let out = iterate(dir.path(), "2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = rounds(dir.path());
    assert_eq!(second.len(), 3);
    assert_eq!(second[..2], first[..]);
    assert_eq!(second[2]["pool_searched"], 0);
    assert_eq!(second[2]["pool_proved_total"], 3);

    // Other settings on the same --out are refused, naming the setting; nothing is written.
    let out = iterate_with(dir.path(), "3", &["--train-seed", "7"]);
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--train-seed"), "{err}");
    assert_eq!(rounds(dir.path()), second);
    // A round's line cut short by a killed run is not a round: the rerun writes it again.
    let path = dir.path().join("out/rounds.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}{{\"round\": 3, \"mod")).unwrap();
    let out = iterate(dir.path(), "3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let third = rounds(dir.path());
    assert_eq!(third.len(), 4);
    assert_eq!(third[3]["round"], 3);

    // Rounds with no record of their settings (written by an older proofstep, or by hand) are
    // never resumed: their examples are trained on and could not be checked again (the
    // twenty-first audit trained a model on a hand-written "proof" of 2 + 2 = 5).
    let config = dir.path().join("out/rounds.config.json");
    std::fs::remove_file(&config).unwrap();
    let out = iterate(dir.path(), "3");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("no record of the settings"), "{err}");
    assert!(!config.exists());
    // The same for round files alone, without `rounds.jsonl`.
    std::fs::remove_file(dir.path().join("out/rounds.jsonl")).unwrap();
    let out = iterate(dir.path(), "3");
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn found_proofs_take_their_share_beside_the_replayed_examples() {
    let Some(dir) = pool_and_val("found_proofs_take_their_share_beside_the_replayed_examples")
    else {
        return;
    };
    let base: String = (0..60)
        .map(|i| {
            format!(
                "{{\"input\": \"[GOAL]h{i} : True\\n⊢ True[PROOFSTEP]\", \"output\": \"exact h{i}<|endoftext|>\"}}\n"
            )
        })
        .collect();
    common::write_file(dir.path(), "base.jsonl", &base);
    let base_path = dir.path().join("base.jsonl");
    let with_share = |share: &'static str| {
        [
            "--base-examples".to_string(),
            base_path.display().to_string(),
            "--found-share".to_string(),
            share.to_string(),
        ]
    };
    let flags = with_share("0.25");
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let out = iterate_with(dir.path(), "1", &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = rounds(dir.path());
    let examples = std::fs::read_to_string(dir.path().join("out/round-1/examples.jsonl")).unwrap();
    let found = examples.lines().count();
    assert!(found >= 5, "{examples}");
    // A quarter of the data: 60 replayed beside found × r, r = round(60 / 3 / found).
    let repeats = (20.0 / found as f64).round().max(1.0) as usize;
    assert_eq!(first[1]["found_repeats"], repeats);
    let train = std::fs::read_to_string(dir.path().join("out/round-1/train.jsonl")).unwrap();
    assert_eq!(train.lines().count(), 60 + found * repeats);
    assert_eq!(first[1]["train_examples"], 60 + found * repeats);
    assert!(train.starts_with(&base), "the replayed examples come first");
    for line in examples.lines() {
        assert_eq!(
            train.lines().filter(|l| *l == line).count(),
            repeats,
            "{line}"
        );
    }
    // Round 2 proves nothing new and trains on every round's found examples, each as often.
    let out = iterate_with(dir.path(), "2", &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = std::fs::read_to_string(dir.path().join("out/round-2/train.jsonl")).unwrap();
    assert_eq!(second, train);
    let last = &rounds(dir.path())[2];
    assert_eq!(last["pool_searched"], 0);
    assert_eq!(last["found_repeats"], repeats);
    // Another share on the same --out is refused, naming it.
    let flags = with_share("0.5");
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let out = iterate_with(dir.path(), "3", &flags);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("--found-share"), "{err}");
    // A share of 1 or more would leave nothing to replay: refused before anything runs.
    let out = iterate_with(dir.path(), "1", &["--found-share", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0.9"));
}

/// A validation theorem Lean dies on every time it is searched (a `lean` that is killed when
/// its file holds `val_b`): the round stops with Lean's exit code instead of recording a val
/// figure that counts the theorem as not proved, and the rerun with a working Lean resumes
/// the round and records it.
#[test]
fn a_round_lean_keeps_failing_in_is_not_recorded() {
    let Some(dir) = pool_and_val("a_round_lean_keeps_failing_in_is_not_recorded") else {
        return;
    };
    let lean = common::test_lean("iterate").unwrap();
    let dying = dir.path().join("dying-lean");
    common::write_file(
        dir.path(),
        "dying-lean",
        &format!(
            "#!/bin/sh\nfor last; do :; done\nif [ -f \"$last\" ] && grep -q val_b \"$last\"; then kill -9 $$; fi\nexec '{}' \"$@\"\n",
            lean.lean.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dying, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = iterate_with(dir.path(), "0", &["--lean", dying.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("Lean failed on 1 theorems") && stderr.contains("val_b"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/rounds.jsonl").exists() || rounds(dir.path()).is_empty());

    let out = iterate(dir.path(), "0");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = rounds(dir.path());
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["val_total"], 2);
    let val = std::fs::read_to_string(dir.path().join("out/round-0/val.jsonl")).unwrap();
    let verdicts: Vec<serde_json::Value> = val
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["retry"] != true)
        .collect();
    assert_eq!(verdicts.len(), 2, "{val}");
}
