//! The pool's placement and recycling, with stand-in REPL workers answering from recorded
//! transcripts: requests go to the worker that holds their header, and workers are recycled by
//! request count, age and memory without the caller losing its proof states.

mod common;
#[path = "standin/support.rs"]
mod support;

use std::time::Duration;

use proofstep::lean::backend::repl::ReplBackend;
use proofstep::lean::repl::pool::PoolConfig;
use proofstep::lean::{Outcome, ProofBackend, ProofState};

const MATHLIB: &str = "import Mathlib";
const CASES: &str = "import Mathlib.Tactic.Cases";

fn pool(
    test: &str,
    tune: impl FnOnce(&mut PoolConfig),
) -> Option<(ReplBackend, tempfile::TempDir)> {
    let dir = support::transcripts(test)?;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let command = support::standin(&dir, &["--log", log.to_str().unwrap()]);
    let mut config = support::pool_config(command, 2, Duration::from_secs(20));
    tune(&mut config);
    Some((ReplBackend::new(config), tmp))
}

fn worker(state: &ProofState) -> usize {
    state.handle.as_ref().unwrap().worker
}

fn imports(tmp: &tempfile::TempDir, header: &str) -> usize {
    let line = serde_json::json!({ "cmd": header }).to_string();
    support::logged(&tmp.path().join("requests.log"))
        .iter()
        .filter(|l| **l == line)
        .count()
}

#[test]
fn requests_go_to_the_worker_holding_their_header() {
    let Some((lean, tmp)) = pool("requests_go_to_the_worker_holding_their_header", |_| {}) else {
        return;
    };
    let a = lean.start(MATHLIB, "theorem test : 0 < 1").unwrap();
    let b = lean.start(CASES, "example {x : Nat} : x + 1 > x").unwrap();
    assert_ne!(
        worker(&a),
        worker(&b),
        "a new header goes to the idle fresh worker"
    );
    for _ in 0..3 {
        assert_eq!(
            worker(
                &lean
                    .start(MATHLIB, "theorem foo (x : Nat) : x = x")
                    .unwrap()
            ),
            worker(&a)
        );
        assert_eq!(
            worker(&lean.start(CASES, "example {x : Nat} : x + 1 > x").unwrap()),
            worker(&b)
        );
    }
    assert_eq!(
        (imports(&tmp, MATHLIB), imports(&tmp, CASES)),
        (1, 1),
        "each header imported once"
    );
    let stats = lean.pool().stats();
    assert_eq!(stats[worker(&a)].headers, vec![MATHLIB]);
    assert_eq!(stats[worker(&b)].headers, vec![CASES]);
}

#[test]
fn workers_are_recycled_after_a_number_of_requests_and_states_survive() {
    let Some((lean, tmp)) = pool(
        "workers_are_recycled_after_a_number_of_requests_and_states_survive",
        |c| {
            c.workers = 1;
            c.max_requests = Some(3);
        },
    ) else {
        return;
    };
    // import, start, `induction x`: three requests; the next one recycles the worker.
    let foo = lean
        .start(MATHLIB, "theorem foo (x : Nat) : x = x")
        .unwrap();
    let cases = common::expect_open(lean.apply(&foo, "induction x").unwrap());
    assert_eq!(lean.pool().stats()[0].generation, 0);
    let next = common::expect_open(lean.apply(&cases, "next => rfl").unwrap());
    assert_eq!(next.goals.len(), 1);
    assert_eq!(
        next.handle.as_ref().unwrap().generation,
        1,
        "the worker was recycled"
    );
    assert_eq!(
        imports(&tmp, MATHLIB),
        2,
        "the fresh process imported the header again"
    );
}

#[test]
fn workers_are_recycled_by_memory_and_by_age() {
    let Some((lean, _tmp)) = pool("workers_are_recycled_by_memory", |c| {
        c.workers = 1;
        c.recycle_memory_mb = Some(1);
    }) else {
        return;
    };
    lean.start("", "def f : Nat").unwrap();
    assert!(
        lean.pool().stats()[0].rss_mb.unwrap() >= 1,
        "memory is measured after each request"
    );
    let again = lean.start("", "def f : Nat").unwrap();
    assert_eq!(
        again.handle.as_ref().unwrap().generation,
        1,
        "recycled once past 1 MB"
    );

    let Some((lean, _tmp)) = pool("workers_are_recycled_by_age", |c| {
        c.workers = 1;
        c.max_age = Some(Duration::from_millis(300));
    }) else {
        return;
    };
    let first = lean.start("", "def f : Nat").unwrap();
    assert_eq!(first.handle.as_ref().unwrap().generation, 0);
    std::thread::sleep(Duration::from_millis(400));
    let later = lean.start("", "def f : Nat").unwrap();
    assert_eq!(
        later.handle.as_ref().unwrap().generation,
        1,
        "recycled once older than 300 ms"
    );
    // The earlier state is rebuilt on the fresh process when used.
    assert!(matches!(
        lean.apply(&first, "exat 42").unwrap(),
        Outcome::Failed(_)
    ));
}
