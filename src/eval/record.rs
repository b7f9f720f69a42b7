//! One line of `results.jsonl`: how the search fared on one theorem.

use serde::{Deserialize, Serialize};

use crate::refine::result::RefineOutcome;
use crate::refine::{RefineResult, RoundRecord};
use crate::search::{ExpansionTrace, SearchCounts, SearchResult, StopReason};

/// The outcome of one theorem in an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TheoremRecord {
    /// The theorem's id in the dataset (its name, prefixed by its file in folder datasets).
    pub name: String,
    /// The dataset split it came from, when the dataset says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// True when a proof was found and verified.
    pub proved: bool,
    /// Why the search ended; None when it could not run (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopReason>,
    /// The proof's tactics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Vec<String>>,
    /// The proof's cost (sum of negative normalized log-probabilities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Nodes expanded.
    pub expansions: usize,
    /// Wall time of the search.
    pub time_secs: f64,
    /// Wall time in the model.
    pub model_secs: f64,
    /// Wall time in Lean.
    pub lean_secs: f64,
    /// The search's counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<SearchCounts>,
    /// Why the theorem could not be searched (its statement does not elaborate, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure was not the theorem's: Lean's (it died, ran out of memory or time while the
    /// statement was elaborated, twice), or the model server's, failing when the time limit cut
    /// its retries (`RemoteError::CutAfterFailure`). A resumed run searches the theorem again,
    /// and its new line replaces this one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
    /// The full search trace, when asked for (`--trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<ExpansionTrace>>,
    /// How the whole-proof model fared (`eval --mode refine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineRecord>,
    /// The hypotheses the theorem assumes in its file beyond its statement's
    /// (`SearchResult::context`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

/// The whole-proof part of a result line (`eval --mode refine`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefineRecord {
    /// Where the proof came from and what the run spent, as `refine` reports it.
    #[serde(flatten)]
    pub outcome: RefineOutcome,
    /// Why the run stopped (absent in lines written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<crate::refine::RefineStop>,
    /// Every round's proof and Lean's feedback, when asked for (`--trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Vec<RoundRecord>>,
}

impl TheoremRecord {
    /// The record of a finished search.
    pub fn from_result(
        name: &str,
        split: Option<&str>,
        result: SearchResult,
        keep_trace: bool,
    ) -> Self {
        TheoremRecord {
            name: name.to_string(),
            split: split.map(str::to_string),
            proved: result.proved,
            stop: Some(result.stop),
            score: result.score,
            proof: result.proof,
            expansions: result.counts.expansions,
            time_secs: result.times.total_secs,
            model_secs: result.times.model_secs,
            lean_secs: result.times.lean_secs,
            counts: Some(result.counts),
            error: None,
            retry: false,
            trace: keep_trace.then_some(result.trace),
            refine: None,
            context: result.context,
        }
    }

    /// The record of a finished refine run.
    pub fn from_refine(
        name: &str,
        split: Option<&str>,
        result: RefineResult,
        keep_trace: bool,
    ) -> Self {
        let counts = result.search.as_ref().map(|s| s.counts.clone());
        TheoremRecord {
            name: name.to_string(),
            split: split.map(str::to_string),
            proved: result.proved,
            stop: None,
            proof: result
                .proof
                .as_deref()
                .map(crate::refine::steps::split_steps),
            score: None,
            expansions: counts.as_ref().map_or(0, |c| c.expansions),
            time_secs: result.secs,
            model_secs: 0.0,
            lean_secs: 0.0,
            counts,
            error: None,
            retry: false,
            trace: None,
            refine: Some(RefineRecord {
                outcome: result.outcome,
                stop: Some(result.stop),
                rounds: keep_trace.then_some(result.rounds),
            }),
            context: result.context,
        }
    }

    /// The record of a theorem that could not be searched.
    pub fn from_error(name: &str, split: Option<&str>, error: String, time_secs: f64) -> Self {
        TheoremRecord {
            name: name.to_string(),
            split: split.map(str::to_string),
            proved: false,
            stop: None,
            proof: None,
            score: None,
            expansions: 0,
            time_secs,
            model_secs: 0.0,
            lean_secs: 0.0,
            counts: None,
            error: Some(error),
            retry: false,
            trace: None,
            refine: None,
            context: Vec::new(),
        }
    }

    /// The record of a theorem Lean or the model server failed on for reasons not the
    /// theorem's own (see [`TheoremRecord::retry`]).
    pub fn from_failure_to_retry(
        name: &str,
        split: Option<&str>,
        error: String,
        time_secs: f64,
    ) -> Self {
        TheoremRecord {
            retry: true,
            ..TheoremRecord::from_error(name, split, error, time_secs)
        }
    }
}
