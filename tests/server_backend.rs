//! The LSP server backend against the test world's real Lean (`lean --server` with the Mini
//! prelude): classification, goals at positions, incremental application of tactics, and what
//! happens when the server dies, hangs or writes garbage.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use proofstep::lean::check::check_file;
use proofstep::lean::file::FileBackend;
use proofstep::lean::server::{LeanServer, ServerBackend, ServerBackendOptions, ServerOptions};
use proofstep::lean::source::SourceFile;
use proofstep::lean::{LeanCommand, LeanError, Outcome, ProofBackend, Status};

const HEADER: &str = "prelude\nimport Mini\n";
const AND: &str = "theorem and_intro (p q : Prop) (hp : p) (hq : q) : p ∧ q";
const ROOT: &str = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q";
const LEFT: &str = "case left\np q : Prop\nhp : p\nhq : q\n⊢ p";
const RIGHT: &str = "case right\np q : Prop\nhp : p\nhq : q\n⊢ q";

fn quick() -> ServerOptions {
    ServerOptions {
        start_timeout: Duration::from_secs(30),
        open_timeout: Duration::from_secs(60),
        timeout: Duration::from_secs(30),
        memory_limit_mb: None,
    }
}

fn backend(cmd: &LeanCommand, workers: usize) -> ServerBackend {
    let options = ServerBackendOptions {
        workers,
        server: quick(),
        ..Default::default()
    };
    ServerBackend::start(cmd, options).expect("the server backend starts")
}

#[test]
fn verify_classifies_proved_open_error_and_sorry() {
    let Some(cmd) = common::test_lean_command("verify_classifies_proved_open_error_and_sorry")
    else {
        return;
    };
    let b = backend(&cmd, 1);
    let v = |statement: &str, proof: &str| b.verify(HEADER, statement, proof).unwrap();

    let proved = v(AND, "constructor\nexact hp\nexact hq");
    assert_eq!(proved.status, Status::Proved, "{proved:?}");
    assert!(proved.goals.is_empty() && proved.errors.is_empty());

    let open = v(AND, "constructor\nexact hp");
    assert_eq!(open.status, Status::Open, "{open:?}");
    assert_eq!(open.goals, vec![RIGHT]);

    let unknown = v(AND, "exact foo");
    assert_eq!(unknown.status, Status::Error, "{unknown:?}");
    assert!(
        unknown.errors.iter().any(|e| e.contains("foo")),
        "{unknown:?}"
    );

    let sorry = v(AND, "constructor\nexact hp\nsorry");
    assert_eq!(sorry.status, Status::Sorry, "{sorry:?}");
    let admit = v("theorem a (p : Prop) : p", "exact sorryAx p Bool.false");
    assert_eq!(admit.status, Status::Sorry, "{admit:?}");

    let commented = v(
        "theorem c (p : Prop) (hp : p) : p -- the identity",
        "exact hp",
    );
    assert_eq!(commented.status, Status::Proved, "{commented:?}");

    let parse = v(AND, "frobnicate");
    assert_eq!(parse.status, Status::Error, "{parse:?}");

    // Multi-line tactics keep their structure inside the proof.
    let cases = v(
        "theorem or_swap (p q : Prop) (h : p ∨ q) : q ∨ p",
        "cases h with\n| inl hp => exact Or.inr hp\n| inr hq => exact Or.inl hq",
    );
    assert_eq!(cases.status, Status::Proved, "{cases:?}");
}

