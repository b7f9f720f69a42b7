//! `proofstep check` on the test world's sample files (`lean/mini/examples`, outcomes recorded
//! in their README from real Lean): every theorem's status, the JSON line shape, exit codes.
//! The binary finds the test world's Lean by itself from the repository root.

mod common;

use serde_json::Value;

/// The JSON lines of `check --json FILE`, checked for shape, and the exit code.
fn check_json(file: &str) -> (Vec<Value>, i32) {
    let out = common::proofstep_at_root(&["check", "--json", file]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        assert_json_shape(line);
    }
    (lines, out.status.code().expect("exited"))
}

/// `{"name", "status", "goals"?, "errors"?}`: goals and errors only when non-empty.
fn assert_json_shape(line: &Value) {
    let object = line.as_object().expect("an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert!(
        keys.len() >= 2 && keys[0] == "name" && keys[1] == "status",
        "{line}"
    );
    assert!(
        keys.iter()
            .all(|k| ["name", "status", "goals", "errors"].contains(k)),
        "{line}"
    );
    assert!(object["name"].is_string(), "{line}");
    let status = object["status"].as_str().unwrap();
    assert!(
        ["proved", "open", "error", "sorry"].contains(&status),
        "{line}"
    );
    for key in ["goals", "errors"] {
        if let Some(list) = object.get(key) {
            let list = list.as_array().expect("a list");
            assert!(!list.is_empty(), "empty {key} must be left out: {line}");
            assert!(list.iter().all(Value::is_string), "{line}");
        }
    }
    if status == "open" {
        assert!(
            object.contains_key("goals"),
            "an open theorem lists its goals: {line}"
        );
    }
    if status == "error" {
        assert!(
            object.contains_key("errors"),
            "an error lists its messages: {line}"
        );
    }
}

fn statuses(lines: &[Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expect(file: &str, expected: &[(&str, &str)]) {
    let (lines, code) = check_json(file);
    let got = statuses(&lines);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want, "{file}");
    let all_proved = expected.iter().all(|(_, s)| *s == "proved");
    assert_eq!(code, if all_proved { 0 } else { 1 }, "exit code of {file}");
}

#[test]
fn open_file() {
    if common::test_lean("open_file").is_none() {
        return;
    }
    let (lines, _) = check_json("lean/mini/examples/Open.lean");
    expect(
        "lean/mini/examples/Open.lean",
        &[
            ("open_after_constructor", "open"),
            ("open_untouched", "open"),
            ("open_succ_case", "open"),
            ("open_two_goals", "open"),
        ],
    );
    let goals = |i: usize| -> Vec<String> {
        lines[i]["goals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(goals(0), ["case right\np q : Prop\nhp : p\n_hq : q\n⊢ q"]);
    assert_eq!(goals(1), ["a b : Nat\nh : a = b\n⊢ b + 0 = a"]);
    assert_eq!(
        goals(2),
        ["case succ\nk : Nat\nih : k + 0 = 0 + k\n⊢ k + 1 + 0 = 0 + (k + 1)"]
    );
    assert_eq!(
        goals(3),
        [
            "case left.right\np q r : Prop\nhp : p\n⊢ q",
            "case right\np q r : Prop\nhp : p\n⊢ r"
        ]
    );
    assert!(lines.iter().all(|l| l.get("errors").is_none()));
}

#[test]
fn tactic_errors_that_leave_no_goal() {
    if common::test_lean("tactic_errors_that_leave_no_goal").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/ErrorNoGoals.lean",
        &[
            ("error_type_mismatch", "error"),
            ("error_apply_fails", "error"),
            ("error_rw_no_motive", "error"),
            ("error_after_progress", "error"),
        ],
    );
    let (lines, _) = check_json("lean/mini/examples/ErrorNoGoals.lean");
    assert!(lines[0]["errors"][0]
        .as_str()
        .unwrap()
        .starts_with("Type mismatch"));
    assert!(
        lines.iter().all(|l| l.get("goals").is_none()),
        "no goal remains"
    );
}

#[test]
fn sorry_file() {
    if common::test_lean("sorry_file").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/Sorry.lean",
        &[
            ("sorry_whole", "sorry"),
            ("sorry_admit", "sorry"),
            ("sorry_one_branch", "sorry"),
            ("sorry_term", "sorry"),
        ],
    );
}

#[test]
fn unknown_identifiers() {
    if common::test_lean("unknown_identifiers").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/UnknownIdent.lean",
        &[
            ("unknown_in_exact", "error"),
            ("unknown_in_rw", "error"),
            ("unknown_in_apply", "error"),
        ],
    );
    let (lines, _) = check_json("lean/mini/examples/UnknownIdent.lean");
    assert_eq!(lines[0]["errors"][0], "Unknown identifier `foo`");
}

#[test]
fn statements_that_do_not_elaborate() {
    if common::test_lean("statements_that_do_not_elaborate").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/BadStatement.lean",
        &[
            ("bad_add_prop", "error"),
            ("bad_unknown_type", "error"),
            ("bad_not_a_prop", "error"),
        ],
    );
}

#[test]
fn file_that_does_not_parse() {
    if common::test_lean("file_that_does_not_parse").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/ParseError.lean",
        &[
            ("parse_fine_before", "proved"),
            ("parse_unknown_tactic", "error"),
            ("parse_unclosed", "error"),
        ],
    );
    let (lines, _) = check_json("lean/mini/examples/ParseError.lean");
    let errors = lines[2]["errors"].to_string();
    assert!(errors.contains("unexpected end of input"), "{errors}");
}

#[test]
fn mixed_file_in_order() {
    if common::test_lean("mixed_file_in_order").is_none() {
        return;
    }
    expect(
        "lean/mini/examples/Mixed.lean",
        &[
            ("mixed_proved", "proved"),
            ("mixed_open", "open"),
            ("mixed_error", "error"),
            ("mixed_sorry", "sorry"),
            ("mixed_unknown", "error"),
            ("mixed_proved_after", "proved"),
        ],
    );
}

/// Names of the theorems declared at the start of a line, in order.
fn declared(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(common::repo_root().join(file)).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("theorem "))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn all_proved_files_exit_zero() {
    if common::test_lean("all_proved_files_exit_zero").is_none() {
        return;
    }
    for file in ["lean/mini/Example.lean", "lean/mini/examples/Tactics.lean"] {
        let names = declared(file);
        assert!(names.len() > 10, "{file}");
        let expected: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "proved")).collect();
        expect(file, &expected);
    }
}

#[test]
fn human_output_has_a_line_per_theorem_and_a_summary() {
    if common::test_lean("human_output_has_a_line_per_theorem_and_a_summary").is_none() {
        return;
    }
    let out = common::proofstep_at_root(&["check", "lean/mini/examples/Mixed.lean"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("proved  mixed_proved (line 5)"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("open    mixed_open (line 8): 1 goal left"),
        "{stdout}"
    );
    assert!(
        stdout.contains("        ⊢ q\n"),
        "goals are shown under an open theorem: {stdout}"
    );
    assert!(
        stdout.contains("error   mixed_error (line 12): Type mismatch"),
        "{stdout}"
    );
    assert!(stdout.contains("sorry   mixed_sorry (line 15)"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("Mixed.lean: 6 theorems: 2 proved, 1 open, 2 error, 1 sorry, 0 axiom"),
        "{stdout}"
    );
}

#[test]
fn a_missing_file_is_an_error_that_says_what_to_do() {
    let out = common::proofstep_at_root(&["check", "lean/mini/examples/NoSuchFile.lean"]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("NoSuchFile.lean") && stderr.contains("give the path"),
        "{stderr}"
    );
}
