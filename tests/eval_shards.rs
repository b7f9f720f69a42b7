//! An evaluation split across machines, through the real binary and the test world's real
//! Lean: `eval --shard I/N` runs, `eval merge` joins them, and the merged results, summary and
//! report are those of one run; shards of other settings are refused, a shard run twice is
//! counted once. The committed default model proves some of the example file's theorems and
//! not others, so the records differ from theorem to theorem.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// `eval` of the example file into `out` with a small budget (2 expansions unless `extra`
/// says otherwise); `extra` flags go last.
fn eval(out: &Path, extra: &[&str]) -> Output {
    let model = common::repo_root().join("models/testworld-small");
    let expansions = if extra.contains(&"--expansions") {
        &[][..]
    } else {
        &["--expansions", "2"][..]
    };
    let out = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["eval", "--dataset"])
        .arg(common::repo_root().join("lean/mini/Example.lean"))
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(model)
        .args(expansions)
        .args(["--samples", "2", "--max-tokens", "16"])
        .args(["--lean-workers", "2", "--workers", "2"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

fn merge(out: &Path, shards: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["eval", "merge", "--out"])
        .arg(out)
        .args(shards)
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The records of a results file by name, without the wall times (which differ run to run).
fn records(path: &Path) -> Vec<Value> {
    let mut records: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut r: Value = serde_json::from_str(l).unwrap();
            for key in ["time_secs", "model_secs", "lean_secs"] {
                r.as_object_mut().unwrap().remove(key);
            }
            r
        })
        .collect();
    records.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    records
}

