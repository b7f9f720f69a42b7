//! A big Lean file costs memory in proportion to its size: the theorems of a file share its
//! text instead of each carrying a copy of everything before it. A 5,000-theorem file (0.4 MB)
//! once made `prove --theorem t3` hold 2 GB; the test runs the binary on it and reads the peak
//! memory of the whole process tree (Lean included) when it exits.

mod common;

use std::os::unix::process::ExitStatusExt;

/// `n` small theorems after the test world's prelude.
fn theorem_file(n: usize) -> String {
    let mut text = String::from("prelude\nimport Mini\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "theorem t{i} (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  exact ⟨hp, hq⟩\n\n"
        ));
    }
    text
}

/// Runs `cmd` and returns its exit code and the peak resident memory (MB) of it and every
/// descendant it waited for. The child is reaped by `wait4` itself (which `Child` cannot see).
#[allow(clippy::zombie_processes)]
fn run_with_peak(mut cmd: std::process::Command) -> (Option<i32>, u64) {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child, with valid pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = std::process::ExitStatus::from_raw(status).code();
    (code, usage.ru_maxrss as u64 / 1024)
}

#[test]
fn proving_one_theorem_of_a_big_file_takes_little_memory() {
    let Some(lean) = common::test_lean("proving_one_theorem_of_a_big_file_takes_little_memory")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(dir.path(), "Big.lean", &theorem_file(5000));
    let model = common::untrained_model(dir.path());
    for args in [
        vec![
            "prove",
            "--theorem",
            "t3",
            "--backend",
            "file",
            "--expansions",
            "1",
        ],
        vec!["check", "--json"],
    ] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"));
        cmd.args(&args)
            .env("PROOFSTEP_LEAN", &lean.lean)
            .env("LEAN_PATH", &lean.lib);
        if args[0] == "prove" {
            cmd.arg("--file").arg(&file).arg("--model").arg(&model);
        } else {
            cmd.arg(&file);
        }
        let (code, peak_mb) = run_with_peak(cmd);
        assert!(matches!(code, Some(0) | Some(1)), "{args:?}: exit {code:?}");
        assert!(
            peak_mb < 1500,
            "{args:?}: the process tree peaked at {peak_mb} MB for a 0.4 MB file"
        );
    }
}
