//! Faults of the REPL process, played by the stand-in REPL: a hang, a death mid-answer,
//! garbage, a slow answer and runaway memory each give the request in flight a clear error (or,
//! when slow but in time, the answer), the process is replaced, and the next request is served.
//! The pool keeps serving on other workers while one is stuck.

mod common;
#[path = "standin/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use proofstep::lean::backend::repl::ReplBackend;
use proofstep::lean::repl::protocol::Response;
use proofstep::lean::repl::worker::Repl;
use proofstep::lean::{LeanError, Outcome, ProofBackend};

const HEADER: &str = "import Mathlib";

/// A REPL whose stand-in misbehaves (per `flags`) on requests containing `exact?`.
fn faulty(test: &str, flags: &[&str], timeout: Duration) -> Option<(Repl, tempfile::TempDir)> {
    let dir = support::transcripts(test)?;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let mut all = vec!["--on", "exact?", "--log", log.to_str().unwrap()];
    all.extend_from_slice(flags);
    let repl = Repl::new(support::repl_config(support::standin(&dir, &all), timeout));
    Some((repl, tmp))
}

/// Starts `theorem test : 0 < 1` on the Mathlib header; returns (generation, proof state).
fn start(repl: &mut Repl) -> (u64, u64) {
    let response = repl
        .command(HEADER, "theorem test : 0 < 1 := by sorry")
        .unwrap();
    (repl.generation(), response.sorries[0].proof_state.unwrap())
}

/// After a fault: the process was replaced, the header is re-imported, requests are served.
fn served_after_restart(repl: &mut Repl, before: u64, tmp: &tempfile::TempDir) {
    assert_eq!(repl.generation(), before + 1, "the process was replaced");
    let response = repl
        .command(HEADER, "theorem foo (x : Nat) : x = x := by sorry")
        .unwrap();
    let state = response.sorries[0].proof_state.unwrap();
    match repl
        .tactic(repl.generation(), state, "induction x")
        .unwrap()
    {
        Response::Tactic(t) => assert_eq!(t.goals.len(), 2, "{t:?}"),
        other => panic!("expected a tactic answer, got {other:?}"),
    }
    let log = support::logged(&tmp.path().join("requests.log"));
    let imports = log
        .iter()
        .filter(|l| l.as_str() == r#"{"cmd":"import Mathlib"}"#)
        .count();
    assert_eq!(
        imports, 2,
        "the header was imported again in the fresh process: {log:#?}"
    );
}

#[test]
fn a_hung_process_times_out_and_is_replaced() {
    let Some((mut repl, tmp)) = faulty(
        "a_hung_process_times_out_and_is_replaced",
        &["--fault", "hang"],
        Duration::from_secs(1),
    ) else {
        return;
    };
    let (generation, state) = start(&mut repl);
    let pid = repl.pid().unwrap();
    let began = Instant::now();
    let err = repl.tactic(generation, state, "exact?").unwrap_err();
    assert!(
        matches!(err, LeanError::Timeout(t) if t == Duration::from_secs(1)),
        "{err}"
    );
    assert!(began.elapsed() < Duration::from_secs(5));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid),
        "the hung process was killed"
    );
    served_after_restart(&mut repl, generation, &tmp);
    // The old state is refused instead of being sent to the new process.
    assert!(matches!(
        repl.tactic(generation, state, "exact?"),
        Err(LeanError::StaleState(_))
    ));
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.contains(") Z"))
        .unwrap_or(true)
}

#[test]
fn a_process_that_dies_mid_answer_is_reported_and_replaced() {
    let Some((mut repl, tmp)) = faulty(
        "a_process_that_dies_mid_answer_is_reported_and_replaced",
        &["--fault", "die"],
        Duration::from_secs(5),
    ) else {
        return;
    };
    let (generation, state) = start(&mut repl);
    let err = repl.tactic(generation, state, "exact?").unwrap_err();
    let LeanError::Died(why) = &err else {
        panic!("expected Died, got {err}")
    };
    assert!(why.contains("exit status: 3"), "{why}");
    assert!(why.contains("dying mid-answer"), "stderr is quoted: {why}");
    assert!(why.contains("bytes of an answer"), "{why}");
    served_after_restart(&mut repl, generation, &tmp);
}

