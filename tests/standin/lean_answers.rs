//! Transcripts for the stand-in REPL answered by the test world's real Lean: a header command,
//! then commands in its environment, each answered with the messages `lean --json` gives for
//! the header followed by the command, in the REPL's format (positions counted from the
//! command's first line, as the REPL counts them). They let a test drive `ReplBackend` through
//! the stand-in with real Lean's answers to texts no recorded transcript has (`#print axioms`
//! probes among them). What a real REPL adds and these lack: its `sorries` list (tactic-mode
//! `sorry`s with their proof states), which the verdict reads besides the messages.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Writes `NAME.in` and `NAME.expected.out` into `dir`: `header` as the first command, then
/// each of `commands` in the header's environment, answered by `lean` (run with `lean_path`
/// on LEAN_PATH). Returns the `.in` file.
pub fn record(
    lean: &Path,
    lean_path: &Path,
    dir: &Path,
    name: &str,
    header: &str,
    commands: &[String],
) -> PathBuf {
    let mut requests = vec![json!({ "cmd": header })];
    let mut answers = vec![json!({ "env": 0 })];
    let header_lines = format!("{header}\n").lines().count() as u64;
    if commands.is_empty() {
        // A header alone (a command run with no environment): its own messages.
        let file = dir.join(format!("{name}_header.lean"));
        std::fs::write(&file, header).unwrap();
        answers[0]["messages"] = lean_json(lean, lean_path, &file)
            .iter()
            .map(|d| message(d, 0))
            .collect();
    }
    for (i, cmd) in commands.iter().enumerate() {
        let file = dir.join(format!("{name}_{i}.lean"));
        std::fs::write(&file, format!("{header}\n{cmd}")).unwrap();
        let (in_header, in_command): (Vec<Value>, Vec<Value>) = lean_json(lean, lean_path, &file)
            .into_iter()
            .partition(|d| d["pos"]["line"].as_u64().unwrap_or(0) <= header_lines);
        if i == 0 {
            answers[0]["messages"] = in_header.iter().map(|d| message(d, 0)).collect();
        }
        let messages: Vec<Value> = in_command
            .iter()
            .map(|d| message(d, header_lines))
            .collect();
        requests.push(json!({ "cmd": cmd, "env": 0 }));
        answers.push(json!({ "env": i + 1, "messages": messages }));
    }
    let join = |values: &[Value]| {
        values
            .iter()
            .map(|v| format!("{v}\n\n"))
            .collect::<String>()
    };
    let input = dir.join(format!("{name}.in"));
    std::fs::write(&input, join(&requests)).unwrap();
    std::fs::write(input.with_extension("expected.out"), join(&answers)).unwrap();
    input
}

/// The diagnostics `lean --json` gives for `file`.
fn lean_json(lean: &Path, lean_path: &Path, file: &Path) -> Vec<Value> {
    let out = std::process::Command::new(lean)
        .arg("--json")
        .arg(file)
        .env("LEAN_PATH", lean_path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// One `lean --json` diagnostic as a REPL message, its lines counted after `offset` lines.
fn message(d: &Value, offset: u64) -> Value {
    let at = |p: &Value| {
        p.get("line")
            .and_then(Value::as_u64)
            .map(|line| json!({"line": line - offset, "column": p["column"]}))
    };
    let severity = match d["severity"].as_str() {
        Some("information") => "info",
        Some(other) => other,
        None => "info",
    };
    json!({
        "severity": severity,
        "pos": at(&d["pos"]),
        "endPos": at(&d["endPos"]),
        "data": d["data"],
    })
}
