//! A "proved" that is always true: on the test world's real Lean, no backend (file, server)
//! and no command (`check`, `prove`, `eval`) counts a proof that rests on an earlier lemma whose
//! proof is `sorry` or failed, or on a file's own `axiom`, named theorem or `example` alike;
//! honest proofs beside them stay proved, and `--allow-axiom` accepts what the user means: an
//! axiom of the imported libraries, never one the checked text declares itself.
//! (The repl backend reads the same probe; its answers are tested in `lean::backend::repl`.)

mod common;

use std::time::Duration;

use proofstep::lean::axioms::AxiomPolicy;
use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::backend::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::check::check_file;
use proofstep::lean::lsp::server::ServerOptions;
use proofstep::lean::source::SourceFile;
use proofstep::lean::{LeanCommand, LeanError, ProofBackend, Status};

const HEADER: &str = "prelude\nimport Mini\n";

/// A file in the layout of miniF2F and of the README's Mathlib workflow: lemmas with `sorry`
/// (or broken) proofs next to the theorems to prove.
const HOSTILE: &str = "prelude
import Mini

theorem helper_false : False := by sorry

theorem bad_lemma : 1 = 2 := by exact rfl

axiom cheat : False

theorem honest (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.2, h.1⟩

theorem target (a b : Nat) (h : a = b) : a + 1 = b + 2 := by exact helper_false.elim

theorem via_failed : 2 + 2 = 5 := by exact absurd bad_lemma (by decide)

theorem via_axiom : 2 + 2 = 5 := by exact cheat.elim

example : 2 + 2 = 5 := by exact cheat.elim

example (p : Prop) (hp : p) : p := hp

theorem uses_honest (p q : Prop) (h : p ∧ q) : q ∧ p := honest p q h

theorem uses_propext (p : Prop) (hp : p) : p = True := propext ⟨fun _ => trivial, fun _ => hp⟩
";

/// Name and status of every theorem of `HOSTILE` as a sound checker must classify it.
const EXPECTED: [(&str, Status); 10] = [
    ("helper_false", Status::Sorry),
    ("bad_lemma", Status::Error),
    ("honest", Status::Proved),
    ("target", Status::Sorry),
    ("via_failed", Status::Sorry),
    ("via_axiom", Status::Axiom),
    ("example@L18", Status::Axiom),
    ("example@L20", Status::Proved),
    ("uses_honest", Status::Proved),
    ("uses_propext", Status::Proved),
];

/// `HOSTILE` without its failing lemma (whose error would stop every later theorem from
/// starting): what `prove` and `eval` get.
const HOSTILE_SEARCHABLE: &str = "prelude
import Mini

theorem helper_false : False := by sorry

axiom cheat : False

theorem target (a b : Nat) (h : a = b) : a + 1 = b + 2 := by sorry

theorem via_axiom : 2 + 2 = 5 := by sorry

example : 2 + 2 = 5 := by sorry
";

/// The test world's Lean with one more module on its path, `Extra` (`axiom extra_ax : False`),
/// compiled into `dir`: an axiom of the imports, which `--allow-axiom extra_ax` may accept.
fn with_extra_module(test: &str, dir: &std::path::Path) -> Option<LeanCommand> {
    let t = common::test_lean(test)?;
    compile_extra(&t, dir, "axiom extra_ax : False\n");
    let mut cmd = LeanCommand::new(&t.lean);
    cmd.env.push((
        "LEAN_PATH".into(),
        format!("{}:{}", t.lib.display(), dir.display()),
    ));
    cmd.libraries = vec![t.lib.clone(), dir.to_path_buf()];
    Some(cmd)
}

/// Compiles (again) the module `Extra` in `dir`: the test world's prelude and `body`.
fn compile_extra(t: &common::TestLean, dir: &std::path::Path, body: &str) {
    let text = format!("prelude\nimport Mini\n{body}");
    common::compile_module(t, dir, "Extra", &text);
}

fn quick() -> ServerOptions {
    ServerOptions {
        start_timeout: Duration::from_secs(30),
        open_timeout: Duration::from_secs(60),
        timeout: Duration::from_secs(60),
        memory_limit_mb: None,
    }
}

fn backends(cmd: &LeanCommand, policy: AxiomPolicy) -> Vec<Box<dyn ProofBackend>> {
    let server = ServerBackend::start(
        cmd,
        ServerBackendOptions {
            server: quick(),
            policy: policy.clone(),
            ..Default::default()
        },
    )
    .expect("the server backend starts");
    vec![
        Box::new(
            FileBackend::new(cmd.clone())
                .with_timeout(Duration::from_secs(60))
                .with_policy(policy),
        ),
        Box::new(server),
    ]
}

#[test]
fn every_backend_checks_a_hostile_file_soundly() {
    let Some(cmd) = common::test_lean_command("every_backend_checks_a_hostile_file_soundly") else {
        return;
    };
    let source = SourceFile::parse(HOSTILE);
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let result = check_file(backend.as_ref(), &source).unwrap();
        let got: Vec<(String, Status)> = source
            .theorems
            .iter()
            .zip(&result.verdicts)
            .map(|(t, v)| (t.display_name(), v.status))
            .collect();
        let want: Vec<(String, Status)> =
            EXPECTED.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        assert_eq!(got, want, "{}: {:?}", backend.name(), result.verdicts);
        let via_axiom = &result.verdicts[5];
        assert_eq!(via_axiom.axioms, ["cheat"], "{}", backend.name());
        assert!(
            via_axiom.errors[0].contains("--allow-axiom cheat"),
            "{}: the error names the fix: {via_axiom:?}",
            backend.name()
        );
    }
    // Allowing an axiom means the imports' axiom of that name: one the file declares itself
    // is never accepted (it could say anything), and sorry never is.
    for backend in backends(&cmd, AxiomPolicy::allowing(["cheat", "sorryAx"])) {
        let result = check_file(backend.as_ref(), &source).unwrap();
        let status: Vec<Status> = result.verdicts.iter().map(|v| v.status).collect();
        assert_eq!(status[5], Status::Error, "{}", backend.name());
        assert!(
            result.verdicts[5]
                .errors
                .iter()
                .any(|e| e.contains("declares `cheat`")),
            "{}: {:?}",
            backend.name(),
            result.verdicts[5]
        );
        assert_eq!(status[6], Status::Error, "{}", backend.name());
        // The whole file is uncertified, the proof through a `sorry` lemma included.
        assert_eq!(status[3], Status::Error, "{}", backend.name());
    }
}

