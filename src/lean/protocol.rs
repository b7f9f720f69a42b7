//! The JSON protocol of leanprover-community/repl: every request kind, every response shape,
//! and the blank-line framing on both sides.
//!
//! Responses keep fields this code does not know (`extra`), so an answer parsed and written back
//! loses nothing; `infotree` stays raw JSON. See `../shared/docs/repl-protocol.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lean::diagnostics::{Diagnostic, Severity as JsonSeverity};
use crate::lean::source::Pos as SourcePos;

/// A line/column position as the REPL reports it (lines from 1; tactic-mode messages use 0:0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pos {
    /// Line, 1-based (0 when Lean gives no position).
    pub line: u64,
    /// Column, 0-based, in codepoints.
    pub column: u64,
}

/// How serious a message is. Unknown severities are kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Severity {
    /// `trace`
    Trace,
    /// `info`
    Info,
    /// `warning`
    Warning,
    /// `error`
    Error,
    /// A severity this client does not know, kept verbatim.
    Other(String),
}

impl From<String> for Severity {
    fn from(s: String) -> Self {
        match s.as_str() {
            "trace" => Severity::Trace,
            "info" => Severity::Info,
            "warning" => Severity::Warning,
            "error" => Severity::Error,
            _ => Severity::Other(s),
        }
    }
}

impl From<Severity> for String {
    fn from(s: Severity) -> String {
        match s {
            Severity::Trace => "trace".into(),
            Severity::Info => "info".into(),
            Severity::Warning => "warning".into(),
            Severity::Error => "error".into(),
            Severity::Other(s) => s,
        }
    }
}

/// A Lean message (error, warning, info, trace) with its source range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// How serious it is.
    pub severity: Severity,
    /// Where it starts.
    pub pos: Pos,
    /// Where it ends, when Lean knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_pos: Option<Pos>,
    /// The text, as Lean printed it.
    pub data: String,
    /// Fields this client does not know, kept for lossless round trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// True for error-severity messages.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The message as `lean --json` would print it (the same positions: line from 1, column in
    /// characters), so whole-file checks read every backend's messages alike.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let pos = |p: &Pos| SourcePos::new(p.line as u32, p.column as u32);
        Diagnostic {
            severity: match self.severity {
                Severity::Error => JsonSeverity::Error,
                Severity::Warning => JsonSeverity::Warning,
                Severity::Info => JsonSeverity::Information,
                Severity::Trace | Severity::Other(_) => JsonSeverity::Other,
            },
            pos: pos(&self.pos),
            end_pos: self.end_pos.as_ref().map(pos),
            data: self.data.clone(),
            kind: None,
            file_name: None,
            caption: None,
        }
    }
}

/// A `sorry` in the elaborated text, with the proof state it leaves (tactic-mode sorries only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sorry {
    /// The goal at the sorry, pretty-printed.
    pub goal: String,
    /// The proof state id to continue from; the REPL writes `null` for term-mode sorries.
    #[serde(default)]
    pub proof_state: Option<u64>,
    /// Start (absent when Lean has no position, e.g. in tactic mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<Pos>,
    /// End (absent when Lean has no position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_pos: Option<Pos>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One tactic of a command run with `allTactics`, with the goals before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TacticInfo {
    /// The tactic's text, pretty-printed by Lean.
    pub tactic: String,
    /// The goals before the tactic, as one string (goals separated by blank lines).
    pub goals: String,
    /// The proof state before the tactic, to run other tactics from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_state: Option<u64>,
    /// Start of the tactic.
    pub pos: Pos,
    /// End of the tactic.
    pub end_pos: Pos,
    /// Constants the tactic's proof term uses (newer REPLs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_constants: Option<Vec<String>>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The REPL's verdict on a tactic-mode proof state (newer REPLs), parsed; unknown text kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ProofStatus {
    /// `Completed`: no goals, no error, no sorry, and the kernel accepted the proof term.
    Completed,
    /// `Incomplete: open goals remain`.
    OpenGoals,
    /// `Incomplete: contains sorry`.
    ContainsSorry,
    /// `Incomplete: contains metavariable(s)`.
    ContainsMetavariables,
    /// `Error: ...` (kernel type check failed, goal not assigned, type mismatch); full text kept.
    Error(String),
    /// `Not verified: more than one initial goal`.
    NotVerified(String),
    /// Anything else, kept verbatim.
    Unknown(String),
}

