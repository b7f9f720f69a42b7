//! Errors of the Lean layer. Each one a user can cause says what to do about it.

use std::path::PathBuf;
use std::time::Duration;

use proofstep_core::process::ProcessError;

/// Everything that can go wrong while talking to Lean (not a proof failing: that is an
/// `Outcome::Failed` or a `Verdict`).
#[derive(Debug, thiserror::Error)]
pub enum LeanError {
    /// A tool (lean, lake, repl) could not be found or started.
    #[error("cannot start `{program}`: {reason}. Run `proofstep doctor` to see what is missing and how to fix it")]
    Spawn { program: PathBuf, reason: String },
    /// A request took longer than its timeout; the process was killed and will be restarted.
    #[error("Lean did not answer within {0:?} (the process was killed and restarted); raise the timeout or simplify the tactic")]
    Timeout(Duration),
    /// The process exited or closed its output mid-request.
    #[error("the Lean process died mid-request ({0}); it was restarted")]
    Died(String),
    /// The process answered with something that is not the protocol.
    #[error("the Lean process answered with malformed output ({0}); it was restarted")]
    Garbage(String),
    /// The process grew past its memory limit and was killed.
    #[error("the Lean process grew past its memory limit ({used_mb} MB > {limit_mb} MB) and was restarted")]
    OutOfMemory { used_mb: u64, limit_mb: u64 },
    /// The header (imports, opens) failed to elaborate.
    #[error("the header does not elaborate: {0}")]
    Header(String),
    /// The theorem statement failed to elaborate, so there is no root goal.
    #[error("the statement does not elaborate: {0}")]
    Statement(String),
    /// The REPL answered with an error message of its own (unknown env, unknown proof state, ...).
    #[error("the Lean REPL reported: {0}")]
    Repl(String),
    /// The LSP server misbehaved.
    #[error("Lean server: {0}")]
    Server(String),
    /// A proof state from a worker that has restarted since it was made.
    #[error("proof state {0} is gone: its worker restarted; start the theorem again")]
    StaleState(u64),
    /// The imported modules were rebuilt while a proof was checked: what Lean answered about
    /// them and the environment the proof was checked in may come from two builds.
    #[error("the imported modules were rebuilt during the check of {0}; check it again once the build is done")]
    LibraryRebuilt(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other I/O failure talking to a process.
    #[error("I/O error talking to Lean: {0}")]
    Pipe(#[from] std::io::Error),
}

impl LeanError {
    /// Whether Lean itself failed rather than answered about the text it was given: the
    /// process died, answered garbage, outgrew its memory or lost a state, or the imported
    /// libraries were rebuilt under it. The same request on the restarted process may well
    /// be answered, so a caller asks once more before it takes the failure as a verdict on a
    /// tactic or a proof. A timeout is not one: the same request would take as long again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LeanError::Died(_)
                | LeanError::Garbage(_)
                | LeanError::OutOfMemory { .. }
                | LeanError::Repl(_)
                | LeanError::Server(_)
                | LeanError::StaleState(_)
                | LeanError::LibraryRebuilt(_)
        )
    }
}

impl From<ProcessError> for LeanError {
    fn from(err: ProcessError) -> Self {
        match err {
            ProcessError::Timeout(limit) => LeanError::Timeout(limit),
            ProcessError::OutOfMemory { used_mb, limit_mb } => {
                LeanError::OutOfMemory { used_mb, limit_mb }
            }
            ProcessError::Io(err) => LeanError::Pipe(err),
        }
    }
}
