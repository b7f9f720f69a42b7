//! One REPL process (leanprover-community/repl): framing, per-request timeouts, crash, hang,
//! garbage and memory detection, and transparent restarts.
//!
//! A reader thread turns stdout into response blocks on a channel, so every request waits with
//! a timeout; a writer thread feeds stdin, so a process that stops reading cannot block us.
//! Whatever goes wrong with the process (no answer in time, exit mid-answer, output that is not
//! the protocol, memory past the limit), the process group is killed, a fresh process started,
//! the generation counter raised, and the request in flight gets a clear `LeanError`.
//! Proof-state and environment ids are only meaningful within one generation.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::repl::protocol::{Answer, CommandResponse, Request, Response};
use crate::{LeanCommand, LeanError};
use proofstep_core::process::{
    has_exited, kill_group, spawn_group, tree_memory_mb, GroupChild, MEMORY_POLL,
};

/// How to run and police one REPL process.
#[derive(Clone, Debug)]
pub struct ReplConfig {
    /// The command that starts the REPL, e.g. `lake env .lake/packages/REPL/.lake/build/bin/repl`
    /// run in the user's Lake project.
    pub command: LeanCommand,
    /// How long one request may take before the process is killed.
    pub timeout: Duration,
    /// How long importing a header may take (`import Mathlib` takes tens of seconds).
    pub header_timeout: Duration,
    /// Kill the process when its private resident memory (with its children's) passes this many
    /// MB.
    pub memory_limit_mb: Option<u64>,
    /// Treat a response longer than this as garbage (guards against runaway output).
    pub max_response_bytes: usize,
}

impl ReplConfig {
    /// Defaults: 60 s per request, 10 min per header import, no memory limit, 256 MiB answers.
    pub fn new(command: LeanCommand) -> Self {
        ReplConfig {
            command,
            timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(600),
            memory_limit_mb: None,
            max_response_bytes: 256 << 20,
        }
    }
}

/// What the reader thread saw on stdout.
enum Event {
    /// One complete response block (text up to a blank line).
    Block(String),
    /// End of output; the text of an unfinished block, if any.
    Eof(String),
    /// Reading failed or the answer grew past the size limit.
    Broken(String),
}

/// A live process with its pipes and threads.
struct Process {
    child: GroupChild,
    pid: u32,
    to_stdin: Sender<String>,
    events: Receiver<Event>,
    stderr_tail: Arc<Mutex<VecDeque<u8>>>,
    started: Instant,
    reaped: bool,
}

const STDERR_TAIL: usize = 2000;

impl Process {
    fn spawn(config: &ReplConfig) -> Result<Process, LeanError> {
        let mut cmd = config.command.to_command();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so a kill reaches `lake env`'s child too.
        let mut child = spawn_group(&mut cmd).map_err(|e| config.command.spawn_error(e))?;
        let pid = child.id();
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let (to_stdin, from_client) = mpsc::channel::<String>();
        thread::Builder::new()
            .name(format!("repl-{pid}-stdin"))
            .spawn(move || write_frames(stdin, from_client))
            .map_err(LeanError::Pipe)?;

        let (events_tx, events) = mpsc::channel();
        let limit = config.max_response_bytes;
        thread::Builder::new()
            .name(format!("repl-{pid}-stdout"))
            .spawn(move || read_blocks(stdout, events_tx, limit))
            .map_err(LeanError::Pipe)?;

        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        thread::Builder::new()
            .name(format!("repl-{pid}-stderr"))
            .spawn(move || keep_tail(stderr, tail))
            .map_err(LeanError::Pipe)?;

        tracing::debug!(pid, program = %config.command.program.display(), "started a REPL process");
        Ok(Process {
            child,
            pid,
            to_stdin,
            events,
            stderr_tail,
            started: Instant::now(),
            reaped: false,
        })
    }

