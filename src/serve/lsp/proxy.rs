//! The LSP proxy: sits between an editor (its stdin/stdout) and Lean's language server,
//! forwards every message both ways (bodies byte for byte), and adds "Insert next step" code
//! actions. A frame that is not LSP or not a JSON-RPC message (see `crate::lean::lsp::framing`)
//! never crosses: the editor's is answered with a JSON-RPC error, the server's is logged and
//! dropped, and the session goes on.
//!
//! Threads: one reads the editor and forwards to the server (watching `didOpen`/`didChange`
//! and `codeAction` requests); one reads the server and forwards to the editor (swallowing the
//! answers to the proxy's own `$/lean/plainGoal` queries, and holding back only the server's
//! answer to a `codeAction` request until its suggestions are ready or the latency budget has
//! passed); one releases held answers on time; the suggestion engine works on its own thread.
//! No forwarding ever waits for the model or for a check.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lsp_types::Position;
use serde_json::{json, Value};

use crate::lean::lsp::framing::{Frame, FrameReader};
use crate::lean::lsp::jsonrpc::{
    for_lean, is_unaddressed_response, unreadable_document_notification,
};
use crate::lean::LeanCommand;
use crate::model::Predictor;
use crate::process::{self, ProcessError};
use crate::serve::error::ServeError;
use crate::serve::lsp::actions::{advertise_code_actions, code_actions, merge_code_actions};
use crate::serve::lsp::documents::Documents;
use crate::serve::lsp::suggest::{Engine, EngineOptions, GoalSource, JobKey, Slot};

/// The prefix of the ids of the proxy's own requests to the server.
const OWN_ID: &str = "proofstep-";
/// How long the server has to exit once the editor is gone, before it is killed.
const SERVER_EXIT_GRACE: Duration = Duration::from_secs(5);

/// What the proxy needs to suggest steps; without it the proxy only forwards.
pub struct Suggester {
    /// The model.
    pub predictor: Arc<dyn Predictor>,
    /// How to run `lean` for checking candidates (its `--server` is started by the engine).
    pub checker: LeanCommand,
    /// Engine settings.
    pub options: EngineOptions,
}

/// Settings of the proxy.
#[derive(Clone, Debug)]
pub struct ProxyOptions {
    /// How long a `codeAction` answer may be held for suggestions; whatever is checked by then
    /// is offered (the rest appears when the editor asks again at the same place).
    pub budget: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            budget: Duration::from_secs(2),
        }
    }
}

/// A `codeAction` answer held back for suggestions.
struct Held {
    uri: String,
    /// The document's version the suggestions are computed for.
    version: i64,
    slot: Arc<Slot>,
    deadline: Instant,
    response: Option<Value>,
}

#[derive(Default)]
struct Waiting {
    initialize: HashSet<String>,
    actions: HashMap<String, Held>,
    own: HashMap<String, mpsc::Sender<Value>>,
}

struct Shared {
    to_editor: Mutex<Box<dyn Write + Send>>,
    /// None once the editor has gone (closing it tells the server).
    to_server: Mutex<Option<ChildStdin>>,
    docs: Mutex<Documents>,
    waiting: Mutex<Waiting>,
    next_own: AtomicU64,
    suggesting: bool,
    /// The editor said at `initialize` that it applies versioned edits (`documentChanges`):
    /// our edits then name the document version they were made for, and an editor refuses
    /// one that arrives after the text changed.
    versioned_edits: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The key of a JSON-RPC id (numbers and strings kept apart).
fn id_key(id: &Value) -> String {
    id.to_string()
}

impl Shared {
    fn to_editor(&self, frame: &Frame) -> std::io::Result<()> {
        frame.write_to(&mut *lock(&self.to_editor))
    }

