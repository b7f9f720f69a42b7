//! `LeanServer`: Lean's language server (`lean --server`, or `lake env lean --server` inside a
//! Lake project) driven as a library. Open or change a document and get its diagnostics once
//! Lean has finished elaborating it; ask for the goals at any position (`$/lean/plainGoal`).
//! The editor proxy and `extract` use it directly; `ServerBackend` builds proof search on it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::command::LeanCommand;
use crate::error::LeanError;
use crate::lsp::connection::Connection;
use crate::lsp::diagnostic::LeanDiagnostic;
use crate::message::Diagnostic;

/// Timeouts of a `LeanServer`. Every wait has one; when one passes the server is killed
/// (its state is unknown) and the call fails with `LeanError::Timeout`.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Starting the server and answering `initialize`.
    pub start_timeout: Duration,
    /// Elaborating a newly opened document, imports included (Mathlib takes seconds).
    pub open_timeout: Duration,
    /// Re-elaborating a changed document, and answering a goal query.
    pub timeout: Duration,
    /// Kill the server (and its workers) once their private memory passes this many MB; the
    /// request in flight fails with `LeanError::OutOfMemory` and the next starts a new server.
    pub memory_limit_mb: Option<u64>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            start_timeout: Duration::from_secs(60),
            open_timeout: Duration::from_secs(600),
            timeout: Duration::from_secs(120),
            memory_limit_mb: None,
        }
    }
}

/// How long a document's diagnostics may lag behind the end of its elaboration.
const PUBLISH_GRACE: Duration = Duration::from_secs(5);

/// A running Lean language server with the documents this client opened in it.
pub struct LeanServer {
    cmd: LeanCommand,
    options: ServerOptions,
    conn: Connection,
    /// Open documents: URI → current version.
    docs: HashMap<String, i32>,
    /// Versions only grow, across close and reopen, so a late message about an old document
    /// is never taken for a new one.
    next_version: i32,
}

impl LeanServer {
    /// Starts a server with default timeouts. `cmd` runs `lean` (bare, or `lake env lean`);
    /// the server is that command plus `--server`.
    pub fn start(cmd: &LeanCommand) -> Result<Self, LeanError> {
        Self::start_with(cmd, ServerOptions::default())
    }

    /// Starts a server with the given timeouts and completes the LSP handshake.
    pub fn start_with(cmd: &LeanCommand, options: ServerOptions) -> Result<Self, LeanError> {
        // Lean waits `server.reportDelayMs` (200 ms) before reporting an edit, to spare editors
        // flicker; a program wants the answer as soon as it exists.
        let extra = [
            "--server".to_string(),
            "-Dserver.reportDelayMs=0".to_string(),
        ];
        let mut conn = Connection::spawn(cmd, &extra, options.memory_limit_mb)?;
        let root = cmd.cwd.clone().or_else(|| std::env::current_dir().ok());
        let root_uri = root.as_deref().and_then(|p| path_uri(p).ok());
        let params = json!({
            "processId": std::process::id(),
            "rootUri": root_uri,
            "capabilities": {},
        });
        conn.request("initialize", params, options.start_timeout)?;
        conn.notify("initialized", json!({}))?;
        tracing::debug!(target: "lean_server", pid = conn.pid(), "Lean server started");
        Ok(LeanServer {
            cmd: cmd.clone(),
            options,
            conn,
            docs: HashMap::new(),
            next_version: 1,
        })
    }

    /// The operating-system id of the server process (to watch or stop it from outside).
    pub fn pid(&self) -> u32 {
        self.conn.pid()
    }

    /// True while the server runs and answers on its output.
    pub fn is_alive(&mut self) -> bool {
        self.conn.is_alive()
    }

    /// Replaces a dead (or live) server with a fresh one started the same way. Open documents
    /// are forgotten: open them again.
    pub fn restart(&mut self) -> Result<(), LeanError> {
        let fresh = LeanServer::start_with(&self.cmd, self.options.clone())?;
        let old = std::mem::replace(self, fresh);
        old.conn.shutdown(Duration::from_millis(200));
        Ok(())
    }

