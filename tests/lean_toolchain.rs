//! Toolchain discovery and `proofstep doctor`: the test world is found from the repository
//! root with no flags; a folder with nothing in reach gets the exact fix commands; a Lake
//! project is run through `lake env lean` (here with `lake_standin`, a two-line script standing
//! in for `lake`, which cannot be installed on these machines, that runs `lake env CMD` as CMD
//! with the test world's `LEAN_PATH`).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::check::check_file;
use proofstep::lean::source::SourceFile;
use proofstep::lean::toolchain::{LeanSource, Overrides, Toolchain, INSTALL_ELAN};
use proofstep::lean::Status;
use serde_json::Value;

fn proofstep(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("PROOFSTEP_LEAN")
        .env_remove("PROOFSTEP_LAKE")
        .env_remove("PROOFSTEP_REPL")
        .env_remove("LEAN_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn part<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no part {name} in {report}"))
}

#[test]
fn doctor_from_the_repo_root_finds_the_test_world() {
    let Some(t) = common::test_lean("doctor_from_the_repo_root_finds_the_test_world") else {
        return;
    };
    let root = common::repo_root();
    let out = proofstep(&root, &["doctor", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["usable"], true);
    assert!(
        report["lean_version"].as_str().unwrap().contains("4.35.0"),
        "{report}"
    );
    let lean = part(&report, "lean");
    assert_eq!(lean["found"], true);
    assert!(
        lean["detail"].as_str().unwrap().contains("test world"),
        "{lean}"
    );
    let command = report["lean_command"].as_str().unwrap();
    let lib = t.lib.canonicalize().unwrap();
    assert!(
        command.contains(&format!("LEAN_PATH={}", lib.display())),
        "{command}"
    );
    assert_eq!(part(&report, "test world")["found"], true);

    let text = proofstep(&root, &["doctor"], &[]);
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(stdout.contains("usable: yes"), "{stdout}");
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .starts_with("lean          ok"),
        "{stdout}"
    );
}

#[test]
fn doctor_with_nothing_in_reach_gives_the_fixes() {
    let empty = tempfile::tempdir().unwrap();
    let env = [
        ("PATH", "/nonexistent"),
        ("HOME", empty.path().to_str().unwrap()),
    ];
    let out = proofstep(empty.path(), &["doctor", "--json"], &env);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["usable"], false);
    let lean = part(&report, "lean");
    assert_eq!(lean["found"], false);
    assert!(
        lean["fix"].as_str().unwrap().contains(INSTALL_ELAN),
        "{lean}"
    );
    assert!(part(&report, "elan")["fix"]
        .as_str()
        .unwrap()
        .contains(INSTALL_ELAN));
    assert!(part(&report, "repl")["fix"]
        .as_str()
        .unwrap()
        .contains("repl"));

    // A check there fails with the same advice.
    let file = common::write_file(empty.path(), "A.lean", "theorem a : True := trivial\n");
    let out = proofstep(empty.path(), &["check", file.to_str().unwrap()], &env);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("elan") && stderr.contains("proofstep doctor"),
        "{stderr}"
    );
}

/// A lake or repl named by a variable that points nowhere is reported missing, with the fix,
/// not "ok" because a variable named it.
#[test]
fn doctor_checks_the_tools_variables_name() {
    let empty = tempfile::tempdir().unwrap();
    let env = [
        ("PROOFSTEP_LAKE", "/nonexistent/lake"),
        ("PROOFSTEP_REPL", "/nonexistent/repl"),
    ];
    let out = proofstep(empty.path(), &["doctor", "--json"], &env);
    let report = json(&out);
    for name in ["lake", "repl"] {
        let p = part(&report, name);
        assert_eq!(p["found"], false, "{p}");
        assert!(
            p["detail"].as_str().unwrap().contains("does not exist"),
            "{p}"
        );
        assert!(p["fix"].as_str().unwrap().contains("PROOFSTEP_"), "{p}");
    }
}