    fn to_server(&self, frame: &Frame) -> std::io::Result<()> {
        match lock(&self.to_server).as_mut() {
            Some(input) => frame.write_to(input),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the server's input is closed",
            )),
        }
    }

    /// Sends held `codeAction` answers whose suggestions are ready or whose budget is spent.
    fn release(&self) {
        let now = Instant::now();
        let ready: Vec<Held> = {
            let mut waiting = lock(&self.waiting);
            let keys: Vec<String> = waiting
                .actions
                .iter()
                .filter(|(_, h)| h.response.is_some() && (h.slot.is_done() || now >= h.deadline))
                .map(|(k, _)| k.clone())
                .collect();
            keys.iter()
                .filter_map(|k| waiting.actions.remove(k))
                .collect()
        };
        for held in ready {
            let response = held.response.expect("filtered on a response");
            // Suggestions checked against an older text say nothing of the current one (a step
            // that completed `True` does not complete `False`): the editor gets none of them.
            let current = lock(&self.docs).get(&held.uri).map(|d| d.version);
            let suggestions = if current == Some(held.version) {
                held.slot.suggestions()
            } else {
                tracing::debug!(target: "lsp_proxy", "the document changed while its suggestions were made");
                Vec::new()
            };
            if suggestions.is_empty() {
                if let Some(note) = held.slot.note() {
                    tracing::debug!(target: "lsp_proxy", "no suggestions: {note}");
                }
            }
            let version = self
                .versioned_edits
                .load(Ordering::Relaxed)
                .then_some(held.version);
            let actions = code_actions(&held.uri, version, &suggestions);
            let merged = merge_code_actions(response, actions);
            if let Err(e) = self.to_editor(&Frame::of(merged)) {
                tracing::warn!(target: "lsp_proxy", "cannot write to the editor: {e}");
            }
        }
    }
}

/// Asks the editor's own server for goals, with ids of the proxy's own.
struct ServerGoals {
    shared: Arc<Shared>,
}

impl GoalSource for ServerGoals {
    fn goals_at(
        &self,
        uri: &str,
        at: Position,
        timeout: Duration,
    ) -> Result<Option<Vec<String>>, String> {
        let n = self.shared.next_own.fetch_add(1, Ordering::SeqCst);
        let id = Value::String(format!("{OWN_ID}{n}"));
        let (tx, rx) = mpsc::channel();
        lock(&self.shared.waiting).own.insert(id_key(&id), tx);
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "$/lean/plainGoal",
            "params": {"textDocument": {"uri": uri}, "position": at}});
        if let Err(e) = self.shared.to_server(&Frame::of(request)) {
            lock(&self.shared.waiting).own.remove(&id_key(&id));
            return Err(format!("cannot write to the Lean server: {e}"));
        }
        let answer = match rx.recv_timeout(timeout) {
            Ok(a) => a,
            Err(_) => {
                lock(&self.shared.waiting).own.remove(&id_key(&id));
                let cancel =
                    json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}});
                let _ = self.shared.to_server(&Frame::of(cancel));
                return Err(format!(
                    "the Lean server gave no goal within {:.0} s",
                    timeout.as_secs_f64()
                ));
            }
        };
        if let Some(err) = answer.get("error").filter(|e| !e.is_null()) {
            return Err(format!("the Lean server answered {err}"));
        }
        let result = &answer["result"];
        if result.is_null() {
            return Ok(None);
        }
        let goals = result["goals"]
            .as_array()
            .ok_or_else(|| format!("`$/lean/plainGoal` answered {result}"))?;
        Ok(Some(
            goals
                .iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect(),
        ))
    }
}

