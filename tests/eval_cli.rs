//! The `prove` and `eval` commands end to end: the real binary, the test world's real Lean, and a
//! tiny random-weight model folder (an untrained model: it proves nothing, which is what these
//! tests need to exercise the commands, exit codes, resumption and reports).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
}

fn example() -> PathBuf {
    common::repo_root().join("lean/mini/Example.lean")
}

/// The names of the theorems in the results file, in order.
fn names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn prove_names_the_theorems_when_the_one_asked_for_is_missing() {
    let Some(_) = common::test_lean("prove_names_the_theorems_when_the_one_asked_for_is_missing")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let out = bin()
        .args(["prove", "--theorem", "no_such_thm", "--file"])
        .arg(example())
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no theorem `no_such_thm`"), "{err}");
    assert!(
        err.contains("test_thm") && err.contains("and_swap"),
        "{err}"
    );
}

#[test]
fn prove_exits_1_with_a_json_result_when_no_proof_is_found() {
    let Some(_) = common::test_lean("prove_exits_1_with_a_json_result_when_no_proof_is_found")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let out = bin()
        .args(["prove", "--theorem", "test_thm", "--file"])
        .arg(example())
        .arg("--model")
        .arg(&model)
        .args([
            "--expansions",
            "2",
            "--samples",
            "4",
            "--max-tokens",
            "8",
            "--no-also-try",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["theorem"], "test_thm");
    assert_eq!(json["proved"], false);
    assert_eq!(
        json["statement"],
        "theorem test_thm (m n : Nat) (h : m.Coprime n) : m.gcd n = 1"
    );
    assert!(json["counts"]["expansions"].as_u64().unwrap() <= 2);
    assert_eq!(
        json["trace"][0]["goals"][0],
        "m n : Nat\nh : m.Coprime n\n⊢ m.gcd n = 1"
    );
}

#[test]
fn prove_also_tries_the_listed_tactics_and_refuses_sorry_among_them() {
    let Some(_) =
        common::test_lean("prove_also_tries_the_listed_tactics_and_refuses_sorry_among_them")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let prove = |tactics: &[&str]| {
        let mut cmd = bin();
        cmd.args(["prove", "--theorem", "and_swap", "--file"])
            .arg(example())
            .arg("--model")
            .arg(&model)
            .args(["--expansions", "8", "--samples", "2", "--max-tokens", "8"]);
        for tactic in tactics {
            cmd.args(["--also-try", tactic]);
        }
        cmd.output().unwrap()
    };
    // The untrained model proves nothing by itself; the listed steps do.
    let out = prove(&["constructor", "exact h.left", "exact h.right"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("constructor") && stdout.contains("exact h.right"),
        "{stdout}"
    );

    let out = prove(&["constructor", "sorry"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--also-try \"sorry\"") && err.contains("proves nothing"),
        "{err}"
    );
}

#[test]
fn eval_killed_mid_run_resumes_with_no_duplicate_and_no_lost_line() {
    let test = "eval_killed_mid_run_resumes_with_no_duplicate_and_no_lost_line";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("out/results.jsonl");
    let eval = || {
        let mut cmd = bin();
        cmd.args(["eval", "--dataset"])
            .arg(example())
            .arg("--out")
            .arg(&results)
            .arg("--model")
            .arg(&model)
            .args([
                "--expansions",
                "1",
                "--samples",
                "8",
                "--max-tokens",
                "4",
                "--lean-workers",
                "2",
                "--workers",
                "2",
            ]);
        cmd
    };
    let total = proofstep::eval::load(&example(), &Default::default())
        .unwrap()
        .len();
    assert!(total >= 10);

    // Start, wait for a few lines, then SIGKILL the binary mid-run.
    let mut child = eval()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while names(&results).len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "eval wrote no results"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "eval ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = std::fs::read_to_string(&results).unwrap();
    let done_before = before.lines().count();
    assert!(done_before < total, "killed too late to test resuming");
    // And the worst case of a kill: half a line written, no newline.
    let half = r#"{"name":"and_swap","proved":fal"#;
    std::fs::write(&results, format!("{before}{half}")).unwrap();

    let out = eval().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} resumed from earlier runs", done_before)),
        "{stdout}"
    );
    let after = std::fs::read_to_string(&results).unwrap();
    assert!(
        after.starts_with(&before),
        "lines written before the kill are kept as they were"
    );
    let all = names(&results);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), total, "one line per theorem: {all:?}");
    assert_eq!(unique.len(), total, "no duplicate: {all:?}");

    // A third run has nothing left to do and changes nothing.
    let out = eval().output().unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&results).unwrap(), after);

    // The summary, report and plot are beside the results.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["theorems"].as_u64().unwrap() as usize, total);
    assert!(summary["ci95"][1].as_f64().unwrap() > 0.0);
    let report = std::fs::read_to_string(dir.path().join("out/results.report.md")).unwrap();
    assert!(report.contains("results.budget.svg"));
    assert!(dir.path().join("out/results.budget.svg").exists());
}