    /// The last lines the process wrote to stderr, for error messages.
    fn stderr_text(&self) -> String {
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    /// True once the process has exited (it is not reaped, so its pid and group stay ours).
    fn has_exited(&self) -> bool {
        if self.reaped {
            return true;
        }
        has_exited(self.pid)
    }

    /// Waits briefly for the process to exit by itself (it closed its output), then kills its
    /// group and says how it ended, with the end of its stderr.
    fn finish(mut self) -> String {
        let deadline = Instant::now() + Duration::from_millis(300);
        while !self.has_exited() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        let exited = self.has_exited();
        let status = self.kill();
        let status = match (exited, status) {
            (true, Some(status)) => status,
            _ => "still running; killed".to_string(),
        };
        // Give the stderr thread a moment to drain what the process wrote last.
        thread::sleep(Duration::from_millis(20));
        let stderr = self.stderr_text();
        if stderr.is_empty() {
            status
        } else {
            format!("{status}; stderr: {stderr}")
        }
    }

    /// Kills the whole process group (before reaping the leader, so the group id is still
    /// ours), then reaps the leader and returns how it ended.
    fn kill(&mut self) -> Option<String> {
        if self.reaped {
            return None;
        }
        kill_group(self.pid);
        let _ = self.child.kill();
        self.reaped = true;
        self.child.wait().ok().map(|s| s.to_string())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn write_frames(mut stdin: ChildStdin, frames: Receiver<String>) {
    for frame in frames {
        if stdin
            .write_all(frame.as_bytes())
            .and_then(|_| stdin.flush())
            .is_err()
        {
            return;
        }
    }
}

fn read_blocks(stdout: impl Read, events: Sender<Event>, limit: usize) {
    let mut reader = BufReader::new(stdout);
    let mut block = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => {
                let _ = events.send(Event::Eof(block));
                return;
            }
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                if text.trim().is_empty() {
                    if !block.is_empty()
                        && events
                            .send(Event::Block(std::mem::take(&mut block)))
                            .is_err()
                    {
                        return;
                    }
                } else {
                    block.push_str(&text);
                    if block.len() > limit {
                        let _ = events.send(Event::Broken(format!(
                            "an answer longer than {limit} bytes"
                        )));
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = events.send(Event::Broken(format!("reading its output failed: {e}")));
                return;
            }
        }
    }
}

fn keep_tail(mut stderr: impl Read, tail: Arc<Mutex<VecDeque<u8>>>) {
    let mut buf = [0u8; 4096];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                tail.extend(&buf[..n]);
                while tail.len() > STDERR_TAIL {
                    tail.pop_front();
                }
            }
        }
    }
}

/// One REPL process, restarted whenever it misbehaves. Not thread-safe on its own: the pool
/// puts each `Repl` behind its own lock.
pub struct Repl {
    config: ReplConfig,
    process: Option<Process>,
    generation: u64,
    /// Each imported header's environment, and the build of its imports then
    /// (`LeanCommand::library_stamp`).
    headers: HashMap<String, (u64, String)>,
    served: u64,
    last_rss_mb: Option<u64>,
}

impl Repl {
    /// A REPL that starts its process on the first request.
    pub fn new(config: ReplConfig) -> Self {
        Repl {
            config,
            process: None,
            generation: 0,
            headers: HashMap::new(),
            served: 0,
            last_rss_mb: None,
        }
    }

    /// The settings this REPL runs with.
    pub fn config(&self) -> &ReplConfig {
        &self.config
    }

    /// How many times the process has been replaced; ids from another generation are stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Requests answered by the current process.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// How long the current process has been running (zero when none is).
    pub fn age(&self) -> Duration {
        self.process
            .as_ref()
            .map(|p| p.started.elapsed())
            .unwrap_or_default()
    }

    /// The current process id, if one is running.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }

    /// Private resident memory (MB, with children's) measured after the last request.
    pub fn last_rss_mb(&self) -> Option<u64> {
        self.last_rss_mb
    }

