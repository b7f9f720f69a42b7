//! One language-server process and the JSON-RPC conversation with it: a reader thread files
//! responses by id and keeps the latest diagnostics and progress of each document; callers
//! send requests and wait for their answers with a timeout. A server that exits, closes its
//! output or writes something that is not LSP is noticed at once and every waiter is told.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::process::{ChildStdin, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use proofstep_core::process::{self, GroupChild, MemoryWatch};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::command::LeanCommand;
use crate::error::LeanError;
use crate::lsp::diagnostic::LeanDiagnostic;
use crate::lsp::framing::{write_message, FrameError, FrameReader};

/// JSON-RPC error codes Lean's watchdog uses when a file worker dies under a request.
const WORKER_EXITED: i64 = -32901;
const WORKER_CRASHED: i64 = -32902;

/// How long an answer may still come after Lean reported a fatal error for its document.
const FATAL_GRACE: Duration = Duration::from_secs(1);

/// How many lines of the server's stderr are kept for error messages.
const STDERR_LINES: usize = 20;

/// The diagnostics last published for one document version.
#[derive(Clone, Debug, Default)]
pub struct Published {
    /// The document version they belong to (`None` when the server gave none).
    pub version: Option<i32>,
    /// The diagnostics, in Lean's order.
    pub diagnostics: Vec<LeanDiagnostic>,
}

/// What `$/lean/fileProgress` last said about one document.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// The document version it is about.
    pub version: Option<i32>,
    /// True when nothing is being processed any more.
    pub done: bool,
    /// True when Lean reported a fatal error (it stopped processing the file).
    pub fatal: bool,
    /// The number of the message that said it (messages are counted from the start).
    pub seq: u64,
}

/// Why the reader thread stopped.
#[derive(Clone, Debug)]
enum Closed {
    Eof,
    Garbage(String),
    Io(String),
}

#[derive(Default)]
struct State {
    responses: HashMap<i64, Result<Value, (i64, String)>>,
    diagnostics: HashMap<String, Published>,
    progress: HashMap<String, Progress>,
    closed: Option<Closed>,
    /// Messages read so far.
    messages: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running language server and the client side of its JSON-RPC stream.
pub struct Connection {
    child: GroupChild,
    /// Messages for the writer thread, which owns the server's stdin: a server that stops
    /// reading can block that thread, never a caller (whose wait has a timeout).
    writer: mpsc::Sender<Value>,
    shared: Arc<Shared>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    next_id: i64,
    program: String,
    killed: bool,
    /// Kills the server and its workers once their memory passes the limit, if there is one.
    memory: Option<MemoryWatch>,
}

impl Connection {
    /// Starts `cmd` followed by `extra_args` in a process group of its own, with pipes for
    /// stdin/stdout/stderr and threads that read them; the group is killed when its private
    /// memory passes `memory_limit_mb`.
    pub fn spawn(
        cmd: &LeanCommand,
        extra_args: &[String],
        memory_limit_mb: Option<u64>,
    ) -> Result<Self, LeanError> {
        let mut command = cmd.to_command();
        command
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process::spawn_group(&mut command).map_err(|e| cmd.spawn_error(e))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let (writer, outbox) = mpsc::channel::<Value>();
        thread::Builder::new()
            .name("lean-lsp-writer".into())
            .spawn(move || write_loop(stdin, outbox))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        {
            let (shared, writer) = (shared.clone(), writer.clone());
            thread::Builder::new()
                .name("lean-lsp-reader".into())
                .spawn(move || read_loop(stdout, &shared, &writer))?;
        }
        {
            let stderr = stderr.clone();
            thread::Builder::new()
                .name("lean-lsp-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(stderr_pipe).lines() {
                        let Ok(line) = line else { break };
                        tracing::debug!(target: "lean_server", "stderr: {line}");
                        let mut tail = stderr.lock().unwrap_or_else(|p| p.into_inner());
                        if tail.len() == STDERR_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(line);
                    }
                })?;
        }
        let program = std::iter::once(cmd.program.display().to_string())
            .chain(cmd.args.iter().cloned())
            .chain(extra_args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let memory = memory_limit_mb
            .map(|limit| MemoryWatch::start(child.id(), limit))
            .transpose()?;
        Ok(Connection {
            child,
            writer,
            shared,
            stderr,
            next_id: 1,
            program,
            killed: false,
            memory,
        })
    }

