//! The command line's conventions, through the real binary: one exit code per kind of failure,
//! shell completions, `PROOFSTEP_*` variables read by clap, and the warning when the test
//! world's model is about to be used inside a Mathlib project. None of these needs Lean.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use proofstep::eval::run_config::test_config;
use proofstep::eval::{Shard, Task};

/// The binary run in `dir`, with no toolchain or model variable of the caller's leaking in.
fn proofstep(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    cmd.current_dir(dir).args(args);
    for var in [
        "PROOFSTEP_LEAN",
        "PROOFSTEP_LAKE",
        "PROOFSTEP_REPL",
        "PROOFSTEP_MODEL",
        "LEAN_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A shard's results file and recorded settings, as `eval --shard` leaves them, with
/// `expansions` as its budget.
fn shard_of_a_run(dir: &Path, name: &str, expansions: usize, shard: Shard) -> String {
    let tasks: Vec<Task> = ["a", "b", "c"]
        .iter()
        .map(|n| Task {
            name: n.to_string(),
            header: String::new().into(),
            statement: format!("theorem {n} : True"),
            split: None,
        })
        .collect();
    let config = test_config(expansions, &tasks).sharded(shard, &tasks);
    let out = dir.join(format!("{name}.jsonl"));
    std::fs::write(
        dir.join(format!("{name}.config.json")),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    std::fs::write(&out, "").unwrap();
    out.to_str().unwrap().to_string()
}

#[test]
fn each_kind_of_failure_exits_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let code = |cmd: &mut Command| {
        let out = run(cmd);
        (out.status.code(), stderr(&out))
    };

    // 0: success.
    assert_eq!(
        code(&mut proofstep(here, &["completions", "bash"])).0,
        Some(0)
    );

    // 2: usage — clap's own errors, and a flag value only the command can check.
    let (c, err) = code(&mut proofstep(here, &["prove", "--no-such-flag"]));
    assert_eq!(c, Some(2), "{err}");
    let (c, err) = code(&mut proofstep(
        here,
        &["prove", "--statement", "theorem t : True", "--samples", "0"],
    ));
    assert_eq!(c, Some(2), "{err}");
    assert!(err.contains("--samples"), "{err}");
    // A time in seconds that is no duration (infinity panicked in `Duration`; 0 timed out
    // every step).
    let prove = ["prove", "--statement", "theorem t : True"];
    for (command, flag, value) in [
        (&prove[..], "--tactic-timeout", "inf"),
        (&prove, "--tactic-timeout", "0"),
        (&prove, "--time-limit", "1e300"),
        (&prove, "--time-limit", "NaN"),
        (&prove, "--time-limit", "1e-12"),
        (&["check", "A.lean"], "--timeout", "18446744073709551615"),
        (&["doctor"], "--timeout", "0"),
    ] {
        let args: Vec<&str> = command.iter().copied().chain([flag, value]).collect();
        let (c, err) = code(&mut proofstep(here, &args));
        assert_eq!(c, Some(2), "{flag} {value}: {err}");
        assert!(
            err.contains("seconds") && !err.contains("panicked"),
            "{err}"
        );
    }

    // 3: no Lean anywhere in reach.
    let file = common::write_file(here, "A.lean", "theorem a : True := trivial\n");
    let (c, err) = code(
        proofstep(here, &["check", file.to_str().unwrap()])
            .env("PATH", "/nonexistent")
            .env("HOME", here),
    );
    assert_eq!(c, Some(3), "{err}");
    assert!(err.contains("proofstep doctor"), "{err}");

    // 4: a model folder that is not one.
    let empty = tempfile::tempdir().unwrap();
    let (c, err) = code(
        proofstep(here, &["generate", "--goal", "⊢ True"]).env("PROOFSTEP_MODEL", empty.path()),
    );
    assert_eq!(c, Some(4), "{err}");
    assert!(err.contains("config.json is missing"), "{err}");

    // 5: a file that cannot be read.
    let missing = here.join("NoSuchFile.lean");
    let (c, err) = code(&mut proofstep(here, &["check", missing.to_str().unwrap()]));
    assert_eq!(c, Some(5), "{err}");
    // A Lean file that is not UTF-8 is named by its line.
    std::fs::write(
        here.join("Latin1.lean"),
        b"theorem a : True := trivial\n-- caf\xe9\n",
    )
    .unwrap();
    let (c, err) = code(&mut proofstep(here, &["check", "Latin1.lean"]));
    assert_eq!(c, Some(5), "{err}");
    assert!(err.contains("line 2: not UTF-8 text"), "{err}");

    // 6: a dataset that is not one.
    let bad = common::write_file(here, "bad.jsonl", "{not json\n");
    let (c, err) = code(&mut proofstep(
        here,
        &[
            "eval",
            "--dataset",
            bad.to_str().unwrap(),
            "--out",
            "r.jsonl",
        ],
    ));
    assert_eq!(c, Some(6), "{err}");
    assert!(err.contains("line 1"), "{err}");
    // 6 too: a dataset that is not UTF-8 (it was an I/O error with no line).
    let header = r#""header": "prelude\nimport Mini\n""#;
    let mut latin1 = format!(
        "{{\"name\": \"t\", \"formal_statement\": \"theorem t : True := by\", {header}}}\n"
    )
    .into_bytes();
    latin1.extend_from_slice(b"{\"name\": \"caf\xe9\"}\n");
    std::fs::write(here.join("latin1-dataset.jsonl"), latin1).unwrap();
    let (c, err) = code(&mut proofstep(
        here,
        &[
            "eval",
            "--dataset",
            "latin1-dataset.jsonl",
            "--out",
            "r.jsonl",
        ],
    ));
    assert_eq!(c, Some(6), "{err}");
    assert!(err.contains("line 2: not UTF-8 text"), "{err}");
    // 6 too: training data that holds no example, or a line that is not UTF-8.
    let empty = common::write_file(here, "empty.jsonl", "\n\n");
    let model = common::repo_root().join("models/testworld-small");
    let train = |data: &Path| {
        let mut cmd = proofstep(here, &["train", "--model_name_or_path"]);
        cmd.arg(&model).arg("--train_data_path").arg(data).args([
            "--output_dir",
            "t",
            "--max_steps",
            "1",
        ]);
        code(&mut cmd)
    };
    let (c, err) = train(&empty);
    assert_eq!(c, Some(6), "{err}");
    assert!(err.contains("holds no proof-step example"), "{err}");
    // The data is read before the model loads: with damaged weights too, the data is named.
    let broken = here.join("broken");
    std::fs::create_dir(&broken).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(model.join(f), broken.join(f)).unwrap();
    }
    std::fs::write(broken.join("model.safetensors"), "damaged").unwrap();
    let (c, err) = code(
        proofstep(here, &["train", "--model_name_or_path"])
            .arg(&broken)
            .arg("--train_data_path")
            .arg(&empty)
            .args(["--output_dir", "b", "--max_steps", "1"]),
    );
    assert_eq!(c, Some(6), "{err}");
    assert!(err.contains("holds no proof-step example"), "{err}");
    let latin1 = here.join("latin1.jsonl");
    std::fs::write(&latin1, b"{\"input\": \"caf\xe9\", \"output\": \"x\"}\n").unwrap();
    let (c, err) = train(&latin1);
    assert_eq!(c, Some(6), "{err}");
    assert!(
        err.contains(":1: not a proof-step example (not UTF-8 text)"),
        "{err}"
    );
    // `--resume_from_checkpoint false` starts afresh (it was read as a folder named "false").
    let one = common::write_file(
        here,
        "one.jsonl",
        "{\"input\": \"[GOAL]p : Prop\\nhp : p\\n⊢ p[PROOFSTEP]\", \"output\": \"exact hp<|endoftext|>\"}\n",
    );
    let (c, err) = code(
        proofstep(here, &["train", "--model_name_or_path"])
            .arg(&model)
            .arg("--train_data_path")
            .arg(&one)
            .args(["--output_dir", "f", "--max_steps", "1"])
            .args(["--resume_from_checkpoint", "false"]),
    );
    assert_eq!(c, Some(0), "{err}");

    // 7: shards of two different runs.
    let a = shard_of_a_run(here, "a", 4, Shard { index: 0, count: 2 });
    let b = shard_of_a_run(here, "b", 8, Shard { index: 1, count: 2 });
    let (c, err) = code(&mut proofstep(
        here,
        &["eval", "merge", "--out", "m.jsonl", &a, &b],
    ));
    assert_eq!(c, Some(7), "{err}");
    assert!(err.contains("--expansions: 4 in"), "{err}");
}

/// A reader that stops early (`| head`) ends the command quietly: no panic, no backtrace, the
/// status 141 of a process a closed pipe stopped (the
/// listing, every train theorem a copy of itself, is larger than a pipe's buffer).
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let train = common::repo_root().join("data/testworld/train");
    let script = format!(
        "RUST_BACKTRACE=1 '{}' eval overlap --show 100000 '{}' '{}' | head -n 1 > /dev/null; \
         [ \"${{PIPESTATUS[0]}}\" = 141 ]",
        env!("CARGO_BIN_EXE_proofstep"),
        train.display(),
        train.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert!(
        out.status.success(),
        "the listing's status is not 141: {err}"
    );
}

#[test]
fn help_lists_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut proofstep(dir.path(), &["--help"]));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for line in [
        "Exit codes:",
        "  1  no proof found",
        "  2  usage",
        "  3  Lean",
        "  7  refused",
        "  8  eval: results written",
    ] {
        assert!(help.contains(line), "{line:?} in\n{help}");
    }
}

