//! `ReplBackend`: the `ProofBackend` over a pool of leanprover-community/repl processes.
//!
//! start: `{"cmd": "<statement> := by sorry", "env": <header env>}` and the sorry's proof state;
//! apply: `{"tactic", "proofState"}` on the worker that holds the state; verify: the whole
//! theorem as one command. A state whose worker has restarted since is rebuilt transparently
//! by replaying its steps from the statement.

use std::sync::Arc;

use crate::axioms::AxiomPolicy;
use crate::backend::layout::{ProbeAnswers, TheoremText};
use crate::message;
use crate::message::Diagnostic;
use crate::repl::pool::{Pool, PoolConfig};
use crate::repl::protocol::{
    CommandResponse, Message, ProofStatus, Response, Severity, TacticResponse,
};
use crate::repl::worker::{error_texts, Repl};
use crate::reserved::{same_build, ImportsCache};
use crate::{LeanCommand, LeanError, Outcome, ProofBackend, ProofState, StateHandle, Verdict};

/// The REPL-backed prover seam: fast tactic mode on proof-state ids.
pub struct ReplBackend {
    pool: Pool,
    policy: AxiomPolicy,
    /// What each module header's imports declare among the reserved names.
    imports: ImportsCache,
}

impl ReplBackend {
    /// A backend over a pool with these settings, accepting the default allowed axioms.
    pub fn new(config: PoolConfig) -> Self {
        ReplBackend {
            pool: Pool::new(config),
            policy: AxiomPolicy::default(),
            imports: ImportsCache::default(),
        }
    }

