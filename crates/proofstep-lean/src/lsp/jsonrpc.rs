//! What a JSON-RPC 2.0 message must look like (<https://www.jsonrpc.org/specification>), and
//! the error answer to a message that could not be read. Lean's language server stops for good
//! on any message outside these rules, so nothing that breaks them may be passed on to it.

use serde_json::{json, Value};

/// JSON-RPC's code for a message that is not JSON (or whose frame could not be read).
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is not a valid request, notification or response.
pub const INVALID_REQUEST: i64 = -32600;

/// Checks that `message` is a JSON-RPC 2.0 request, notification or response; the error says
/// what is wrong with it.
pub fn check_message(message: &Value) -> Result<(), String> {
    let Some(object) = message.as_object() else {
        return Err(format!("a JSON {} is not a message object", kind(message)));
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(r#"a message without "jsonrpc": "2.0""#.into());
    }
    match object.get("method") {
        Some(Value::String(_)) => {
            if let Some(id) = object.get("id") {
                if !matches!(id, Value::String(_) | Value::Number(_)) {
                    return Err(format!("a request id that is a {}", kind(id)));
                }
            }
            match object.get("params") {
                None | Some(Value::Null | Value::Object(_) | Value::Array(_)) => Ok(()),
                Some(other) => Err(format!("params that are a {}", kind(other))),
            }
        }
        Some(other) => Err(format!("a method that is a {}", kind(other))),
        None => check_response(object),
    }
}

fn check_response(object: &serde_json::Map<String, Value>) -> Result<(), String> {
    match object.get("id") {
        Some(Value::String(_) | Value::Number(_) | Value::Null) => {}
        Some(other) => return Err(format!("a response id that is a {}", kind(other))),
        None => return Err("a message with neither a method nor an id".into()),
    }
    match (object.get("result"), object.get("error")) {
        (Some(_), None) => Ok(()),
        (None, Some(error)) => {
            let code = error.get("code").is_some_and(|c| c.is_i64());
            let text = error.get("message").is_some_and(Value::is_string);
            if code && text {
                Ok(())
            } else {
                Err("an error without an integer code and a message".into())
            }
        }
        (Some(_), Some(_)) => Err("a response with both a result and an error".into()),
        (None, None) => Err("a response with neither a result nor an error".into()),
    }
}

/// The id to answer a message that broke the rules under: a request's own id when it has a
/// usable one (so the sender's wait ends), otherwise null as JSON-RPC prescribes.
pub fn answer_id(message: &Value) -> Value {
    let is_request = message.get("method").is_some_and(Value::is_string);
    match message.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) if is_request => id.clone(),
        _ => Value::Null,
    }
}