/// `--allow-axiom` accepts an axiom of the imported libraries, in `check` and in the final
/// check of every backend; the same name declared by the checked text (or by the header a
/// final check is given) proves nothing (the nineteenth audit: `axiom Lean.ofReduceBool :
/// False` in a file checked with `--allow-axiom Lean.ofReduceBool` had proved `False`).
#[test]
fn an_allowed_axiom_counts_only_as_the_imports_declare_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cmd) = with_extra_module(
        "an_allowed_axiom_counts_only_as_the_imports_declare_it",
        dir.path(),
    ) else {
        return;
    };
    let imported = "prelude\nimport Mini\nimport Extra\n";
    let own = "prelude\nimport Mini\naxiom extra_ax : False\n";
    let statement = "theorem t : (2 : Nat) + 2 = 5";
    for (policy, header, want) in [
        (AxiomPolicy::default(), imported, Status::Axiom),
        (
            AxiomPolicy::allowing(["extra_ax"]),
            imported,
            Status::Proved,
        ),
        (AxiomPolicy::allowing(["extra_ax"]), own, Status::Error),
    ] {
        for backend in backends(&cmd, policy.clone()) {
            let text = format!("{header}{statement} := extra_ax.elim\n");
            let result = check_file(backend.as_ref(), &SourceFile::parse(&text)).unwrap();
            let checked = &result.verdicts[0];
            assert_eq!(
                checked.status,
                want,
                "{}: {text}: {checked:?}",
                backend.name()
            );
            let verified = backend
                .verify(header, statement, "exact extra_ax.elim")
                .unwrap();
            assert_eq!(
                verified.status,
                want,
                "{}: {header}: {verified:?}",
                backend.name()
            );
        }
    }
}

