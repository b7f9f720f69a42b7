//! What a search returns: the proof (if any), why it stopped, counts, timings and a full trace.

use serde::{Deserialize, Serialize};

use crate::lean::Status;

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A proof was found and `verify` accepted it.
    Proved,
    /// Every reachable state was expanded and nothing is left to try.
    QueueEmpty,
    /// The expansion budget ran out.
    MaxExpansions,
    /// The wall-time budget ran out.
    TimeLimit,
}

/// What became of one candidate tactic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum CandidateOutcome {
    /// Refused before Lean saw it (see `filter`).
    Rejected { reason: String },
    /// Lean rejected the tactic.
    Failed { error: String },
    /// The tactic worked and led to a new state, queued as `node`.
    Open { node: usize, goals: usize },
    /// The tactic led to a state already seen (node `node`). `expanded`: that node was already
    /// expanded; `improved`: it was still queued and this path is cheaper, so it replaced the path.
    Duplicate {
        node: usize,
        expanded: bool,
        improved: bool,
    },
    /// No goals remain and `verify` accepted the whole proof.
    Proved,
    /// No goals remain but re-checking the whole proof did not accept it.
    ProofRejected { status: Status, errors: Vec<String> },
    /// The backend's per-tactic timeout cut the check short.
    Timeout { error: String },
    /// The backend failed on this candidate (a crash or protocol error); the search went on.
    Error { error: String },
    /// Not checked because the time budget ended first, or its answer unused because another
    /// candidate of the same expansion had already completed the proof.
    Skipped,
}

/// One candidate of an expansion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateTrace {
    /// The tactic text, trimmed.
    pub tactic: String,
    /// The predictor's score: mean log-probability of its tokens (≤ 0).
    pub score: f64,
    /// What happened to it.
    #[serde(flatten)]
    pub outcome: CandidateOutcome,
    /// Seconds the backend spent on it (0 when Lean never saw it).
    pub lean_secs: f64,
    /// The candidate this one repairs (`name_repair`: the same tactic with a hypothesis name
    /// the state has in place of an unknown one); none for the model's own candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_of: Option<String>,
}

/// One expansion: the node expanded, and every candidate generated for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpansionTrace {
    /// The node expanded (0 is the root).
    pub node: usize,
    /// The node that it was reached from (None for the root).
    pub parent: Option<usize>,
    /// Its cost: the sum over its steps of the negative normalized log-probability.
    pub cost: f64,
    /// The tactics from the root to it.
    pub steps: Vec<String>,
    /// Its goals as Lean printed them.
    pub goals: Vec<String>,
    /// Seconds the predictor took to generate its candidates.
    pub model_secs: f64,
    /// Whether the candidates were generated ahead of time, while the previous node was checked.
    pub prefetched: bool,
    /// The candidates, best score first, then the name repairs checked (`repair_of`).
    pub candidates: Vec<CandidateTrace>,
}

/// Counters over a whole search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCounts {
    /// Nodes expanded.
    pub expansions: usize,
    /// Of those, expansions of a node expanded before, at a retry temperature.
    #[serde(default)]
    pub retries: usize,
    /// Candidates the predictor returned.
    pub generated: usize,
    /// Candidates refused before Lean (sorry, smuggled commands).
    pub rejected: usize,
    /// Candidates the backend checked.
    pub checked: usize,
    /// Of those, name repairs of the model's candidates (`name_repair`).
    #[serde(default)]
    pub repaired: usize,
    /// Candidates Lean rejected.
    pub failed: usize,
    /// New states queued.
    pub new_states: usize,
    /// Candidates that led to a state already seen.
    pub duplicates: usize,
    /// Candidates cut by the per-tactic timeout.
    pub timeouts: usize,
    /// Candidates on which the backend failed.
    pub errors: usize,
    /// Complete proofs that `verify` did not accept.
    pub proofs_rejected: usize,
}

/// Where the time went. Model and Lean times are wall times of their phases; with pipelining
/// they overlap, so their sum can exceed `total_secs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchTimes {
    /// Wall time of the whole search, from `start` to the end.
    pub total_secs: f64,
    /// Wall time inside the predictor.
    pub model_secs: f64,
    /// Wall time of backend work: start, the check phases, and verify.
    pub lean_secs: f64,
}

/// The result of searching one theorem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// True when a proof was found and verified.
    pub proved: bool,
    /// Why the search ended.
    pub stop: StopReason,
    /// The proof's tactics, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Vec<String>>,
    /// The proof's cost (sum of the negative normalized log-probabilities of its steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Counters.
    pub counts: SearchCounts,
    /// Timings.
    pub times: SearchTimes,
    /// Every expansion, in order.
    pub trace: Vec<ExpansionTrace>,
    /// The hypotheses the theorem's first state holds that its statement does not write
    /// (`lean::context`: the file's `variable`s, names bound automatically), as `name : type`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

impl SearchResult {
    /// The proof as a `by` block body (each step on its own line, indented two spaces).
    pub fn proof_text(&self) -> Option<String> {
        self.proof.as_deref().map(crate::lean::backend::proof_text)
    }
}
