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

pub use also_try::{append_listed, AlsoTry, DEFAULT_ALSO_TRY};
pub use best_first::{search, search_from, SearchError};
pub use config::SearchConfig;
pub use filter::{check_candidate, Rejection};
pub use result::{
    CandidateOutcome, CandidateTrace, ExpansionTrace, SearchCounts, SearchResult, SearchTimes,
    StopReason,
};
#[cfg(any(test, feature = "testing"))]
pub use scripted::ScriptedPredictor;
