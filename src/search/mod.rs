//! Best-first proof search over Lean proof states, guided by a next-step predictor.
//!
//! Sees Lean only through `ProofBackend` and the model only through `Predictor`.

pub mod also_try;
pub mod apply;
pub mod best_first;
pub mod config;
pub mod filter;
pub mod name_repair;
pub mod result;
#[cfg(any(test, feature = "testing"))]
pub mod scripted;
pub mod state_key;

/// The version of the search's own rules (what counts as one state, how name repairs are
/// spent), recorded with every evaluation: a run resumed or merged under other rules would
/// mix two searches. Bumped when they change what a search finds at the same settings.
pub const SEARCH_RULES: &str =
    "2026-12-06: states merged up to local names, retried under their other names; repairs round-robin, proofs before types";

pub use also_try::{append_listed, AlsoTry, DEFAULT_ALSO_TRY};
pub use best_first::{search, search_from, unwritten_context, SearchError};
pub use config::SearchConfig;
pub use filter::{check_candidate, Rejection};
pub use result::{
    CandidateOutcome, CandidateTrace, ExpansionTrace, SearchCounts, SearchResult, SearchTimes,
    StopReason,
};
#[cfg(any(test, feature = "testing"))]
pub use scripted::ScriptedPredictor;