/// `eval` of the example file into `results` with a small budget; `extra` flags go last.
fn eval_example(model: &Path, results: &Path, extra: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(["eval", "--dataset"])
        .arg(example())
        .arg("--out")
        .arg(results)
        .arg("--model")
        .arg(model)
        .args(["--samples", "2", "--max-tokens", "4", "--lean-workers", "2"])
        .args(extra);
    cmd
}

#[test]
fn eval_resumes_only_a_run_of_the_same_settings() {
    let Some(_) = common::test_lean("eval_resumes_only_a_run_of_the_same_settings") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("results.jsonl");
    let run = |extra: &[&str]| eval_example(&model, &results, extra).output().unwrap();

    let out = run(&["--expansions", "1", "--limit", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read_to_string(&results).unwrap();
    assert_eq!(names(&results).len(), 2);

    // Another budget on the same --out: refused, naming the setting and the fix; nothing written.
    let out = run(&["--expansions", "2", "--limit", "3"]);
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--expansions: 1 in the recorded run, 2 now") && err.contains("another --out"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&results).unwrap(), first);
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["expansions"], 1);
    assert_eq!(config["model_fingerprint"].as_str().unwrap().len(), 64);

    // The same settings (a larger --limit extends the run): the two done theorems are skipped.
    let out = run(&["--expansions", "1", "--limit", "3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("this run: 1 searched") && stdout.contains("2 resumed from earlier runs"),
        "{stdout}"
    );
    let after = std::fs::read_to_string(&results).unwrap();
    assert!(after.starts_with(&first));
    assert_eq!(names(&results).len(), 3);

    // The summary lists what was run, and what checked it.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["theorems"], 3);
    let about: Vec<&str> = summary["about"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        about,
        [
            "dataset",
            "split",
            "model",
            "backend",
            "expansions",
            "time limit (s)",
            "tactic timeout (s)",
            "decoding",
            "checked by"
        ]
    );

    // What checks the proofs is part of the run: another axiom allowed is another run.
    let out = run(&[
        "--expansions",
        "1",
        "--limit",
        "3",
        "--allow-axiom",
        "magic",
    ]);
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--allow-axiom: [] in the recorded run, [\"magic\"] now"),
        "{err}"
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        config["checker"]["check_rules"],
        proofstep::lean::CHECK_RULES
    );
    assert!(config["checker"]["lean"]
        .as_str()
        .unwrap()
        .starts_with("Lean (version"));
}

#[test]
fn a_second_eval_on_the_same_out_is_refused_while_the_first_runs() {
    let test = "a_second_eval_on_the_same_out_is_refused_while_the_first_runs";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("results.jsonl");
    // A run long enough to be caught running: every theorem's root is expanded again at each
    // of 40 retry temperatures when the untrained model's candidates all fail.
    let retries: Vec<String> = (1..=40)
        .map(|i| format!("{}", 0.5 + i as f32 / 20.0))
        .collect();
    let retries = retries.join(",");
    let slow = [
        "--expansions",
        "60",
        "--workers",
        "1",
        "--retry-temperatures",
        &retries,
    ];
    let mut first = eval_example(&model, &results, &slow)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first run opens its results file once it holds the lock.
    let started = Instant::now();
    while !results.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "eval never started"
        );
        if first.try_wait().unwrap().is_some() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut first.stderr.take().unwrap(), &mut err).unwrap();
            panic!("eval ended early: {err}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = eval_example(&model, &results, &slow).output().unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(7));
    assert!(
        still_running,
        "the first eval ended before the second was refused"
    );
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("being written by another `proofstep eval`")
            && err.contains("results.lock")
            && err.contains("another --out"),
        "{err}"
    );

    // The killed run's lock went with it: the same command resumes.
    let out = eval_example(&model, &results, &slow)
        .args(["--limit", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn eval_resumes_results_without_recorded_settings_only_when_adopted() {
    let test = "eval_resumes_results_without_recorded_settings_only_when_adopted";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("old.jsonl");
    // A results file as an earlier proofstep wrote it: records, no settings beside it.
    let first = proofstep::eval::load(&example(), &Default::default()).unwrap()[0]
        .name
        .clone();
    let record = proofstep::eval::TheoremRecord::from_error(&first, None, "x".into(), 0.1);
    let legacy = format!("{}\n", serde_json::to_string(&record).unwrap());
    std::fs::write(&results, &legacy).unwrap();
    let flags = ["--expansions", "1", "--limit", "2"];

    let out = eval_example(&model, &results, &flags).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no record of the settings") && err.contains("--adopt-results"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&results).unwrap(), legacy);

    let out = eval_example(&model, &results, &flags)
        .arg("--adopt-results")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 resumed from earlier runs"), "{stdout}");
    assert!(dir.path().join("old.config.json").exists());
    assert_eq!(names(&results)[0], first);

    // An adopted "proved" is checked again first: a forged one (its proof is `sorry`) stops the
    // run and counts nowhere (the nineteenth audit).
    let forged_path = dir.path().join("forged.jsonl");
    let mut forged = record.clone();
    forged.proved = true;
    forged.error = None;
    forged.proof = Some(vec!["sorry".into()]);
    let text = format!("{}\n", serde_json::to_string(&forged).unwrap());
    std::fs::write(&forged_path, &text).unwrap();
    let out = eval_example(&model, &forged_path, &flags)
        .arg("--adopt-results")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains("cannot be adopted") && err.contains(&first),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&forged_path).unwrap(), text);
    // Nothing recorded beside it either: a later run without the flag does not resume it.
    assert!(!dir.path().join("forged.config.json").exists());

    // Adopted results are checked against the whole dataset, not only this run's --limit: a
    // later run with a larger one would resume them (the twenty-first audit).
    let second = proofstep::eval::load(&example(), &Default::default()).unwrap()[1]
        .name
        .clone();
    let mut later = forged.clone();
    later.name = second.clone();
    let limited = dir.path().join("limited.jsonl");
    std::fs::write(
        &limited,
        format!("{}\n", serde_json::to_string(&later).unwrap()),
    )
    .unwrap();
    let out = eval_example(&model, &limited, &["--expansions", "1", "--limit", "1"])
        .arg("--adopt-results")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains(&second), "{err}");
}

