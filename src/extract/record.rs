//! The LeanDojo Benchmark 4 theorem record that `extract` writes and `proofstep data leandojo`
//! reads: `{url, commit, file_path, full_name, start, end, traced_tactics}`.

use serde::{Deserialize, Serialize};

/// One theorem with its traced tactic steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedTheorem {
    /// The repository's remote URL (empty when the sources are not in a git repository).
    pub url: String,
    /// The repository's commit (empty when unknown).
    pub commit: String,
    /// The Lean file, relative to the extraction root.
    pub file_path: String,
    /// The theorem's full name (`example@L<line>` for an example).
    pub full_name: String,
    /// Where the declaration starts: [line, column], both from 1.
    pub start: [u32; 2],
    /// Just after its last token: [line, column], both from 1.
    pub end: [u32; 2],
    /// The tactic steps in proof order (empty for a term-mode proof).
    pub traced_tactics: Vec<TracedTactic>,
}

/// One tactic step: the goals before, the tactic, the goals after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedTactic {
    /// The tactic as written (multi-line tactics whole).
    pub tactic: String,
    /// LeanDojo's `[tactic, premise annotations]`; the annotations are not traced here.
    pub annotated_tactic: (String, Vec<serde_json::Value>),
    /// The goals before the tactic, as Lean prints them, separated by blank lines.
    pub state_before: String,
    /// The goals after it, or `no goals`.
    pub state_after: String,
}

/// LeanDojo's text of a list of goals: the goals separated by a blank line, `no goals` when
/// there is none.
pub fn state_text(goals: &[String]) -> String {
    if goals.is_empty() {
        "no goals".to_string()
    } else {
        goals.join("\n\n")
    }
}