#[test]
fn garbage_output_is_an_error_and_the_process_is_replaced() {
    let Some((mut repl, tmp)) = faulty(
        "garbage_output_is_an_error_and_the_process_is_replaced",
        &["--fault", "garbage"],
        Duration::from_secs(5),
    ) else {
        return;
    };
    let (generation, state) = start(&mut repl);
    let err = repl.tactic(generation, state, "exact?").unwrap_err();
    let LeanError::Garbage(why) = &err else {
        panic!("expected Garbage, got {err}")
    };
    assert!(why.contains("this is not JSON"), "{why}");
    served_after_restart(&mut repl, generation, &tmp);
}

#[test]
fn a_slow_answer_within_the_timeout_is_served_and_one_past_it_is_not() {
    let Some((mut repl, _tmp)) = faulty(
        "a_slow_answer_within_the_timeout_is_served",
        &["--fault", "slow", "--delay-ms", "400"],
        Duration::from_secs(3),
    ) else {
        return;
    };
    let (generation, state) = start(&mut repl);
    let began = Instant::now();
    let response = repl.tactic(generation, state, "exact?").unwrap();
    assert!(began.elapsed() >= Duration::from_millis(400));
    assert!(matches!(response, Response::Tactic(ref t) if t.goals.is_empty()));
    assert_eq!(repl.generation(), generation, "no restart");

    let Some((mut repl, _tmp)) = faulty(
        "a_slow_answer_past_the_timeout",
        &["--fault", "slow", "--delay-ms", "3000"],
        Duration::from_millis(500),
    ) else {
        return;
    };
    let (generation, state) = start(&mut repl);
    assert!(matches!(
        repl.tactic(generation, state, "exact?"),
        Err(LeanError::Timeout(_))
    ));
}

#[test]
fn a_process_past_its_memory_limit_is_killed_and_replaced() {
    let Some(dir) = support::transcripts("a_process_past_its_memory_limit_is_killed_and_replaced")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let flags = [
        "--on",
        "exact?",
        "--log",
        log.to_str().unwrap(),
        "--fault",
        "grow",
        "--grow-mb",
        "300",
    ];
    let mut config = support::repl_config(support::standin(&dir, &flags), Duration::from_secs(10));
    config.memory_limit_mb = Some(150);
    let mut repl = Repl::new(config);
    let (generation, state) = start(&mut repl);
    assert!(
        repl.last_rss_mb().unwrap() < 150,
        "the stand-in starts small"
    );
    let err = repl.tactic(generation, state, "exact?").unwrap_err();
    match err {
        LeanError::OutOfMemory { used_mb, limit_mb } => {
            assert!(used_mb > 150 && limit_mb == 150, "{used_mb}")
        }
        other => panic!("expected OutOfMemory, got {other}"),
    }
    served_after_restart(&mut repl, generation, &tmp);
}