#[test]
fn eval_stops_with_a_clear_error_when_the_toolchain_lacks_the_imports() {
    let test = "eval_stops_with_a_clear_error_when_the_toolchain_lacks_the_imports";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("minif2f.jsonl");
    // miniF2F imports Mathlib, which the test world does not have.
    let out = bin()
        .current_dir(common::repo_root())
        .args(["eval", "--split", "test", "--limit", "3", "--dataset"])
        .arg(shared.join("data/minif2f/minif2f-deepseek.jsonl"))
        .arg("--out")
        .arg(&results)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the header does not elaborate"), "{err}");
    assert!(
        err.contains("lake exe cache get") && err.contains("proofstep doctor"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&results).unwrap(),
        "",
        "no result line for an environment failure"
    );
}

/// `generate`, `serve` and `lsp` fall back to the default model when `--model` is omitted, as
/// `prove` and `eval` do; a default that is not there says how to get one.
#[test]
fn model_commands_fall_back_to_the_default_model() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(elsewhere.path())
        .env_remove("PROOFSTEP_MODEL")
        .args(["generate", "--goal", "p : Prop\nhp : p\n⊢ p", "-n", "1"])
        .args(["--max-new-tokens", "4", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.to_string().contains("score"), "{json}");

    // An empty PROOFSTEP_MODEL folder: each command names it and the fix.
    let empty = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        bin()
            .current_dir(elsewhere.path())
            .env("PROOFSTEP_MODEL", empty.path())
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["generate", "--goal", "⊢ True"][..],
        &["serve", "--port", "0"][..],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("PROOFSTEP_MODEL") && err.contains("config.json is missing"),
            "{args:?}: {err}"
        );
    }
    // The editor proxy still forwards, and warns with the same fix.
    let out = run(&["lsp", "--", "sh", "-c", "exit 0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("config.json is missing") && err.contains("forwarding only"),
        "{err}"
    );
}

#[test]
fn an_eval_with_other_weights_is_another_run_and_its_model_is_labelled_reduced() {
    let test = "an_eval_with_other_weights_is_another_run_and_its_model_is_labelled_reduced";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("results.jsonl");
    let run = |extra: &[&str]| eval_example(&model, &results, extra).output().unwrap();
    let out = run(&["--expansions", "1", "--limit", "1", "--weights", "q8_0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.config.json")).unwrap(),
    )
    .unwrap();
    let label = config["model"].as_str().unwrap();
    assert!(label.contains("weights q8_0, reduced precision"), "{label}");
    let first = std::fs::read_to_string(&results).unwrap();
    // The same model read in f32 computes other numbers: refused, nothing written.
    for other in ["auto", "q4_0"] {
        let out = run(&["--expansions", "1", "--limit", "1", "--weights", other]);
        assert_eq!(out.status.code(), Some(7), "{other}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--model") && err.contains("another --out"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&results).unwrap(), first);
    }
}

