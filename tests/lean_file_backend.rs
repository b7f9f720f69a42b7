//! The whole-file `FileBackend` against the test world's real Lean (`lean --json` with the Mini
//! prelude): root goals, tactic outcomes, verification verdicts, header and statement errors,
//! the per-check timeout, and parallel use from several threads.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::check::check_file;
use proofstep::lean::source::SourceFile;
use proofstep::lean::{LeanCommand, LeanError, Outcome, ProofBackend, Status};

const HEADER: &str = "prelude\nimport Mini\n";
const AND: &str = "theorem and_intro (p q : Prop) (hp : p) (hq : q) : p ∧ q";
const ROOT: &str = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q";
const LEFT: &str = "case left\np q : Prop\nhp : p\nhq : q\n⊢ p";
const RIGHT: &str = "case right\np q : Prop\nhp : p\nhq : q\n⊢ q";

#[test]
fn start_gives_the_root_goal_and_apply_walks_to_a_proof() {
    let Some(cmd) =
        common::test_lean_command("start_gives_the_root_goal_and_apply_walks_to_a_proof")
    else {
        return;
    };
    let b = FileBackend::new(cmd);
    assert_eq!(b.name(), "file");
    let root = b.start(HEADER, AND).unwrap();
    assert_eq!(root.goals, [ROOT]);
    assert!(root.steps.is_empty());

    let split = common::expect_open(b.apply(&root, "constructor").unwrap());
    assert_eq!(split.goals, [LEFT, RIGHT]);
    assert_eq!(split.steps, ["constructor"]);

    let one = common::expect_open(b.apply(&split, "exact hp").unwrap());
    assert_eq!(one.goals, [RIGHT]);

    match b.apply(&one, "exact hq").unwrap() {
        Outcome::Proved(s) => {
            assert!(s.goals.is_empty());
            assert_eq!(s.steps, ["constructor", "exact hp", "exact hq"]);
        }
        other => panic!("expected Proved, got {other:?}"),
    }
    // The same state branches: another tactic from `split`.
    let both = b.apply(&split, "· exact hp\n· exact hq").unwrap();
    assert!(matches!(both, Outcome::Proved(_)), "{both:?}");
}

#[test]
fn apply_reports_failures_with_leans_message() {
    let Some(cmd) = common::test_lean_command("apply_reports_failures_with_leans_message") else {
        return;
    };
    let b = FileBackend::new(cmd);
    let root = b.start(HEADER, AND).unwrap();
    let mismatch = common::expect_failed(b.apply(&root, "exact hp").unwrap());
    assert!(mismatch.contains("Type mismatch"), "{mismatch}");
    let unknown = common::expect_failed(b.apply(&root, "exact nonexistent").unwrap());
    assert!(unknown.contains("Unknown identifier"), "{unknown}");
    let parse = common::expect_failed(b.apply(&root, "frobnicate").unwrap());
    assert!(parse.contains("unknown tactic"), "{parse}");
    // A focused block that does not close its goal fails; it is not an open state.
    let split = common::expect_open(b.apply(&root, "constructor").unwrap());
    let unfinished = common::expect_failed(b.apply(&split, "· skip").unwrap());
    assert!(unfinished.contains("unsolved goals"), "{unfinished}");
    // `sorry` closes a goal without proving it: a failure for search.
    let sorry = common::expect_failed(b.apply(&split, "sorry").unwrap());
    assert!(sorry.contains("sorry"), "{sorry}");
    let admit = common::expect_failed(b.apply(&root, "constructor <;> admit").unwrap());
    assert!(admit.contains("sorry"), "{admit}");
    // A proof citing its own theorem: Lean reports the failed termination proof at the
    // theorem's name, before `by`; the step fails, the statement is not blamed (it was, and
    // `refine` and `eval --mode refine` stopped there on every rerun).
    let itself = common::expect_failed(b.apply(&root, "exact and_intro p q hp hq").unwrap());
    assert!(itself.contains("termination"), "{itself}");
}

#[test]
fn statement_and_header_errors_are_lean_errors() {
    let Some(cmd) = common::test_lean_command("statement_and_header_errors_are_lean_errors") else {
        return;
    };
    let b = FileBackend::new(cmd);
    match b.start(HEADER, "theorem bad (x : Nat.Real) : x = x") {
        Err(LeanError::Statement(m)) => assert!(m.contains("Nat.Real"), "{m}"),
        other => panic!("expected a statement error, got {other:?}"),
    }
    match b.start(HEADER, "theorem bad2 (n : Nat) : n + True = n") {
        Err(LeanError::Statement(m)) => assert!(m.contains("HAdd"), "{m}"),
        other => panic!("expected a statement error, got {other:?}"),
    }
    match b.start(
        "prelude\nimport Mini\ndef broken : Nat := nonexistent\n",
        AND,
    ) {
        Err(LeanError::Header(m)) => assert!(m.contains("nonexistent"), "{m}"),
        other => panic!("expected a header error, got {other:?}"),
    }
    match b.verify("prelude\nimport NoSuchModule\n", AND, "exact ⟨hp, hq⟩") {
        Err(LeanError::Header(_)) => {}
        other => panic!("expected a header error, got {other:?}"),
    }
}

