//! An interrupted run leaves no Lean behind: each Lean leads a process group of its own (so a
//! deadline kills it whole), which a terminal's Ctrl-C never reaches; SIGINT, SIGTERM or SIGHUP
//! to `proofstep` kills those groups, removes its temporary files and exits with 130. A signal
//! the run was started ignoring (`nohup`'s SIGHUP) stays ignored. On the test world's real Lean,
//! in the file and server backends, with a file Lean takes minutes over.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A definition of 30,000 additions: Lean elaborates it for minutes.
fn slow_file(dir: &Path) -> PathBuf {
    let sum = vec!["0"; 30_000].join(" + ");
    common::write_file(
        dir,
        "Slow.lean",
        &format!("prelude\nimport Mini\ntheorem ok : True := trivial\ndef d : Nat := {sum}\n"),
    )
}

/// Every descendant of `pid` (children, grandchildren, ...).
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(c);
                stack.push(c);
            }
        }
    }
    found
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// True while `pid` runs (a zombie has stopped running).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Waits until a Lean runs under `child`; returns the Lean processes and their arguments.
fn wait_for_lean(child: &mut Child) -> Vec<(u32, String)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let leans: Vec<(u32, String)> = descendants(child.id())
            .into_iter()
            .map(|p| (p, cmdline(p)))
            .filter(|(_, c)| c.contains("lean"))
            .collect();
        if !leans.is_empty() {
            return leans;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "proofstep exited before Lean started"
        );
        assert!(Instant::now() < deadline, "no Lean started within 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(t: &common::TestLean, args: &[&str], ignore_hangup: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    command
        .args(args)
        .env("PROOFSTEP_LEAN", &t.lean)
        .env("LEAN_PATH", &t.lib)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if ignore_hangup {
        use std::os::unix::process::CommandExt;
        // SAFETY: signal(2) between fork and exec, as `nohup` does before it runs a program.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                Ok(())
            });
        }
    }
    command.spawn().expect("the proofstep binary runs")
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits for `child` to exit within 30 s; its exit code.
fn exit_code(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("proofstep did not exit within 30 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After the interruption: every Lean stopped within 10 s, and the temporary files it was
/// checking are gone.
fn assert_cleaned_up(what: &str, leans: &[(u32, String)]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while leans.iter().any(|(p, _)| running(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for (pid, line) in leans {
        assert!(!running(*pid), "{what}: Lean {pid} ({line}) still runs");
        for word in line.split_whitespace() {
            let name = Path::new(word)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| n.starts_with("proofstep_") && n.ends_with(".lean")) {
                assert!(!Path::new(word).exists(), "{what}: {word} was left behind");
            }
        }
    }
}

#[test]
fn an_interrupted_run_stops_its_lean_processes_and_removes_its_files() {
    let Some(t) =
        common::test_lean("an_interrupted_run_stops_its_lean_processes_and_removes_its_files")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = slow_file(dir.path());
    let file = file.to_str().unwrap();
    for (backend, sig, name) in [
        ("file", libc::SIGINT, "SIGINT"),
        ("server", libc::SIGTERM, "SIGTERM"),
        ("file", libc::SIGHUP, "SIGHUP"),
    ] {
        let what = format!("check --backend {backend}, {name}");
        let mut child = start(&t, &["check", file, "--backend", backend], false);
        let leans = wait_for_lean(&mut child);
        signal(&child, sig);
        let code = exit_code(&mut child);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(code, Some(130), "{what}: {stderr}");
        assert!(stderr.contains("interrupted"), "{what}: {stderr}");
        assert_cleaned_up(&what, &leans);
    }
}

#[test]
fn a_hangup_the_run_was_started_ignoring_stays_ignored() {
    let Some(t) = common::test_lean("a_hangup_the_run_was_started_ignoring_stays_ignored") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = slow_file(dir.path());
    let mut child = start(&t, &["check", file.to_str().unwrap()], true);
    let leans = wait_for_lean(&mut child);
    signal(&child, libc::SIGHUP);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a run started under nohup stopped at SIGHUP"
    );
    assert!(leans.iter().all(|(p, _)| running(*p)));
    signal(&child, libc::SIGTERM);
    assert_eq!(exit_code(&mut child), Some(130));
    assert_cleaned_up("nohup, then SIGTERM", &leans);
}