    /// The same backend accepting proofs that rest on the axioms `policy` allows.
    pub fn with_policy(mut self, policy: AxiomPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A backend with default settings running `command` (e.g. `lake env <path>/repl`).
    pub fn from_command(command: LeanCommand) -> Self {
        ReplBackend::new(PoolConfig::new(command))
    }

    /// The worker pool (for statistics).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs one tactic on the state behind `handle`, on the worker that holds it.
    fn step(
        &self,
        base: &ProofState,
        handle: &StateHandle,
        tactic: &str,
    ) -> Result<Outcome, LeanError> {
        self.pool.with_worker(handle.worker, |index, repl| {
            step_on(repl, index, base, handle, tactic)
        })
    }

    /// Rebuilds `state` on one worker (under one lock, so no recycling interrupts it) by
    /// starting its theorem again and replaying its steps, then runs `tactic` on it.
    fn replay_and_step(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError> {
        self.pool.with_header(&state.header, |index, repl| {
            let mut current = start_on(repl, index, &state.header, &state.statement)?;
            for (i, step) in state.steps.iter().enumerate() {
                let handle = current.handle.clone().expect("repl states carry handles");
                current = match step_on(repl, index, &current, &handle, step)? {
                    Outcome::Open(next) | Outcome::Proved(next) => next,
                    Outcome::Failed(why) => {
                        return Err(LeanError::Repl(format!(
                            "rebuilding a proof state after its worker restarted failed at step {} (`{step}`): {why}",
                            i + 1
                        )))
                    }
                };
            }
            let handle = current.handle.clone().expect("repl states carry handles");
            step_on(repl, index, &current, &handle, tactic)
        })
    }
}

/// `statement := by sorry` on top of the header; the sorry's proof state is the root.
fn start_on(
    repl: &mut Repl,
    index: usize,
    header: &str,
    statement: &str,
) -> Result<ProofState, LeanError> {
    let cmd = format!("{} := by sorry", statement.trim_end());
    let response = repl.command(header, &cmd)?;
    let (goal, id) = root_of(&response, &cmd)?;
    Ok(ProofState {
        header: Arc::from(header),
        statement: Arc::from(statement),
        steps: Vec::new(),
        goals: vec![goal],
        handle: Some(StateHandle {
            worker: index,
            generation: repl.generation(),
            id,
        }),
    })
}

/// The root goal and proof state of the answer to `statement := by sorry`, or why there is none.
pub fn root_of(response: &CommandResponse, cmd: &str) -> Result<(String, u64), LeanError> {
    let errors = error_texts(response);
    if !errors.is_empty() {
        return Err(LeanError::Statement(errors.join("\n")));
    }
    response
        .sorries
        .iter()
        .find_map(|s| s.proof_state.map(|id| (s.goal.clone(), id)))
        .ok_or_else(|| {
            LeanError::Statement(format!(
                "`{cmd}` left no goal to prove; write the statement without its proof, e.g. `theorem t (p : Prop) (h : p) : p`"
            ))
        })
}

/// One tactic on proof state `handle` of this worker, read against `base`.
fn step_on(
    repl: &mut Repl,
    index: usize,
    base: &ProofState,
    handle: &StateHandle,
    tactic: &str,
) -> Result<Outcome, LeanError> {
    let response = repl.tactic(handle.generation, handle.id, tactic)?;
    let generation = repl.generation();
    let next = |r: &TacticResponse| ProofState {
        header: base.header.clone(),
        statement: base.statement.clone(),
        steps: base
            .steps
            .iter()
            .cloned()
            .chain([tactic.to_string()])
            .collect(),
        goals: r.goals.clone(),
        handle: Some(StateHandle {
            worker: index,
            generation,
            id: r.proof_state,
        }),
    };
    match response {
        Response::Tactic(r) => Ok(classify_tactic(&r, next)),
        Response::Error(e) => match e.lean_error() {
            Some(text) => Ok(Outcome::Failed(text.to_string())),
            None => Err(LeanError::Repl(e.message)),
        },
        Response::Command(_) => Err(LeanError::Garbage("a command answer to a tactic".into())),
    }
}

/// What a tactic answer means for the search: Proved only with `Completed` (or, from REPLs
/// without `proofStatus`, no goals, no error and no sorry); any error message, sorry, or
/// unfinished status is a failure carrying Lean's words.
fn classify_tactic(r: &TacticResponse, next: impl Fn(&TacticResponse) -> ProofState) -> Outcome {
    let errors: Vec<&str> = r
        .messages
        .iter()
        .filter(|m| m.is_error())
        .map(|m| m.data.as_str())
        .collect();
    if !errors.is_empty() {
        return Outcome::Failed(errors.join("\n"));
    }
    if !r.sorries.is_empty() {
        return Outcome::Failed("the tactic uses `sorry`".into());
    }
    match &r.proof_status {
        Some(ProofStatus::Completed) if r.goals.is_empty() => Outcome::Proved(next(r)),
        Some(ProofStatus::OpenGoals) if !r.goals.is_empty() => Outcome::Open(next(r)),
        Some(other) => {
            Outcome::Failed(format!("the REPL reports: {}", String::from(other.clone())))
        }
        None if r.goals.is_empty() => Outcome::Proved(next(r)),
        None => Outcome::Open(next(r)),
    }
}

/// The final verdict on a theorem checked as one command laid out by `TheoremText::for_verify`
/// (the text after the header, whose first line is line 1 of the answer's positions): the shared
/// rule (`crate::message::verdict`) on the theorem's messages, corrected by the
/// `#print axioms` probes' answers under `policy`.
pub fn verdict_of(
    response: &CommandResponse,
    layout: &TheoremText,
    policy: &AxiomPolicy,
) -> Verdict {
    let offset = layout.after_header().1;
    let mut answers = ProbeAnswers::default();
    let mut own = Vec::with_capacity(response.messages.len());
    for m in &response.messages {
        // The answer's lines count from 1 at the text after the header.
        let line = u32::try_from(m.pos.line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .map(|l| l + offset);
        let answered = line.is_some_and(|line| {
            layout.read_probe(
                &mut answers,
                line,
                m.is_error(),
                m.severity == Severity::Info,
                &m.data,
            )
        });
        if !answered {
            own.push(m);
        }
    }
    let verdict = message::verdict(own, !response.sorries.is_empty());
    layout.judge(verdict, &answers, policy)
}

impl ProofBackend for ReplBackend {
    fn start(&self, header: &str, statement: &str) -> Result<ProofState, LeanError> {
        self.pool.with_header(header, |index, repl| {
            start_on(repl, index, header, statement)
        })
    }

    fn apply(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError> {
        let handle = state.handle.as_ref().ok_or_else(|| {
            LeanError::Repl(
                "this proof state was not made by the repl backend; start the theorem with it"
                    .into(),
            )
        })?;
        match self.step(state, handle, tactic) {
            Err(LeanError::StaleState(id)) => {
                tracing::debug!(
                    id,
                    worker = handle.worker,
                    "proof state is stale; replaying its steps"
                );
                self.replay_and_step(state, tactic)
            }
            other => other,
        }
    }

    fn verify(&self, header: &str, statement: &str, proof: &str) -> Result<Verdict, LeanError> {
        // Asked in a command of its own with no environment: the header's environment holds
        // the header's other commands too, which must not count as imports.
        // The worker imports the header again when its imports were rebuilt since (the stamp
        // it recorded differs), so the proof is checked against the imports answered about.
        let stamp = self.pool.config().repl.command.library_stamp(header);
        let imports = self
            .imports
            .answers(header, &self.policy, &stamp, |text| self.elaborate(text))?;
        let layout = TheoremText::for_verify(header, statement, proof, &imports);
        let (cmd, _) = layout.after_header();
        let response = self
            .pool
            .with_header(header, |_, repl| repl.command_in_build(header, cmd, &stamp))?;
        let command = &self.pool.config().repl.command;
        same_build(command, header, &stamp, statement)?;
        Ok(verdict_of(&response, &layout, &self.policy))
    }

    fn elaborate(&self, text: &str) -> Result<Vec<Diagnostic>, LeanError> {
        // No environment: the REPL reads the text's own imports, as a file.
        let response = self
            .pool
            .with_header("", |_, repl| repl.command("", text))?;
        Ok(response
            .messages
            .iter()
            .map(Message::to_diagnostic)
            .collect())
    }

    fn policy(&self) -> &AxiomPolicy {
        &self.policy
    }

    fn name(&self) -> &'static str {
        "repl"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reserved::ReservedAnswers;
    use crate::Status;

    fn outcome(json: &str) -> Outcome {
        let r: TacticResponse = serde_json::from_str(json).unwrap();
        let base = ProofState {
            header: Arc::from(""),
            statement: Arc::from("def f : Nat"),
            steps: Vec::new(),
            goals: vec!["⊢ Nat".into()],
            handle: None,
        };
        classify_tactic(&r, |r| ProofState {
            goals: r.goals.clone(),
            ..base.clone()
        })
    }

    #[test]
    fn answers_of_repls_without_proof_status_are_read_strictly() {
        // Recorded answers (readme, invalid_tactic, induction) as older REPLs send them.
        assert!(matches!(
            outcome(r#"{"proofState": 2, "goals": []}"#),
            Outcome::Proved(_)
        ));
        assert!(
            matches!(outcome(r#"{"proofState": 1, "goals": ["x : Unit\n⊢ Int"]}"#), Outcome::Open(s) if s.goals.len() == 1)
        );
        let error = r#"{"proofState": 1, "messages": [{"severity": "error", "pos": {"line": 0, "column": 0},
            "endPos": {"line": 0, "column": 0}, "data": "Unknown identifier `my_fake_premise`"}], "goals": []}"#;
        assert!(
            matches!(outcome(error), Outcome::Failed(t) if t == "Unknown identifier `my_fake_premise`")
        );
        let sorry = r#"{"sorries": [{"proofState": 3, "goal": "case zero\n⊢ 0 = 0"}], "proofState": 5, "goals": []}"#;
        assert!(matches!(outcome(sorry), Outcome::Failed(_)));
    }

    #[test]
    fn only_completed_is_proved_when_the_status_is_given() {
        assert!(matches!(
            outcome(r#"{"proofStatus": "Completed", "proofState": 2, "goals": []}"#),
            Outcome::Proved(_)
        ));
        for status in [
            "Incomplete: contains metavariable(s)",
            "Error: kernel type check failed: x",
            "Not verified: more than one initial goal",
            "Something new",
        ] {
            let json = format!(r#"{{"proofStatus": "{status}", "proofState": 2, "goals": []}}"#);
            assert!(
                matches!(outcome(&json), Outcome::Failed(t) if t.contains(status)),
                "{status}"
            );
        }
    }

    #[test]
    fn whole_theorem_answers_follow_the_shared_verdict_rule_and_the_probe() {
        // Imports that declare every reserved name (as `Init` does): none is asked about at
        // the end.
        let layout = TheoremText::for_verify(
            "prelude\nimport Mini",
            "theorem t (p q : Prop) : p",
            "skip",
            &ReservedAnswers::imports_declare_all(),
        );
        // The command the REPL gets: the free-name probe on line 1, the statement on line 2,
        // the probe on line 5.
        assert_eq!(
            layout.after_header().0,
            crate::axioms::with_probe_options(
                "#print axioms _root_.t\ntheorem t (p q : Prop) : p := by\n  skip\n\n#print axioms t\n"
            )
        );
        let policy = AxiomPolicy::default();
        let v = |json: &str| {
            verdict_of(
                &serde_json::from_str::<CommandResponse>(json).unwrap(),
                &layout,
                &policy,
            )
        };
        let at = r#""pos": {"line": 2, "column": 0}, "endPos": {"line": 2, "column": 5}"#;
        let probe = |axioms: &str| {
            format!(
                r#"{{"severity": "info", "pos": {{"line": 5, "column": 0}}, "endPos": {{"line": 5, "column": 6}}, "data": "'t' depends on axioms: [{axioms}]"}}"#
            )
        };
        let clean = r#"{"severity": "info", "pos": {"line": 5, "column": 0}, "data": "'t' does not depend on any axioms"}"#;
        let free = r#"{"severity": "error", "pos": {"line": 1, "column": 14}, "data": "unknown constant '_root_.t'"}"#;
        let taken = r#"{"severity": "info", "pos": {"line": 1, "column": 0}, "data": "'t' does not depend on any axioms"}"#;
        let open = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "error", {at}, "data": "unsolved goals\ncase a\n⊢ p\ncase b\n⊢ q"}}, {}]}}"#,
            probe("sorryAx")
        ));
        assert_eq!(open.status, Status::Open);
        assert_eq!(open.goals, ["case a\n⊢ p", "case b\n⊢ q"]);
        let warned = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "warning", {at}, "data": "declaration uses ‘sorry’"}}, {}]}}"#,
            probe("sorryAx")
        ));
        assert_eq!(warned.status, Status::Sorry);
        let listed = v(&format!(
            r#"{{"env": 1, "sorries": [{{"goal": "⊢ p", "proofState": 0}}], "messages": [{}]}}"#,
            probe("sorryAx")
        ));
        assert_eq!(listed.status, Status::Sorry);
        let failed = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "error", {at}, "data": "Type mismatch"}}, {{"severity": "error", {at}, "data": "unsolved goals\n⊢ q"}}]}}"#
        ));
        assert_eq!(failed.status, Status::Error);
        assert_eq!(
            v(&format!(r#"{{"env": 1, "messages": [{free}, {clean}]}}"#)).status,
            Status::Proved
        );
        // The header already declared `t`: the probe after the statement may be about it.
        assert_eq!(
            v(&format!(r#"{{"env": 1, "messages": [{taken}, {clean}]}}"#)).status,
            Status::Error
        );
        // A lemma of the header whose proof is `sorry`, or failed: only the probe knows.
        let through_lemma = v(&format!(
            r#"{{"env": 1, "messages": [{free}, {}]}}"#,
            probe("sorryAx")
        ));
        assert_eq!(through_lemma.status, Status::Sorry);
        let cheat = v(&format!(
            r#"{{"env": 1, "messages": [{free}, {}]}}"#,
            probe("propext, cheat")
        ));
        assert_eq!(cheat.status, Status::Axiom);
        assert_eq!(cheat.axioms, ["cheat"]);
        // No probe answer (the command was cut short): nothing is confirmed.
        assert_eq!(v(r#"{"env": 1}"#).status, Status::Error);
        // No answer before the statement (the header swallowed the free-name probe): nothing is
        // confirmed either.
        assert_eq!(
            v(&format!(r#"{{"env": 1, "messages": [{clean}]}}"#)).status,
            Status::Error
        );
        // Without the answers about what the imports declare, nothing is confirmed.
        let unasked_layout = TheoremText::for_verify(
            "prelude\nimport Mini",
            "theorem t (p q : Prop) : p",
            "skip",
            &ReservedAnswers::default(),
        );
        let unasked = verdict_of(
            &serde_json::from_str::<CommandResponse>(&format!(
                r#"{{"env": 1, "messages": [{free}, {clean}]}}"#
            ))
            .unwrap(),
            &unasked_layout,
            &policy,
        );
        assert_eq!(unasked.status, Status::Error);
    }
}