impl From<String> for ProofStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "Completed" => ProofStatus::Completed,
            "Incomplete: open goals remain" => ProofStatus::OpenGoals,
            "Incomplete: contains sorry" => ProofStatus::ContainsSorry,
            "Incomplete: contains metavariable(s)" => ProofStatus::ContainsMetavariables,
            _ if s.starts_with("Error") => ProofStatus::Error(s),
            _ if s.starts_with("Not verified") => ProofStatus::NotVerified(s),
            _ => ProofStatus::Unknown(s),
        }
    }
}

impl From<ProofStatus> for String {
    fn from(s: ProofStatus) -> String {
        match s {
            ProofStatus::Completed => "Completed".into(),
            ProofStatus::OpenGoals => "Incomplete: open goals remain".into(),
            ProofStatus::ContainsSorry => "Incomplete: contains sorry".into(),
            ProofStatus::ContainsMetavariables => "Incomplete: contains metavariable(s)".into(),
            ProofStatus::Error(s) | ProofStatus::NotVerified(s) | ProofStatus::Unknown(s) => s,
        }
    }
}

/// The answer to a command, a file, or an environment pickle/unpickle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandResponse {
    /// The new environment's id, to run later commands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<u64>,
    /// Messages (errors, warnings, infos).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Sorries, with their proof states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sorries: Vec<Sorry>,
    /// Every tactic, when asked with `allTactics`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<TacticInfo>,
    /// The info trees, when asked with `infotree`, as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infotree: Option<Value>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to a tactic run on a proof state (or a proof-state pickle/unpickle).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TacticResponse {
    /// The REPL's verdict on the new state; older REPLs do not send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_status: Option<ProofStatus>,
    /// The new proof state's id.
    pub proof_state: u64,
    /// The goals that remain, one pretty-printed goal each.
    pub goals: Vec<String>,
    /// Messages the tactic produced (positions are 0:0 in tactic mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Sorries the tactic introduced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sorries: Vec<Sorry>,
    /// Trace output of the tactic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The REPL's own error (`{"message": ...}`): unknown environment or proof state, a tactic that
/// threw (`Lean error:\n...`), JSON it could not parse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The text.
    pub message: String,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorResponse {
    /// The Lean error text when this is a tactic that threw (`Lean error:\n...`).
    pub fn lean_error(&self) -> Option<&str> {
        self.message
            .strip_prefix("Lean error:")
            .map(|rest| rest.trim_start_matches('\n'))
    }
}

/// Any answer of the REPL.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// A tactic-mode answer (has `proofState` and `goals`).
    Tactic(TacticResponse),
    /// The REPL's error (only `message`).
    Error(ErrorResponse),
    /// A command-mode answer.
    Command(CommandResponse),
}

