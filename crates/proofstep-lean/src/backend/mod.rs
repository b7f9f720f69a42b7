//! The `ProofBackend` seam: what search, eval and serve know of Lean.
//!
//! A backend starts a theorem (root goals), applies one tactic to a state, and verifies a
//! finished proof by re-checking it whole. Implementations: the REPL (`repl`), `lean --json`
//! runs (`file`) and the language server (`server`), all writing theorems out the same way
//! (`layout`); [`open`] starts the one a [`BackendKind`] names.

use std::sync::Arc;
use std::time::Duration;

use crate::axioms::AxiomPolicy;
use crate::message::Diagnostic;
use crate::repl::pool::PoolConfig;
use crate::repl::worker::ReplConfig;
use crate::toolchain::Toolchain;
use crate::verdict::Verdict;
use crate::LeanError;

pub mod file;
pub mod layout;
pub mod lean_json;
pub mod repl;
pub mod server;

use file::FileBackend;
use repl::ReplBackend;
use server::{ServerBackend, ServerBackendOptions};

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

/// The Lean backends, as `--backend` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum BackendKind {
    /// The leanprover-community REPL (fastest; needs the repl built in your Lake project).
    Repl,
    /// Lean's language server (`lean --server`), editing the proof in place.
    Server,
    /// `lean --json` on the whole theorem at every step (needs only `lean`; slowest).
    File,
}

/// What every backend is started with.
#[derive(Clone, Debug)]
pub struct BackendOptions {
    /// Lean processes to run (the file backend starts one per request instead).
    pub workers: usize,
    /// How long one tactic may take before Lean is stopped and the step counts as failed.
    pub tactic_timeout: Duration,
    /// Private memory (MB) one Lean process may use before it is killed and restarted.
    pub memory_limit_mb: Option<u64>,
    /// The axioms a verified proof may rest on.
    pub policy: AxiomPolicy,
}

/// Starts the backend `kind` names with Lean from `toolchain`: the one place a backend is
/// chosen, for every command that checks proofs.
pub fn open(
    kind: BackendKind,
    toolchain: &Toolchain,
    options: BackendOptions,
) -> Result<Box<dyn ProofBackend>, LeanError> {
    let BackendOptions {
        workers,
        tactic_timeout,
        memory_limit_mb,
        policy,
    } = options;
    Ok(match kind {
        BackendKind::Server => {
            let mut options = ServerBackendOptions {
                workers,
                policy,
                ..ServerBackendOptions::default()
            };
            options.server.timeout = tactic_timeout;
            options.server.memory_limit_mb = memory_limit_mb;
            Box::new(ServerBackend::start(&toolchain.server_command()?, options)?)
        }
        BackendKind::File => Box::new(
            FileBackend::new(toolchain.lean_command()?)
                .with_timeout(tactic_timeout)
                .with_memory_limit(memory_limit_mb)
                .with_policy(policy),
        ),
        BackendKind::Repl => {
            let mut config = PoolConfig::new(toolchain.repl_command()?);
            config.workers = workers;
            config.repl = ReplConfig {
                timeout: tactic_timeout,
                memory_limit_mb,
                ..config.repl
            };
            Box::new(ReplBackend::new(config).with_policy(policy))
        }
    })
}
