//! Lean dying in the middle of a search (the OOM killer, a crash, a scheduler's kill) on the
//! test world's real Lean, through a `lean` that is killed on chosen checks: a candidate or a
//! found proof whose check Lean failed on is checked again on the restarted process, so the
//! failure costs no proof; a proof whose check Lean fails on every time fails, as one past a
//! resource limit does.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::openai_standin::{answer_with, StandInReply, StandInServer};

/// A `lean` that is killed (SIGKILL) on the first `times` runs whose file holds `pattern`,
/// and runs the test world's Lean otherwise.
fn dying_lean(dir: &Path, lean: &Path, pattern: &str, times: usize) -> PathBuf {
    let count = dir.join("deaths");
    let script = format!(
        "#!/bin/sh\nfor last; do :; done\n\
         if [ -f \"$last\" ] && grep -q -- '{pattern}' \"$last\"; then\n\
         n=$(cat '{count}' 2>/dev/null || echo 0)\n\
         if [ \"$n\" -lt {times} ]; then echo $((n+1)) > '{count}'; kill -9 $$; fi\nfi\n\
         exec '{lean}' \"$@\"\n",
        count = count.display(),
        lean = lean.display()
    );
    let path = common::write_file(dir, "dying-lean", &script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// How many times the dying `lean` in `dir` was killed.
fn deaths(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("deaths"))
        .map(|t| t.trim().parse().unwrap())
        .unwrap_or(0)
}

const THEOREM: &str = "prelude\nimport Mini\n\
theorem swap_both (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  simp_all\n";

/// `command` (prove or eval) of `swap_both` with the file backend and `lean`, the model a
/// stand-in proposing `simp_all` alone.
fn run(dir: &Path, lean: &Path, server: &StandInServer, command: &[&str]) -> Output {
    let file = common::write_file(dir, "Swap.lean", THEOREM);
    let lib = common::repo_root().join("lean/mini/build");
    let url = server.url();
    let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    if command[0] == "prove" {
        args.extend(["--theorem".into(), "swap_both".into(), "--file".into()]);
    } else {
        args.push("--dataset".into());
    }
    args.push(file.display().to_string());
    args.extend(
        [
            "--backend",
            "file",
            "--predictor-url",
            &url,
            "--predictor-model",
            "m",
            "--no-also-try",
            "--name-repairs",
            "0",
            "--expansions",
            "2",
            "--lean",
        ]
        .map(String::from),
    );
    args.push(lean.display().to_string());
    args.push("--lean-path".into());
    args.push(lib.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::proofstep_at_root(&args)
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn lean_dying_once_on_a_check_costs_no_proof() {
    let test = "lean_dying_once_on_a_check_costs_no_proof";
    let Some(lean) = common::test_lean(test) else {
        return;
    };
    let server =
        StandInServer::start(|_, _| StandInReply::Answer(200, answer_with(&["simp_all"], -0.1)));

    // Killed on the candidate's check (the first text holding the step; the final check comes
    // after it).
    let dir = tempfile::tempdir().unwrap();
    let dying = dying_lean(dir.path(), &lean.lean, "^  simp_all$", 1);
    let out = run(dir.path(), &dying, &server, &["prove", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(deaths(dir.path()), 1, "the check was killed once");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["proved"], true, "{result}");

    // Killed on the final check of the proof found, once: checked again, proved.
    let dir = tempfile::tempdir().unwrap();
    let dying = dying_lean(dir.path(), &lean.lean, "#print axioms swap_both$", 1);
    let out = run(dir.path(), &dying, &server, &["prove", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(deaths(dir.path()), 1);

    // Killed on every final check: it fails for this proof, as a check past the memory limit
    // each time would. An error on the candidate, counted; the search goes on and ends "not
    // proved" (exit 1), and `eval` records that verdict.
    let dir = tempfile::tempdir().unwrap();
    let dying = dying_lean(dir.path(), &lean.lean, "#print axioms swap_both$", 1000);
    let out = run(dir.path(), &dying, &server, &["prove", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["counts"]["errors"].as_u64().unwrap() >= 1,
        "{result}"
    );
    let results = dir.path().join("results.jsonl");
    let out = run(
        dir.path(),
        &dying,
        &server,
        &["eval", "--out", results.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&results).unwrap().trim()).unwrap();
    assert_eq!(line["proved"], false, "{line}");
    assert_ne!(line["retry"], true, "{line}");
}