    /// The operating-system id of the server process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the server process runs and its output stream is open.
    pub fn is_alive(&mut self) -> bool {
        !self.killed
            && self.shared.lock().closed.is_none()
            && matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a notification (no answer expected).
    pub fn notify(&mut self, method: &str, params: Value) -> Result<(), LeanError> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// Sends a request and waits up to `timeout` for its answer. A server that dies meanwhile
    /// gives `Died` (or `Garbage`); a worker crash reported by Lean gives `Died`; any other
    /// error answer gives `Server`. On timeout the server is killed, since its state is unknown.
    pub fn request(
        &mut self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, LeanError> {
        self.request_watching(method, params, timeout, None)
    }

    /// How many messages the server has written so far: a mark to pass to `request_watching`.
    pub fn message_count(&self) -> u64 {
        self.shared.lock().messages
    }

    /// Like `request`, for a request about document `uri`: when Lean reports a fatal error
    /// for that document after message number `since` (its worker crashed) and no answer follows
    /// within a short grace, the wait ends with `Died` instead of running into the timeout
    /// (Lean holds requests for a crashed worker until the next edit restarts it).
    pub fn request_watching(
        &mut self,
        method: &str,
        params: Value,
        timeout: Duration,
        watch: Option<(&str, u64)>,
    ) -> Result<Value, LeanError> {
        let id = self.next_id;
        self.next_id += 1;
        let uri = watch.map(|(u, _)| u);
        let since = watch.map_or(u64::MAX, |(_, since)| since);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + timeout;
        let mut fatal_deadline: Option<Instant> = None;
        let mut state = self.shared.lock();
        loop {
            if let Some(answer) = state.responses.remove(&id) {
                drop(state);
                return answer.map_err(|(code, message)| match code {
                    WORKER_EXITED | WORKER_CRASHED => LeanError::Died(format!(
                        "Lean's worker process for this file stopped during `{method}`: {message}"
                    )),
                    _ => LeanError::Server(format!("`{method}` failed: {message} (code {code})")),
                });
            }
            if state.closed.is_some() {
                drop(state);
                return Err(self.death());
            }
            let now = Instant::now();
            if fatal_deadline.is_none() {
                let fatal = uri
                    .and_then(|u| state.progress.get(u))
                    .is_some_and(|p| p.fatal && p.seq > since);
                if fatal {
                    fatal_deadline = Some(now + FATAL_GRACE);
                }
            }
            if fatal_deadline.is_some_and(|d| now >= d) {
                return Err(LeanError::Died(format!(
                    "Lean's worker for {} stopped with a fatal error during `{method}`; the document \
                     will be opened again on the next request",
                    uri.unwrap_or("the document")
                )));
            }
            if now >= deadline {
                drop(state);
                self.kill();
                return Err(LeanError::Timeout(timeout));
            }
            let until = fatal_deadline.map_or(deadline, |d| d.min(deadline));
            state = self
                .shared
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until diagnostics for `uri` at `version` (or later) have been published, up to
    /// `timeout`; None when they did not come.
    pub fn published(&self, uri: &str, version: i32, timeout: Duration) -> Option<Published> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(p) = state.diagnostics.get(uri) {
                if p.version.is_none_or(|v| v >= version) {
                    return Some(p.clone());
                }
            }
            let now = Instant::now();
            if now >= deadline || state.closed.is_some() {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The latest diagnostics published for `uri`, if any.
    pub fn latest(&self, uri: &str) -> Option<Published> {
        self.shared.lock().diagnostics.get(uri).cloned()
    }

    /// What `$/lean/fileProgress` last said about `uri`.
    pub fn progress(&self, uri: &str) -> Option<Progress> {
        self.shared.lock().progress.get(uri).copied()
    }

    /// Forgets what was published for `uri` (after closing it, so a late message for the old
    /// document cannot be mistaken for the next one's).
    pub fn forget(&self, uri: &str) {
        let mut state = self.shared.lock();
        state.diagnostics.remove(uri);
        state.progress.remove(uri);
    }

    /// Asks the server to shut down and exit, then waits briefly; kills it if it lingers.
    pub fn shutdown(mut self, grace: Duration) {
        if self.is_alive() {
            let asked = self.request("shutdown", Value::Null, grace).is_ok()
                && self.notify("exit", Value::Null).is_ok();
            if asked && process::exit_within(&mut self.child, grace).is_some() {
                return;
            }
        }
        self.kill();
    }

    /// Kills the server process (and reaps it).
    pub fn kill(&mut self) {
        if !self.killed {
            self.killed = true;
            process::kill_group(self.child.id());
            let _ = self.child.wait();
        }
    }

    fn send(&mut self, message: &Value) -> Result<(), LeanError> {
        if self.killed {
            return Err(LeanError::Died(
                "the server was stopped after an earlier failure".into(),
            ));
        }
        if self.writer.send(message.clone()).is_err() {
            return Err(self.death());
        }
        Ok(())
    }

    /// The error that describes a server that has stopped: its exit status and stderr tail.
    fn death(&mut self) -> LeanError {
        if let Some(out_of_memory) = self.memory.as_ref().and_then(MemoryWatch::tripped) {
            self.kill();
            return out_of_memory.into();
        }
        // The output may close a moment before the process is gone.
        let status = process::exit_within(&mut self.child, Duration::from_millis(500));
        let closed = self.shared.lock().closed.clone();
        let tail = {
            let t = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
            t.iter().cloned().collect::<Vec<_>>().join("\n")
        };
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr ends with:\n{tail}")
        };
        let status = status.map_or("still running".to_string(), |s| s.to_string());
        match closed {
            Some(Closed::Garbage(what)) => {
                self.kill();
                LeanError::Garbage(format!("`{}` wrote {what}{tail}", self.program))
            }
            Some(Closed::Io(e)) => {
                self.kill();
                LeanError::Died(format!(
                    "reading from `{}` failed: {e} ({status}){tail}",
                    self.program
                ))
            }
            _ => {
                self.kill();
                LeanError::Died(format!("`{}` stopped ({status}){tail}", self.program))
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Deserialize)]
struct DiagnosticsParams {
    uri: String,
    #[serde(default)]
    version: Option<i32>,
    diagnostics: Vec<LeanDiagnostic>,
}

#[derive(Deserialize)]
struct ProgressParams {
    #[serde(rename = "textDocument")]
    document: ProgressDoc,
    processing: Vec<ProgressItem>,
}

#[derive(Deserialize)]
struct ProgressDoc {
    uri: String,
    #[serde(default)]
    version: Option<i32>,
}

#[derive(Deserialize)]
struct ProgressItem {
    #[serde(default)]
    kind: Option<i32>,
}

/// The writer thread: writes each message as a frame until the server stops reading or the
/// connection is dropped.
fn write_loop(mut stdin: ChildStdin, outbox: mpsc::Receiver<Value>) {
    for message in outbox {
        if write_message(&mut stdin, &message).is_err() {
            break;
        }
    }
}

/// The reader thread: files every message the server writes until its output ends. A server
/// that writes anything but LSP is taken for broken: its state is unknown.
fn read_loop(input: impl Read, shared: &Shared, writer: &mpsc::Sender<Value>) {
    let mut input = FrameReader::new(input);
    let closed = loop {
        let message = match input.read() {
            Ok(Some(frame)) => frame.into_message(),
            Ok(None) => break Closed::Eof,
            Err(FrameError::Io(e)) => break Closed::Io(e.to_string()),
            Err(e) => break Closed::Garbage(e.to_string()),
        };
        shared.lock().messages += 1;
        match (
            message.get("method").and_then(Value::as_str),
            message.get("id"),
        ) {
            (Some(_), Some(id)) => {
                // A request from the server (registerCapability, refresh, ...): acknowledge it.
                let _ = writer.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            (Some(method), None) => on_notification(method, &message, shared),
            (None, Some(id)) => {
                let Some(id) = id.as_i64() else { continue };
                let answer = match message.get("error") {
                    Some(e) => Err((
                        e.get("code").and_then(Value::as_i64).unwrap_or(0),
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )),
                    None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                };
                shared.lock().responses.insert(id, answer);
                shared.changed.notify_all();
            }
            (None, None) => {
                break Closed::Garbage(format!(
                    "a JSON message that is neither request, response nor notification: {message}"
                ))
            }
        }
    };
    shared.lock().closed = Some(closed);
    shared.changed.notify_all();
}

fn on_notification(method: &str, message: &Value, shared: &Shared) {
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    match method {
        "textDocument/publishDiagnostics" => {
            let Ok(p) = serde_json::from_value::<DiagnosticsParams>(params) else {
                tracing::warn!(target: "lean_server", "unreadable publishDiagnostics: {message}");
                return;
            };
            let mut state = shared.lock();
            let newer =
                state
                    .diagnostics
                    .get(&p.uri)
                    .is_none_or(|old| match (old.version, p.version) {
                        (Some(old), Some(new)) => new >= old,
                        _ => true,
                    });
            if newer {
                state.diagnostics.insert(
                    p.uri,
                    Published {
                        version: p.version,
                        diagnostics: p.diagnostics,
                    },
                );
            }
        }
        "$/lean/fileProgress" => {
            let Ok(p) = serde_json::from_value::<ProgressParams>(params) else {
                return;
            };
            let mut state = shared.lock();
            let progress = Progress {
                version: p.document.version,
                done: p.processing.is_empty(),
                fatal: p.processing.iter().any(|i| i.kind == Some(2)),
                seq: state.messages,
            };
            state.progress.insert(p.document.uri, progress);
        }
        _ => return,
    }
    shared.changed.notify_all();
}
