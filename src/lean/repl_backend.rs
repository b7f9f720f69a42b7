//! `ReplBackend`: the `ProofBackend` over a pool of leanprover-community/repl processes.
//!
//! start: `{"cmd": "<statement> := by sorry", "env": <header env>}` and the sorry's proof state;
//! apply: `{"tactic", "proofState"}` on the worker that holds the state; verify: the whole
//! theorem as one command. A state whose worker has restarted since is rebuilt transparently
//! by replaying its steps from the statement.

use std::sync::Arc;

use crate::lean::diagnostics;
use crate::lean::pool::{Pool, PoolConfig};
use crate::lean::protocol::{CommandResponse, ProofStatus, Response, TacticResponse};
use crate::lean::repl::{error_texts, Repl};
use crate::lean::{
    LeanCommand, LeanError, Outcome, ProofBackend, ProofState, StateHandle, Verdict,
};

/// The REPL-backed prover seam: fast tactic mode on proof-state ids.
pub struct ReplBackend {
    pool: Pool,
}

impl ReplBackend {
    /// A backend over a pool with these settings.
    pub fn new(config: PoolConfig) -> Self {
        ReplBackend {
            pool: Pool::new(config),
        }
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

/// The Lean text `verify` checks: `statement := by` followed by the proof. A one-line proof
/// goes on the same line; a block (as `ProofState::proof_text` renders it, indented) goes
/// below; an unindented multi-line proof is indented two spaces.
pub fn theorem_text(statement: &str, proof: &str) -> String {
    let statement = statement.trim_end();
    let body = proof.trim_end();
    if body.trim().is_empty() {
        return format!("{statement} := by");
    }
    if !body.starts_with([' ', '\t', '\n']) && !body.contains('\n') {
        return format!("{statement} := by {body}");
    }
    if body.starts_with([' ', '\t']) {
        return format!("{statement} := by\n{body}");
    }
    let indented: Vec<String> = body
        .trim_start_matches('\n')
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect();
    format!("{statement} := by\n{}", indented.join("\n"))
}

/// Classifies the answer to a whole theorem checked as one command by the shared rule
/// (`crate::lean::diagnostics::verdict`): Error when any error is not "unsolved goals"; Open when
/// the only errors are unsolved goals (their goals kept); Sorry when a sorry is reported or
/// warned about; Proved otherwise.
pub fn verdict_of(response: &CommandResponse) -> Verdict {
    diagnostics::verdict(&response.messages, !response.sorries.is_empty())
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
        let cmd = theorem_text(statement, proof);
        let response = self
            .pool
            .with_header(header, |_, repl| repl.command(header, &cmd))?;
        Ok(verdict_of(&response))
    }

    fn name(&self) -> &'static str {
        "repl"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lean::Status;

    #[test]
    fn theorem_text_puts_one_liners_inline_and_blocks_below() {
        assert_eq!(
            theorem_text("theorem t : 1 = 1", "rfl"),
            "theorem t : 1 = 1 := by rfl"
        );
        assert_eq!(
            theorem_text("theorem t : 1 = 1", "  skip\n  rfl\n"),
            "theorem t : 1 = 1 := by\n  skip\n  rfl"
        );
        assert_eq!(
            theorem_text("theorem t : 1 = 1", "skip\nrfl"),
            "theorem t : 1 = 1 := by\n  skip\n  rfl"
        );
    }

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
    fn whole_theorem_answers_follow_the_shared_verdict_rule() {
        let v = |json: &str| verdict_of(&serde_json::from_str::<CommandResponse>(json).unwrap());
        let at = r#""pos": {"line": 1, "column": 0}, "endPos": {"line": 1, "column": 5}"#;
        let open = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "error", {at}, "data": "unsolved goals\ncase a\n⊢ p\ncase b\n⊢ q"}}]}}"#
        ));
        assert_eq!(open.status, Status::Open);
        assert_eq!(open.goals, ["case a\n⊢ p", "case b\n⊢ q"]);
        let warned = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "warning", {at}, "data": "declaration uses ‘sorry’"}}]}}"#
        ));
        assert_eq!(warned.status, Status::Sorry);
        let listed = v(r#"{"env": 1, "sorries": [{"goal": "⊢ p", "proofState": 0}]}"#);
        assert_eq!(listed.status, Status::Sorry);
        let failed = v(&format!(
            r#"{{"env": 1, "messages": [{{"severity": "error", {at}, "data": "Type mismatch"}}, {{"severity": "error", {at}, "data": "unsolved goals\n⊢ q"}}]}}"#
        ));
        assert_eq!(failed.status, Status::Error);
        assert_eq!(v(r#"{"env": 1}"#).status, Status::Proved);
    }
}
