//! The real REPL client and `ReplBackend` driven by the stand-in REPL, which answers with the
//! recorded answers of the real leanprover-community/repl (it cannot be built here).

mod common;
#[path = "standin/lean_answers.rs"]
mod lean_answers;
#[path = "standin/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::backend::layout::TheoremText;
use proofstep::lean::backend::repl::ReplBackend;
use proofstep::lean::repl::pool::Pool;
use proofstep::lean::repl::protocol::{split_input, split_output, Request};
use proofstep::lean::repl::worker::Repl;
use proofstep::lean::{LeanError, Outcome, ProofBackend, Status};
use serde_json::Value;

fn transcript_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            transcript_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "in")
            && path.with_extension("expected.out").exists()
        {
            out.push(path);
        }
    }
}

#[test]
fn the_client_gets_the_recorded_answer_to_every_request_of_every_transcript() {
    let Some(dir) = support::transcripts(
        "the_client_gets_the_recorded_answer_to_every_request_of_every_transcript",
    ) else {
        return;
    };
    let mut files = Vec::new();
    transcript_files(&dir, &mut files);
    files.sort();
    assert!(files.len() >= 60, "found only {} transcripts", files.len());
    let mut checked = 0;
    for input in &files {
        let requests = split_input(&std::fs::read_to_string(input).unwrap());
        let answers =
            split_output(&std::fs::read_to_string(input.with_extension("expected.out")).unwrap());
        assert_eq!(requests.len(), answers.len(), "{}", input.display());
        let mut repl = Repl::new(support::repl_config(
            support::standin(input, &[]),
            Duration::from_secs(20),
        ));
        for (request, answer) in requests.iter().zip(&answers) {
            let request: Request = serde_json::from_str(request).unwrap();
            let response = repl
                .request(&request)
                .unwrap_or_else(|e| panic!("{}: {request:?}: {e}", input.display()));
            let expected: Value = serde_json::from_str(answer).unwrap();
            assert_eq!(
                response.to_value(),
                expected,
                "{}: answer to {request:?}",
                input.display()
            );
            checked += 1;
        }
        assert_eq!(
            repl.generation(),
            0,
            "{}: no restart on well-formed answers",
            input.display()
        );
    }
    assert!(checked >= 200, "only {checked} requests replayed");
}

fn backend(test: &str, flags: &[&str]) -> Option<(ReplBackend, tempfile::TempDir)> {
    let dir = support::transcripts(test)?;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let mut all = vec!["--log", log.to_str().unwrap()];
    all.extend_from_slice(flags);
    let command = support::standin(&dir, &all);
    Some((
        ReplBackend::new(support::pool_config(command, 2, Duration::from_secs(20))),
        tmp,
    ))
}

#[test]
fn start_apply_and_branch_without_a_header() {
    let Some((lean, _tmp)) = backend("start_apply_and_branch_without_a_header", &[]) else {
        return;
    };
    let root = lean.start("", "def f : Nat").unwrap();
    assert_eq!(root.goals, vec!["⊢ Nat"]);
    assert!(root.steps.is_empty());
    let int = common::expect_open(lean.apply(&root, "apply Int.natAbs").unwrap());
    assert_eq!(int.goals, vec!["⊢ Int"]);
    // Branch from the root again.
    let have = common::expect_open(lean.apply(&root, "have t : Nat := 42").unwrap());
    assert_eq!(have.goals, vec!["t : Nat\n⊢ Nat"]);
    match lean.apply(&have, "exact t").unwrap() {
        Outcome::Proved(done) => {
            assert!(done.goals.is_empty());
            assert_eq!(done.steps, vec!["have t : Nat := 42", "exact t"]);
            assert_eq!(done.proof_text(), "  have t : Nat := 42\n  exact t\n");
        }
        other => panic!("expected proved, got {other:?}"),
    }
}