/// A JSON-RPC error answer.
pub fn error_answer(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The error codes Lean 4.35's server reads; a response with any other code stops it.
pub const LEAN_ERROR_CODES: &[i64] = &[
    -32700, -32600, -32601, -32602, -32603, -32002, -32001, -32800, -32801, -32900, -32901, -32902,
];

/// The largest line or character number passed on to Lean: far past any real document, and
/// Lean's server walks to a position before answering (at character 2^40 it never answers
/// again).
pub const MAX_POSITION: u64 = 1 << 20;

/// `message` (valid JSON-RPC) as Lean's server can read it, or `None` when it needs no change:
/// Lean stops on a request or notification whose `params` is null or missing (`shutdown` and
/// `exit` aside), and on an error response whose code it does not know; and it hangs on a
/// position far past the end of any document. The first gets empty params, the second the
/// internal-error code (its message kept), the third `MAX_POSITION`.
pub fn for_lean(message: &Value) -> Option<Value> {
    let mut fixed = message.clone();
    match message.get("method").and_then(Value::as_str) {
        Some("shutdown" | "exit") => return None,
        Some(_) if message.get("params").is_none_or(Value::is_null) => {
            fixed["params"] = json!({});
        }
        Some(_) => {
            let params = fixed.get_mut("params")?;
            let mut clamped = false;
            let mut spots: Vec<&mut Value> = Vec::new();
            if let Value::Object(p) = params {
                for (key, value) in p.iter_mut() {
                    match key.as_str() {
                        "position" => spots.push(value),
                        "range" => {
                            if let Value::Object(r) = value {
                                spots.extend(r.values_mut());
                            }
                        }
                        _ => {}
                    }
                }
            }
            for spot in spots {
                if let Value::Object(pos) = spot {
                    for key in ["line", "character"] {
                        if pos
                            .get(key)
                            .and_then(Value::as_u64)
                            .is_some_and(|n| n > MAX_POSITION)
                        {
                            pos.insert(key.into(), json!(MAX_POSITION));
                            clamped = true;
                        }
                    }
                }
            }
            if !clamped {
                return None;
            }
        }
        None => {
            let code = message["error"]["code"].as_i64()?;
            if LEAN_ERROR_CODES.contains(&code) {
                return None;
            }
            fixed["error"]["code"] = json!(-32603);
        }
    }
    Some(fixed)
}

/// Why Lean's server would stop on the notification `message` about a document, if it would:
/// `didOpen`, `didChange`, `didClose` and `didSave` without the fields Lean reads (its
/// watchdog exits on "param with wrong structure"). Such a notification is not passed on.
pub fn unreadable_document_notification(message: &Value) -> Option<String> {
    if message.get("id").is_some() {
        return None;
    }
    let method = message.get("method").and_then(Value::as_str)?;
    let params = message.get("params").unwrap_or(&Value::Null);
    let document = &params["textDocument"];
    let has = |v: &Value, key: &str, ok: fn(&Value) -> bool| v.get(key).is_some_and(ok);
    let readable = match method {
        "textDocument/didOpen" => {
            has(document, "uri", Value::is_string)
                && has(document, "languageId", Value::is_string)
                && has(document, "version", Value::is_i64)
                && has(document, "text", Value::is_string)
        }
        "textDocument/didChange" => {
            has(document, "uri", Value::is_string)
                && has(document, "version", Value::is_i64)
                && has(params, "contentChanges", Value::is_array)
        }
        "textDocument/didClose" | "textDocument/didSave" => has(document, "uri", Value::is_string),
        _ => return None,
    };
    (!readable).then(|| format!("a `{method}` without the fields Lean reads"))
}

/// Whether `message` is a response without an id (an error about a message that could not be
/// read): valid JSON-RPC, but addressed to no request, and Lean's server stops on one.
pub fn is_unaddressed_response(message: &Value) -> bool {
    message.get("method").is_none() && message.get("id").is_some_and(Value::is_null)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_notifications_lean_cannot_read_are_named() {
        let change = |params: Value| json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params});
        assert!(unreadable_document_notification(&change(Value::Null)).is_some());
        assert!(unreadable_document_notification(&change(json!({}))).is_some());
        let good = change(
            json!({"textDocument": {"uri": "file:///a.lean", "version": 2},
            "contentChanges": [{"text": "x"}]}),
        );
        assert_eq!(unreadable_document_notification(&good), None);
        let open = json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.lean", "version": 1}}});
        assert!(unreadable_document_notification(&open).is_some());
        let other = json!({"jsonrpc": "2.0", "method": "$/setTrace", "params": null});
        assert_eq!(unreadable_document_notification(&other), None);
    }

    #[test]
    fn messages_lean_would_stop_on_are_mended() {
        let hover =
            json!({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": null});
        assert_eq!(for_lean(&hover).unwrap()["params"], json!({}));
        let bare = json!({"jsonrpc": "2.0", "method": "textDocument/didChange"});
        assert_eq!(for_lean(&bare).unwrap()["params"], json!({}));
        let shutdown = json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null});
        assert_eq!(for_lean(&shutdown), None);
        let failed = json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32803, "message": "no"}});
        let mended = for_lean(&failed).unwrap();
        assert_eq!(mended["error"], json!({"code": -32603, "message": "no"}));
        let known = json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32800, "message": "x"}});
        assert_eq!(for_lean(&known), None);
        let fine = json!({"jsonrpc": "2.0", "id": 4, "method": "m", "params": {}});
        assert_eq!(for_lean(&fine), None);
        let far = json!({"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeAction",
            "params": {"range": {"start": {"line": 4, "character": 1u64 << 40},
                                 "end": {"line": 1u64 << 33, "character": 2}}}});
        let near = for_lean(&far).unwrap();
        assert_eq!(
            near["params"]["range"]["start"],
            json!({"line": 4, "character": MAX_POSITION})
        );
        assert_eq!(
            near["params"]["range"]["end"],
            json!({"line": MAX_POSITION, "character": 2})
        );
        let hover = json!({"jsonrpc": "2.0", "id": 6, "method": "textDocument/hover",
            "params": {"position": {"line": 3, "character": 4}}});
        assert_eq!(for_lean(&hover), None);
    }

    #[test]
    fn requests_notifications_and_responses_pass() {
        for ok in [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
            json!({"jsonrpc": "2.0", "id": "a", "method": "shutdown", "params": null}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
            json!({"jsonrpc": "2.0", "method": "exit"}),
            json!({"jsonrpc": "2.0", "method": "m", "params": [1]}),
            json!({"jsonrpc": "2.0", "id": 3, "result": null}),
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "x"}}),
        ] {
            assert_eq!(check_message(&ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (bad, why) in [
            (json!([1, 2]), "array"),
            (json!(42), "number"),
            (json!({}), "jsonrpc"),
            (json!({"hello": "world"}), "jsonrpc"),
            (json!({"jsonrpc": "1.0", "method": "m"}), "jsonrpc"),
            (
                json!({"jsonrpc": "2.0", "method": 5}),
                "method that is a number",
            ),
            (
                json!({"jsonrpc": "2.0", "id": {}, "method": "m"}),
                "request id",
            ),
            (
                json!({"jsonrpc": "2.0", "id": null, "method": "m"}),
                "request id",
            ),
            (
                json!({"jsonrpc": "2.0", "method": "m", "params": 7}),
                "params",
            ),
            (json!({"jsonrpc": "2.0", "id": 1}), "neither a result"),
            (
                json!({"jsonrpc": "2.0", "id": [], "result": 1}),
                "response id",
            ),
            (
                json!({"jsonrpc": "2.0", "id": 1, "error": 5}),
                "integer code",
            ),
            (
                json!({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {"code": 1, "message": ""}}),
                "both",
            ),
        ] {
            let err = check_message(&bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn only_requests_are_answered_under_their_own_id() {
        let request = json!({"jsonrpc": "2.0", "id": 7, "method": "m", "params": 1});
        assert_eq!(answer_id(&request), json!(7));
        let response = json!({"jsonrpc": "2.0", "id": 7, "error": 1});
        assert_eq!(answer_id(&response), Value::Null);
        assert_eq!(answer_id(&json!({"id": {}, "method": "m"})), Value::Null);
        assert_eq!(answer_id(&json!([7])), Value::Null);
    }
}
