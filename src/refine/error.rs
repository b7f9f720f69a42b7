//! Why a refine run could not run (as opposed to running and proving nothing).

use crate::lean::LeanError;
use crate::search::SearchError;

/// A failure of a refine run.
#[derive(Debug, thiserror::Error)]
pub enum RefineError {
    /// The theorem does not start: its header or statement does not elaborate, or Lean is
    /// missing.
    #[error("cannot start the theorem: {0}")]
    Start(LeanError),
    /// Lean failed while checking a proof (died, could not be run).
    #[error("the Lean backend failed: {0}")]
    Lean(LeanError),
    /// The whole-proof model failed (after its retries).
    #[error("the whole-proof model failed: {0:#}")]
    Model(anyhow::Error),
    /// The search after the prefix could not run.
    #[error("the search after the accepted prefix failed: {0}")]
    Search(SearchError),
}
