//! `proofstep lsp` against broken frames, through the real binary and the test world's real
//! `lean --server`: whatever one side sends, the proxy refuses that frame (the editor gets a
//! JSON-RPC error; the server's garbage is dropped), never passes it on, never ends the session
//! and never allocates what a Content-Length claims. After each broken frame a hover must still
//! be answered by the same, living Lean server.

#[path = "lsp/client.rs"]
mod client;
mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use client::{spawn_client, Client};
use serde_json::{json, Value};

const TEXT: &str = "prelude\nimport Mini\n\ntheorem pq (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  exact ⟨hp, hq⟩\n";

/// JSON-RPC's "Parse error" and "Invalid Request" codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// The most the proxy may ever hold (peak resident set), far below the 512 MB claimed below.
const MAX_PEAK_RSS_KIB: u64 = 64 << 10;

/// A proxy binary with an initialized session and an open document.
struct Session {
    client: Client,
    proxy: Child,
    lean: u32,
    uri: String,
    _dir: tempfile::TempDir,
}

impl Session {
    /// Starts `proofstep lsp --no-model -- <server>`; `server` gets the test world's `lean`.
    fn start(test: &str, server: impl FnOnce(&Path, &Path) -> Vec<String>) -> Option<Session> {
        let world = common::test_lean(test)?;
        let dir = tempfile::tempdir().unwrap();
        let path = common::write_file(dir.path(), "Garbage.lean", TEXT);
        let uri = url::Url::from_file_path(path).unwrap().to_string();
        let mut proxied = Command::new(env!("CARGO_BIN_EXE_proofstep"));
        proxied
            .args(["lsp", "--no-model", "--"])
            .args(server(&world.lean, dir.path()))
            .env("LEAN_PATH", &world.lib);
        let (mut client, proxy) = spawn_client(proxied);
        let lean = child_of(proxy.id());
        client.initialize(dir.path());
        client.open(&uri, TEXT);
        Some(Session {
            client,
            proxy,
            lean,
            uri,
            _dir: dir,
        })
    }

    /// Asks for a hover on the theorem's name; panics unless Lean answers it.
    fn hover_is_answered(&mut self) {
        let id = self.client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": self.uri}, "position": {"line": 3, "character": 9}}),
        );
        let (answer, _) = self.client.response(id, Duration::from_secs(60));
        assert!(
            answer["result"]["contents"].is_object(),
            "Lean answers the hover: {answer}"
        );
    }

    /// Checks the Lean server and the proxy's memory, then ends the session cleanly.
    fn finish(mut self) {
        assert!(
            running(self.lean),
            "the Lean server the proxy started is still running"
        );
        let peak = peak_rss_kib(self.proxy.id());
        assert!(
            peak < MAX_PEAK_RSS_KIB,
            "the proxy's peak resident set is {peak} KiB"
        );
        self.client.finish();
        let status = self.proxy.wait().unwrap();
        assert!(
            status.success(),
            "the session ends as Lean's does: {status}"
        );
    }
}

/// The `lean --server` command line for a proxy with LEAN_PATH set.
fn plain_server(lean: &Path, _dir: &Path) -> Vec<String> {
    vec![lean.display().to_string(), "--server".into()]
}

/// The process the proxy `parent` started (its Lean server), waiting for it to appear.
fn child_of(parent: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            if after.split(' ').nth(1) == Some(&parent.to_string()) {
                return pid;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the proxy {parent} started no server within 10 s");
}

/// Whether `pid` is a running process (not gone, not a zombie).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'))
}

/// The peak resident set of `pid` (VmHWM).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends `garbage` from the editor, then checks that a hover is still answered, that the editor
/// was refused with exactly `codes`, and that Lean and the proxy are fine.
fn editor_garbage_is_refused(test: &str, garbage: &[u8], codes: &[i64]) {
    let Some(mut session) = Session::start(test, plain_server) else {
        return;
    };
    session.client.send_raw(garbage);
    session.hover_is_answered();
    let refused: Vec<i64> = session
        .client
        .refusals()
        .iter()
        .map(|e| e["code"].as_i64().unwrap())
        .collect();
    assert_eq!(refused, codes, "the editor is told about each broken frame");
    session.finish();
}

/// A frame with `body` and a correct Content-Length.
fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn a_non_numeric_content_length_is_refused_and_the_session_goes_on() {
    editor_garbage_is_refused(
        "a_non_numeric_content_length_is_refused_and_the_session_goes_on",
        b"Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}",
        &[PARSE_ERROR],
    );
}

#[test]
fn a_frame_without_content_length_is_refused_and_the_session_goes_on() {
    editor_garbage_is_refused(
        "a_frame_without_content_length_is_refused_and_the_session_goes_on",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}",
        &[PARSE_ERROR],
    );
}

