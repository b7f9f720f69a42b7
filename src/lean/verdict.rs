//! The classification of a checked theorem, shared by `verify`, `proofstep check` and eval.

use serde::{Deserialize, Serialize};

/// How a theorem's proof fared when Lean checked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No error, no `sorry`, no open goal.
    Proved,
    /// Goals remain unsolved and there is no other error.
    Open,
    /// Lean reported an error (parse, elaboration, tactic failure, ...).
    Error,
    /// The proof elaborates but uses `sorry` (or `admit`, or `sorryAx`).
    Sorry,
}

/// The verdict on one theorem: its status with the open goals and error messages behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The classification.
    pub status: Status,
    /// Unsolved goals, as Lean printed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<String>,
    /// Error messages, as Lean printed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Verdict {
    /// True only for a complete, sorry-free, error-free proof.
    pub fn is_proved(&self) -> bool {
        self.status == Status::Proved
    }
}