/// Why a block of REPL output is not a response.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl Response {
    /// Parses one response block (pretty-printed JSON), deciding its shape by its keys.
    pub fn parse(text: &str) -> Result<Response, ParseError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ParseError(format!("not JSON: {e}")))?;
        Response::from_value(value)
    }

    /// Interprets a JSON value as a response.
    pub fn from_value(value: Value) -> Result<Response, ParseError> {
        let Value::Object(obj) = &value else {
            return Err(ParseError(format!(
                "expected a JSON object, got {}",
                short(&value)
            )));
        };
        let shape = if obj.contains_key("proofState") && obj.contains_key("goals") {
            "tactic"
        } else if obj.contains_key("message") && !obj.contains_key("env") {
            "error"
        } else {
            "command"
        };
        let result = match shape {
            "tactic" => serde_json::from_value(value.clone()).map(Response::Tactic),
            "error" => serde_json::from_value(value.clone()).map(Response::Error),
            _ => serde_json::from_value(value.clone()).map(Response::Command),
        };
        result.map_err(|e| ParseError(format!("not a {shape} response ({e}): {}", short(&value))))
    }

    /// The response as JSON, field for field.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("responses always serialize")
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Run Lean commands, in a fresh environment (`env` absent: `import` allowed) or on top of one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRequest {
    /// The Lean text.
    pub cmd: String,
    /// The environment to build on; absent starts fresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<u64>,
    /// Report every tactic with its goals and proof state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_tactics: Option<bool>,
    /// Report the root goals of each declaration as sorries with proof states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_goals: Option<bool>,
    /// Return info trees: `full`, `tactics`, `original` or `substantive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infotree: Option<String>,
    /// Ask newer REPLs to drop this command's environment after answering (Kimina's `gc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc: Option<bool>,
}

/// Run a whole file (read by the REPL process itself).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest {
    /// The file, relative to the REPL's working folder.
    pub path: String,
    /// The environment to build on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<u64>,
    /// Report every tactic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_tactics: Option<bool>,
    /// Return info trees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infotree: Option<String>,
}

/// Run one tactic on a saved proof state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TacticRequest {
    /// The tactic text.
    pub tactic: String,
    /// The proof state to run it on.
    pub proof_state: u64,
}

/// Save an environment to an .olean file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleEnvRequest {
    /// Where to write.
    pub pickle_to: String,
    /// Which environment.
    pub env: u64,
}

/// Save a proof state to an .olean file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleProofStateRequest {
    /// Where to write.
    pub pickle_to: String,
    /// Which proof state.
    pub proof_state: u64,
}

/// Load an environment saved with `pickleTo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnpickleEnvRequest {
    /// The .olean file.
    pub unpickle_env_from: String,
}

/// Load a proof state saved with `pickleTo`, optionally into an environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnpickleProofStateRequest {
    /// The .olean file.
    pub unpickle_proof_state_from: String,
    /// The environment to load it into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<u64>,
}

/// Any request. Deserialization tries the kinds in the REPL's own order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Request {
    /// `{"tactic", "proofState"}`
    Tactic(TacticRequest),
    /// `{"pickleTo", "env"}`
    PickleEnv(PickleEnvRequest),
    /// `{"unpickleEnvFrom"}`
    UnpickleEnv(UnpickleEnvRequest),
    /// `{"pickleTo", "proofState"}`
    PickleProofState(PickleProofStateRequest),
    /// `{"unpickleProofStateFrom", "env"?}`
    UnpickleProofState(UnpickleProofStateRequest),
    /// `{"cmd", ...}`
    Command(CommandRequest),
    /// `{"path", ...}`
    File(FileRequest),
}

/// Which response shape a request gets when it succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A `CommandResponse`.
    Command,
    /// A `TacticResponse`.
    Tactic,
}

impl Request {
    /// A command in a fresh environment (where `import` is allowed).
    pub fn command(cmd: impl Into<String>) -> Request {
        Request::Command(CommandRequest {
            cmd: cmd.into(),
            ..Default::default()
        })
    }

    /// A command on top of environment `env` (or fresh when `None`).
    pub fn command_in(cmd: impl Into<String>, env: Option<u64>) -> Request {
        Request::Command(CommandRequest {
            cmd: cmd.into(),
            env,
            ..Default::default()
        })
    }

    /// A tactic on a proof state.
    pub fn tactic(tactic: impl Into<String>, proof_state: u64) -> Request {
        Request::Tactic(TacticRequest {
            tactic: tactic.into(),
            proof_state,
        })
    }

    /// The shape of a successful answer.
    pub fn answer(&self) -> Answer {
        match self {
            Request::Tactic(_) | Request::PickleProofState(_) | Request::UnpickleProofState(_) => {
                Answer::Tactic
            }
            _ => Answer::Command,
        }
    }