#[test]
fn a_body_that_is_not_json_never_reaches_lean() {
    editor_garbage_is_refused(
        "a_body_that_is_not_json_never_reaches_lean",
        &frame("hello, Lean"),
        &[PARSE_ERROR],
    );
}

#[test]
fn a_json_body_that_is_not_an_object_never_reaches_lean() {
    editor_garbage_is_refused(
        "a_json_body_that_is_not_an_object_never_reaches_lean",
        &frame("[1, 2, 3]"),
        &[INVALID_REQUEST],
    );
}

#[test]
fn an_object_that_is_not_a_jsonrpc_message_never_reaches_lean() {
    editor_garbage_is_refused(
        "an_object_that_is_not_a_jsonrpc_message_never_reaches_lean",
        &frame(r#"{"hello": "world"}"#),
        &[INVALID_REQUEST],
    );
}

#[test]
fn a_request_with_unstructured_params_is_refused_under_its_own_id() {
    let Some(mut session) = Session::start(
        "a_request_with_unstructured_params_is_refused_under_its_own_id",
        plain_server,
    ) else {
        return;
    };
    session.client.send_raw(&frame(
        r#"{"jsonrpc":"2.0","id":"bad-1","method":"textDocument/hover","params":"nonsense"}"#,
    ));
    let (answer, _) = session
        .client
        .until(Duration::from_secs(30), "the refusal", |v| {
            v["id"] == "bad-1"
        });
    assert_eq!(answer["error"]["code"], json!(INVALID_REQUEST), "{answer}");
    session.hover_is_answered();
    session.finish();
}

#[test]
fn a_header_lean_cannot_read_is_rewritten_before_it_reaches_lean() {
    let Some(mut session) = Session::start(
        "a_header_lean_cannot_read_is_rewritten_before_it_reaches_lean",
        plain_server,
    ) else {
        return;
    };
    // Valid LSP (header names ignore case, the space is optional); Lean reads neither.
    let body = json!({"jsonrpc": "2.0", "id": "lower", "method": "textDocument/hover",
        "params": {"textDocument": {"uri": session.uri}, "position": {"line": 3, "character": 9}}})
    .to_string();
    let header = format!("content-length:{}\r\n\r\n", body.len());
    session
        .client
        .send_raw(&[header.as_bytes(), body.as_bytes()].concat());
    let (answer, _) = session
        .client
        .until(Duration::from_secs(60), "the hover", |v| v["id"] == "lower");
    assert!(answer["result"]["contents"].is_object(), "{answer}");
    session.finish();
}

#[test]
fn a_content_length_of_512_mb_is_neither_allocated_nor_waited_for() {
    editor_garbage_is_refused(
        "a_content_length_of_512_mb_is_neither_allocated_nor_waited_for",
        b"Content-Length: 512000000\r\n\r\n{\"jsonrpc\":",
        &[PARSE_ERROR],
    );
}

#[test]
fn an_over_long_header_line_is_refused_without_being_buffered() {
    let body = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let mut garbage = format!("Content-Length: {}\r\nX-Padding: ", body.len()).into_bytes();
    garbage.extend(std::iter::repeat_n(b'x', 4 << 20));
    garbage.extend_from_slice(b"\r\n\r\n");
    garbage.extend_from_slice(body.as_bytes());
    editor_garbage_is_refused(
        "an_over_long_header_line_is_refused_without_being_buffered",
        &garbage,
        &[PARSE_ERROR],
    );
}

#[test]
fn garbage_from_the_server_is_dropped_and_never_reaches_the_editor() {
    let garbage = [
        frame("not JSON"),
        frame("[1, 2, 3]"),
        frame(r#"{"hello": "world"}"#),
        b"Content-Length: 2x\r\n\r\n{}".to_vec(),
        b"Content-Type: text/plain\r\n\r\n{}".to_vec(),
        b"Content-Length: 512000000\r\n\r\n{\"id\":".to_vec(),
    ]
    .concat();
    // A real Lean server whose output begins with garbage (real Lean writes none).
    let server = |lean: &Path, dir: &Path| {
        let prefix = dir.join("garbage.bin");
        std::fs::write(&prefix, &garbage).unwrap();
        vec![
            "sh".into(),
            "-c".into(),
            r#"cat "$1"; exec "$0" --server"#.into(),
            lean.display().to_string(),
            prefix.display().to_string(),
        ]
    };
    let Some(mut session) = Session::start(
        "garbage_from_the_server_is_dropped_and_never_reaches_the_editor",
        server,
    ) else {
        return;
    };
    session.hover_is_answered();
    assert_eq!(
        session.client.refusals(),
        Vec::<Value>::new(),
        "the server's garbage is dropped, not answered to the editor"
    );
    session.finish();
}
