//! The test world's Lean files, checked with the real `lean --json` against the current
//! `lean/mini/Mini.lean`: the quick-start file and the tactic samples must be fully proved (so a
//! broken prelude fails CI), and every sample in `lean/mini/examples/` must still have the
//! per-theorem outcome its README records (so the `check` tests built on them stay truthful).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A freshly built prelude: the folder holding `Mini.olean` built from the current Mini.lean.
struct FreshPrelude {
    _dir: tempfile::TempDir,
    lib: PathBuf,
}

/// Builds `lean/mini/Mini.lean` into a temporary folder, so the tests judge the source as it is now
/// rather than whatever `setup.sh` built last.
fn build_prelude(lean: &Path) -> FreshPrelude {
    let mini = common::repo_root().join("lean/mini");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(lean)
        .current_dir(&mini)
        .arg("-o")
        .arg(dir.path().join("Mini.olean"))
        .arg("Mini.lean")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lean/mini/Mini.lean does not build:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = dir.path().to_path_buf();
    FreshPrelude { _dir: dir, lib }
}

/// Runs `lean --json` on a file of the test world (path relative to lean/mini) and returns the
/// exit code and the diagnostics.
fn lean_json(lean: &Path, lib: &Path, rel: &str) -> (i32, Vec<Value>) {
    let out = Command::new(lean)
        .current_dir(common::repo_root().join("lean/mini"))
        .env("LEAN_PATH", lib)
        .arg("--json")
        .arg(rel)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let diags = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: bad JSON line {l:?}: {e}"))
        })
        .collect();
    (out.status.code().unwrap_or(-1), diags)
}

/// The theorems of a file, as (name, first line), in order.
fn theorems(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let name = l.strip_prefix("theorem ")?.split_whitespace().next()?;
            Some((name.to_string(), i as u64 + 1))
        })
        .collect()
}

/// Outcome of one theorem from the diagnostics inside it (the rule in examples/README.md).
fn status(diags: &[&Value]) -> &'static str {
    let errors: Vec<&&Value> = diags.iter().filter(|d| d["severity"] == "error").collect();
    if !errors.is_empty() {
        if errors.iter().all(|d| d["kind"] == "Tactic.unsolvedGoals") {
            "open"
        } else {
            "error"
        }
    } else if diags.iter().any(|d| d["kind"] == "hasSorry") {
        "sorry"
    } else {
        "proved"
    }
}

/// Per-theorem outcomes of a test-world file, checked with the real Lean.
fn classify(lean: &Path, lib: &Path, rel: &str) -> BTreeMap<String, &'static str> {
    let text = std::fs::read_to_string(common::repo_root().join("lean/mini").join(rel)).unwrap();
    let thms = theorems(&text);
    assert!(!thms.is_empty(), "{rel} has no theorems");
    let (_, diags) = lean_json(lean, lib, rel);
    for d in &diags {
        let line = d["pos"]["line"].as_u64().unwrap();
        assert!(
            line >= thms[0].1,
            "{rel}: diagnostic before the first theorem: {d}"
        );
    }
    let mut out = BTreeMap::new();
    for (k, (name, start)) in thms.iter().enumerate() {
        let end = thms.get(k + 1).map(|t| t.1).unwrap_or(u64::MAX);
        let inside: Vec<&Value> = diags
            .iter()
            .filter(|d| (*start..end).contains(&d["pos"]["line"].as_u64().unwrap()))
            .collect();
        out.insert(name.clone(), status(&inside));
    }
    out
}

/// Asserts that a whole file is proved: exit 0, no error, no sorry, and at least `min` theorems.
fn assert_all_proved(lean: &Path, lib: &Path, rel: &str, min: usize) {
    let (code, diags) = lean_json(lean, lib, rel);
    let bad: Vec<&Value> = diags
        .iter()
        .filter(|d| d["severity"] == "error" || d["kind"] == "hasSorry")
        .collect();
    assert!(bad.is_empty(), "{rel} is not fully proved:\n{bad:#?}");
    assert_eq!(code, 0, "{rel}: lean exited with {code}");
    let text = std::fs::read_to_string(common::repo_root().join("lean/mini").join(rel)).unwrap();
    let n = theorems(&text).len();
    assert!(
        n >= min,
        "{rel} has only {n} theorems (expected at least {min})"
    );
}

#[test]
fn example_file_is_fully_proved() {
    let Some(t) = common::test_lean("example_file_is_fully_proved") else {
        return;
    };
    let p = build_prelude(&t.lean);
    assert_all_proved(&t.lean, &p.lib, "Example.lean", 13);
    let text = std::fs::read_to_string(common::repo_root().join("lean/mini/Example.lean")).unwrap();
    assert!(theorems(&text).iter().any(|(n, _)| n == "test_thm"));
}

#[test]
fn tactic_samples_are_fully_proved() {
    let Some(t) = common::test_lean("tactic_samples_are_fully_proved") else {
        return;
    };
    let p = build_prelude(&t.lean);
    assert_all_proved(&t.lean, &p.lib, "examples/Tactics.lean", 71);
}

/// Reads the `| `File.lean` | `theorem` | status | ... |` rows of examples/README.md.
fn recorded_outcomes() -> BTreeMap<String, BTreeMap<String, String>> {
    let readme =
        std::fs::read_to_string(common::repo_root().join("lean/mini/examples/README.md")).unwrap();
    let mut files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].ends_with(".lean`") {
            continue;
        }
        let file = cells[1].trim_matches('`').to_string();
        let thm = cells[2].trim_matches('`').to_string();
        files
            .entry(file)
            .or_default()
            .insert(thm, cells[3].to_string());
    }
    files
}

#[test]
fn sample_files_have_their_recorded_outcomes() {
    let Some(t) = common::test_lean("sample_files_have_their_recorded_outcomes") else {
        return;
    };
    let p = build_prelude(&t.lean);
    let recorded = recorded_outcomes();
    // All four outcomes and the seven kinds of sample must be on record.
    assert!(
        recorded.len() >= 7,
        "README records only {} files",
        recorded.len()
    );
    let statuses: std::collections::BTreeSet<&str> = recorded
        .values()
        .flat_map(|m| m.values().map(String::as_str))
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["error", "open", "proved", "sorry"]
    );
    for (file, expected) in &recorded {
        let got = classify(&t.lean, &p.lib, &format!("examples/{file}"));
        let got: BTreeMap<String, String> =
            got.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        assert_eq!(
            &got, expected,
            "examples/{file}: outcomes differ from examples/README.md"
        );
    }
}

#[test]
fn setup_is_idempotent_and_prints_lean_last() {
    let Some(t) = common::test_lean("setup_is_idempotent_and_prints_lean_last") else {
        return;
    };
    // Run from another folder: setup.sh must not depend on the cwd.
    let out = Command::new("bash")
        .arg(common::repo_root().join("lean/mini/setup.sh"))
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "setup.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    assert_eq!(Path::new(last), t.lean.canonicalize().unwrap());
    let version = Command::new(last).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("version 4.35.0,"));
}
