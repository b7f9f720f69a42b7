//! What a refine run reports: whether and how the theorem was proved (which attempt and
//! round, or the search after a prefix), every round's proof and Lean's feedback, and the
//! tokens the model read and wrote.

use serde::{Deserialize, Serialize};

use crate::refine::feedback::Feedback;
use crate::refine::model::TokenUsage;
use crate::search::SearchCounts;

/// One request and its check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// The attempt, from 1.
    pub attempt: usize,
    /// The round within it: 0 the first request, 1.. the repairs.
    pub round: usize,
    /// The proof taken from the answer, as checked.
    pub proof: String,
    /// Proved, or why not.
    pub proved: bool,
    /// Lean's feedback when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
    /// The request's token counts, when the model reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
}

/// Which part of the run found the proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// A whole proof from the model (first request or a repair).
    Model,
    /// The best-first search, from the longest accepted prefix of a failed proof.
    PrefixSearch,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefineStop {
    /// A proof was verified.
    Proved,
    /// Every attempt and round was spent (and the search, if asked, found nothing).
    Exhausted,
    /// The time limit passed.
    TimeLimit,
}

/// What `--then-search` did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrefixSearch {
    /// The steps of the prefix it started from.
    pub prefix: Vec<String>,
    /// Whether it found a proof.
    pub proved: bool,
    /// Its counts.
    pub counts: SearchCounts,
}

/// Tokens over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTotals {
    /// Prompt tokens, over the requests that reported them.
    pub prompt: usize,
    /// Answer tokens, over the requests that reported them.
    pub completion: usize,
    /// Requests whose answer gave no token counts (not in the sums).
    pub unreported: usize,
}

/// Where a whole-proof run found its proof and what it spent: part of `refine`'s result and of
/// an eval line (`eval --mode refine`), written the same way in both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RefineOutcome {
    /// What found the proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<FoundBy>,
    /// The attempt (from 1) whose proof, or whose prefix, succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<usize>,
    /// The round within it (0: the first request; 1..: a repair).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<usize>,
    /// Requests made to the whole-proof model.
    pub model_calls: usize,
    /// The requests a run of the attempts one after another would have made up to the proof:
    /// those of the attempts before the one that proved it, and its own up to the proving
    /// round (every request, when the search after the prefix found it). With attempts in
    /// parallel, `model_calls` may be more. None when not proved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_to_proof: Option<usize>,
    /// Tokens the model read and wrote.
    pub tokens: TokenTotals,
}

/// A refine run's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefineResult {
    /// The theorem's name.
    pub theorem: String,
    /// Whether a proof was verified.
    pub proved: bool,
    /// Why the run stopped.
    pub stop: RefineStop,
    /// The verified proof (a tactic block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    /// Where the proof came from and what the run spent.
    #[serde(flatten)]
    pub outcome: RefineOutcome,
    /// Every round, in order.
    pub rounds: Vec<RoundRecord>,
    /// The search after the prefix, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<PrefixSearch>,
    /// Wall time, in seconds.
    pub secs: f64,
    /// The hypotheses the theorem's first state holds that its statement does not write, as
    /// the search's result has them (`SearchResult::context`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}