#[test]
fn an_error_that_leaves_no_goals_is_not_proved() {
    let Some(cmd) = common::test_lean_command("an_error_that_leaves_no_goals_is_not_proved") else {
        return;
    };
    let b = backend(&cmd, 1);
    // The mismatched `exact` closes the goal by error recovery: no goal remains, yet it failed.
    let mismatch = b
        .verify(HEADER, "theorem m (p q : Prop) (hp : p) : q", "exact hp")
        .unwrap();
    assert_eq!(mismatch.status, Status::Error, "{mismatch:?}");
    assert!(mismatch.goals.is_empty());
    assert!(
        mismatch.errors.iter().any(|e| e.contains("Type mismatch")),
        "{mismatch:?}"
    );
    // One tactic too many after a finished proof.
    let extra = b
        .verify(HEADER, AND, "constructor\nexact hp\nexact hq\nexact hq")
        .unwrap();
    assert_eq!(extra.status, Status::Error, "{extra:?}");
    // The same through apply: Failed, never Proved.
    let root = b
        .start(HEADER, "theorem m (p q : Prop) (hp : p) : q")
        .unwrap();
    match b.apply(&root, "exact hp").unwrap() {
        Outcome::Failed(msg) => assert!(msg.contains("Type mismatch"), "{msg}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn apply_goes_open_open_proved_editing_one_document() {
    let Some(cmd) = common::test_lean_command("apply_goes_open_open_proved_editing_one_document")
    else {
        return;
    };
    let b = backend(&cmd, 1);
    let root = b.start(HEADER, AND).unwrap();
    assert_eq!(root.goals, vec![ROOT]);
    assert!(root.steps.is_empty());

    let s1 = common::expect_open(b.apply(&root, "constructor").unwrap());
    assert_eq!(s1.goals, vec![LEFT, RIGHT]);
    let s2 = common::expect_open(b.apply(&s1, "exact hp").unwrap());
    assert_eq!(s2.goals, vec![RIGHT]);
    assert_eq!(s2.steps, vec!["constructor", "exact hp"]);
    match b.apply(&s2, "exact hq").unwrap() {
        Outcome::Proved(done) => {
            assert!(done.goals.is_empty());
            assert_eq!(done.steps, vec!["constructor", "exact hp", "exact hq"]);
        }
        other => panic!("expected Proved, got {other:?}"),
    }

    // Branching from an earlier state works: the document is rewritten to that state.
    match b.apply(&s1, "exact hq").unwrap() {
        Outcome::Failed(msg) => assert!(msg.contains("Type mismatch"), "{msg}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    let s2b = common::expect_open(b.apply(&s1, "exact hp").unwrap());
    assert_eq!(s2b.goals, vec![RIGHT]);

    // A `sorry` step proves nothing; an unknown identifier fails with Lean's message.
    assert!(matches!(b.apply(&s2, "sorry").unwrap(), Outcome::Failed(m) if m.contains("sorry")));
    assert!(
        matches!(b.apply(&s2, "exact nope").unwrap(), Outcome::Failed(m) if m.contains("nope"))
    );

    // A focused last step (`·`): the goals are those of the whole proof, not of the block.
    let dot = common::expect_open(b.apply(&s1, "· exact hp").unwrap());
    assert_eq!(dot.goals, vec![RIGHT]);
}

/// A focused block (`·`, `case ... =>`) that leaves its goal unsolved is an error inside the
/// proof, not open goals of the proof: Lean admits the goal and reports "unsolved goals" at the
/// block. The file backend says Failed, and so must the server backend.
#[test]
fn a_focused_block_left_unsolved_fails_like_the_file_backend() {
    let Some(cmd) =
        common::test_lean_command("a_focused_block_left_unsolved_fails_like_the_file_backend")
    else {
        return;
    };
    let server = backend(&cmd, 1);
    let file = FileBackend::new(cmd.clone());
    let imp = "theorem imp (p : Prop) (hp : p) : p → p";
    let cases: [(&str, &[&str], &str); 3] = [
        (imp, &[], "· intro h"),
        (AND, &["constructor"], "· skip"),
        (AND, &["constructor"], "case left =>\n  skip"),
    ];
    for (statement, before, tactic) in cases {
        for b in [&server as &dyn ProofBackend, &file] {
            let mut state = b.start(HEADER, statement).unwrap();
            for step in before {
                state = common::expect_open(b.apply(&state, step).unwrap());
            }
            match b.apply(&state, tactic).unwrap() {
                Outcome::Failed(msg) => assert!(msg.contains("unsolved goals"), "{msg}"),
                other => panic!("{}: {tactic:?} should fail, got {other:?}", b.name()),
            }
        }
    }
    // Still Open when the block is closed and goals of the proof remain.
    let root = server.start(HEADER, AND).unwrap();
    let s1 = common::expect_open(server.apply(&root, "constructor").unwrap());
    assert_eq!(
        common::expect_open(server.apply(&s1, "· exact hp").unwrap()).goals,
        vec![RIGHT]
    );
}

/// A parse error inside the proof (here an unterminated character literal, as an untrained
/// model writes) makes Lean report the theorem's "unsolved goals" at the very start of the
/// file, inside the header's lines. That is the step failing, not the header: both backends
/// must say Failed, and `verify` Error, never `LeanError::Header`.
#[test]
fn a_parse_error_in_a_step_is_not_a_header_error() {
    let Some(cmd) = common::test_lean_command("a_parse_error_in_a_step_is_not_a_header_error")
    else {
        return;
    };
    let server = backend(&cmd, 1);
    let file = FileBackend::new(cmd.clone());
    // Earlier declarations in the header, as eval gives for the later theorems of a file.
    let header = format!("{HEADER}\ntheorem first (p : Prop) (hp : p) : p := by\n  exact hp\n");
    let statement = "theorem second (p q : Prop) (hq : q) (h : p ∨ p) : p ∨ q";
    let tactic = "']nect[ ¬ intro hd 22";
    for b in [&server as &dyn ProofBackend, &file] {
        let root = b.start(&header, statement).unwrap();
        match b.apply(&root, tactic) {
            Ok(Outcome::Failed(msg)) => {
                assert!(msg.contains("character literal"), "{}: {msg}", b.name())
            }
            other => panic!("{}: expected Failed, got {other:?}", b.name()),
        }
        let verdict = b.verify(&header, statement, tactic).unwrap();
        assert_eq!(verdict.status, Status::Error, "{}: {verdict:?}", b.name());
    }
    // A whole-file check blames that theorem alone, not the header (and so every theorem).
    let text = format!("{header}{statement} := by\n  {tactic}\n");
    let checked = check_file(
        &FileBackend::new(cmd.clone()).with_timeout(Duration::from_secs(60)),
        &SourceFile::parse(&text),
    )
    .unwrap();
    assert!(checked.header_errors.is_empty(), "{checked:?}");
    let status: Vec<Status> = checked.verdicts.iter().map(|v| v.status).collect();
    assert_eq!(status, [Status::Proved, Status::Error]);
}

#[test]
fn start_reports_bad_statements_and_headers() {
    let Some(cmd) = common::test_lean_command("start_reports_bad_statements_and_headers") else {
        return;
    };
    let b = backend(&cmd, 1);
    match b.start(HEADER, "theorem bad (x : Nat.Real) : x = x") {
        Err(LeanError::Statement(msg)) => assert!(msg.contains("Nat.Real"), "{msg}"),
        other => panic!("expected a Statement error, got {other:?}"),
    }
    match b.start("prelude\nimport NoSuchModule\n", AND) {
        Err(LeanError::Header(msg)) => assert!(msg.contains("NoSuchModule"), "{msg}"),
        other => panic!("expected a Header error, got {other:?}"),
    }
    // The backend still works for a good header afterwards.
    assert_eq!(b.start(HEADER, AND).unwrap().goals, vec![ROOT]);
}

#[test]
fn goals_at_positions_inside_a_proof() {
    let Some(cmd) = common::test_lean_command("goals_at_positions_inside_a_proof") else {
        return;
    };
    let mut server = LeanServer::start_with(&cmd, quick()).unwrap();
    let text = format!("{HEADER}\n{AND} := by\n  constructor\n  exact hp\n  exact hq\n");
    let path = Path::new("/tmp/proofstep-test/GoalsAt.lean");
    let diags = server.open(path, &text).unwrap();
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    assert!(server.is_open(path));
    // Line 3 is the statement; lines 4-6 are the tactics.
    assert_eq!(
        server.goals_at(path, 4, 2).unwrap(),
        Some(vec![ROOT.to_string()])
    );
    assert_eq!(
        server.goals_at(path, 4, 13).unwrap(),
        Some(vec![LEFT.to_string(), RIGHT.to_string()])
    );
    assert_eq!(
        server.goals_at(path, 5, 10).unwrap(),
        Some(vec![RIGHT.to_string()])
    );
    assert_eq!(server.goals_at(path, 6, 10).unwrap(), Some(vec![]));
    assert_eq!(server.goals_at(path, 0, 0).unwrap(), None);

    // Changing the document: the diagnostics and goals follow the new text.
    let broken = text.replace("  exact hp\n", "  exact hq\n");
    let diags = server.change(path, &broken).unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d.is_error() && d.lsp.message.contains("Type mismatch")),
        "{diags:?}"
    );
    assert_eq!(server.diagnostics(path), diags);
    server.close(path).unwrap();
    assert!(!server.is_open(path));
    assert!(server.goals_at(path, 4, 2).is_err());
    server.shutdown();
}

fn kill_9(pid: u32) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_killed_server_gives_a_clear_error_then_restarts() {
    let Some(cmd) = common::test_lean_command("a_killed_server_gives_a_clear_error_then_restarts")
    else {
        return;
    };
    let mut server = LeanServer::start_with(&cmd, quick()).unwrap();
    let path = Path::new("/tmp/proofstep-test/Killed.lean");
    let text = format!("{HEADER}\n{AND} := by\n  constructor\n");
    server.open(path, &text).unwrap();
    let pid = server.pid();
    kill_9(pid);
    let began = Instant::now();
    let err = server
        .change(path, &text)
        .expect_err("a killed server cannot answer");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "took {:?}",
        began.elapsed()
    );
    assert!(matches!(err, LeanError::Died(_)), "{err:?}");
    assert!(
        err.to_string().contains("stopped") && err.to_string().contains("signal: 9"),
        "{err}"
    );
    assert!(!server.is_alive());
    assert!(server.goals_at(path, 4, 13).is_err());
    server.restart().unwrap();
    assert_ne!(server.pid(), pid);
    assert!(!server.is_open(path), "a restart forgets the documents");
    server.open(path, &text).unwrap();
    assert_eq!(
        server.goals_at(path, 4, 13).unwrap(),
        Some(vec![LEFT.to_string(), RIGHT.to_string()])
    );
}

#[test]
fn the_backend_replaces_a_dead_server() {
    let Some(cmd) = common::test_lean_command("the_backend_replaces_a_dead_server") else {
        return;
    };
    let b = backend(&cmd, 1);
    let root = b.start(HEADER, AND).unwrap();
    let pid = b.server_pids()[0];
    kill_9(pid);
    // A request that meets the dying server gets `Died`; one that finds it dead starts a new
    // server first. Either way the request after it is served by a fresh server.
    match b.apply(&root, "constructor") {
        Ok(outcome) => assert_eq!(common::expect_open(outcome).goals, vec![LEFT, RIGHT]),
        Err(e) => assert!(matches!(e, LeanError::Died(_)), "{e:?}"),
    }
    let s1 = common::expect_open(b.apply(&root, "constructor").unwrap());
    assert_eq!(s1.goals, vec![LEFT, RIGHT]);
    assert_ne!(b.server_pids()[0], pid);
}

#[test]
fn a_crashed_lean_worker_is_replaced() {
    let Some(cmd) = common::test_lean_command("a_crashed_lean_worker_is_replaced") else {
        return;
    };
    let b = backend(&cmd, 1);
    let root = b.start(HEADER, AND).unwrap();
    let pid = b.server_pids()[0];
    let mut workers = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let children =
            std::fs::read_to_string(task.unwrap().path().join("children")).unwrap_or_default();
        workers.extend(children.split_whitespace().map(str::to_string));
    }
    assert!(
        !workers.is_empty(),
        "the server runs one worker per open document"
    );
    for w in &workers {
        Command::new("kill")
            .args(["-9", w.as_str()])
            .status()
            .unwrap();
    }
    // Either Lean restarts the worker for the edit, or the call reports the crash; never a
    // hang, and the call after always works.
    match b.apply(&root, "constructor") {
        Ok(outcome) => assert_eq!(common::expect_open(outcome).goals, vec![LEFT, RIGHT]),
        Err(e) => assert!(matches!(e, LeanError::Died(_)), "{e:?}"),
    }
    assert_eq!(
        common::expect_open(b.apply(&root, "constructor").unwrap()).goals,
        vec![LEFT, RIGHT]
    );
}

