//! The `FileBackend`: a `ProofBackend` that needs only a `lean`, no repl or server: every
//! request is one `lean --json` run (`backend::lean_json`) of the theorem's text.
//!
//! Goals come from a trick: the proof so far is followed by `done`, which fails with
//! "unsolved goals" and the goals when any remain. `verify` appends `#print axioms` for the
//! theorem (see `crate::backend::layout`), so a proof resting on a `sorry` elsewhere or on a
//! foreign axiom is never proved.

use std::sync::Arc;
use std::time::Duration;

use crate::axioms::AxiomPolicy;
use crate::backend::layout::{ProbeAnswers, TheoremText};
use crate::backend::lean_json::{check_text, LeanRun, DEFAULT_TIMEOUT};
use crate::backend::{Outcome, ProofBackend, ProofState};
use crate::command::LeanCommand;
use crate::error::LeanError;
use crate::message::{self, Diagnostic, Severity};
use crate::reserved::{same_build, ImportsCache};
use crate::source::mentions_sorry;
use crate::verdict::Verdict;

fn messages<'a>(diags: impl Iterator<Item = &'a Diagnostic>) -> String {
    diags
        .map(|d| d.data.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diagnostics of one run of a theorem's text, sorted by the part of the text they are
/// about.
struct Parts<'a> {
    header: Vec<&'a Diagnostic>,
    statement: Vec<&'a Diagnostic>,
    proof: Vec<&'a Diagnostic>,
    probes: ProbeAnswers,
}

impl<'a> Parts<'a> {
    fn of(layout: &TheoremText, run: &'a LeanRun) -> Parts<'a> {
        let theorem_line = layout.pos(layout.statement_start).line;
        let by = layout.pos(layout.by_start());
        let mut parts = Parts {
            header: Vec::new(),
            statement: Vec::new(),
            proof: Vec::new(),
            probes: ProbeAnswers::default(),
        };
        for d in &run.output.diagnostics {
            let answered = layout.read_probe(
                &mut parts.probes,
                d.pos.line.saturating_sub(1),
                d.is_error(),
                d.severity == Severity::Information,
                &d.data,
            );
            if answered {
                continue;
            }
            if d.is_positionless_unsolved_goals() {
                // The theorem's goals after a parse error in its proof.
                parts.proof.push(d);
            } else if d.pos.line < theorem_line {
                parts.header.push(d);
            } else if d.pos < by {
                parts.statement.push(d);
            } else {
                parts.proof.push(d);
            }
        }
        parts
    }

    fn header_error(&self) -> Option<LeanError> {
        let errors = messages(self.header.iter().copied().filter(|d| d.is_error()));
        (!errors.is_empty()).then_some(LeanError::Header(errors))
    }

    fn statement_error(&self) -> Option<LeanError> {
        let errors = messages(self.statement.iter().copied().filter(|d| d.is_error()));
        (!errors.is_empty()).then_some(LeanError::Statement(errors))
    }
}

/// The `ProofBackend` that re-checks header + statement + steps with `lean --json` in a fresh
/// process for every request. Slower than the repl, but needs nothing beyond `lean`; requests
/// from several threads run as parallel processes.
#[derive(Clone, Debug)]
pub struct FileBackend {
    cmd: LeanCommand,
    timeout: Duration,
    memory_limit_mb: Option<u64>,
    policy: AxiomPolicy,
    /// What each module header's imports declare among the reserved names.
    imports: Arc<ImportsCache>,
}

impl FileBackend {
    /// A backend running `cmd` (`lean`, or `lake env lean`) with the default timeout and the
    /// default allowed axioms.
    pub fn new(cmd: LeanCommand) -> Self {
        FileBackend {
            cmd,
            timeout: DEFAULT_TIMEOUT,
            memory_limit_mb: None,
            policy: AxiomPolicy::default(),
            imports: Arc::default(),
        }
    }

    /// The same backend killing a Lean whose private memory passes `limit_mb` (the step then
    /// fails with `LeanError::OutOfMemory`).
    pub fn with_memory_limit(mut self, limit_mb: Option<u64>) -> Self {
        self.memory_limit_mb = limit_mb;
        self
    }

    /// The same backend with another per-check timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same backend accepting proofs that rest on the axioms `policy` allows.
    pub fn with_policy(mut self, policy: AxiomPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The command it runs Lean with.
    pub fn command(&self) -> &LeanCommand {
        &self.cmd
    }

    fn run(&self, text: &str) -> Result<LeanRun, LeanError> {
        let run = check_text(&self.cmd, text, self.timeout, self.memory_limit_mb)?;
        if run.crashed() {
            return Err(LeanError::Died(run.crash_report()));
        }
        Ok(run)
    }

    /// Checks `steps` followed by `done`: Proved, Open with the goals `done` reports, or Failed.
    fn step(
        &self,
        header: &str,
        statement: &str,
        steps: &[String],
    ) -> Result<(Outcome, Vec<String>), LeanError> {
        let layout = TheoremText::new(header, statement, steps).with_done();
        let run = self.run(&layout.text)?;
        let parts = Parts::of(&layout, &run);
        if let Some(e) = parts.header_error() {
            return Err(e);
        }
        // Without steps an error before `by` is the statement's own. After steps (the
        // statement elaborated when the theorem started) it is theirs: a proof citing its own
        // theorem makes Lean report "fail to show termination" at the theorem's name.
        if steps.is_empty() {
            if let Some(e) = parts.statement_error() {
                return Err(e);
            }
        }
        let done_line = layout.done_start.map(|b| layout.pos(b).line);
        let at_done = |d: &Diagnostic| Some(d.pos.line) == done_line && d.is_unsolved_goals();
        let errors: Vec<&Diagnostic> = parts
            .statement
            .iter()
            .chain(parts.proof.iter())
            .copied()
            .filter(|d| d.is_error())
            .collect();
        let failures: Vec<&Diagnostic> = errors.iter().copied().filter(|d| !at_done(d)).collect();
        if !failures.is_empty() {
            return Ok((Outcome::Failed(messages(failures.into_iter())), Vec::new()));
        }
        let sorry = parts.proof.iter().any(|d| d.is_sorry_warning())
            || steps.iter().any(|s| mentions_sorry(s));
        if sorry {
            return Ok((
                Outcome::Failed(
                    "the tactic closes a goal with `sorry`, which proves nothing".into(),
                ),
                Vec::new(),
            ));
        }
        let goals: Vec<String> = errors.iter().flat_map(|d| d.goals()).collect();
        let state = ProofState {
            header: Arc::from(header),
            statement: Arc::from(statement),
            steps: steps.to_vec(),
            goals: goals.clone(),
            handle: None,
        };
        Ok(if errors.is_empty() {
            (Outcome::Proved(state), goals)
        } else {
            (Outcome::Open(state), goals)
        })
    }
}

impl ProofBackend for FileBackend {
    fn start(&self, header: &str, statement: &str) -> Result<ProofState, LeanError> {
        match self.step(header, statement, &[])? {
            (Outcome::Open(state), goals) if !goals.is_empty() => Ok(state),
            (Outcome::Failed(message), _) => Err(LeanError::Statement(message)),
            _ => Err(LeanError::Statement(
                "Lean reported no goal for this statement; give a `theorem`/`example` with a type"
                    .into(),
            )),
        }
    }

    fn apply(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError> {
        let mut steps = state.steps.clone();
        steps.push(tactic.to_string());
        Ok(self.step(&state.header, &state.statement, &steps)?.0)
    }

    fn verify(&self, header: &str, statement: &str, proof: &str) -> Result<Verdict, LeanError> {
        // Every check runs a fresh `lean`, which loads the imports as they are now.
        let stamp = self.cmd.library_stamp(header);
        let imports = self
            .imports
            .answers(header, &self.policy, &stamp, |text| self.elaborate(text))?;
        let layout = TheoremText::for_verify(header, statement, proof, &imports);
        let run = self.run(&layout.text)?;
        same_build(&self.cmd, header, &stamp, statement)?;
        let parts = Parts::of(&layout, &run);
        if let Some(e) = parts.header_error() {
            return Err(e);
        }
        let own = parts.statement.iter().chain(parts.proof.iter()).copied();
        let verdict = message::verdict(own, false);
        Ok(layout.judge(verdict, &parts.probes, &self.policy))
    }

    fn elaborate(&self, text: &str) -> Result<Vec<Diagnostic>, LeanError> {
        Ok(self.run(text)?.output.diagnostics)
    }

    fn policy(&self) -> &AxiomPolicy {
        &self.policy
    }

    fn name(&self) -> &'static str {
        "file"
    }
}