    /// Whether `path` is open in this server.
    pub fn is_open(&self, path: &Path) -> bool {
        path_uri(path).is_ok_and(|uri| self.docs.contains_key(&uri))
    }

    /// Opens `path` with `text` (the file need not exist on disk), waits until Lean has
    /// elaborated it, and returns its diagnostics. An open document is changed instead.
    pub fn open(&mut self, path: &Path, text: &str) -> Result<Vec<LeanDiagnostic>, LeanError> {
        let uri = path_uri(path)?;
        if self.docs.contains_key(&uri) {
            return self.change(path, text);
        }
        let version = self.bump();
        self.conn.forget(&uri);
        let params = json!({"textDocument": {"uri": uri, "languageId": "lean4", "version": version, "text": text}});
        let since = self.conn.message_count();
        self.conn.notify("textDocument/didOpen", params)?;
        self.docs.insert(uri.clone(), version);
        let timeout = self.options.open_timeout;
        self.settle(&uri, version, since, timeout)
    }

    /// Replaces the whole text of an open document (Lean re-elaborates only what changed),
    /// waits, and returns the new diagnostics. A document not open yet is opened.
    pub fn change(&mut self, path: &Path, text: &str) -> Result<Vec<LeanDiagnostic>, LeanError> {
        let uri = path_uri(path)?;
        if !self.docs.contains_key(&uri) {
            return self.open(path, text);
        }
        let version = self.bump();
        let params = json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]});
        let since = self.conn.message_count();
        self.conn.notify("textDocument/didChange", params)?;
        self.docs.insert(uri.clone(), version);
        let timeout = self.options.timeout;
        self.settle(&uri, version, since, timeout)
    }

    /// The diagnostics of the current version of an open document (empty when not open).
    pub fn diagnostics(&self, path: &Path) -> Vec<LeanDiagnostic> {
        let Ok(uri) = path_uri(path) else {
            return Vec::new();
        };
        let Some(&version) = self.docs.get(&uri) else {
            return Vec::new();
        };
        match self.conn.latest(&uri) {
            Some(p) if p.version == Some(version) => p.diagnostics,
            _ => Vec::new(),
        }
    }

    /// The goals at a position of an open document (zero-based line, UTF-16 character), as
    /// `$/lean/plainGoal` gives them: None where there is no tactic state, an empty list where
    /// the goals are solved ("no goals").
    pub fn goals_at(
        &mut self,
        path: &Path,
        line: u32,
        character: u32,
    ) -> Result<Option<Vec<String>>, LeanError> {
        let uri = path_uri(path)?;
        if !self.docs.contains_key(&uri) {
            return Err(LeanError::Server(format!(
                "{} is not open in the Lean server; open it before asking for goals",
                path.display()
            )));
        }
        let params = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
        let answer = self
            .conn
            .request("$/lean/plainGoal", params, self.options.timeout)?;
        parse_plain_goal(&answer)
    }

    /// Elaborates `text` once as a document at `path` (opened, then closed whatever the
    /// outcome) and returns its diagnostics as `lean --json` reports them: a whole-text check
    /// through this server, as `check` runs one.
    pub fn elaborate_once(
        &mut self,
        path: &Path,
        text: &str,
    ) -> Result<Vec<Diagnostic>, LeanError> {
        let published = self.open(path, text);
        let closed = self.close(path);
        let published = published?;
        closed?;
        Ok(published.iter().map(|d| d.to_lean_json(text)).collect())
    }

    /// Closes an open document (Lean stops its worker process for it).
    pub fn close(&mut self, path: &Path) -> Result<(), LeanError> {
        let uri = path_uri(path)?;
        if self.docs.remove(&uri).is_some() {
            self.conn.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": uri}}),
            )?;
            self.conn.forget(&uri);
        }
        Ok(())
    }

    /// Shuts the server down politely (`shutdown`, `exit`), killing it if it does not go.
    pub fn shutdown(self) {
        self.conn.shutdown(Duration::from_secs(5));
    }

    fn bump(&mut self) -> i32 {
        let v = self.next_version;
        self.next_version += 1;
        v
    }

    /// Waits until Lean has elaborated `version` of `uri` and returns its diagnostics; a fatal
    /// error Lean reports for it after message number `since` ends the wait early.
    fn settle(
        &mut self,
        uri: &str,
        version: i32,
        since: u64,
        timeout: Duration,
    ) -> Result<Vec<LeanDiagnostic>, LeanError> {
        let params = json!({"uri": uri, "version": version});
        let waited = self.conn.request_watching(
            "textDocument/waitForDiagnostics",
            params,
            timeout,
            Some((uri, since)),
        );
        if let Err(e) = waited {
            // The worker behind this document is gone or in an unknown state: reopen next time.
            self.docs.remove(uri);
            if self.conn.is_alive() {
                let _ = self.conn.notify(
                    "textDocument/didClose",
                    json!({"textDocument": {"uri": uri}}),
                );
            }
            self.conn.forget(uri);
            return Err(e);
        }
        let published = self
            .conn
            .published(uri, version, PUBLISH_GRACE)
            .ok_or_else(|| {
                LeanError::Server(format!(
                    "Lean finished {uri} (version {version}) but published no diagnostics for it"
                ))
            })?;
        if published.version.is_some_and(|v| v > version) {
            return Err(LeanError::Server(format!(
                "{uri} changed again while version {version} was being checked"
            )));
        }
        if let Some(p) = self.conn.progress(uri) {
            if p.fatal
                && p.version == Some(version)
                && !published.diagnostics.iter().any(LeanDiagnostic::is_error)
            {
                return Err(LeanError::Server(format!(
                    "Lean stopped processing {uri} with a fatal error and reported no message; see the server log"
                )));
            }
        }
        Ok(published.diagnostics)
    }
}

