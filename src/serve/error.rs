//! Errors of the suggestion server and the LSP proxy, each saying what to do about it.

use std::io;

/// Why the suggestion server or the editor proxy could not start or went on no further.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The HTTP address could not be bound.
    #[error("cannot listen on {address}: {reason}; pick another --port (or stop what uses it)")]
    Bind {
        /// The address asked for.
        address: String,
        /// What the operating system said.
        reason: String,
    },
    /// The Lean server command could not be started.
    #[error("cannot start the Lean server `{command}`: {source}; check the command after `--` (e.g. `lake serve` inside your project)")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// How to check suggestions with Lean could not be worked out from the server command.
    #[error("cannot tell how to run `lean` from the server command `{0}`; pass --lean PATH (the `lean` executable that checks suggestions)")]
    NoChecker(String),
    /// Reading from or writing to the editor or the server failed.
    #[error("i/o with the {peer} failed: {source}")]
    Io {
        /// `editor` or `Lean server`.
        peer: &'static str,
        /// The error.
        source: io::Error,
    },
}