#[test]
fn completions_come_for_every_shell_and_bash_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&mut proofstep(dir.path(), &["completions", shell]));
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("proofstep") && script.contains("merge") && script.contains("--shard"),
            "{shell}"
        );
    }
    let out = run(&mut proofstep(dir.path(), &["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2));
    // A reader that goes away (`| head`): the status of a closed pipe, quietly, as for a
    // listing printed line by line. The script is larger than a pipe's buffer, so the write
    // fails whenever the reader leaves.
    let mut child = proofstep(dir.path(), &["completions", "powershell"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    // bash reads the script and its completion function answers as bash would ask it.
    let out = run(&mut proofstep(dir.path(), &["completions", "bash"]));
    let script = dir.path().join("proofstep.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |words: &[&str]| {
        let cword = words.len() - 1;
        let line =
            format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; _proofstep proofstep '{}' '{}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            words[cword],
            words[cword - 1],
        );
        let out = Command::new("bash").args(["-c", &line]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete(&["proofstep", "ev"]).trim(), "eval");
    assert_eq!(complete(&["proofstep", "eval", "me"]).trim(), "merge");
    assert_eq!(complete(&["proofstep", "eval", "--sh"]).trim(), "--shard");
}

#[test]
fn proofstep_variables_are_read_by_clap_and_a_flag_wins_over_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    // The help shows each variable and what it holds now.
    let out = run(
        proofstep(dir.path(), &["check", "--help"]).env("PROOFSTEP_LEAN", "/opt/lean/bin/lean")
    );
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("[env: PROOFSTEP_LEAN=/opt/lean/bin/lean]"),
        "{help}"
    );
    assert!(help.contains("[env: PROOFSTEP_REPL="), "{help}");
    let out = run(proofstep(dir.path(), &["prove", "--help"]).env("PROOFSTEP_MODEL", "/models/m"));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[env: PROOFSTEP_MODEL=/models/m]"), "{help}");

    // The variable stands in for the flag; the flag wins over it; set but empty, it is unset.
    let doctor = |args: &[&str], lean: &str| {
        let mut cmd = proofstep(dir.path(), &["doctor", "--json"]);
        cmd.args(args)
            .env("PROOFSTEP_LEAN", lean)
            .env("PATH", "/nonexistent")
            .env("HOME", dir.path());
        let out = run(&mut cmd);
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        report["parts"][0]["detail"].as_str().unwrap().to_string()
    };
    assert!(doctor(&[], "/from/variable").contains("/from/variable"));
    let detail = doctor(&["--lean", "/from/flag"], "/from/variable");
    assert!(
        detail.contains("/from/flag") && !detail.contains("/from/variable"),
        "{detail}"
    );
    let detail = doctor(&[], "");
    assert!(!detail.contains("PROOFSTEP_LEAN"), "{detail}");
}

#[test]
fn the_test_world_model_warns_inside_a_mathlib_project_and_nowhere_else() {
    let project = |requires: &str| {
        let dir = tempfile::tempdir().unwrap();
        let lakefile = format!("name = \"demo\"\n\n[[require]]\nname = \"{requires}\"\n");
        std::fs::write(dir.path().join("lakefile.toml"), lakefile).unwrap();
        std::fs::write(
            dir.path().join("lean-toolchain"),
            "leanprover/lean4:v4.33.0-rc2\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("Sub")).unwrap();
        dir
    };
    let generate = |dir: &Path, extra: &[&str]| {
        let mut cmd = proofstep(dir, &["generate", "--goal", "p : Prop\nhp : p\n⊢ p"]);
        cmd.args(["-n", "1", "--max-new-tokens", "2"]).args(extra);
        let out = run(&mut cmd);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let mathlib = project("mathlib");
    let err = generate(&mathlib.path().join("Sub"), &[]);
    assert!(
        err.contains("requires Mathlib")
            && err.contains("--model DIR")
            && err.contains("testworld-small"),
        "{err}"
    );
    // A model of one's own: no warning.
    let model = common::repo_root().join("models/testworld-small");
    let err = generate(mathlib.path(), &["--model", model.to_str().unwrap()]);
    assert!(!err.contains("requires Mathlib"), "{err}");
    // A Lake project without Mathlib: no warning.
    let other = project("batteries");
    assert!(!generate(other.path(), &[]).contains("requires Mathlib"));
}

#[test]
fn a_gpu_asked_of_a_build_without_cuda_is_refused_with_the_build_command() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    // A device name clap cannot parse is a usage error that lists the choices.
    let out = run(&mut proofstep(
        here,
        &["generate", "--goal", "⊢ True", "--device", "tpu"],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cpu, cuda"), "{}", stderr(&out));
    if proofstep::model::CUDA_BUILT {
        return;
    }
    // In a CPU build, --device cuda says how to build with CUDA (a model failure, 4).
    let out = run(&mut proofstep(
        here,
        &["generate", "--goal", "⊢ True", "--device", "cuda:1"],
    ));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--features cuda") && stderr(&out).contains("--device cpu"),
        "{}",
        stderr(&out)
    );
}