/// A file whose declarations add hypotheses to its theorems: an instance argument and a
/// hypothesis of `False` from `variable`s. `t_false`'s statement says `False`; Lean's
/// theorem assumes `h : False`, which the listed steps use.
const CONTEXT_FILE: &str = "prelude\nimport Mini\n\nclass Bad : Prop where\n  pf : False\n\n\
     section\nvariable [Bad]\n\ntheorem t_bad : (2 : Nat) + 2 = 5 := by\n  sorry\nend\n\n\
     section\nvariable (h : False)\ninclude h\n\ntheorem t_false : False := by\n  sorry\nend\n\n\
     theorem t_plain (p : Prop) (hp : p) : p := by\n  sorry\n";

#[test]
fn prove_and_eval_say_what_a_theorem_assumes_beyond_its_statement() {
    let Some(_) =
        common::test_lean("prove_and_eval_say_what_a_theorem_assumes_beyond_its_statement")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let file = common::write_file(&data, "Context.lean", CONTEXT_FILE);
    let prove = |theorem: &str, json: bool| {
        let mut cmd = bin();
        cmd.args(["prove", "--theorem", theorem, "--file"])
            .arg(&file)
            .arg("--model")
            .arg(&model);
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let out = prove("t_false", false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("t_false also assumes h : False, which its statement does not write"),
        "{err}"
    );
    let out = prove("t_bad", true);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["context"],
        serde_json::json!(["inst✝ : Bad"]),
        "{json}"
    );
    let out = prove("t_plain", true);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["proved"], true, "{json}");
    assert!(json.get("context").is_none(), "{json}");

    let results = dir.path().join("out/results.jsonl");
    let out = bin()
        .args(["eval", "--dataset"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&results)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let record = |name: &str| {
        records
            .iter()
            .find(|r| r["name"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(record("t_false")["proved"], true);
    assert_eq!(
        record("t_false")["context"],
        serde_json::json!(["h : False"])
    );
    assert_eq!(
        record("t_bad")["context"],
        serde_json::json!(["inst✝ : Bad"])
    );
    assert!(record("t_plain").get("context").is_none());
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["proved_with_context"], 1, "{summary}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        format!("{stdout}{err}").contains("1 of the proved theorems assume hypotheses"),
        "{stdout}{err}"
    );
}

/// A resumed run counts only what proofstep wrote: a line its record of what it wrote does not
/// cover (edited, added, or the file copied over) has its proof checked again before it counts.
/// A forged "proved" stops the run; a line whose proof Lean accepts is counted; the run's own
/// lines are never checked again.
#[test]
fn a_resumed_run_checks_again_the_proofs_it_did_not_write() {
    let test = "a_resumed_run_checks_again_the_proofs_it_did_not_write";
    let Some(_) = common::test_lean(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let results = dir.path().join("r.jsonl");
    let flags = ["--expansions", "1", "--limit", "2", "--no-also-try"];
    let out = eval_example(&model, &results, &flags).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let honest = std::fs::read_to_string(&results).unwrap();
    let resume = |flags: &[&str]| eval_example(&model, &results, flags).output().unwrap();

    // The run's own lines: nothing to check again.
    let out = resume(&flags);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("checking again"), "{err}");

    // The untrained model proved nothing; one line edited to "proved" by `sorry`.
    let mut lines: Vec<serde_json::Value> = honest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|r| r["proved"] == false), "{honest}");
    // The example file's first theorem, whose proof the file holds.
    let name = "test_thm";
    let at = lines.iter().position(|r| r["name"] == name).unwrap();
    lines[at]["proved"] = true.into();
    lines[at]["error"] = serde_json::Value::Null;
    lines[at]["proof"] = serde_json::json!(["sorry"]);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&results, &text).unwrap();
    let out = resume(&flags);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains(name)
            && err.contains("rests on `sorry`")
            && err.contains("not as this proofstep wrote it"),
        "{err}"
    );

    // The same line with the proof the file itself holds: Lean accepts it, and it counts.
    lines[at]["proof"] = serde_json::json!(["rw [Nat.coprime_iff_gcd_eq_one] at h", "exact h"]);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&results, &text).unwrap();
    let out = resume(&[
        "--expansions",
        "1",
        "--limit",
        "2",
        "--no-also-try",
        "--json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("checking again 1 proofs"), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["proved"], 1, "{summary}");
    // Checked once: from then on it is the run's.
    let out = resume(&flags);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("checking again"));

    // Adopted results whose last line, forged, lacks its newline: that line is checked too.
    let adopted = dir.path().join("adopted.jsonl");
    lines[at]["proof"] = serde_json::json!(["sorry"]);
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let (forged, others): (Vec<_>, Vec<_>) = text.iter().partition(|l| l.contains(name));
    std::fs::write(
        &adopted,
        format!(
            "{}\n{}",
            others
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            forged[0]
        ),
    )
    .unwrap();
    let out = eval_example(&model, &adopted, &flags)
        .arg("--adopt-results")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("rests on `sorry`"), "{err}");
}