/// A library rebuilt under a running backend is checked as it is now: what the backend learned
/// about the imports (which guarded names they declare, a Lean worker holding them) belongs to
/// the old build. Checked both ways: an allowed axiom the rebuilt imports declare counts, and
/// once they drop it again, it does not.
#[test]
fn a_library_rebuilt_under_a_running_backend_is_checked_as_it_is_now() {
    let test = "a_library_rebuilt_under_a_running_backend_is_checked_as_it_is_now";
    let dir = tempfile::tempdir().unwrap();
    let Some(cmd) = with_extra_module(test, dir.path()) else {
        return;
    };
    let t = common::test_lean(test).unwrap();
    let header = "prelude\nimport Mini\nimport Extra\n";
    let statement = "theorem t : (2 : Nat) + 2 = 5";
    for backend in backends(&cmd, AxiomPolicy::allowing(["extra_ax"])) {
        let name = backend.name();
        for (body, want) in [
            ("def extra_other : Nat := 0\n", Status::Error),
            ("axiom extra_ax : False\n", Status::Proved),
            ("def extra_other : Nat := 1\n", Status::Error),
        ] {
            compile_extra(&t, dir.path(), body);
            let verified = backend
                .verify(header, statement, "exact extra_ax.elim")
                .unwrap();
            assert_eq!(verified.status, want, "{name}, Extra: {body}: {verified:?}");
        }
    }
}

#[test]
fn verify_never_proves_through_a_sorry_lemma_or_a_foreign_axiom() {
    let Some(cmd) =
        common::test_lean_command("verify_never_proves_through_a_sorry_lemma_or_a_foreign_axiom")
    else {
        return;
    };
    let lemmas = format!(
        "{HEADER}theorem helper_false : False := by sorry\naxiom cheat : False\n\
         theorem honest (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.2, h.1⟩\nnamespace N\n"
    );
    let target = "theorem target (a b : Nat) (h : a = b) : a + 1 = b + 2";
    let example = "example (a b : Nat) (h : a = b) : a + 1 = b + 2";
    let swap = "theorem swap (p q : Prop) (h : p ∧ q) : q ∧ p";
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let v = |statement: &str, proof: &str| backend.verify(&lemmas, statement, proof).unwrap();
        let name = backend.name();
        assert_eq!(
            v(target, "exact helper_false.elim").status,
            Status::Sorry,
            "{name}"
        );
        assert_eq!(
            v(example, "exact helper_false.elim").status,
            Status::Sorry,
            "{name}"
        );
        let cheat = v(target, "exact cheat.elim");
        assert_eq!(cheat.status, Status::Axiom, "{name}: {cheat:?}");
        assert_eq!(cheat.axioms, ["cheat"], "{name}");
        assert_eq!(
            v(example, "exact cheat.elim").status,
            Status::Axiom,
            "{name}"
        );
        // Honest proofs, through an honest lemma or not, named or not, stay proved.
        assert_eq!(
            v(swap, "exact honest p q h").status,
            Status::Proved,
            "{name}"
        );
        assert_eq!(
            v(
                "example (p q : Prop) (h : p ∧ q) : q ∧ p",
                "exact ⟨h.2, h.1⟩"
            )
            .status,
            Status::Proved,
            "{name}"
        );
        assert_eq!(v(target, "skip").status, Status::Open, "{name}");
    }
    // An earlier lemma whose proof fails: the text before the theorem does not elaborate.
    let broken = format!("{HEADER}theorem bad_lemma : 1 = 2 := by exact rfl\n");
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let v = backend.verify(
            &broken,
            "theorem t : 2 + 2 = 5",
            "exact absurd bad_lemma (by decide)",
        );
        assert!(
            matches!(v, Err(LeanError::Header(_))),
            "{}: {v:?}",
            backend.name()
        );
    }
}

/// `#print axioms NAME` answers once for every declaration NAME resolves to: inside namespace
/// `A`, an `export` of another `t` makes the probe after `A.t` answer about both. A second
/// answer is an error in every backend, never a replacement of the first (the last had won, and
/// the alias, resting on nothing, vouched for `A.t : False`).
#[test]
fn a_probe_answered_twice_proves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cmd) = with_extra_module("a_probe_answered_twice_proves_nothing", dir.path()) else {
        return;
    };
    let header = "prelude\nimport Mini\nimport Extra\nnamespace Other\ntheorem t : True := trivial\nend Other\nnamespace A\nexport Other (t)\n";
    for backend in backends(&cmd, AxiomPolicy::allowing(["extra_ax"])) {
        let v = backend
            .verify(header, "theorem t : False", "exact extra_ax")
            .unwrap();
        assert_eq!(v.status, Status::Error, "{}: {v:?}", backend.name());
        assert!(
            v.errors.iter().any(|e| e.contains("2 declarations")),
            "{}: {v:?}",
            backend.name()
        );
    }
}

