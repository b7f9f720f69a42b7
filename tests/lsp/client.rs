//! A scripted editor for the LSP proxy's tests: writes frames (or raw bytes), and a thread
//! collects everything that comes back, noting any frame that is not a JSON-RPC message.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proofstep::lean::lsp::framing::{write_message, FrameReader};
use serde_json::{json, Value};

/// What the reader thread got: a message with its body bytes, or why a frame was unreadable.
type Received = Result<(Value, Vec<u8>), String>;

/// Reads frames until the stream ends, sending each to `tx`.
fn read_all(input: impl Read, tx: mpsc::Sender<Received>) {
    let mut input = FrameReader::new(input);
    loop {
        let got = match input.read() {
            Ok(Some(frame)) => Ok((frame.message().clone(), frame.body().to_vec())),
            Ok(None) => return,
            Err(e) => Err(e.to_string()),
        };
        let fatal = got.is_err();
        if tx.send(got).is_err() || fatal {
            return;
        }
    }
}

/// A scripted editor on the other end of a proxy (or of a server).
pub struct Client {
    out: Box<dyn Write + Send>,
    rx: mpsc::Receiver<Received>,
    /// Every message received so far, with its body bytes.
    pub seen: Vec<(Value, Vec<u8>)>,
    next_id: i64,
}

impl Client {
    /// A client writing to `out` and reading what comes back from `input`.
    pub fn new(input: impl Read + Send + 'static, out: impl Write + Send + 'static) -> Client {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || read_all(input, tx));
        Client {
            out: Box::new(out),
            rx,
            seen: Vec::new(),
            next_id: 1,
        }
    }

    /// Writes one message as a frame.
    pub fn send(&mut self, message: &Value) {
        write_message(&mut self.out, message).unwrap();
    }

    /// Writes bytes as they are (garbage, broken frames).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.out.write_all(bytes).unwrap();
        self.out.flush().unwrap();
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id.
    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Moves what has arrived without waiting into `seen`.
    pub fn drain(&mut self) {
        while let Ok(got) = self.rx.try_recv() {
            self.seen
                .push(got.unwrap_or_else(|e| panic!("the proxy sent {e}")));
        }
    }

    /// Takes messages until `done` accepts one (returned with its raw body).
    pub fn until(
        &mut self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> (Value, Vec<u8>) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (value, raw) = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within {timeout:?}"))
                .unwrap_or_else(|e| panic!("waiting for {what}, the proxy sent {e}"));
            self.seen.push((value.clone(), raw.clone()));
            if value.get("method").is_some() && value.get("id").is_some() {
                // A request from the server (progress tokens, ...): answer it as editors do.
                let reply = json!({"jsonrpc": "2.0", "id": value["id"], "result": null});
                self.send(&reply);
            }
            if done(&value) {
                return (value, raw);
            }
        }
    }

    /// Waits for the answer to request `id`.
    pub fn response(&mut self, id: i64, timeout: Duration) -> (Value, Vec<u8>) {
        self.until(timeout, &format!("answer to request {id}"), |v| {
            v.get("method").is_none() && v["id"] == json!(id)
        })
    }

    /// Sends a request and waits up to a minute for its answer.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params);
        self.response(id, Duration::from_secs(60)).0
    }

    /// Waits until Lean has elaborated `version` and returns its last published diagnostics.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        self.call(
            "textDocument/waitForDiagnostics",
            json!({"uri": uri, "version": version}),
        );
        // Let the final publication of this version arrive.
        std::thread::sleep(Duration::from_millis(300));
        self.drain();
        self.seen
            .iter()
            .rev()
            .find(|(v, _)| {
                v["method"] == "textDocument/publishDiagnostics"
                    && v["params"]["uri"] == uri
                    && v["params"]["version"] == json!(version)
            })
            .map(|(v, _)| v["params"]["diagnostics"].as_array().unwrap().clone())
            .unwrap_or_else(|| panic!("no diagnostics for version {version}"))
    }

    /// `initialize` (answer returned) and `initialized`.
    pub fn initialize(&mut self, root: &Path) -> Value {
        self.initialize_with(root, json!({}))
    }

    /// `initialize` saying the editor has `capabilities`.
    pub fn initialize_with(&mut self, root: &Path, capabilities: Value) -> Value {
        let root = url::Url::from_file_path(root).unwrap().to_string();
        let answer = self.call(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": capabilities}),
        );
        self.notify("initialized", json!({}));
        answer
    }

    /// Opens `uri` with `text` as version 1.
    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "lean4", "version": 1, "text": text}}),
        );
    }

    /// Asks for code actions at `at` (line, character) and returns them.
    pub fn code_actions(&mut self, uri: &str, at: (u32, u32)) -> Vec<Value> {
        let pos = json!({"line": at.0, "character": at.1});
        let answer = self.call(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}}),
        );
        assert!(answer.get("error").is_none(), "{answer}");
        answer["result"].as_array().cloned().unwrap_or_default()
    }

    /// The error answers without an id received so far (how a proxy refuses unreadable frames).
    pub fn refusals(&mut self) -> Vec<Value> {
        self.drain();
        self.seen
            .iter()
            .filter(|(v, _)| v["id"].is_null() && v.get("error").is_some())
            .map(|(v, _)| v["error"].clone())
            .collect()
    }

    /// `shutdown` and `exit`.
    pub fn finish(mut self) {
        self.call("shutdown", Value::Null);
        self.notify("exit", Value::Null);
    }
}

/// Starts `cmd` with piped stdin/stdout and a client on them.
pub fn spawn_client(mut cmd: Command) -> (Client, std::process::Child) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let client = Client::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    (client, child)
}
