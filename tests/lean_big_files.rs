//! A big Lean file costs memory in proportion to its size: the theorems of a file share its
//! text instead of each carrying a copy of everything before it. A 5,000-theorem file (0.4 MB)
//! once made `prove --theorem t3` hold 2 GB; the test runs the binary on it and reads the peak
//! memory of the whole process tree (Lean included) when it exits, or, for `check` (where Lean
//! elaborates all 5,000 theorems and their probes, its own business), proofstep's own peak.

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

/// Runs `cmd` and returns its exit code, the peak resident memory (MB) of it and every
/// descendant it waited for, and its own peak (`VmHWM`, read from `/proc` until it exits). The
/// child is reaped by `wait4` itself (which `Child` cannot see).
#[allow(clippy::zombie_processes)]
fn run_with_peak(mut cmd: std::process::Command) -> (Option<i32>, u64, u64) {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let id = child.id() as libc::pid_t;
    let mut own_kb = 0u64;
    let mut status = 0;
    // SAFETY: wait4 on our own child, with valid pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let hwm = std::fs::read_to_string(format!("/proc/{id}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            });
        own_kb = own_kb.max(hwm.unwrap_or(0));
        let pid = unsafe { libc::wait4(id, &mut status, libc::WNOHANG, &mut usage) };
        if pid == id {
            break;
        }
        assert_eq!(pid, 0, "wait4 failed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let code = std::process::ExitStatus::from_raw(status).code();
    (code, usage.ru_maxrss as u64 / 1024, own_kb / 1024)
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
        let (code, tree_mb, own_mb) = run_with_peak(cmd);
        if args[0] == "prove" {
            assert!(matches!(code, Some(0) | Some(1)), "{args:?}: exit {code:?}");
            assert!(
                tree_mb < 1500,
                "{args:?}: the process tree peaked at {tree_mb} MB for a 0.4 MB file"
            );
        } else {
            // Every theorem is proved (exit 0), proofstep holding little beside Lean.
            assert_eq!(code, Some(0), "{args:?}");
            assert!(
                own_mb < 300,
                "{args:?}: proofstep peaked at {own_mb} MB for a 0.4 MB file"
            );
        }
    }
}

/// Every theorem of a file of more than a hundred is checked, in both backends: `lean` stops
/// after 100 errors by default, and each theorem's free-name probe answers with one, so the
/// file backend had left every theorem after about the hundredth unanswered.
#[test]
fn check_answers_every_theorem_of_a_file_past_a_hundred() {
    let Some(lean) = common::test_lean("check_answers_every_theorem_of_a_file_past_a_hundred")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(dir.path(), "Many.lean", &theorem_file(150));
    for backend in ["file", "server"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
            .args(["check", "--backend", backend])
            .arg(&file)
            .env("PROOFSTEP_LEAN", &lean.lean)
            .env("LEAN_PATH", &lean.lib)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("150 theorems: 150 proved"),
            "{backend}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