fn json_file(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_shards_run_separately_merge_into_the_records_of_one_run() {
    let test = "three_shards_run_separately_merge_into_the_records_of_one_run";
    if common::test_lean(test).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);

    // One machine, with the summary as JSON on stdout.
    let single = eval(&at("single.jsonl"), &["--json"]);
    let printed: Value = serde_json::from_slice(&single.stdout).unwrap();
    let total = records(&at("single.jsonl")).len();
    assert!(total >= 10);
    assert_eq!(printed["theorems"], total);
    assert_eq!(printed["this_run"]["searched"], total);
    assert_eq!(
        printed["files"]["summary"],
        at("single.summary.json").to_str().unwrap()
    );
    let summary = json_file(at("single.summary.json"));
    let proved = summary["proved"].as_u64().unwrap() as usize;
    assert!(
        0 < proved && proved < total,
        "a mix of proved and not: {proved}/{total}"
    );
    assert_eq!(printed["proved"], summary["proved"]);

    // Three machines, each its own shard.
    let mut sizes = Vec::new();
    for i in 0..3 {
        let out = at(&format!("s{i}.jsonl"));
        let run = eval(&out, &["--shard", &format!("{i}/3")]);
        assert!(
            stderr(&run).contains(&format!("in shard {i}/3")),
            "{}",
            stderr(&run)
        );
        sizes.push(records(&out).len());
    }
    assert_eq!(sizes.iter().sum::<usize>(), total, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n > 0 && n < total), "{sizes:?}");

    // Merged in any order: the records, summary and report header of the single run.
    let out = merge(
        &at("merged.jsonl"),
        &[&at("s2.jsonl"), &at("s0.jsonl"), &at("s1.jsonl")],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout.contains(&format!("merged 3 files: {total} theorems, 0 duplicate")),
        "{stdout}"
    );
    assert_eq!(records(&at("merged.jsonl")), records(&at("single.jsonl")));
    let merged = json_file(at("merged.summary.json"));
    for key in [
        "theorems",
        "proved",
        "errors",
        "pass_rate",
        "ci95",
        "max_expansions",
        "by_budget",
        "about",
    ] {
        assert_eq!(merged[key], summary[key], "{key}");
    }
    let report = std::fs::read_to_string(at("merged.report.md")).unwrap();
    assert!(
        report.contains(&format!("| {total} | {proved} |")),
        "{report}"
    );
    assert!(at("merged.budget.svg").exists());

    // The merged run is a run: the same flags without --shard resume it, with nothing to do.
    let resumed = eval(&at("merged.jsonl"), &[]);
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        stdout.contains(&format!("this run: 0 searched (0 proved), {total} resumed")),
        "{stdout}"
    );

    // A shard run twice (a requeued array task) is merged once.
    eval(&at("s1-again.jsonl"), &["--shard", "1/3"]);
    let out = merge(
        &at("merged-again.jsonl"),
        &[
            &at("s0.jsonl"),
            &at("s1.jsonl"),
            &at("s1-again.jsonl"),
            &at("s2.jsonl"),
        ],
        &["--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["merge"]["duplicates_dropped"], sizes[1]);
    assert_eq!(printed["theorems"], total);
    assert_eq!(
        records(&at("merged-again.jsonl")),
        records(&at("single.jsonl"))
    );

    // A shard of other settings is refused, naming the setting; nothing is written.
    eval(
        &at("s2-other.jsonl"),
        &["--shard", "2/3", "--expansions", "1"],
    );
    let out = merge(
        &at("mixed.jsonl"),
        &[&at("s0.jsonl"), &at("s1.jsonl"), &at("s2-other.jsonl")],
        &[],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("s2-other.jsonl cannot be merged")
            && err.contains("--expansions: 2 in")
            && err.contains("1 in"),
        "{err}"
    );
    assert!(!at("mixed.jsonl").exists());

    // A missing shard stops the merge (6) unless --partial.
    let out = merge(&at("part.jsonl"), &[&at("s0.jsonl"), &at("s1.jsonl")], &[]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no file holds shard 2/3"),
        "{}",
        stderr(&out)
    );
    let out = merge(
        &at("part.jsonl"),
        &[&at("s0.jsonl"), &at("s1.jsonl")],
        &["--partial"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(records(&at("part.jsonl")).len(), sizes[0] + sizes[1]);

    // A merge never writes over results: not a shard's, not an earlier merge's.
    let out = merge(&at("s0.jsonl"), &[&at("s0.jsonl"), &at("s1.jsonl")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = merge(
        &at("merged.jsonl"),
        &[&at("s0.jsonl"), &at("s1.jsonl"), &at("s2.jsonl")],
        &[],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("already holds"), "{}", stderr(&out));

    // A shard is a file anyone can write: a theorem marked proved by hand (its proof `sorry`)
    // is checked again and stops the merge (the twentieth audit); nothing is written.
    let mut forged_one = None;
    for shard in ["s0.jsonl", "s1.jsonl", "s2.jsonl"] {
        let text = std::fs::read_to_string(at(shard)).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                let mut r: Value = serde_json::from_str(line).unwrap();
                if forged_one.is_none() && r["proved"] == false {
                    forged_one = r["name"].as_str().map(str::to_string);
                    r["proved"] = Value::Bool(true);
                    r["proof"] = serde_json::json!(["sorry"]);
                }
                r.to_string()
            })
            .collect();
        std::fs::write(at(shard), lines.join("\n") + "\n").unwrap();
    }
    let forged_one = forged_one.expect("some theorem is not proved");
    let out = merge(
        &at("forged.jsonl"),
        &[&at("s0.jsonl"), &at("s1.jsonl"), &at("s2.jsonl")],
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains("cannot be merged") && err.contains(&forged_one),
        "{err}"
    );
    assert!(!at("forged.jsonl").exists());

    // A result for a theorem the dataset does not hold (a name changed by hand) is refused too:
    // the merged summary would count it (the twenty-first audit).
    let text = std::fs::read_to_string(at("s0.jsonl")).unwrap();
    let renamed: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut r: Value = serde_json::from_str(line).unwrap();
            if i == 0 {
                // Renamed within its shard (trailing spaces until the hash agrees), so that only
                // the name's absence from the dataset can refuse it.
                let name = r["name"].as_str().unwrap().to_string();
                let shard = proofstep::eval::Shard::index_of(&name, 3);
                let renamed = (1..)
                    .map(|n| format!("{name}{}", " ".repeat(n)))
                    .find(|n| proofstep::eval::Shard::index_of(n, 3) == shard)
                    .unwrap();
                r["name"] = Value::String(renamed);
            }
            r.to_string()
        })
        .collect();
    std::fs::write(at("s0.jsonl"), renamed.join("\n") + "\n").unwrap();
    let out = merge(
        &at("stray.jsonl"),
        &[&at("s0.jsonl"), &at("s1.jsonl"), &at("s2.jsonl")],
        &["--partial"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not hold"), "{}", stderr(&out));
    assert!(!at("stray.jsonl").exists());
}

#[test]
fn a_shard_is_resumed_only_as_the_same_shard() {
    let test = "a_shard_is_resumed_only_as_the_same_shard";
    if common::test_lean(test).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.jsonl");
    eval(&out, &["--shard", "0/2"]);
    let config = json_file(dir.path().join("s.config.json"));
    assert_eq!(config["shard"], serde_json::json!({"index": 0, "count": 2}));
    let model = common::repo_root().join("models/testworld-small");
    let other = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["eval", "--dataset"])
        .arg(common::repo_root().join("lean/mini/Example.lean"))
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(model)
        .args(["--expansions", "2", "--samples", "2", "--max-tokens", "16"])
        .args(["--shard", "1/2"])
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(7));
    let err = stderr(&other);
    assert!(
        err.contains("--shard: 0/2 in the recorded run, 1/2 now"),
        "{err}"
    );
}