#[test]
fn verify_classifies_proved_open_error_and_sorry() {
    let Some(cmd) = common::test_lean_command("verify_classifies_proved_open_error_and_sorry")
    else {
        return;
    };
    let b = FileBackend::new(cmd);
    let v = |header: &str, proof: &str| b.verify(header, AND, proof).unwrap();

    let proved = v(HEADER, "  constructor\n  exact hp\n  exact hq\n");
    assert_eq!(proved.status, Status::Proved, "{proved:?}");
    assert!(proved.goals.is_empty() && proved.errors.is_empty());

    let open = v(HEADER, "constructor\nexact hp");
    assert_eq!(open.status, Status::Open, "{open:?}");
    assert_eq!(open.goals, [RIGHT]);

    // A tactic error after which no goal is left: an error, not open.
    let error = v(HEADER, "exact hp");
    assert_eq!(error.status, Status::Error, "{error:?}");
    assert!(error.goals.is_empty());
    assert!(error.errors[0].contains("Type mismatch"));

    let sorry = v(HEADER, "constructor\nexact hp\nsorry");
    assert_eq!(sorry.status, Status::Sorry, "{sorry:?}");
    let sorry_ax = v(HEADER, "exact sorryAx _ Bool.false");
    assert_eq!(sorry_ax.status, Status::Sorry, "{sorry_ax:?}");
    let error_and_sorry = v(HEADER, "constructor\nsorry\nexact hp");
    assert_eq!(error_and_sorry.status, Status::Error, "{error_and_sorry:?}");

    // A proof through a lemma that is itself `sorry` proves nothing.
    let cheat = "prelude\nimport Mini\ntheorem cheat (p : Prop) : p := sorry\n";
    let through = v(cheat, "exact cheat _");
    assert_eq!(through.status, Status::Sorry, "{through:?}");
    let honest = v(cheat, "exact ⟨hp, hq⟩");
    assert_eq!(honest.status, Status::Proved, "{honest:?}");

    // Inside a namespace the check still finds the theorem's axioms.
    let ns = "prelude\nimport Mini\ntheorem cheat (p : Prop) : p := sorry\nnamespace Foo\n";
    assert_eq!(
        b.verify(ns, AND, "exact cheat _").unwrap().status,
        Status::Sorry
    );
    assert_eq!(
        b.verify(ns, AND, "exact ⟨hp, hq⟩").unwrap().status,
        Status::Proved
    );
}

#[test]
fn a_check_that_runs_too_long_is_killed() {
    let Some(cmd) = common::test_lean_command("a_check_that_runs_too_long_is_killed") else {
        return;
    };
    let b = FileBackend::new(cmd).with_timeout(Duration::from_secs(2));
    let root = b.start(HEADER, AND).unwrap();
    let began = Instant::now();
    match b.apply(&root, "repeat skip") {
        Err(LeanError::Timeout(t)) => assert_eq!(t, Duration::from_secs(2)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "the check was not stopped"
    );
    // The backend keeps working afterwards.
    assert!(matches!(
        b.apply(&root, "constructor").unwrap(),
        Outcome::Open(_)
    ));
}

#[test]
fn threads_check_in_parallel() {
    let Some(cmd) = common::test_lean_command("threads_check_in_parallel") else {
        return;
    };
    let b = Arc::new(FileBackend::new(cmd));
    let root = b.start(HEADER, AND).unwrap();
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let b = Arc::clone(&b);
            let root = root.clone();
            std::thread::spawn(move || {
                let tactic = if i % 2 == 0 {
                    "exact ⟨hp, hq⟩"
                } else {
                    "exact hp"
                };
                (i, b.apply(&root, tactic).unwrap())
            })
        })
        .collect();
    for h in handles {
        let (i, outcome) = h.join().unwrap();
        if i % 2 == 0 {
            assert!(matches!(outcome, Outcome::Proved(_)), "{i}: {outcome:?}");
        } else {
            assert!(matches!(outcome, Outcome::Failed(_)), "{i}: {outcome:?}");
        }
    }
}

#[test]
fn a_missing_lean_is_a_spawn_error_that_points_to_doctor() {
    let b = FileBackend::new(LeanCommand::new("/nonexistent/bin/lean"));
    match b.start(HEADER, AND) {
        Err(e @ LeanError::Spawn { .. }) => {
            assert!(e.to_string().contains("proofstep doctor"), "{e}")
        }
        other => panic!("expected a spawn error, got {other:?}"),
    }
}

#[test]
fn whole_file_check_attributes_diagnostics_to_theorems() {
    let Some(cmd) =
        common::test_lean_command("whole_file_check_attributes_diagnostics_to_theorems")
    else {
        return;
    };
    let text = "prelude\nimport Mini\n\
theorem good (p : Prop) (hp : p) : p := hp\n\
theorem lemma_sorry (p : Prop) : p := by sorry\n\
theorem via_sorry (q : Prop) : q := lemma_sorry q\n\
namespace A\n\
theorem inner (p q : Prop) (hp : p) : p ∧ q := by\n  constructor\n  exact hp\n\
end A\n\
theorem broken (p : Prop) : p := by\n  exact (p\n\
theorem after_broken (p : Prop) (hp : p) : p := by exact hp\n";
    let source = SourceFile::parse(text);
    let result = check_file(
        &FileBackend::new(cmd.clone()).with_timeout(Duration::from_secs(60)),
        &source,
    )
    .unwrap();
    let statuses: Vec<(String, Status)> = source
        .theorems
        .iter()
        .zip(&result.verdicts)
        .map(|(t, v)| (t.display_name(), v.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("good".to_string(), Status::Proved),
            ("lemma_sorry".to_string(), Status::Sorry),
            ("via_sorry".to_string(), Status::Sorry),
            ("A.inner".to_string(), Status::Open),
            ("broken".to_string(), Status::Error),
            ("after_broken".to_string(), Status::Proved),
        ]
    );
    assert!(result.header_errors.is_empty());
    assert_eq!(
        result.verdicts[3].goals,
        ["case right\np q : Prop\nhp : p\n⊢ q"]
    );
}