/// Runs the proxy: starts `server` (program and arguments), and serves `editor_in` /
/// `editor_out` until the editor's input ends or the server exits. Returns the server's exit
/// code (None when it was killed by a signal).
pub fn run_proxy(
    editor_in: impl Read + Send + 'static,
    editor_out: impl Write + Send + 'static,
    server: &[String],
    suggester: Option<Suggester>,
    options: ProxyOptions,
) -> Result<Option<i32>, ServeError> {
    let Some((program, args)) = server.split_first() else {
        return Err(ServeError::Spawn {
            command: String::new(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "no server command was given after `--`",
            ),
        });
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = process::spawn_group(&mut command).map_err(|source| ServeError::Spawn {
        command: server.join(" "),
        source,
    })?;
    let server_in = child.stdin.take().expect("piped stdin");
    let server_out = child.stdout.take().expect("piped stdout");
    let shared = Arc::new(Shared {
        to_editor: Mutex::new(Box::new(editor_out)),
        to_server: Mutex::new(Some(server_in)),
        docs: Mutex::new(Documents::new()),
        waiting: Mutex::new(Waiting::default()),
        next_own: AtomicU64::new(1),
        suggesting: suggester.is_some(),
        versioned_edits: AtomicBool::new(false),
    });
    let engine = suggester.map(|s| {
        let cache = s.options.cache_entries;
        let goals = Arc::new(ServerGoals {
            shared: shared.clone(),
        });
        (
            Engine::start(s.predictor, goals, s.checker, s.options),
            cache,
        )
    });
    let (ended_tx, ended_rx) = mpsc::channel::<&'static str>();

    let from_server = {
        let shared = shared.clone();
        let ended = ended_tx.clone();
        std::thread::Builder::new()
            .name("proofstep-lsp-from-server".into())
            .spawn(move || {
                server_to_editor(&shared, server_out);
                let _ = ended.send("server");
            })
            .expect("spawning a proxy thread")
    };
    let stop = Arc::new(AtomicBool::new(false));
    let releaser = {
        let shared = shared.clone();
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("proofstep-lsp-release".into())
            .spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    shared.release();
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
            .expect("spawning a proxy thread")
    };
    {
        let shared = shared.clone();
        let ended = ended_tx;
        let budget = options.budget;
        std::thread::Builder::new()
            .name("proofstep-lsp-from-editor".into())
            .spawn(move || {
                editor_to_server(&shared, editor_in, engine.as_ref(), budget);
                // Closing the server's input tells it the editor is gone.
                lock(&shared.to_server).take();
                let _ = ended.send("editor");
                drop(engine);
            })
            .expect("spawning a proxy thread");
    }
    let first = ended_rx.recv().unwrap_or("server");
    tracing::debug!(target: "lsp_proxy", "the {first} side ended");
    let waited = if first == "editor" {
        // Give the server a moment to exit after `exit` or the closed input; past it, the
        // server is killed with every worker it started.
        process::wait_bounded(&mut child, SERVER_EXIT_GRACE, None)
    } else {
        child.wait().map_err(ProcessError::Io)
    };
    let code = match waited {
        Ok(status) => status.code(),
        Err(ProcessError::Io(source)) => {
            return Err(ServeError::Io {
                peer: "Lean server",
                source,
            })
        }
        // Killed: no exit code.
        Err(ProcessError::Timeout(_) | ProcessError::OutOfMemory { .. }) => None,
    };
    let _ = from_server.join();
    stop.store(true, Ordering::SeqCst);
    let _ = releaser.join();
    // Anything still held goes out as the server answered it.
    shared.release_all();
    Ok(code)
}

impl Shared {
    fn release_all(&self) {
        let held: Vec<Held> = lock(&self.waiting)
            .actions
            .drain()
            .map(|(_, h)| h)
            .collect();
        for h in held {
            if let Some(r) = h.response {
                let _ = self.to_editor(&Frame::of(r));
            }
        }
    }
}

fn editor_to_server(
    shared: &Shared,
    editor_in: impl Read,
    engine: Option<&(Engine, usize)>,
    budget: Duration,
) {
    let mut input = FrameReader::new(editor_in);
    loop {
        let frame = match input.read() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => match e.answer() {
                Some(answer) => {
                    tracing::warn!(target: "lsp_proxy", "the editor sent a broken frame ({e}); dropped it and told the editor");
                    if let Err(e) = shared.to_editor(&Frame::of(answer)) {
                        tracing::error!(target: "lsp_proxy", "cannot write to the editor: {e}");
                        break;
                    }
                    continue;
                }
                None => {
                    tracing::info!(target: "lsp_proxy", "the editor's input ended: {e}");
                    break;
                }
            },
        };
        if is_unaddressed_response(frame.message()) {
            tracing::warn!(target: "lsp_proxy", "the editor sent an error about no request; dropped: {}", frame.message());
            continue;
        }
        if let Some(why) = unreadable_document_notification(frame.message()) {
            tracing::warn!(target: "lsp_proxy", "the editor sent {why} (Lean's server would stop on it); dropped");
            continue;
        }
        observe_editor(shared, frame.message(), engine, budget);
        let frame = match for_lean(frame.message()) {
            Some(fixed) => Frame::of(fixed),
            None => frame,
        };
        if let Err(e) = shared.to_server(&frame) {
            tracing::error!(target: "lsp_proxy", "cannot write to the Lean server: {e}");
            break;
        }
    }
}