#[test]
fn tactic_errors_are_failures_even_when_no_goals_remain() {
    let Some((lean, _tmp)) = backend("tactic_errors_are_failures_even_when_no_goals_remain", &[])
    else {
        return;
    };
    // `exact my_fake_premise`: an error, `goals: []`, "Incomplete: contains sorry".
    let root = lean
        .start("", "theorem my_theorem (x : Nat) : x = x")
        .unwrap();
    assert_eq!(root.goals, vec!["x : Nat\n⊢ x = x"]);
    assert!(
        common::expect_failed(lean.apply(&root, "exact my_fake_premise").unwrap())
            .contains("Unknown identifier `my_fake_premise`")
    );
    // A parse error comes back as the REPL's `{"message": "Lean error:..."}`.
    let f = lean.start("", "def f : Nat").unwrap();
    assert_eq!(
        common::expect_failed(lean.apply(&f, "exat 42").unwrap()),
        "<input>:1:1: unknown tactic"
    );
    // An unsolved-goals error with `goals: []`.
    let falsum = lean.start("", "example : False").unwrap();
    assert!(common::expect_failed(
        lean.apply(&falsum, "simpa using show False by done")
            .unwrap()
    )
    .starts_with("unsolved goals"));
}

#[test]
fn a_header_is_imported_once_per_process_and_reused() {
    let Some((lean, tmp)) = backend("a_header_is_imported_once_per_process_and_reused", &[]) else {
        return;
    };
    let header = "import Mathlib";
    let easy = lean.start(header, "theorem test : 0 < 1").unwrap();
    assert_eq!(easy.goals, vec!["⊢ 0 < 1"]);
    assert!(matches!(
        lean.apply(&easy, "exact?").unwrap(),
        Outcome::Proved(_)
    ));
    let wrong = lean.start(header, "theorem test : 3 = 7").unwrap();
    assert_eq!(
        wrong.handle.as_ref().unwrap().worker,
        easy.handle.as_ref().unwrap().worker,
        "same header, same worker"
    );
    assert!(common::expect_failed(lean.apply(&wrong, "exact?").unwrap())
        .contains("could not close the goal"));
    let foo = lean.start(header, "theorem foo (x : Nat) : x = x").unwrap();
    let cases = common::expect_open(lean.apply(&foo, "induction x").unwrap());
    assert_eq!(cases.goals.len(), 2);
    assert_eq!(
        common::expect_open(lean.apply(&cases, "next => rfl").unwrap())
            .goals
            .len(),
        1
    );
    assert!(common::expect_failed(
        lean.apply(&foo, "induction x with\n| zero => sorry\n| succ x => sorry")
            .unwrap()
    )
    .contains("sorry"));

    let log = support::logged(&tmp.path().join("requests.log"));
    let imports = log
        .iter()
        .filter(|l| l.as_str() == r#"{"cmd":"import Mathlib"}"#)
        .count();
    assert_eq!(imports, 1, "the header is imported once: {log:#?}");
    let starts: Vec<&String> = log.iter().filter(|l| l.contains(":= by sorry")).collect();
    assert_eq!(starts.len(), 3);
    assert!(
        starts.iter().all(|l| l.contains(r#""env":0"#)),
        "every theorem reuses the header's env: {starts:?}"
    );
}

/// `verify` through the REPL protocol, answered by the test world's real Lean (the recorded
/// transcripts hold no `#print axioms` probe, so they cannot answer a final check).
#[test]
fn verify_reads_what_real_lean_answers_through_the_repl_protocol() {
    let Some(t) =
        common::test_lean("verify_reads_what_real_lean_answers_through_the_repl_protocol")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let header =
        "prelude\nimport Mini\ntheorem helper_false : False := by sorry\naxiom cheat : False";
    let swap = "theorem swap (p q : Prop) (h : p ∧ q) : q ∧ p";
    let skew = "theorem skew (a b : Nat) (h : a = b) : a + 1 = b + 2";
    let example = "example (a b : Nat) (h : a = b) : a + 1 = b + 2";
    let cases = [
        (swap, "exact ⟨h.2, h.1⟩", Status::Proved),
        (
            "example (p : Prop) (hp : p) : p",
            "exact hp",
            Status::Proved,
        ),
        (swap, "constructor", Status::Open),
        (swap, "exact foo", Status::Error),
        (swap, "sorry", Status::Sorry),
        (skew, "exact helper_false.elim", Status::Sorry),
        (example, "exact helper_false.elim", Status::Sorry),
        (skew, "exact cheat.elim", Status::Axiom),
        (example, "exact cheat.elim", Status::Axiom),
        // The header already declared the name: the probes answer about the header's.
        (
            "theorem helper_false : False",
            "exact helper_false",
            Status::Error,
        ),
    ];
    // What the imports declare among the reserved names, as the backend will ask it (a text of
    // its own, answered by the same real Lean): the commands end with probes of those they lack.
    let guarded = proofstep::lean::reserved::guarded_names(&Default::default());
    let imports_of = |header: &str| {
        let lean = FileBackend::new(t.command());
        proofstep::lean::reserved::ImportsCache::default()
            .answers(header, &Default::default(), "", |text| lean.elaborate(text))
            .unwrap()
    };
    let imports = imports_of(header);
    assert!(
        !imports.lacking().is_empty(),
        "Mini lacks some reserved names"
    );
    let commands: Vec<String> = cases
        .iter()
        .map(|(s, p, _)| {
            TheoremText::for_verify(header, s, p, &imports)
                .after_header()
                .0
                .to_string()
        })
        .collect();
    lean_answers::record(&t.lean, &t.lib, tmp.path(), "verify", header, &commands);
    // What the imports declare among the reserved names is asked apart, once.
    let (imports, _) = proofstep::lean::reserved::imports_text(header, &guarded);
    lean_answers::record(&t.lean, &t.lib, tmp.path(), "imports", &imports, &[]);
    let lean = ReplBackend::new(support::pool_config(
        support::standin(tmp.path(), &[]),
        1,
        Duration::from_secs(20),
    ));
    for (statement, proof, want) in cases {
        let v = lean.verify(header, statement, proof).unwrap();
        assert_eq!(v.status, want, "{statement} := by {proof}: {v:?}");
    }
    let cheat = lean.verify(header, skew, "exact cheat.elim").unwrap();
    assert_eq!(cheat.axioms, ["cheat"]);
    // A header that declares a reserved name the imports lack, as a constructor the lexical
    // check does not read: only Lean's answers at the end show it.
    let declares = "prelude\nimport Mini\ninductive Lean where\n  | reduceBool";
    let command =
        TheoremText::for_verify(declares, swap, "exact ⟨h.2, h.1⟩", &imports_of(declares));
    let lean2_dir = tempfile::tempdir().unwrap();
    let (imports, _) = proofstep::lean::reserved::imports_text(declares, &guarded);
    lean_answers::record(&t.lean, &t.lib, lean2_dir.path(), "imports", &imports, &[]);
    let command = command.after_header().0.to_string();
    lean_answers::record(
        &t.lean,
        &t.lib,
        lean2_dir.path(),
        "verify",
        declares,
        &[command],
    );
    let lean2 = ReplBackend::new(support::pool_config(
        support::standin(lean2_dir.path(), &[]),
        1,
        Duration::from_secs(20),
    ));
    let v = lean2.verify(declares, swap, "exact ⟨h.2, h.1⟩").unwrap();
    assert_eq!(v.status, Status::Error, "{v:?}");
    assert!(
        v.errors.iter().any(|e| e.contains("`Lean.reduceBool`")),
        "{v:?}"
    );
}

#[test]
fn a_header_that_fails_and_a_missing_program_give_clear_errors() {
    let Some((lean, _tmp)) = backend(
        "a_header_that_fails_and_a_missing_program_give_clear_errors",
        &[],
    ) else {
        return;
    };
    // A recorded answer with an error, used as a header.
    match lean.start("theorem foo : 1 = 1 := bysorry", "theorem t : True") {
        Err(LeanError::Header(text)) => assert!(text.contains("Unknown identifier `bysorry`")),
        other => panic!("expected a header error, got {other:?}"),
    }
    let missing = proofstep::lean::LeanCommand::new("/nonexistent/repl");
    let pool = Pool::new(support::pool_config(missing, 1, Duration::from_secs(1)));
    let err = pool
        .with_header("", |_, repl| repl.request(&Request::command("def x := 1")))
        .unwrap_err();
    assert!(matches!(err, LeanError::Spawn { .. }), "{err}");
    assert!(
        err.to_string().contains("proofstep doctor"),
        "the error says what to do: {err}"
    );
}

#[test]
fn a_stale_state_is_rebuilt_on_a_live_worker() {
    let Some((lean, tmp)) = backend("a_stale_state_is_rebuilt_on_a_live_worker", &[]) else {
        return;
    };
    let header = "import Mathlib";
    let foo = lean.start(header, "theorem foo (x : Nat) : x = x").unwrap();
    let cases = common::expect_open(lean.apply(&foo, "induction x").unwrap());
    let worker = cases.handle.as_ref().unwrap().worker;
    lean.pool()
        .with_worker(worker, |_, repl| {
            repl.restart("test");
            Ok(())
        })
        .unwrap();
    // The state's process is gone; the backend replays `induction x` and goes on.
    let next = common::expect_open(lean.apply(&cases, "next => rfl").unwrap());
    assert_eq!(next.steps, vec!["induction x", "next => rfl"]);
    assert_eq!(
        next.goals,
        vec!["case succ\nn✝ : ℕ\na✝ : n✝ = n✝\n⊢ n✝ + 1 = n✝ + 1"]
    );
    assert!(
        next.handle.as_ref().unwrap().generation > cases.handle.as_ref().unwrap().generation
            || next.handle.as_ref().unwrap().worker != worker
    );
    let log = support::logged(&tmp.path().join("requests.log"));
    assert_eq!(
        log.iter().filter(|l| l.contains("induction x\"")).count(),
        2,
        "{log:#?}"
    );

    // Directly on the REPL: an id from an older generation is refused, not sent.
    let stale = lean
        .pool()
        .with_worker(worker, |_, repl| {
            let old = repl.generation();
            repl.restart("test");
            repl.tactic(old, 0, "rfl")
        })
        .unwrap_err();
    assert!(matches!(stale, LeanError::StaleState(0)), "{stale}");
}

#[test]
fn a_statement_that_does_not_elaborate_has_no_root() {
    let Some(dir) = support::transcripts("a_statement_that_does_not_elaborate_has_no_root") else {
        return;
    };
    use proofstep::lean::backend::repl::root_of;
    use proofstep::lean::repl::protocol::Response;
    let answers = split_output(
        &std::fs::read_to_string(dir.join("invalid_line_break.expected.out")).unwrap(),
    );
    let Ok(Response::Command(bad)) = Response::parse(&answers[0]) else {
        panic!("a command answer")
    };
    match root_of(&bad, "theorem foo : 1 = 1 := bysorry") {
        Err(LeanError::Statement(text)) => assert_eq!(text, "Unknown identifier `bysorry`"),
        other => panic!("expected a statement error, got {other:?}"),
    }
    let answers = split_output(&std::fs::read_to_string(dir.join("options.expected.out")).unwrap());
    let Ok(Response::Command(no_sorry)) = Response::parse(&answers[1]) else {
        panic!("a command answer")
    };
    assert!(matches!(
        root_of(&no_sorry, "set_option pp.universes true"),
        Err(LeanError::Statement(_))
    ));
    let answers = split_output(&std::fs::read_to_string(dir.join("readme.expected.out")).unwrap());
    let Ok(Response::Command(good)) = Response::parse(&answers[0]) else {
        panic!("a command answer")
    };
    assert_eq!(
        root_of(&good, "def f (x : Unit) : Nat := by sorry").unwrap(),
        ("x : Unit\n⊢ Nat".to_string(), 0)
    );
}