#[test]
fn the_pool_keeps_serving_while_one_worker_hangs() {
    let Some(dir) = support::transcripts("the_pool_keeps_serving_while_one_worker_hangs") else {
        return;
    };
    let command = support::standin(&dir, &["--fault", "hang", "--on", "exact?"]);
    let lean = Arc::new(ReplBackend::new(support::pool_config(
        command,
        2,
        Duration::from_secs(3),
    )));

    let stuck = {
        let lean = lean.clone();
        std::thread::spawn(move || {
            let state = lean.start(HEADER, "theorem test : 0 < 1").unwrap();
            let result = lean.apply(&state, "exact?");
            (result, Instant::now(), state.handle.unwrap().worker)
        })
    };
    // Let the first worker get stuck, then prove theorems on the other one meanwhile.
    std::thread::sleep(Duration::from_millis(500));
    let mut served = 0;
    for _ in 0..10 {
        let root = lean.start("", "def f : Nat").unwrap();
        let have = match lean.apply(&root, "have t : Nat := 42").unwrap() {
            Outcome::Open(s) => s,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            lean.apply(&have, "exact t").unwrap(),
            Outcome::Proved(_)
        ));
        served += 1;
    }
    let others_done = Instant::now();
    let (result, stuck_done, stuck_worker) = stuck.join().unwrap();
    assert_eq!(served, 10);
    assert!(matches!(result, Err(LeanError::Timeout(_))), "{result:?}");
    assert!(
        others_done < stuck_done,
        "the other worker finished its work while the first was stuck"
    );
    // The stuck worker was replaced and serves again.
    let stats = lean.pool().stats();
    assert_eq!(stats[stuck_worker].generation, 1);
    let foo = lean.start(HEADER, "theorem foo (x : Nat) : x = x").unwrap();
    match lean.apply(&foo, "induction x").unwrap() {
        Outcome::Open(s) => assert_eq!(s.goals.len(), 2),
        other => panic!("{other:?}"),
    }
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(text.split_whitespace().map(|c| c.parse::<u32>().unwrap()));
    }
    out
}

#[test]
fn a_wrapped_repl_is_measured_and_killed_with_its_wrapper() {
    // Like `lake env repl`: the REPL is a child of the process we start.
    let Some(dir) = support::transcripts("a_wrapped_repl_is_measured_and_killed_with_its_wrapper")
    else {
        return;
    };
    let script = format!(
        "'{}' '{}' --fault grow --grow-mb 300 --on exact? ; exit $?",
        env!("CARGO_BIN_EXE_standin-repl"),
        dir.display()
    );
    let command = proofstep::lean::LeanCommand::new("sh").with_args(["-c", script.as_str()]);
    let mut config = support::repl_config(command, Duration::from_secs(10));
    config.memory_limit_mb = Some(150);
    let mut repl = Repl::new(config);
    let (generation, state) = start(&mut repl);
    let wrapper = repl.pid().unwrap();
    let inner = children(wrapper);
    assert_eq!(inner.len(), 1, "sh runs the stand-in as its child");
    let err = repl.tactic(generation, state, "exact?").unwrap_err();
    assert!(
        matches!(err, LeanError::OutOfMemory { .. }),
        "the child's memory counts: {err}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !std::path::Path::new(&format!("/proc/{}", inner[0])).exists() || is_zombie(inner[0]),
        "the REPL under the wrapper was killed too"
    );
    assert_eq!(repl.generation(), generation + 1);
}

#[test]
fn a_process_that_exited_between_requests_is_replaced_before_the_next() {
    let Some((mut repl, _tmp)) = faulty(
        "a_process_that_exited_between_requests_is_replaced_before_the_next",
        &[],
        Duration::from_secs(5),
    ) else {
        return;
    };
    let (generation, _) = start(&mut repl);
    let pid = repl.pid().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (after, _) = start(&mut repl);
    assert_eq!(
        after,
        generation + 1,
        "a fresh process, so old ids are stale"
    );
    assert_ne!(repl.pid().unwrap(), pid);
}

/// A header whose imports were rebuilt is imported again in a fresh process, not beside the old
/// build's environment (which the REPL would keep for as long as it lives).
#[test]
fn a_rebuilt_header_is_imported_in_a_fresh_process() {
    let test = "a_rebuilt_header_is_imported_in_a_fresh_process";
    let Some(dir) = support::transcripts(test) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let lib = tmp.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let olean = lib.join("Mathlib.olean");
    std::fs::write(&olean, "first build").unwrap();
    let mut command = support::standin(&dir, &["--log", log.to_str().unwrap()]);
    command.libraries = vec![lib.clone()];
    let mut repl = Repl::new(support::repl_config(command, Duration::from_secs(20)));
    let (generation, _) = start(&mut repl);
    start(&mut repl);
    assert_eq!(repl.generation(), generation, "same build: same process");

    std::fs::write(&olean, "the second, longer build").unwrap();
    start(&mut repl);
    served_after_restart(&mut repl, generation, &tmp);
}