/// The `file://` URI of a path (made absolute against the current folder).
pub fn path_uri(path: &Path) -> Result<String, LeanError> {
    let abs: PathBuf = std::path::absolute(path).map_err(|e| LeanError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    url::Url::from_file_path(&abs)
        .map(|u| u.to_string())
        .map_err(|()| {
            LeanError::Server(format!(
                "{} cannot be written as a file:// URI",
                abs.display()
            ))
        })
}

/// Reads a `$/lean/plainGoal` answer: null → None; `{"goals": [...]}` → the goals.
fn parse_plain_goal(answer: &Value) -> Result<Option<Vec<String>>, LeanError> {
    if answer.is_null() {
        return Ok(None);
    }
    let goals = answer
        .get("goals")
        .and_then(Value::as_array)
        .ok_or_else(|| LeanError::Garbage(format!("`$/lean/plainGoal` answered {answer}")))?;
    goals
        .iter()
        .map(|g| g.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .map(Some)
        .ok_or_else(|| LeanError::Garbage(format!("`$/lean/plainGoal` answered {answer}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_goal_answers() {
        assert_eq!(parse_plain_goal(&Value::Null).unwrap(), None);
        let none = json!({"goals": [], "rendered": "no goals"});
        assert_eq!(parse_plain_goal(&none).unwrap(), Some(vec![]));
        let two = json!({"goals": ["⊢ p", "⊢ q"], "rendered": "..."});
        assert_eq!(
            parse_plain_goal(&two).unwrap(),
            Some(vec!["⊢ p".to_string(), "⊢ q".to_string()])
        );
        assert!(parse_plain_goal(&json!({"rendered": 3})).is_err());
    }

    #[test]
    fn uris_are_absolute_and_escaped() {
        let uri = path_uri(Path::new("/tmp/a b/X.lean")).unwrap();
        assert_eq!(uri, "file:///tmp/a%20b/X.lean");
        assert!(path_uri(Path::new("rel.lean"))
            .unwrap()
            .starts_with("file:///"));
    }
}
