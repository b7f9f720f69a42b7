//! (state before → tactic) examples from llmstep proof-search result files
//! (`results_*.json`: `{"results": [{"attempt_results": [{"trace": [{tactic, state_before}]}]}]}`),
//! real Mathlib states usable as small training data where LeanDojo is not at hand.

use std::path::Path;

use serde::Deserialize;

use super::error::DataError;
use super::format::Example;

#[derive(Deserialize)]
struct ResultsFile {
    results: Vec<TheoremResult>,
}

#[derive(Deserialize)]
struct TheoremResult {
    #[serde(default)]
    attempt_results: Vec<Attempt>,
}

#[derive(Deserialize)]
struct Attempt {
    #[serde(default)]
    trace: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    tactic: String,
    state_before: String,
}

/// Every trace step of one results file, formatted as proof-step examples, in file order.
pub fn read_trace_examples(path: &Path) -> Result<Vec<Example>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let file: ResultsFile = serde_json::from_str(&text).map_err(|e| DataError::BadTraceFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(file
        .results
        .iter()
        .flat_map(|r| &r.attempt_results)
        .flat_map(|a| &a.trace)
        .map(|s| Example::proofstep(&s.state_before, &s.tactic))
        .collect())
}