    /// Headers imported into the current process, each with its environment id.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.headers.keys().map(String::as_str)
    }

    /// True when `header` is already imported in the current process.
    pub fn has_header(&self, header: &str) -> bool {
        header.trim().is_empty() || self.headers.contains_key(header)
    }

    /// Kills the process (if any) and starts a fresh one: a new generation, no headers.
    /// A failure to start is reported by the next request.
    pub fn restart(&mut self, why: &str) {
        if let Some(mut process) = self.process.take() {
            tracing::warn!(
                pid = process.pid,
                generation = self.generation,
                "restarting the REPL: {why}"
            );
            process.kill();
        }
        self.generation += 1;
        self.headers.clear();
        self.served = 0;
        self.last_rss_mb = None;
        match Process::spawn(&self.config) {
            Ok(process) => self.process = Some(process),
            Err(e) => tracing::warn!("could not start a fresh REPL: {e}"),
        }
    }

    /// Stops the process without starting another (it starts again on the next request).
    pub fn shutdown(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
            self.generation += 1;
            self.headers.clear();
            self.served = 0;
        }
    }

    fn ensure_running(&mut self) -> Result<(), LeanError> {
        let exited = match self.process.as_mut() {
            Some(p) => p.has_exited(),
            None => {
                self.process = Some(Process::spawn(&self.config)?);
                return Ok(());
            }
        };
        if exited {
            let description = self.process.take().map(Process::finish).unwrap_or_default();
            tracing::warn!("the REPL process had exited between requests ({description})");
            self.generation += 1;
            self.headers.clear();
            self.served = 0;
            self.process = Some(Process::spawn(&self.config)?);
        }
        Ok(())
    }

    /// Sends one request and waits (at most the configured timeout) for its answer.
    pub fn request(&mut self, request: &Request) -> Result<Response, LeanError> {
        let timeout = self.config.timeout;
        self.request_within(request, timeout)
    }

    /// Sends one request and waits at most `timeout` for its answer. On any fault the process is
    /// replaced and the error says what happened; an answer is never guessed.
    pub fn request_within(
        &mut self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, LeanError> {
        self.ensure_running()?;
        let result = self.exchange(request, timeout);
        match result {
            Ok(response) => {
                self.served += 1;
                let process = self.process.as_ref().expect("running");
                self.last_rss_mb = tree_memory_mb(process.pid);
                if let (Some(limit), Some(used)) = (self.config.memory_limit_mb, self.last_rss_mb) {
                    if used > limit {
                        self.restart(&format!("memory {used} MB > {limit} MB"));
                        return Err(LeanError::OutOfMemory {
                            used_mb: used,
                            limit_mb: limit,
                        });
                    }
                }
                Ok(response)
            }
            Err(Fault::Error(error)) => {
                self.restart(&error.to_string());
                Err(error)
            }
            Err(Fault::Died(partial)) => {
                let description = self.process.take().map(Process::finish).unwrap_or_default();
                let mut why = description;
                if !partial.trim().is_empty() {
                    why.push_str(&format!(
                        "; it had written {} bytes of an answer",
                        partial.len()
                    ));
                }
                self.restart("the process died");
                Err(LeanError::Died(why))
            }
        }
    }

    fn exchange(&mut self, request: &Request, timeout: Duration) -> Result<Response, Fault> {
        let memory_limit = self.config.memory_limit_mb;
        let process = self.process.as_mut().expect("running");
        // Output nobody asked for means the stream is out of step: never pair it with a request.
        match process.events.try_recv() {
            Ok(Event::Block(text)) => {
                return Err(Fault::Error(LeanError::Garbage(format!(
                    "unrequested output before the request: {}",
                    clip(&text)
                ))))
            }
            Ok(Event::Eof(partial)) => return Err(Fault::Died(partial)),
            Ok(Event::Broken(why)) => return Err(Fault::Error(LeanError::Garbage(why))),
            Err(_) => {}
        }
        tracing::trace!(
            pid = process.pid,
            "-> {}",
            clip(&serde_json::to_string(request).unwrap_or_default())
        );
        if process.to_stdin.send(request.to_frame()).is_err() {
            return Err(Fault::Died(String::new()));
        }
        let deadline = Instant::now() + timeout;
        let event = loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Fault::Error(LeanError::Timeout(timeout)));
            }
            let slice = if memory_limit.is_some() {
                MEMORY_POLL.min(deadline - now)
            } else {
                deadline - now
            };
            match process.events.recv_timeout(slice) {
                Ok(event) => break event,
                Err(RecvTimeoutError::Timeout) => {
                    if let (Some(limit), Some(used)) = (memory_limit, tree_memory_mb(process.pid)) {
                        if used > limit {
                            return Err(Fault::Error(LeanError::OutOfMemory {
                                used_mb: used,
                                limit_mb: limit,
                            }));
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err(Fault::Died(String::new())),
            }
        };
        match event {
            Event::Block(text) => {
                let response = Response::parse(&text).map_err(|e| {
                    Fault::Error(LeanError::Garbage(format!(
                        "{e}; it wrote: {}",
                        clip(&text)
                    )))
                })?;
                let expected = request.answer();
                let fits = matches!(
                    (&response, expected),
                    (Response::Error(_), _)
                        | (Response::Command(_), Answer::Command)
                        | (Response::Tactic(_), Answer::Tactic)
                );
                if !fits {
                    return Err(Fault::Error(LeanError::Garbage(format!(
                        "an answer of the wrong kind for this request: {}",
                        clip(&text)
                    ))));
                }
                Ok(response)
            }
            Event::Eof(partial) => Err(Fault::Died(partial)),
            Event::Broken(why) => Err(Fault::Error(LeanError::Garbage(why))),
        }
    }

    /// The environment holding `header` (imports, opens), importing it on first use in this
    /// process; None for an empty header (commands then start from a fresh environment).
    pub fn header_env(&mut self, header: &str) -> Result<Option<u64>, LeanError> {
        let stamp = self.config.command.library_stamp(header);
        self.header_env_in_build(header, &stamp)
    }

    /// `header_env` for the build of the imports `stamp` names (`LeanCommand::library_stamp`,
    /// taken by the caller before it asked about the imports): a header imported under a build
    /// that is no longer current is imported again, as it is now, in a fresh process (a new
    /// generation, every other header of the process to be imported again too), so the old
    /// build's environment does not stay in memory beside it. Another header over the same
    /// rebuilt modules, imported beside, is not found this way (a memory limit, where one is
    /// set, recycles such a process).
    pub fn header_env_in_build(
        &mut self,
        header: &str,
        stamp: &str,
    ) -> Result<Option<u64>, LeanError> {
        if header.trim().is_empty() {
            return Ok(None);
        }
        self.ensure_running()?;
        if let Some((env, built)) = self.headers.get(header) {
            // A caller's stamp older than the imports now is its own to notice (it checks the
            // build again after the answer); the process's import stands while it is current.
            if built == stamp || *built == self.config.command.library_stamp(header) {
                return Ok(Some(*env));
            }
            // The REPL frees no environment: importing the new build beside the old one would
            // keep both (a Mathlib import is gigabytes) for as long as the process lives.
            self.restart("the header's imports were rebuilt");
            self.ensure_running()?;
        }
        let timeout = self.config.header_timeout;
        let started = Instant::now();
        match self.request_within(&Request::command(header), timeout)? {
            Response::Command(response) => {
                let errors = error_texts(&response);
                if !errors.is_empty() {
                    return Err(LeanError::Header(errors.join("\n")));
                }
                let env = response.env.ok_or_else(|| {
                    LeanError::Garbage(
                        "the REPL answered the header without an environment id".into(),
                    )
                })?;
                tracing::info!(env, elapsed = ?started.elapsed(), generation = self.generation, "imported a header");
                self.headers
                    .insert(header.to_string(), (env, stamp.to_string()));
                Ok(Some(env))
            }
            Response::Error(e) => Err(LeanError::Header(e.message)),
            Response::Tactic(_) => Err(LeanError::Garbage("a tactic answer to a header".into())),
        }
    }

    /// Runs `cmd` on top of `header` (imported once per process) and returns the REPL's answer.
    pub fn command(&mut self, header: &str, cmd: &str) -> Result<CommandResponse, LeanError> {
        let env = self.header_env(header)?;
        self.command_in(cmd, env)
    }

    /// `command` on the header imported under the build `stamp` names (`header_env_in_build`).
    pub fn command_in_build(
        &mut self,
        header: &str,
        cmd: &str,
        stamp: &str,
    ) -> Result<CommandResponse, LeanError> {
        let env = self.header_env_in_build(header, stamp)?;
        self.command_in(cmd, env)
    }

    /// Runs `cmd` in environment `env` (none: a fresh one).
    fn command_in(&mut self, cmd: &str, env: Option<u64>) -> Result<CommandResponse, LeanError> {
        match self.request(&Request::command_in(cmd, env))? {
            Response::Command(response) => Ok(response),
            Response::Error(e) => Err(LeanError::Repl(e.message)),
            Response::Tactic(_) => Err(LeanError::Garbage("a tactic answer to a command".into())),
        }
    }

    /// Runs a tactic on proof state `proof_state` made by generation `generation`: a
    /// `Response::Tactic` or the REPL's `Response::Error`; `StaleState` when the process
    /// has been replaced since.
    pub fn tactic(
        &mut self,
        generation: u64,
        proof_state: u64,
        tactic: &str,
    ) -> Result<Response, LeanError> {
        self.ensure_running()?;
        if generation != self.generation {
            return Err(LeanError::StaleState(proof_state));
        }
        self.request(&Request::tactic(tactic, proof_state))
    }
}

enum Fault {
    Error(LeanError),
    Died(String),
}

/// The text of every error-severity message of a command answer.
pub fn error_texts(response: &CommandResponse) -> Vec<String> {
    response
        .messages
        .iter()
        .filter(|m| m.is_error())
        .map(|m| m.data.clone())
        .collect()
}

fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}