/// A final check asks whether the theorem's name is free before its statement, as `check`
/// does: a theorem named as a declaration of its header is refused in every backend (Lean
/// refuses it too; the free-name probe does not rely on that error being seen).
#[test]
fn a_theorem_named_as_a_header_declaration_proves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cmd) = with_extra_module(
        "a_theorem_named_as_a_header_declaration_proves_nothing",
        dir.path(),
    ) else {
        return;
    };
    let header = "prelude\nimport Mini\nimport Extra\ntheorem t : False := extra_ax\n";
    for backend in backends(&cmd, AxiomPolicy::allowing(["extra_ax"])) {
        let v = backend
            .verify(header, "theorem t : False", "exact t")
            .unwrap();
        assert_eq!(v.status, Status::Error, "{}: {v:?}", backend.name());
        let fresh = backend
            .verify(header, "theorem u : False", "exact t")
            .unwrap();
        assert_eq!(
            fresh.status,
            Status::Proved,
            "{}: {fresh:?}",
            backend.name()
        );
    }
}

/// A file can attach its own macro to `#print axioms` (with Mathlib, `macro_rules` does it)
/// and answer the probe itself. The test world has no `Lean` package, so such a macro does not
/// elaborate here; what is tested is that its mere presence makes every later theorem
/// unconfirmed, honest ones included, in `check` and in `verify`.
#[test]
fn a_file_that_could_answer_print_axioms_itself_proves_nothing() {
    let Some(cmd) =
        common::test_lean_command("a_file_that_could_answer_print_axioms_itself_proves_nothing")
    else {
        return;
    };
    let spoof = format!("{HEADER}macro_rules | `(#print axioms $_x) => `(#check True)\n");
    let text = format!("{spoof}theorem t (p : Prop) (hp : p) : p := hp\n");
    let source = SourceFile::parse(&text);
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let result = check_file(backend.as_ref(), &source).unwrap();
        let verdict = &result.verdicts[0];
        assert_eq!(
            verdict.status,
            Status::Error,
            "{}: {verdict:?}",
            backend.name()
        );
        assert!(
            verdict.errors.iter().any(|e| e.contains("#print axioms")),
            "{}: {verdict:?}",
            backend.name()
        );
        // Here the macro itself fails, so the header does not elaborate; with Mathlib it does,
        // and the verdict is the same error (see `lean::backend::layout`'s tests).
        match backend.verify(&spoof, "theorem u (p : Prop) (hp : p) : p", "exact hp") {
            Ok(v) => assert_eq!(v.status, Status::Error, "{}: {v:?}", backend.name()),
            Err(e) => assert!(matches!(e, LeanError::Header(_)), "{}: {e}", backend.name()),
        }
    }
}