    /// The framed request: one line of JSON (newlines escaped) and a blank line.
    pub fn to_frame(&self) -> String {
        let mut line = serde_json::to_string(self).expect("requests always serialize");
        line.push_str("\n\n");
        line
    }
}

/// Splits REPL input text into requests the way the REPL reads stdin: lines up to a blank line
/// form one request, each line's trailing whitespace removed and the lines joined with no
/// separator; requests starting with `#` or `--` are comments and skipped.
pub fn split_input(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        if !current.is_empty() && !current.starts_with('#') && !current.starts_with("--") {
            out.push(std::mem::take(current));
        }
        current.clear();
    };
    for line in text.split('\n') {
        if line.trim().is_empty() {
            flush(&mut current);
        } else {
            current.push_str(line.trim_end());
        }
    }
    flush(&mut current);
    out
}

/// Splits REPL output text into response blocks: pretty-printed JSON separated by blank lines.
pub fn split_output(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_frame_escapes_newlines_and_ends_with_blank_line() {
        let frame = Request::command_in("theorem t : True := by\n  trivial", Some(3)).to_frame();
        assert_eq!(
            frame,
            "{\"cmd\":\"theorem t : True := by\\n  trivial\",\"env\":3}\n\n"
        );
        assert_eq!(frame.matches('\n').count(), 2);
    }

    #[test]
    fn requests_deserialize_in_the_repls_order() {
        let r: Request = serde_json::from_str(r#"{"pickleTo": "a.olean", "env": 1}"#).unwrap();
        assert!(matches!(r, Request::PickleEnv(_)));
        let r: Request =
            serde_json::from_str(r#"{"pickleTo": "a.olean", "proofState": 1}"#).unwrap();
        assert!(matches!(r, Request::PickleProofState(_)));
        let r: Request = serde_json::from_str(r#"{"cmd": "x", "env": 1, "gc": true}"#).unwrap();
        assert_eq!(
            r,
            Request::Command(CommandRequest {
                cmd: "x".into(),
                env: Some(1),
                gc: Some(true),
                ..Default::default()
            })
        );
        let r: Request = serde_json::from_str(r#"{"path": "f.lean", "allTactics": true}"#).unwrap();
        assert!(matches!(r, Request::File(_)));
        assert_eq!(r.answer(), Answer::Command);
        let r: Request = serde_json::from_str(r#"{"unpickleProofStateFrom": "p.olean"}"#).unwrap();
        assert_eq!(r.answer(), Answer::Tactic);
    }

    #[test]
    fn proof_status_keeps_unknown_text() {
        let s: ProofStatus =
            serde_json::from_str("\"Error: kernel type check failed: boom\"").unwrap();
        assert_eq!(
            s,
            ProofStatus::Error("Error: kernel type check failed: boom".into())
        );
        let s: ProofStatus = serde_json::from_str("\"Something new\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"Something new\"");
    }

    #[test]
    fn response_shapes_are_told_apart_and_unknown_fields_kept() {
        let r = Response::parse(r#"{"message": "Unknown proof state."}"#).unwrap();
        assert!(matches!(r, Response::Error(_)));
        let text = r#"{"proofState": 1, "goals": [], "newField": [1, 2]}"#;
        let r = Response::parse(text).unwrap();
        assert!(matches!(r, Response::Tactic(ref t) if t.proof_status.is_none()));
        assert_eq!(r.to_value(), serde_json::from_str::<Value>(text).unwrap());
        assert!(Response::parse("[1]").is_err());
        assert!(Response::parse("{\"proofState\": \"x\", \"goals\": 3}").is_err());
    }

    #[test]
    fn input_lines_join_without_separator_and_comments_are_skipped() {
        let text = "{\"cmd\": \"a\\n\n  b\"}\n\n# comment\n\n-- other\n\n{\"cmd\": \"c\"}\n";
        assert_eq!(
            split_input(text),
            vec!["{\"cmd\": \"a\\n  b\"}", "{\"cmd\": \"c\"}"]
        );
    }
}
