//! `proofstep check` on small test-world files written here: header errors, names in
//! namespaces, `sorry` reached through a lemma, theorems after a parse error, `#exit`, an
//! unterminated comment, the timeout, and the `server` and `repl` backends.

mod common;

use serde_json::Value;

/// Writes `text` as a test-world file and runs `check --json` (plus `extra`) on it: the
/// (name, status) pairs, all JSON lines, the exit code and stderr.
fn check(text: &str, extra: &[&str]) -> (Vec<(String, String)>, Vec<Value>, i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(dir.path(), "T.lean", text);
    let mut args = vec!["check", "--json", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::proofstep_at_root(&args);
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pairs = lines
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (
        pairs,
        lines,
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect()
}

const HEAD: &str = "prelude\nimport Mini\n";

#[test]
fn header_errors_make_every_theorem_an_error() {
    if common::test_lean("header_errors_make_every_theorem_an_error").is_none() {
        return;
    }
    let text =
        format!("{HEAD}def broken : Nat := nonexistent\ntheorem a (p : Prop) (hp : p) : p := hp\n");
    let (got, lines, code, stderr) = check(&text, &[]);
    assert_eq!(got, pairs(&[("a", "error")]));
    assert!(
        lines[0]["errors"][0].as_str().unwrap().contains("header"),
        "{}",
        lines[0]
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("before the first theorem"), "{stderr}");

    let (got, _, code, _) = check(
        "prelude\nimport NoSuchModule\ntheorem a (p : Prop) (hp : p) : p := hp\n",
        &[],
    );
    assert_eq!(got, pairs(&[("a", "error")]));
    assert_eq!(code, 1);
}

#[test]
fn names_in_namespaces_examples_and_modifiers() {
    if common::test_lean("names_in_namespaces_examples_and_modifiers").is_none() {
        return;
    }
    let text = format!(
        "{HEAD}namespace Outer.Inner\n\
/-- A documented theorem. -/\n\
private theorem hidden (p : Prop) (hp : p) : p := hp\n\
protected theorem prot (p q : Prop)\n    (hp : p) (hq : q) :\n    p ∧ q := by\n  exact ⟨hp, hq⟩\n\
end Outer.Inner\n\
section\n\
example (n : Nat) : n + 0 = n := by\n  rfl\n\
end\n\
theorem _root_.rooted : True := trivial\n\
open Nat in\n\
theorem with_open (n : Nat) : n * 1 = n := by rw [mul_one]\n"
    );
    let (got, _, code, _) = check(&text, &[]);
    assert_eq!(
        got,
        pairs(&[
            ("Outer.Inner.hidden", "proved"),
            ("Outer.Inner.prot", "proved"),
            ("example@L12", "proved"),
            ("rooted", "proved"),
            ("with_open", "proved"),
        ])
    );
    assert_eq!(code, 0, "all proved exits 0");
}

#[test]
fn sorry_in_every_form() {
    if common::test_lean("sorry_in_every_form").is_none() {
        return;
    }
    let text = format!(
        "{HEAD}theorem closed_by_sorry (p q : Prop) (hp : p) : p ∧ q := by\n  constructor\n  · exact hp\n  · sorry\n\
theorem via_lemma (q : Prop) (hp : q) : q ∧ q := by\n  have h := closed_by_sorry q q hp\n  exact ⟨h.1, hp⟩\n\
theorem explicit_ax (p : Prop) : p := sorryAx p Bool.false\n\
theorem error_and_sorry (p q : Prop) (hp : p) : p ∧ q := by\n  constructor\n  · sorry\n  · exact hp\n\
theorem honest (p : Prop) (hp : p) : p := hp\n"
    );
    let (got, _, code, _) = check(&text, &[]);
    assert_eq!(
        got,
        pairs(&[
            ("closed_by_sorry", "sorry"),
            ("via_lemma", "sorry"),
            ("explicit_ax", "sorry"),
            ("error_and_sorry", "error"),
            ("honest", "proved"),
        ])
    );
    assert_eq!(code, 1);
}

#[test]
fn parse_errors_exit_and_unterminated_comments() {
    if common::test_lean("parse_errors_exit_and_unterminated_comments").is_none() {
        return;
    }
    // Lean's parser recovers at the next command: a later theorem is checked on its own merits.
    let text = format!(
        "{HEAD}theorem unclosed (p : Prop) (hp : p) : p := by\n  exact (hp\n\
theorem after (p : Prop) (hp : p) : p := by\n  exact hp\n"
    );
    let (got, lines, _, _) = check(&text, &[]);
    assert_eq!(got, pairs(&[("unclosed", "error"), ("after", "proved")]));
    assert!(lines[0]["errors"][0]
        .as_str()
        .unwrap()
        .contains("unexpected token 'theorem'"));

    // Nothing after `#exit` is checked, so nothing after it is reported.
    let text = format!(
        "{HEAD}theorem before : True := trivial\n#exit\ntheorem ignored : True := trivial\n"
    );
    let (got, _, code, _) = check(&text, &[]);
    assert_eq!(got, pairs(&[("before", "proved")]));
    assert_eq!(code, 0);

    // An unterminated comment at the end: Lean reports it, and nothing confirms the theorems.
    let text = format!("{HEAD}theorem fine (p : Prop) (hp : p) : p := hp\n/- never closed\n");
    let (got, lines, code, _) = check(&text, &[]);
    assert_eq!(got, pairs(&[("fine", "error")]));
    assert!(
        lines[0]["errors"]
            .to_string()
            .contains("unterminated comment"),
        "{}",
        lines[0]
    );
    assert_eq!(code, 1);
}

#[test]
fn a_file_without_theorems() {
    if common::test_lean("a_file_without_theorems").is_none() {
        return;
    }
    let (got, _, code, _) = check(&format!("{HEAD}def two : Nat := 2\n"), &[]);
    assert!(got.is_empty());
    assert_eq!(code, 0);
    let (got, _, code, stderr) = check(&format!("{HEAD}theorm typo : True := trivial\n"), &[]);
    assert!(got.is_empty());
    assert_eq!(code, 1, "errors outside any theorem still fail the file");
    assert!(stderr.contains("before the first theorem"), "{stderr}");
}

#[test]
fn a_run_past_the_timeout_is_an_error_naming_the_flag() {
    if common::test_lean("a_run_past_the_timeout_is_an_error_naming_the_flag").is_none() {
        return;
    }
    let text =
        format!("{HEAD}theorem slow (p : Prop) (hp : p) : p := by\n  repeat skip\n  exact hp\n");
    let (got, _, code, stderr) = check(&text, &["--timeout", "2"]);
    assert!(got.is_empty());
    assert_eq!(code, 3, "Lean failing to finish exits 3");
    assert!(stderr.contains("--timeout"), "{stderr}");
}

#[test]
fn server_backend_agrees_with_the_file_backend() {
    if common::test_lean("server_backend_agrees_with_the_file_backend").is_none() {
        return;
    }
    let file = common::repo_root().join("lean/mini/examples/Mixed.lean");
    let text = std::fs::read_to_string(&file).unwrap();
    let (by_file, file_lines, code_file, _) = check(&text, &[]);
    let (by_server, server_lines, code_server, stderr) = check(&text, &["--backend", "server"]);
    assert_eq!(by_server, by_file, "{stderr}");
    assert_eq!(code_server, code_file);
    // The open theorem's goals are the same from both.
    assert_eq!(server_lines[1]["goals"], file_lines[1]["goals"]);
    // Term-mode proofs and examples go through the server too.
    let text = format!(
        "{HEAD}theorem term (p : Prop) (hp : p) : p := hp\nexample : True := by\n  trivial\n"
    );
    let (got, _, code, stderr) = check(&text, &["--backend", "server"]);
    assert_eq!(
        got,
        pairs(&[("term", "proved"), ("example@L4", "proved")]),
        "{stderr}"
    );
    assert_eq!(code, 0);
}

#[test]
fn repl_backend_without_a_repl_says_how_to_get_one() {
    if common::test_lean("repl_backend_without_a_repl_says_how_to_get_one").is_none() {
        return;
    }
    if std::env::var_os("PROOFSTEP_REPL").is_some() {
        eprintln!("SKIPPED repl_backend_without_a_repl_says_how_to_get_one: PROOFSTEP_REPL is set");
        return;
    }
    let out = common::proofstep_at_root(&[
        "check",
        "--backend",
        "repl",
        "lean/mini/examples/Mixed.lean",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("repl") && stderr.contains("proofstep doctor"),
        "{stderr}"
    );
}