#[test]
fn flags_and_variables_override_discovery() {
    let Some(t) = common::test_lean("flags_and_variables_override_discovery") else {
        return;
    };
    let empty = tempfile::tempdir().unwrap();
    let lib = t.lib.to_str().unwrap();
    let lean = t.lean.to_str().unwrap();
    // Through the environment...
    let env = [
        ("PATH", "/nonexistent"),
        ("PROOFSTEP_LEAN", lean),
        ("LEAN_PATH", lib),
    ];
    let out = proofstep(empty.path(), &["doctor", "--json"], &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(part(&json(&out), "lean")["detail"]
        .as_str()
        .unwrap()
        .contains("PROOFSTEP_LEAN"));
    // ...and through flags, which also make `check` work from anywhere.
    let file = common::write_file(
        empty.path(),
        "A.lean",
        "prelude\nimport Mini\ntheorem a (p : Prop) (hp : p) : p := hp\n",
    );
    let args = [
        "check",
        "--json",
        "--lean",
        lean,
        "--lean-path",
        lib,
        file.to_str().unwrap(),
    ];
    let out = proofstep(empty.path(), &args, &[("PATH", "/nonexistent")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"name\":\"a\",\"status\":\"proved\"}\n"
    );
}

#[test]
fn discovery_from_a_subfolder_of_the_repo() {
    let Some(t) = common::test_lean("discovery_from_a_subfolder_of_the_repo") else {
        return;
    };
    let examples = common::repo_root().join("lean/mini/examples");
    let toolchain = Toolchain::discover(&examples, &Overrides::default());
    let (found, source) = toolchain.lean.clone().unwrap();
    assert_eq!(source, LeanSource::TestWorld);
    assert_eq!(
        found.path.canonicalize().unwrap(),
        t.lean.canonicalize().unwrap()
    );
    let version = toolchain.lean_version(Duration::from_secs(60)).unwrap();
    assert!(version.starts_with("Lean (version 4.35.0"), "{version}");
    let cmd = toolchain.lean_command().unwrap();
    let text = std::fs::read_to_string(examples.join("Mixed.lean")).unwrap();
    let result = check_file(
        &FileBackend::new(cmd.clone()).with_timeout(Duration::from_secs(60)),
        &SourceFile::parse(&text),
    )
    .unwrap();
    assert_eq!(result.verdicts[0].status, Status::Proved);
    assert_eq!(result.verdicts[1].status, Status::Open);
}

/// A Lake project in a temporary folder whose `lake` is `lake_standin`.
fn lake_project(lib: &Path, lean_bin: &Path, lakefile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lakefile.lean"), lakefile).unwrap();
    std::fs::write(
        dir.path().join("lean-toolchain"),
        "leanprover/lean4:v4.35.0\n",
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = env ] || {{ echo \"lake_standin: only 'env' is supported\" >&2; exit 64; }}\nshift\nPATH='{}':\"$PATH\" LEAN_PATH='{}' exec \"$@\"\n",
        lean_bin.display(),
        lib.display()
    );
    let standin = dir.path().join("lake_standin");
    std::fs::write(&standin, script).unwrap();
    std::fs::set_permissions(&standin, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn a_lake_project_is_checked_through_lake_env() {
    let Some(t) = common::test_lean("a_lake_project_is_checked_through_lake_env") else {
        return;
    };
    let project = lake_project(
        &t.lib,
        t.lean.parent().unwrap(),
        "import Lake\nopen Lake DSL\npackage demo\n",
    );
    let root = project.path();
    let standin = root.join("lake_standin");
    std::fs::create_dir_all(root.join("Demo")).unwrap();
    let file = common::write_file(
        &root.join("Demo"),
        "Basic.lean",
        "prelude\nimport Mini\ntheorem via_lake (p : Prop) (hp : p) : p := hp\ntheorem open_one (p q : Prop) (hp : p) : p ∧ q := by\n  constructor\n  exact hp\n",
    );
    let env = [
        ("PATH", "/usr/bin:/bin"),
        ("PROOFSTEP_LAKE", standin.to_str().unwrap()),
    ];
    let out = proofstep(root, &["check", "--json", file.to_str().unwrap()], &env);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("{\"name\":\"via_lake\",\"status\":\"proved\"}\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("{\"name\":\"open_one\",\"status\":\"open\",\"goals\":["),
        "{stdout}"
    );

    let out = proofstep(root, &["doctor", "--json"], &env);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let command = report["lean_command"].as_str().unwrap();
    assert!(
        command.starts_with(&format!("{} env lean", standin.display())),
        "{command}"
    );
    assert_eq!(part(&report, "lake project")["found"], true);
    assert_eq!(part(&report, "mathlib")["found"], true, "not required here");
}

#[test]
fn doctor_reports_missing_mathlib_and_repl_in_a_lake_project() {
    let Some(t) = common::test_lean("doctor_reports_missing_mathlib_and_repl_in_a_lake_project")
    else {
        return;
    };
    let lakefile = "import Lake\nopen Lake DSL\npackage demo\nrequire mathlib from git \"https://github.com/leanprover-community/mathlib4\"\nrequire REPL from git \"https://github.com/leanprover-community/repl\"\n";
    let project = lake_project(&t.lib, t.lean.parent().unwrap(), lakefile);
    let root = project.path();
    let standin = root.join("lake_standin");
    let env = [
        ("PATH", "/usr/bin:/bin"),
        ("PROOFSTEP_LAKE", standin.to_str().unwrap()),
    ];
    let report = json(&proofstep(root, &["doctor", "--json"], &env));
    let mathlib = part(&report, "mathlib");
    assert_eq!(mathlib["found"], false);
    assert!(
        mathlib["fix"]
            .as_str()
            .unwrap()
            .ends_with("lake exe cache get`"),
        "{mathlib}"
    );
    let repl = part(&report, "repl");
    assert_eq!(repl["found"], false);
    assert!(
        repl["fix"].as_str().unwrap().contains("lake build repl"),
        "{repl}"
    );
    assert_eq!(report["usable"], true, "Lean itself runs");
    // A search there stops before Lean fails on the missing imports, with the commands.
    let prove = [
        "prove",
        "--statement",
        "theorem t : True",
        "--header",
        "import Mathlib",
    ];
    let out = proofstep(root, &prove, &env);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("requires Mathlib, which is not downloaded")
            && stderr.contains("lake exe cache get && lake build && lake build repl"),
        "{stderr}"
    );

    // Once built, the repl is found where Lake puts it and run through `lake env`.
    let bin = root.join(".lake/packages/REPL/.lake/build/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("repl"), "").unwrap();
    let report = json(&proofstep(root, &["doctor", "--json"], &env));
    assert_eq!(part(&report, "repl")["found"], true);
    let repl_command = report["repl_command"].as_str().unwrap();
    assert!(
        repl_command.contains(" env ") && repl_command.contains("REPL/.lake/build/bin/repl"),
        "{repl_command}"
    );
}

#[test]
fn doctor_checks_a_model_folder_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("config.json"), "{\"model_type\": \"gpt_neox\"}").unwrap();
    let args = ["doctor", "--json", "--model", model.to_str().unwrap()];
    let report = json(&proofstep(&common::repo_root(), &args, &[]));
    let part_model = part(&report, "model");
    assert_eq!(part_model["found"], false);
    let detail = part_model["detail"].as_str().unwrap();
    assert!(
        detail.contains("model.safetensors (or pytorch_model.bin) is missing"),
        "{detail}"
    );

    // Weights in any layout the loader reads count (it reads pytorch_model.bin here, passing
    // over a folder named model.safetensors); the next file lacking is named.
    std::fs::create_dir(model.join("model.safetensors")).unwrap();
    std::fs::write(model.join("pytorch_model.bin"), "").unwrap();
    let report = json(&proofstep(&common::repo_root(), &args, &[]));
    let detail = part(&report, "model")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("tokenizer.json is missing"), "{detail}");
    std::fs::write(model.join("tokenizer.json"), "{}").unwrap();
    let report = json(&proofstep(&common::repo_root(), &args, &[]));
    assert_eq!(part(&report, "model")["found"], true);
    assert!(part(&report, "model")["detail"]
        .as_str()
        .unwrap()
        .contains("gpt_neox"));

    std::fs::write(model.join("config.json"), "{\"model_type\": \"bert\"}").unwrap();
    let report = json(&proofstep(&common::repo_root(), &args, &[]));
    assert_eq!(part(&report, "model")["found"], false);
}

#[test]
fn naming_the_test_world_lean_brings_its_library() {
    let Some(t) = common::test_lean("naming_the_test_world_lean_brings_its_library") else {
        return;
    };
    let overrides = Overrides {
        lean: Some(t.lean.clone()),
        ..Overrides::default()
    };
    let toolchain = Toolchain::discover(&common::repo_root(), &overrides);
    assert_eq!(toolchain.lean.as_ref().unwrap().1, LeanSource::Explicit);
    let cmd = toolchain.lean_command().unwrap();
    let lean_path = cmd
        .env
        .iter()
        .find(|(k, _)| k == "LEAN_PATH")
        .map(|(_, v)| v.clone());
    assert_eq!(
        lean_path,
        Some(t.lib.canonicalize().unwrap().display().to_string())
    );
    let text = "prelude\nimport Mini\ntheorem a (p : Prop) (hp : p) : p := hp\n";
    let result = check_file(
        &FileBackend::new(cmd.clone()).with_timeout(Duration::from_secs(60)),
        &SourceFile::parse(text),
    )
    .unwrap();
    assert_eq!(
        result.verdicts[0].status,
        Status::Proved,
        "{:?}",
        result.verdicts[0]
    );
}

/// The repository's `lean/` is a Lake project for Mathlib users. Without elan and lake, its files
/// get a report and an error that name what is missing and the commands that fix it, never the
/// test world's `lean` failing to import Mathlib; files of the test world below it (lean/mini)
/// still use the test world's `lean`.
#[test]
fn the_mathlib_project_without_lake_says_what_to_install() {
    let Some(t) = common::test_lean("the_mathlib_project_without_lake_says_what_to_install") else {
        return;
    };
    let project = common::repo_root().join("lean");
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", home.path().to_str().unwrap()),
    ];
    let build = "lake exe cache get && lake build && lake build repl";

    let out = proofstep(&project, &["doctor", "--json"], &env);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a Lake project needs its own lean"
    );
    let report = json(&out);
    assert_eq!(report["usable"], false);
    let lean = part(&report, "lean");
    assert_eq!(lean["found"], false, "{lean}");
    let fix = lean["fix"].as_str().unwrap();
    assert!(fix.contains(INSTALL_ELAN) && fix.contains(build), "{fix}");
    assert_eq!(part(&report, "mathlib")["found"], false);

    let prove = [
        "prove",
        "--theorem",
        "test_thm",
        "--file",
        "ProofstepExamples/Basic.lean",
    ];
    let out = proofstep(&project, &prove, &env);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(INSTALL_ELAN) && stderr.contains(build),
        "{stderr}"
    );
    assert!(!stderr.contains("unknown module"), "{stderr}");

    // The test world inside that project keeps its own lean.
    let world = project.join("mini");
    let report = json(&proofstep(&world, &["doctor", "--json"], &env));
    assert_eq!(report["usable"], true, "{report}");
    let toolchain = Toolchain::discover(&world, &Overrides::default());
    let (found, source) = toolchain.lean.clone().unwrap();
    assert_eq!(source, LeanSource::TestWorld);
    assert_eq!(
        found.path.canonicalize().unwrap(),
        t.lean.canonicalize().unwrap()
    );
}