#[test]
fn prove_and_eval_refuse_a_proof_through_a_sorry_lemma() {
    let Some(lean) = common::test_lean("prove_and_eval_refuse_a_proof_through_a_sorry_lemma")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(dir.path(), "Hostile.lean", HOSTILE_SEARCHABLE);
    let model = common::untrained_model(dir.path());
    for backend in ["server", "file"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
            .args(["prove", "--theorem", "target", "--file"])
            .arg(&file)
            .args(["--model"])
            .arg(&model)
            .args([
                "--backend",
                backend,
                "--expansions",
                "2",
                "--samples",
                "1",
                "--json",
            ])
            .args(["--also-try", "exact helper_false.elim"])
            .args(["--also-try", "exact cheat.elim"])
            .env("PROOFSTEP_LEAN", &lean.lean)
            .env("LEAN_PATH", &lean.lib)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{backend}: no proof: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(result["proved"], false, "{backend}");
        assert_eq!(
            result["counts"]["proofs_rejected"], 2,
            "{backend}: {result}"
        );
    }
    let results = dir.path().join("results.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["eval", "--dataset"])
        .arg(&file)
        .arg("--model")
        .arg(&model)
        .args(["--expansions", "2", "--samples", "1", "--workers", "1"])
        .args([
            "--also-try",
            "exact helper_false.elim",
            "--also-try",
            "exact cheat.elim",
        ])
        .arg("--out")
        .arg(&results)
        .env("PROOFSTEP_LEAN", &lean.lean)
        .env("LEAN_PATH", &lean.lib)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for name in ["helper_false", "target", "via_axiom", "example@L12"] {
        let record = records
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is evaluated: {records:?}"));
        assert_eq!(record["proved"], false, "{name}: {record}");
    }
}

#[test]
fn check_reports_what_a_theorem_rests_on_in_every_runnable_backend() {
    if common::test_lean("check_reports_what_a_theorem_rests_on_in_every_runnable_backend")
        .is_none()
    {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("trust")
        .tempdir_in(common::repo_root().join("lean/mini/examples"))
        .unwrap();
    let file = common::write_file(dir.path(), "Hostile.lean", HOSTILE);
    let rel = file
        .strip_prefix(common::repo_root())
        .unwrap()
        .display()
        .to_string();
    for backend in ["file", "server"] {
        let out = common::proofstep_at_root(&["check", &rel, "--json", "--backend", backend]);
        assert_eq!(out.status.code(), Some(1), "{backend}");
        let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<(String, String)> = lines
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_string(),
                    l["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = EXPECTED
            .iter()
            .map(|(n, s)| (n.to_string(), s.as_str().to_string()))
            .collect();
        assert_eq!(got, want, "{backend}");
        assert_eq!(
            lines[5]["axioms"],
            serde_json::json!(["cheat"]),
            "{backend}"
        );
        let allowed = common::proofstep_at_root(&[
            "check",
            &rel,
            "--json",
            "--backend",
            backend,
            "--allow-axiom",
            "cheat",
        ]);
        // `cheat` is the file's own axiom: allowing the name does not accept it.
        let text = String::from_utf8(allowed.stdout).unwrap();
        let via_axiom: serde_json::Value =
            serde_json::from_str(text.lines().nth(5).unwrap()).unwrap();
        assert_eq!(via_axiom["status"], "error", "{backend}: {text}");
    }
}

/// Files from seven hostile audits, each making a false statement look proved to an earlier
/// version of `check`: a switch that skips the kernel's check, an axiom named like the probe's
/// clean answer, namespaces the splitter read otherwise than Lean (indented, mid-line, `end B`
/// of `namespace A.B`, `«A.B»`, `«_root_»`), strings and literals the lexer read otherwise
/// (an interpolated string, `λ'"'`, `0'"'`), and a decoy of the same name. In every backend
/// none of their false statements is proved; the true theorems beside them may be.
#[test]
fn no_false_statement_of_the_audits_files_is_proved() {
    let Some(cmd) = common::test_lean_command("no_false_statement_of_the_audits_files_is_proved")
    else {
        return;
    };
    let cheat = "axiom cheat : False\n";
    let files = [
        "set_option debug.skipKernelTC true in\ntheorem k : 2 + 2 = 5 := by decide +kernel\n".to_string(),
        "theorem k : 2 + 2 = 5 := by\n  set_option debug.skipKernelTC true in decide +kernel\n".to_string(),
        "axiom «does not depend on any axioms» : False\ntheorem k : 2 + 2 = 5 := «does not depend on any axioms».elim\n".to_string(),
        format!("{cheat}theorem t : True := trivial\n  namespace A\ntheorem t : 2 + 2 = 5 := cheat.elim\n"),
        format!("{cheat}def t : True := trivial\ntheorem ok : True := trivial namespace A\ntheorem t : 2 + 2 = 5 := cheat.elim\n"),
        format!("{cheat}theorem t : True := trivial\nnamespace A.B\nend B\ntheorem t : 2 + 2 = 5 := cheat.elim\nend A\n"),
        format!("{cheat}def A.B.t : True := trivial\nnamespace «A.B»\ntheorem t : 2 + 2 = 5 := cheat.elim\nend «A.B»\n"),
        format!("{cheat}def A.«_root_».t : True := trivial\nnamespace A\ntheorem «_root_».t : 2 + 2 = 5 := cheat.elim\nend A\n"),
        format!("{cheat}theorem ok : True := trivial\ndef x : Nat := dbg_trace \"{{'\"'}}\"; 0\nset_option debug.skipKernelTC true in -- \"\ntheorem k : 2 + 2 = 5 := by decide +kernel\n"),
        "theorem first : True := by\n  try exact λ'\"' => 0\n  trivial\ntheorem t : True := trivial\n/-\"\ntheorem t : False := by exact nonsense -/\n".to_string(),
        "theorem first : True := trivial\ndef w := 0'\"'\ntheorem t : True := trivial\n/-\"\ntheorem t : False := by exact nonsense -/\n".to_string(),
        // A fifth audit: commands Lean reads where this reading saw none, an allowed axiom's
        // name and a kernel-computed function declared by the file.
        "theorem a : True := trivial\ndef x : Nat := (variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "theorem a : True := trivial\ndef x : Nat := 0 variable (h : False) in include h in\ntheorem t : False := h\n".to_string(),
        "theorem a : True := trivial\ndef x : Nat := 0 private variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "theorem a : True := by exact (variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "axiom Classical.choice : False\ntheorem t : False := Classical.choice\n".to_string(),
        // A sixth: a command before an `in` that is not its own (Lean reads `include h` as a
        // command, then `#check (open Nat in trivial)`).
        "variable (h : False)\ntheorem a : True := trivial\n  include h\n  #check (open Nat in trivial)\ntheorem t : False := h\n".to_string(),
        // A seventh: a command that moves the theorem into a namespace (`N.trivial`), so the
        // probe by written name found Mini's `trivial : True`.
        "axiom bad : False\nwith_weak_namespace N theorem trivial : False := bad\n".to_string(),
        // An eighth: an alias of the theorem's name (`export`) makes `#print axioms` answer
        // twice, and a public `_private.foo.«0».A.t` had passed for `A.t`'s private form.
        "axiom bad : False\nnamespace _private.foo.«0».A\ntheorem t : True := trivial\nend _private.foo.«0».A\nnamespace A\nexport _private.foo.«0».A (t)\ntheorem t : False := bad\nend A\n".to_string(),
        // A ninth: a `mutual` block Lean refuses as a whole (its theorems were asked about at
        // the end, where Mini's `trivial` or a later `abbrev` answered), and `namespace N in`,
        // which leaves `N` open.
        "axiom bad : False\ntheorem first : True := trivial\nmutual\ninductive Foo where\n  | mk : Foo\ntheorem trivial : False := bad\nend\n".to_string(),
        "theorem warmup : True := trivial\nmutual\ninductive Foo where\n  | mk : Foo\ntheorem two_plus_two : (2 : Nat) + 2 = 5 := by\n  exact this_is_not_a_proof\nend\nabbrev two_plus_two : True := trivial\n".to_string(),
        format!("{cheat}theorem warmup : True := trivial\nnamespace N in\ntheorem w2 : True := trivial\nmutual\ntheorem trivial : False := cheat\nend\n"),
        "noncomputable def Nat.pow (n m : Nat) : Nat := Nat.zero\ntheorem native : Nat.pow 2 2 = 4 := rfl\ntheorem byDef (a b : Nat) : Nat.pow a b = 0 := rfl\ntheorem t : False := by\n  have h : (4 : Nat) = 0 := (native.symm.trans (byDef 2 2))\n  exact Nat.noConfusion h\n".to_string(),
        // A tenth: numbers and raw strings read otherwise than Lean reads them (`1_2variable`
        // is `1_2` then `variable`; `2r"\"` a number then a raw string), an axiom named like an
        // allowed one inside a namespace (`#print axioms` printed `Bar.propext` as `propext`),
        // and tokens Lean has not without Mathlib (`''`, `⟦`), after which it reads on
        // otherwise than the splitter.
        "theorem a : True := trivial\ndef x : Nat := 1_2variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "def bad : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩\ndef x : Nat := 1_2attribute [instance 2000] bad\ntheorem two_plus_two : (2 : Nat) + 2 = 5 := rfl\n".to_string(),
        "theorem a : True := trivial\ndef x : Nat := 2.e3variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "theorem a : True := trivial\ndef s : Nat := 2r\"\\\" variable (h : False) include h --\"\ntheorem t : False := h\n".to_string(),
        "namespace Bar\naxiom propext : False\ntheorem t : False := propext\nend Bar\n".to_string(),
        "namespace Bar\nprivate axiom Quot.sound : False\ntheorem t : False := Quot.sound\nend Bar\n".to_string(),
        "theorem a : True := trivial\ndef x : Nat := 0 ''\"' variable (h : False) include h -- \"\ntheorem t : False := h\n".to_string(),
        "theorem a : True := trivial\ndef x : Nat := 0 ⟦ variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        // An eleventh: the same tokens inside a theorem's proof, where Lean's recovery from
        // the parse error reads a command the splitter does not.
        "theorem a : True := by\n  exact ''\"' variable (h : False) include h -- \"\ntheorem t : False := h\n".to_string(),
        "theorem a : True := by\n  exact ⟦ variable (h : False)\ninclude h\ntheorem t : False := h\n".to_string(),
        "def bad : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩\ntheorem a : True := by\n  exact ''\"' attribute [instance 2000] bad -- \"\ntheorem two_plus_two : (2 : Nat) + 2 = 5 := rfl\n".to_string(),
        // A sixteenth: a kernel-computed name declared as `class inductive` (the splitter had
        // recorded the name `inductive`) proves `False` with no axiom at all.
        "class inductive Nat.pow : Nat → Nat → Prop where\n  | mk : Nat.pow 1 1\ntheorem t : False := by\n  have h : Nat.pow 1 0 := Nat.pow.mk\n  have e : (0 : Nat) = 1 := Nat.pow.rec (motive := fun _ b _ => b = 1) rfl h\n  exact Nat.noConfusion e.symm\n".to_string(),
        // A seventeenth: the same name declared by a `local instance`.
        "class D : Type where\n  v : Nat\n@[reducible] def C (_ _ : Nat) : Type := D\nlocal instance Nat.pow (a b : Nat) : C a b := ⟨b⟩\ntheorem g (n m : Nat) : @D.v (Nat.pow n m) = m := rfl\ntheorem native : Nat.pow 1 5 = Nat.pow 1 0 := rfl\ntheorem t : False := by\n  have h : (5 : Nat) = 0 := (g 1 5).symm.trans ((congrArg (@D.v) native).trans (g 1 0))\n  exact Nat.noConfusion h\n".to_string(),
        // A twelfth: the same after "unexpected token" errors, which carry an end position.
        "theorem a : True := trivial\ndef x : Nat := ) ''\"' variable (h : False) include h -- \"\ntheorem t : False := h\n".to_string(),
        "def bad : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩\ntheorem a : True := by\n  exact ) ''\"' attribute [instance 2000] bad -- \"\ntheorem two_plus_two : (2 : Nat) + 2 = 5 := rfl\n".to_string(),
    ];
    for body in files {
        let text = format!("{HEADER}{body}");
        let source = SourceFile::parse(&text);
        for backend in backends(&cmd, AxiomPolicy::default()) {
            let result = check_file(backend.as_ref(), &source).unwrap();
            for (theorem, verdict) in source.theorems.iter().zip(&result.verdicts) {
                let false_statement =
                    theorem.statement.contains("2 + 2 = 5") || theorem.statement.ends_with("False");
                assert!(
                    !(false_statement && verdict.status == Status::Proved),
                    "{}: `{}` proved in\n{text}",
                    backend.name(),
                    theorem.statement
                );
            }
        }
    }
}

/// A parse error inside a proof whose rest holds no quote, comment opener or command keyword
/// cannot make Lean read on otherwise: the theorems after it are still certified.
#[test]
fn a_plain_parse_error_in_a_proof_doubts_nothing_after_it() {
    let Some(cmd) =
        common::test_lean_command("a_plain_parse_error_in_a_proof_doubts_nothing_after_it")
    else {
        return;
    };
    let text = format!(
        "{HEADER}theorem a (p : Prop) (hp : p) : p := by\n  exact hp)\ntheorem b (p : Prop) (hp : p) : p := hp\n"
    );
    let source = SourceFile::parse(&text);
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let result = check_file(backend.as_ref(), &source).unwrap();
        assert_eq!(
            result.verdicts[0].status,
            Status::Error,
            "{}",
            backend.name()
        );
        assert_eq!(
            result.verdicts[1].status,
            Status::Proved,
            "{}: {:?}",
            backend.name(),
            result.verdicts[1]
        );
    }
}

/// `#print axioms` prints names relative to the open namespaces: inside `namespace Bar`, the
/// file's own axiom `Bar.propext` was printed `propext`, the allowed axiom's name, and `prove`
/// proved `2 + 2 = 5` with it. Every probe now prints full names, in every backend.
#[test]
fn an_axiom_named_like_an_allowed_one_in_a_namespace_proves_nothing() {
    let Some(cmd) = common::test_lean_command(
        "an_axiom_named_like_an_allowed_one_in_a_namespace_proves_nothing",
    ) else {
        return;
    };
    let header = format!("{HEADER}namespace Bar\naxiom propext : False\n");
    for backend in backends(&cmd, AxiomPolicy::default()) {
        let v = backend
            .verify(
                &header,
                "theorem t : (2 : Nat) + 2 = 5",
                "exact False.elim propext",
            )
            .unwrap();
        assert_eq!(v.status, Status::Axiom, "{}: {v:?}", backend.name());
        assert_eq!(v.axioms, ["Bar.propext"], "{}", backend.name());
    }
}

/// A reserved name the imports lack (`Lean.reduceBool`: the test world's `Mini` has none)
/// declared by a way the splitter does not read — a constructor — is seen by Lean's own
/// answers at the start and end of the text, in `check` and in the final check of a search,
/// in every backend; the same text without it stays proved.
#[test]
fn a_reserved_name_declared_as_a_constructor_proves_nothing() {
    let Some(cmd) =
        common::test_lean_command("a_reserved_name_declared_as_a_constructor_proves_nothing")
    else {
        return;
    };
    let declares = "inductive Lean where\n  | reduceBool\n";
    for backend in backends(&cmd, AxiomPolicy::default()) {
        for (context, want) in [(declares, Status::Error), ("", Status::Proved)] {
            let text = format!("{HEADER}{context}theorem t : True := trivial\n");
            let result = check_file(backend.as_ref(), &SourceFile::parse(&text)).unwrap();
            let v = &result.verdicts[0];
            assert_eq!(v.status, want, "{}: {text}: {v:?}", backend.name());
            let header = format!("{HEADER}{context}");
            let verified = backend
                .verify(&header, "theorem t (p : Prop) (h : p) : p", "exact h")
                .unwrap();
            assert_eq!(verified.status, want, "{}: {verified:?}", backend.name());
            if want == Status::Error {
                for errors in [&v.errors, &verified.errors] {
                    assert!(
                        errors
                            .iter()
                            .any(|e| e.contains("declares `Lean.reduceBool`")),
                        "{}: {errors:?}",
                        backend.name()
                    );
                }
            }
        }
    }
}

/// A text's own print options decorate what `#print axioms` lists (`[size 1/1/1] sorryAx`
/// under `pp.exprSizes`): the probe's options turn them off, so `sorry` is still seen, and
/// allowing the decorated name proves nothing.
#[test]
fn print_options_of_the_text_do_not_hide_sorry() {
    let Some(cmd) = common::test_lean_command("print_options_of_the_text_do_not_hide_sorry") else {
        return;
    };
    let text = format!(
        "{HEADER}theorem cheat : False := sorry\nset_option pp.exprSizes true\nset_option pp.universes true\ntheorem t : False := cheat\n"
    );
    let source = SourceFile::parse(&text);
    for backend in backends(&cmd, AxiomPolicy::allowing(["[size 1/1/1] sorryAx"])) {
        let result = check_file(backend.as_ref(), &source).unwrap();
        assert_eq!(
            result.verdicts[1].status,
            Status::Sorry,
            "{}: {:?}",
            backend.name(),
            result.verdicts[1]
        );
    }
}

/// A theorem's `... in` prefixes are part of what it states: `prove --file` and `eval` on a
/// Lean file search and check the theorem with them, as Lean reads the file. (They had been
/// dropped: `set_option autoImplicit false in theorem t : x = x` was proved with `x`
/// auto-bound, and `omit h in theorem t : False` with the omitted `h`.)
#[test]
fn prove_keeps_the_prefixes_that_change_a_statement() {
    let Some(lean) = common::test_lean("prove_keeps_the_prefixes_that_change_a_statement") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    let files = [
        (
            "Auto.lean",
            "set_option autoImplicit false in\ntheorem t : x = x := by rfl\n",
            "rfl",
        ),
        (
            "Omit.lean",
            "variable (h : False)\ninclude h\nomit h in\ntheorem t : False := by exact h\n",
            "exact h",
        ),
    ];
    for (name, body, tactic) in files {
        let file = common::write_file(dir.path(), name, &format!("{HEADER}{body}"));
        for backend in ["server", "file"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
                .args(["prove", "--theorem", "t", "--file"])
                .arg(&file)
                .arg("--model")
                .arg(&model)
                .args(["--backend", backend, "--expansions", "2", "--samples", "1"])
                .args(["--also-try", tactic, "--json"])
                .env("PROOFSTEP_LEAN", &lean.lean)
                .env("LEAN_PATH", &lean.lib)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_ne!(
                out.status.code(),
                Some(0),
                "{name} {backend}: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !stdout.contains("\"proved\":true"),
                "{name} {backend}: {stdout}"
            );
        }
    }
}
