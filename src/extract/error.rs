//! Errors of `extract`.

use std::path::{Path, PathBuf};

use crate::lean::LeanError;

/// What can stop an extraction.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Reading a source or writing an output file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No Lean file among the inputs.
    #[error("no .lean files in {0}; pass Lean files or folders holding them")]
    NoInput(String),
    /// Lean's server could not be started (or died twice on one file).
    #[error("Lean's language server failed on {path}: {source}; check the toolchain with `proofstep doctor`")]
    Lean { path: PathBuf, source: LeanError },
}

impl ExtractError {
    /// An I/O error about `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ExtractError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
