//! A memory limit for Lean in every backend: a step that makes Lean grow past it kills that
//! Lean (the step fails with `OutOfMemory`, the search counts it as failed), and the next step
//! runs on a fresh one. On the test world's real Lean, with a `decide` that multiplies numbers
//! of tens of megabytes.

mod common;

use std::time::Duration;

use proofstep::lean::file::FileBackend;
use proofstep::lean::server::{ServerBackend, ServerBackendOptions, ServerOptions};
use proofstep::lean::{LeanCommand, LeanError, Outcome, ProofBackend};

/// `big n` is 2^(2^n): `big 27` takes 16 MB, and checking the statement below about 150 MB.
const HEADER: &str = "prelude\nimport Mini\nnoncomputable def big (n : Nat) : Nat := Nat.rec 2 (fun _ b => b * b) n\n";
const STATEMENT: &str = "theorem grows (p : Prop) (hp : p) : big 27 = big 26 * big 26 ∧ p";
const LIMIT_MB: u64 = 60;

fn backends(cmd: &LeanCommand) -> Vec<Box<dyn ProofBackend>> {
    let server = ServerBackend::start(
        cmd,
        ServerBackendOptions {
            server: ServerOptions {
                start_timeout: Duration::from_secs(30),
                open_timeout: Duration::from_secs(60),
                timeout: Duration::from_secs(60),
                memory_limit_mb: Some(LIMIT_MB),
            },
            ..Default::default()
        },
    )
    .expect("the server backend starts");
    vec![
        Box::new(
            FileBackend::new(cmd.clone())
                .with_timeout(Duration::from_secs(60))
                .with_memory_limit(Some(LIMIT_MB)),
        ),
        Box::new(server),
    ]
}

#[test]
fn a_step_that_outgrows_the_memory_limit_fails_and_lean_comes_back() {
    let Some(cmd) = common::test_lean_command(
        "a_step_that_outgrows_the_memory_limit_fails_and_lean_comes_back",
    ) else {
        return;
    };
    for backend in backends(&cmd) {
        let name = backend.name();
        let root = backend.start(HEADER, STATEMENT).unwrap();
        let split = common::expect_open(backend.apply(&root, "constructor").unwrap());
        match backend.apply(&split, "decide") {
            Err(LeanError::OutOfMemory { used_mb, limit_mb }) => {
                assert!(
                    used_mb > LIMIT_MB && limit_mb == LIMIT_MB,
                    "{name}: {used_mb}"
                )
            }
            other => panic!("{name}: expected OutOfMemory, got {other:?}"),
        }
        // The next step runs on a fresh Lean.
        let other = common::expect_open(backend.apply(&split, "skip").unwrap());
        assert_eq!(other.goals.len(), 2, "{name}");
        assert!(
            matches!(
                backend.apply(&root, "exact absurd hp id").unwrap(),
                Outcome::Failed(_)
            ),
            "{name}"
        );
    }
}
