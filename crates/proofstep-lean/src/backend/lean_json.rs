//! One `lean --json` run of a file or a text, in a process group of its own, killed whole
//! (`lake` and the `lean` it started) past a deadline or once its memory passes a limit: what
//! the file backend runs for every request.

use std::io::Write;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use proofstep_core::process;

use crate::command::LeanCommand;
use crate::error::LeanError;
use crate::message::{parse_output, Diagnostic, JsonOutput};

/// How long one `lean --json` run may take by default before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// What one `lean --json` run printed, and how it ended.
#[derive(Clone, Debug)]
pub struct LeanRun {
    /// The diagnostics and any other stdout lines.
    pub output: JsonOutput,
    /// Lean's stderr.
    pub stderr: String,
    /// Lean's exit status.
    pub status: ExitStatus,
}

impl LeanRun {
    /// True when Lean died without reporting why in a diagnostic (crash, signal, panic): its
    /// silence about a theorem then means nothing.
    pub fn crashed(&self) -> bool {
        !self.status.success() && !self.output.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// A one-line description of a crash, for error messages.
    pub fn crash_report(&self) -> String {
        let mut text = format!("lean exited with {}", self.status);
        let lines: Vec<&str> = self
            .output
            .other
            .iter()
            .map(String::as_str)
            .chain(self.stderr.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let tail = &lines[lines.len().saturating_sub(3)..];
        if !tail.is_empty() {
            text.push_str(": ");
            text.push_str(&tail.join(" | "));
        }
        text
    }
}

/// Runs `cmd --json FILE` in a process group of its own, killed whole (`lake` and the `lean`
/// it started) past `timeout` or once its memory passes `memory_limit_mb`. With no limit on
/// the number of errors: by default `lean` stops after 100 (`maxErrors`), and every probe
/// asking whether a name is free answers with one, so a file of a hundred theorems lost the
/// answers about the rest.
pub fn run_lean_json(
    cmd: &LeanCommand,
    file: &Path,
    timeout: Duration,
    memory_limit_mb: Option<u64>,
) -> Result<LeanRun, LeanError> {
    let mut command = cmd.to_command();
    command
        .arg("-DmaxErrors=0")
        .arg("--json")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = process::spawn_group(&mut command).map_err(|e| cmd.spawn_error(e))?;
    let run = process::capture_bounded(child, timeout, memory_limit_mb)?;
    Ok(LeanRun {
        output: parse_output(&run.stdout),
        stderr: run.stderr,
        status: run.status,
    })
}

/// Writes `text` to a fresh `.lean` file and runs `lean --json` on it.
pub fn check_text(
    cmd: &LeanCommand,
    text: &str,
    timeout: Duration,
    memory_limit_mb: Option<u64>,
) -> Result<LeanRun, LeanError> {
    let dir = std::env::temp_dir();
    let mut file = tempfile::Builder::new()
        .prefix("proofstep_")
        .suffix(".lean")
        .tempfile_in(&dir)
        .map_err(|source| LeanError::Io {
            path: dir.clone(),
            source,
        })?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.flush())
        .map_err(|source| LeanError::Io {
            path: file.path().to_path_buf(),
            source,
        })?;
    let _tracked = proofstep_core::interrupt::track_file(file.path().to_path_buf());
    run_lean_json(cmd, file.path(), timeout, memory_limit_mb)
}
