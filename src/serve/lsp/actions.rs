//! The proxy's code actions: "Insert next step: <tactic>" with the edit that inserts it, merged
//! into the server's own `textDocument/codeAction` answer; and the `codeActionProvider`
//! capability added to the server's `initialize` answer when it lacks one.

use serde_json::{json, Value};

use crate::serve::lsp::suggest::Suggestion;

/// The title prefix of every action the proxy adds.
pub const TITLE: &str = "Insert next step: ";

/// One code action per suggestion, in the order given (completing steps first); the first
/// completing one is marked preferred. With the document `version` the suggestions were made
/// for (an editor that applies versioned edits), the edit names it, so an editor whose text
/// has changed since refuses it; without, it is a plain `changes` edit.
pub fn code_actions(uri: &str, version: Option<i64>, suggestions: &[Suggestion]) -> Vec<Value> {
    suggestions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let first_line = s.tactic.lines().next().unwrap_or_default();
            let shown = if s.tactic.lines().count() > 1 {
                format!("{first_line} …")
            } else {
                first_line.to_string()
            };
            let title = if s.completes {
                format!("{TITLE}{shown} (completes the proof)")
            } else {
                format!("{TITLE}{shown}")
            };
            let edit = json!({"range": s.range, "newText": s.new_text});
            let edit = match version {
                Some(version) => json!({"documentChanges": [
                    {"textDocument": {"uri": uri, "version": version}, "edits": [edit]}
                ]}),
                None => json!({"changes": {uri: [edit]}}),
            };
            json!({
                "title": title,
                "kind": "quickfix",
                "isPreferred": i == 0 && s.completes,
                "edit": edit,
            })
        })
        .collect()
}

/// The server's `codeAction` response with `actions` put first in its result (a null or
/// missing result becomes the list of ours). Error responses are returned unchanged.
pub fn merge_code_actions(mut response: Value, actions: Vec<Value>) -> Value {
    if response.get("error").is_some_and(|e| !e.is_null()) || actions.is_empty() {
        return response;
    }
    let theirs = match response.get_mut("result").map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let mut all = actions;
    all.extend(theirs);
    response["result"] = Value::Array(all);
    response
}

/// Adds `codeActionProvider` to an `initialize` response whose capabilities lack it (or set it
/// false); returns None when nothing needs to change.
pub fn advertise_code_actions(response: &Value) -> Option<Value> {
    let caps = response.get("result")?.get("capabilities")?;
    match caps.get("codeActionProvider") {
        Some(Value::Bool(true)) | Some(Value::Object(_)) => None,
        _ => {
            let mut patched = response.clone();
            patched["result"]["capabilities"]["codeActionProvider"] = Value::Bool(true);
            Some(patched)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn suggestion(tactic: &str, completes: bool) -> Suggestion {
        let at = Position {
            line: 4,
            character: 0,
        };
        Suggestion {
            tactic: tactic.into(),
            score: -0.5,
            completes,
            range: Range { start: at, end: at },
            new_text: format!("  {tactic}"),
        }
    }

    #[test]
    fn actions_carry_the_edit_and_merge_first() {
        let ours = code_actions(
            "file:///A.lean",
            None,
            &[
                suggestion("exact ⟨hp, hq⟩", true),
                suggestion("constructor", false),
            ],
        );
        assert_eq!(
            ours[0]["title"],
            "Insert next step: exact ⟨hp, hq⟩ (completes the proof)"
        );
        assert_eq!(ours[0]["isPreferred"], true);
        assert_eq!(ours[1]["title"], "Insert next step: constructor");
        assert_eq!(
            ours[0]["edit"]["changes"]["file:///A.lean"][0]["newText"],
            "  exact ⟨hp, hq⟩"
        );
        // An editor that applies versioned edits gets the version the step was made for.
        let versioned = code_actions("file:///A.lean", Some(7), &[suggestion("rfl", true)]);
        let change = &versioned[0]["edit"]["documentChanges"][0];
        assert_eq!(change["textDocument"]["version"], 7);
        assert_eq!(change["textDocument"]["uri"], "file:///A.lean");
        assert_eq!(change["edits"][0]["newText"], "  rfl");
        assert!(versioned[0]["edit"].get("changes").is_none());
        let theirs = json!({"jsonrpc": "2.0", "id": 3, "result": [{"title": "Lean's own"}]});
        let merged = merge_code_actions(theirs, ours.clone());
        let titles: Vec<_> = merged["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(titles.len(), 3);
        assert_eq!(titles[2], "Lean's own");
        let null = merge_code_actions(
            json!({"jsonrpc": "2.0", "id": 4, "result": null}),
            ours.clone(),
        );
        assert_eq!(null["result"].as_array().unwrap().len(), 2);
        let err =
            json!({"jsonrpc": "2.0", "id": 5, "error": {"code": -32800, "message": "cancelled"}});
        assert_eq!(merge_code_actions(err.clone(), ours), err);
    }

    #[test]
    fn initialize_gains_code_actions_only_when_missing() {
        let without = json!({"id": 0, "result": {"capabilities": {"hoverProvider": true}}});
        let patched = advertise_code_actions(&without).unwrap();
        assert_eq!(
            patched["result"]["capabilities"]["codeActionProvider"],
            true
        );
        assert_eq!(patched["result"]["capabilities"]["hoverProvider"], true);
        let with = json!({"id": 0, "result": {"capabilities": {"codeActionProvider": {"resolveProvider": true}}}});
        assert!(advertise_code_actions(&with).is_none());
    }
}