#[test]
fn threads_share_the_backend() {
    let Some(cmd) = common::test_lean_command("threads_share_the_backend") else {
        return;
    };
    let b = backend(&cmd, 2);
    std::thread::scope(|scope| {
        for k in 0..4 {
            let b = &b;
            scope.spawn(move || {
                let statement = format!("theorem t{k} (p q : Prop) (hp : p) (hq : q) : p ∧ q");
                let root = b.start(HEADER, &statement).unwrap();
                let s1 = common::expect_open(b.apply(&root, "constructor").unwrap());
                let s2 = common::expect_open(b.apply(&s1, "exact hp").unwrap());
                assert!(matches!(
                    b.apply(&s2, "exact hq").unwrap(),
                    Outcome::Proved(_)
                ));
                assert!(b
                    .verify(HEADER, &statement, "constructor\nexact hp\nexact hq")
                    .unwrap()
                    .is_proved());
            });
        }
    });
}

/// Stand-ins for servers that misbehave in ways real Lean cannot be made to on demand.
fn stand_in(script: &str) -> LeanCommand {
    LeanCommand::new("sh").with_args(["-c", script])
}

#[test]
fn stand_in_server_that_hangs_times_out() {
    let options = ServerOptions {
        start_timeout: Duration::from_millis(500),
        ..quick()
    };
    let began = Instant::now();
    let err = LeanServer::start_with(&stand_in("sleep 30"), options)
        .err()
        .expect("no answer, no server");
    assert!(matches!(err, LeanError::Timeout(_)), "{err:?}");
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[test]
fn stand_in_server_that_exits_is_reported_with_its_stderr() {
    let err = LeanServer::start_with(&stand_in("echo 'no toolchain here' >&2; exit 3"), quick())
        .err()
        .expect("a server that exits cannot start");
    assert!(matches!(err, LeanError::Died(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("no toolchain here") && msg.contains('3'),
        "{msg}"
    );
}

#[test]
fn stand_in_server_that_writes_garbage_is_reported() {
    let err = LeanServer::start_with(&stand_in("echo 'this is not LSP'; sleep 30"), quick())
        .err()
        .expect("garbage is not a server");
    assert!(matches!(err, LeanError::Garbage(_)), "{err:?}");
}

#[test]
fn a_missing_program_says_what_to_do() {
    let err = LeanServer::start(&LeanCommand::new("/nonexistent/lean"))
        .err()
        .unwrap();
    assert!(matches!(err, LeanError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("proofstep doctor"));
}

#[test]
fn headers_with_earlier_declarations_share_a_document_without_leaking() {
    let Some(cmd) = common::test_lean_command(
        "headers_with_earlier_declarations_share_a_document_without_leaking",
    ) else {
        return;
    };
    let b = backend(&cmd, 1);
    let with_helper = format!("{HEADER}\ntheorem helper (p : Prop) (hp : p) : p := hp\n");
    let uses_helper = "theorem user (q : Prop) (hq : q) : q";
    let proved = b
        .verify(&with_helper, uses_helper, "exact helper q hq")
        .unwrap();
    assert_eq!(proved.status, Status::Proved, "{proved:?}");
    // The same theorem without the helper in its header: the helper must not linger.
    let unknown = b.verify(HEADER, uses_helper, "exact helper q hq").unwrap();
    assert_eq!(unknown.status, Status::Error, "{unknown:?}");
    assert!(
        unknown.errors.iter().any(|e| e.contains("helper")),
        "{unknown:?}"
    );
    // An error inside the header's own declarations is a header error, not the theorem's.
    let broken = format!("{HEADER}\ntheorem broken (p : Prop) : p := nothing_here\n");
    match b.verify(&broken, uses_helper, "exact hq") {
        Err(LeanError::Header(msg)) => assert!(msg.contains("nothing_here"), "{msg}"),
        other => panic!("expected a Header error, got {other:?}"),
    }
    assert_eq!(b.server_pids().len(), 1);
}

#[test]
fn goals_read_from_diagnostics_alone_match_plain_goal() {
    let Some(cmd) = common::test_lean_command("goals_read_from_diagnostics_alone_match_plain_goal")
    else {
        return;
    };
    let with = backend(&cmd, 1);
    let options = ServerBackendOptions {
        plain_goal: false,
        server: quick(),
        ..Default::default()
    };
    let without = ServerBackend::start(&cmd, options).unwrap();
    let cases: [(&str, &[&str]); 3] = [
        (AND, &["constructor", "exact hp"]),
        (
            "theorem sw (p q : Prop) (h : p ∧ q) : q ∧ p",
            // One step of two lines. (A `cases ... with` alternative left unsolved
            // would be a failed step: Lean wants each alternative closed.)
            &["constructor\nexact h.2"],
        ),
        (
            "theorem ex (a b : Nat) (p : Nat → Prop) (h : a = b) (hp : p a) : p b",
            &["rw [← h]"],
        ),
    ];
    for (statement, steps) in cases {
        let (mut a, mut b) = (
            with.start(HEADER, statement).unwrap(),
            without.start(HEADER, statement).unwrap(),
        );
        assert_eq!(a.goals, b.goals);
        for step in steps {
            a = common::expect_open(with.apply(&a, step).unwrap());
            b = common::expect_open(without.apply(&b, step).unwrap());
            assert_eq!(a.goals, b.goals, "after {step:?}");
            assert!(!a.goals.is_empty());
        }
    }
}

#[test]
fn documents_beyond_the_limit_are_closed_and_reopened() {
    let Some(cmd) = common::test_lean_command("documents_beyond_the_limit_are_closed_and_reopened")
    else {
        return;
    };
    let options = ServerBackendOptions {
        max_documents: 1,
        server: quick(),
        ..Default::default()
    };
    let b = ServerBackend::start(&cmd, options).unwrap();
    // Two import blocks: the test world, and a bare prelude without Mini's tactics.
    let bare = "prelude\n";
    let statement = "theorem t (p : Prop) (hp : p) : p";
    for _ in 0..2 {
        assert_eq!(
            b.verify(HEADER, statement, "exact hp").unwrap().status,
            Status::Proved
        );
        let without = b.verify(bare, statement, "exact hp").unwrap();
        assert_eq!(without.status, Status::Error, "{without:?}");
    }
    let root = b.start(HEADER, AND).unwrap();
    assert_eq!(
        common::expect_open(b.apply(&root, "constructor").unwrap()).goals,
        vec![LEFT, RIGHT]
    );
}
