//! The classification of a checked theorem, shared by `verify`, `proofstep check` and eval.

use serde::{Deserialize, Serialize};

/// How a theorem's proof fared when Lean checked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No error, no `sorry` (reached through any lemma), no open goal, no axiom outside the
    /// allowed set.
    Proved,
    /// Goals remain unsolved and there is no other error.
    Open,
    /// Lean reported an error (parse, elaboration, tactic failure, ...).
    Error,
    /// The proof elaborates but uses `sorry` (or `admit`, or `sorryAx`), itself or through a
    /// lemma whose proof is `sorry` or failed.
    Sorry,
    /// The proof elaborates without `sorry` but depends on an axiom outside the allowed set (a
    /// file's own `axiom`, `Lean.ofReduceBool` from `native_decide`, ...).
    Axiom,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 5] = [
        Status::Proved,
        Status::Open,
        Status::Error,
        Status::Sorry,
        Status::Axiom,
    ];

    /// The status as reports and JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proved => "proved",
            Status::Open => "open",
            Status::Error => "error",
            Status::Sorry => "sorry",
            Status::Axiom => "axiom",
        }
    }
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
    /// The axioms outside the allowed set that the theorem depends on (`Status::Axiom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub axioms: Vec<String>,
}

impl Verdict {
    /// A verdict of this status with nothing else to say.
    pub fn of(status: Status) -> Self {
        Verdict {
            status,
            goals: Vec::new(),
            errors: Vec::new(),
            axioms: Vec::new(),
        }
    }

    /// True only for a complete, sorry-free, error-free proof.
    pub fn is_proved(&self) -> bool {
        self.status == Status::Proved
    }
}