/// Looks at a message from the editor before it is forwarded.
fn observe_editor(
    shared: &Shared,
    message: &Value,
    engine: Option<&(Engine, usize)>,
    budget: Duration,
) {
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return;
    };
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    if lock(&shared.docs).observe(method, &params) {
        return;
    }
    let Some(id) = message.get("id") else {
        return;
    };
    match method {
        "initialize" if shared.suggesting => {
            let versioned = params["capabilities"]["workspace"]["workspaceEdit"]["documentChanges"]
                .as_bool()
                .unwrap_or(false);
            shared.versioned_edits.store(versioned, Ordering::Relaxed);
            lock(&shared.waiting).initialize.insert(id_key(id));
        }
        "textDocument/codeAction" => {
            let Some((engine, cache)) = engine else {
                return;
            };
            if !wants_quickfixes(&params["context"]["only"]) {
                return;
            }
            let Some(uri) = params["textDocument"]["uri"].as_str() else {
                return;
            };
            let start = &params["range"]["start"];
            // A position past what 32 bits hold is no position (not cut to 32 bits).
            let number = |key: &str| start[key].as_u64().and_then(|n| u32::try_from(n).ok());
            let (Some(line), Some(character)) = (number("line"), number("character")) else {
                return;
            };
            let Some(doc) = lock(&shared.docs).get(uri).cloned() else {
                return;
            };
            let key = JobKey {
                uri: uri.to_string(),
                version: doc.version,
                line,
                character,
            };
            let slot = engine.request(key, doc.text, *cache);
            lock(&shared.waiting).actions.insert(
                id_key(id),
                Held {
                    uri: uri.to_string(),
                    version: doc.version,
                    slot,
                    deadline: Instant::now() + budget,
                    response: None,
                },
            );
        }
        _ => {}
    }
}

/// Whether a `codeAction` request's `context.only` admits quick fixes (absent: all kinds).
fn wants_quickfixes(only: &Value) -> bool {
    match only.as_array() {
        None => true,
        Some(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .any(|k| k.is_empty() || k == "quickfix" || k.starts_with("quickfix.")),
    }
}

fn server_to_editor(shared: &Shared, server_out: impl Read) {
    let mut input = FrameReader::new(server_out);
    loop {
        let frame = match input.read() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.answer().is_some() => {
                tracing::warn!(target: "lsp_proxy", "the Lean server sent a broken frame ({e}); dropped");
                continue;
            }
            Err(e) => {
                tracing::error!(target: "lsp_proxy", "the Lean server's output ended: {e}");
                break;
            }
        };
        if route_response(shared, frame.message()) {
            if let Err(e) = shared.to_editor(&frame) {
                tracing::error!(target: "lsp_proxy", "cannot write to the editor: {e}");
                break;
            }
        }
    }
}

/// Handles a message from the server that the proxy cares about; true when the frame should
/// be forwarded as it is.
fn route_response(shared: &Shared, message: &Value) -> bool {
    if message.get("method").is_some() {
        return true;
    }
    let Some(id) = message.get("id") else {
        return true;
    };
    let key = id_key(id);
    let mut waiting = lock(&shared.waiting);
    if let Some(tx) = waiting.own.remove(&key) {
        let _ = tx.send(message.clone());
        return false;
    }
    if id.as_str().is_some_and(|s| s.starts_with(OWN_ID)) {
        // The answer to a goal query given up on: it was the proxy's, never the editor's.
        return false;
    }
    if waiting.initialize.remove(&key) {
        drop(waiting);
        if let Some(patched) = advertise_code_actions(message) {
            if let Err(e) = shared.to_editor(&Frame::of(patched)) {
                tracing::error!(target: "lsp_proxy", "cannot write to the editor: {e}");
            }
            return false;
        }
        return true;
    }
    let Some(held) = waiting.actions.get_mut(&key) else {
        return true;
    };
    if message.get("error").is_some_and(|e| !e.is_null()) {
        waiting.actions.remove(&key);
        return true;
    }
    held.response = Some(message.clone());
    let ready = held.slot.is_done() || Instant::now() >= held.deadline;
    drop(waiting);
    if ready {
        shared.release();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_quickfix_requests_get_suggestions() {
        assert!(wants_quickfixes(&Value::Null));
        assert!(wants_quickfixes(&json!(["quickfix"])));
        assert!(wants_quickfixes(&json!(["refactor", ""])));
        assert!(!wants_quickfixes(&json!(["source.organizeImports"])));
        assert!(!wants_quickfixes(&json!([])));
    }
}
