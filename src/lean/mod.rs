//! Talking to Lean 4: the REPL driver, whole-file and LSP checkers, the `ProofBackend` seam,
//! and toolchain discovery. Imports nothing else of the crate.

pub mod axioms;
pub mod backend;
pub mod check;
pub mod command;
pub mod diagnostics;
pub mod error;
pub mod file;
pub mod layout;
pub mod lsp;
pub mod pool;
pub mod process;
pub mod protocol;
pub mod repl;
pub mod repl_backend;
pub mod server;
pub mod source;
pub mod toolchain;
pub mod verdict;

pub use backend::{Outcome, ProofBackend, ProofState, StateHandle};
pub use command::LeanCommand;
pub use error::LeanError;
pub use verdict::{Status, Verdict};
