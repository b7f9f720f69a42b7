//! The `ProofBackend` seam: what search, eval and serve know of Lean.
//!
//! A backend starts a theorem (root goals), applies one tactic to a state, and verifies a
//! finished proof by re-checking it whole. Implementations: the REPL (`repl`), whole-file
//! checking (`file`) and the LSP server (`server`).

use std::sync::Arc;

use crate::lean::axioms::AxiomPolicy;
use crate::lean::diagnostics::Diagnostic;
use crate::lean::verdict::Verdict;
use crate::lean::LeanError;

/// A backend-specific handle on a live proof state (e.g. the REPL's `proofState` id in one
/// worker process). Backends that re-check from the steps (file, server) leave it empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateHandle {
    /// Which worker process holds the state.
    pub worker: usize,
    /// The worker's restart count when the state was made; a restart invalidates the id.
    pub generation: u64,
    /// The backend's own id for the state.
    pub id: u64,
}

/// One node of a proof: the theorem, the tactics applied so far, and the goals they leave.
#[derive(Clone, Debug)]
pub struct ProofState {
    /// Everything before the theorem: imports, opens, variables, earlier declarations.
    pub header: Arc<str>,
    /// The theorem statement without its proof, e.g. `theorem t (p : Prop) (h : p) : p`.
    pub statement: Arc<str>,
    /// Tactics applied from the root, in order.
    pub steps: Vec<String>,
    /// The open goals, pretty-printed as Lean shows them (hypotheses, then `⊢ goal`).
    pub goals: Vec<String>,
    /// Backend-specific handle, when the backend keeps states alive.
    pub handle: Option<StateHandle>,
}

impl ProofState {
    /// The goals joined the way Lean prints a tactic state (blank line between goals),
    /// which is the text a predictor sees after `[GOAL]`.
    pub fn pretty(&self) -> String {
        self.goals.join("\n\n")
    }

    /// The proof so far as Lean text, one tactic per line, indented for a `by` block.
    pub fn proof_text(&self) -> String {
        proof_text(&self.steps)
    }
}

/// Renders tactics as the body of a `by` block: each step on its own line, indented two spaces
/// (continuation lines of a multi-line step keep their relative indentation).
pub fn proof_text(steps: &[String]) -> String {
    let mut out = String::new();
    for step in steps {
        for line in step.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What applying one tactic did.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// No goals remain and the step produced no error (still to be confirmed by `verify`).
    Proved(ProofState),
    /// The tactic worked and these goals remain.
    Open(ProofState),
    /// Lean rejected the tactic; the text is Lean's error message.
    Failed(String),
}

/// The seam between proof search and Lean.
pub trait ProofBackend: Send + Sync {
    /// Elaborates `header` + `statement` and returns the root state with its goals, or a clear
    /// error when the statement does not elaborate.
    fn start(&self, header: &str, statement: &str) -> Result<ProofState, LeanError>;

    /// Applies one tactic to a state.
    fn apply(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError>;

    /// The final word: re-checks `header` + `statement := by proof` as one command, followed by
    /// `#print axioms` on the theorem. Proved only when there is no error, no open goal, and
    /// every axiom the theorem rests on is allowed (`sorryAx`, reached through any lemma, never
    /// is).
    fn verify(&self, header: &str, statement: &str, proof: &str) -> Result<Verdict, LeanError>;

    /// Elaborates a whole file's text as one document and returns its diagnostics with Lean's
    /// positions (line from 1, column in characters): what `check` classifies. A Lean that dies
    /// without saying why is an error.
    fn elaborate(&self, text: &str) -> Result<Vec<Diagnostic>, LeanError>;

    /// The axioms a proof `verify` accepts may rest on.
    fn policy(&self) -> &AxiomPolicy;

    /// A short name for logs and reports (`repl`, `file`, `server`).
    fn name(&self) -> &'static str;
}
