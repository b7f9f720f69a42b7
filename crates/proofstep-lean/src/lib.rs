//! Talking to Lean 4: the `ProofBackend` seam and its backends (the REPL, whole-file `lean
//! --json` runs, the language server), whole-file checks with the axioms each theorem rests
//! on, Lean source splitting, and toolchain discovery with `doctor`'s report. Knows nothing of
//! models or search; of the workspace it uses only `proofstep-core` (processes run within
//! bounds). See ARCHITECTURE.md.

pub mod axioms;
pub mod backend;
pub mod canonical;
pub mod check;
pub mod command;
pub mod context;
pub mod error;
pub mod lsp;
pub mod message;
pub mod repl;
pub mod reserved;
pub mod source;
pub mod toolchain;
pub mod verdict;

pub use backend::{Outcome, ProofBackend, ProofState, StateHandle};
pub use command::LeanCommand;
pub use error::LeanError;
pub use verdict::{Status, Verdict};

/// The date of the last change to what proofstep's final check counts as proved (a stricter
/// probe, a newly refused construct), with a counter after it when a day saw several.
/// Evaluation results record it, and results checked under other rules are never resumed or
/// merged into a run: bump it with every such change.
pub const CHECK_RULES: &str = "2026-12-05.10";
