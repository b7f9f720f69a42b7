//! The refine loop: up to `attempts` independent attempts, each a first request and up to
//! `rounds` repairs. Every answer is a candidate like any other — the search's filter first
//! (no `sorry`, no declarations, no `#` commands), then the backend's `verify` (the whole
//! theorem re-checked with the `#print axioms` probe, under the backend's axiom policy) — and a
//! failure's feedback (`feedback::diagnose`) goes into the next request. With a step model,
//! when every attempt fails, the best-first search starts from the longest prefix of a failed
//! proof that Lean accepted, within the time left. A failed proof whose first steps already
//! close every goal is verified without the rest.

use std::time::{Duration, Instant};

use tracing::info;

use crate::lean::{ProofBackend, ProofState};
use crate::model::Predictor;
use crate::refine::answer::proof_from_answer;
use crate::refine::error::RefineError;
use crate::refine::feedback::{diagnose, Feedback};
use crate::refine::model::{FailedProof, ProofAsk, Theorem, WholeProofModel};
use crate::refine::result::{
    FoundBy, PrefixSearch, RefineResult, RefineStop, RoundRecord, TokenTotals,
};
use crate::search::{check_candidate, search_from, SearchConfig};

/// The budget of a refine run.
#[derive(Clone, Debug)]
pub struct RefineConfig {
    /// Independent attempts.
    pub attempts: usize,
    /// Repairs per attempt after its first request.
    pub rounds: usize,
    /// Wall time for the whole run, the search after the prefix included.
    pub time_limit: Duration,
    /// Seed of the requests (each request's is derived from it).
    pub seed: u64,
}

/// The step model and search budget of `--then-search`.
pub struct ThenSearch<'a> {
    /// The step model.
    pub predictor: &'a dyn Predictor,
    /// The search's settings (its time limit is cut to what the run has left).
    pub config: SearchConfig,
}

/// The longest accepted prefix seen so far, and where it came from.
struct Prefix {
    state: ProofState,
    attempt: usize,
    round: usize,
}

/// Proves `theorem` with `model`, checking each answer on `backend`.
pub fn refine(
    backend: &dyn ProofBackend,
    model: &dyn WholeProofModel,
    theorem: &Theorem,
    lean_version: &str,
    config: &RefineConfig,
    then_search: Option<ThenSearch<'_>>,
) -> Result<RefineResult, RefineError> {
    let began = Instant::now();
    let deadline = began + config.time_limit;
    let root = backend
        .start(&theorem.header, &theorem.statement)
        .map_err(RefineError::Start)?;
    let mut result = RefineResult {
        theorem: theorem.name.clone(),
        proved: false,
        stop: RefineStop::Exhausted,
        proof: None,
        found_by: None,
        attempt: None,
        round: None,
        model_calls: 0,
        tokens: TokenTotals::default(),
        rounds: Vec::new(),
        search: None,
        secs: 0.0,
    };
    let mut best = Prefix {
        state: root,
        attempt: 0,
        round: 0,
    };
    'attempts: for attempt in 1..=config.attempts {
        let mut failed: Option<FailedProof> = None;
        for round in 0..=config.rounds {
            if Instant::now() >= deadline {
                result.stop = RefineStop::TimeLimit;
                break 'attempts;
            }
            let ask = ProofAsk {
                theorem,
                lean_version,
                repair: failed.as_ref(),
                seed: request_seed(config, attempt, round),
            };
            let proposal = model.propose(&ask).map_err(RefineError::Model)?;
            result.model_calls += 1;
            match proposal.usage {
                Some(u) => {
                    result.tokens.prompt += u.prompt;
                    result.tokens.completion += u.completion;
                }
                None => result.tokens.unreported += 1,
            }
            let proof = proof_from_answer(&proposal.text);
            let feedback = match check_candidate(&proof) {
                Err(reason) => Feedback::refused(&reason.to_string()),
                Ok(()) => {
                    let verdict = backend
                        .verify(&theorem.header, &theorem.statement, &proof)
                        .map_err(RefineError::Lean)?;
                    if verdict.is_proved() {
                        info!(attempt, round, "whole proof verified");
                        result.rounds.push(RoundRecord {
                            attempt,
                            round,
                            proof: proof.clone(),
                            proved: true,
                            feedback: None,
                            usage: proposal.usage,
                        });
                        return Ok(proved(result, proof, attempt, round, began));
                    }
                    let diagnosis =
                        diagnose(backend, theorem, &proof, &verdict).map_err(RefineError::Lean)?;
                    // Steps that close every goal before the proof ends: the proof without
                    // the rest, verified like any other.
                    if let Some(steps) = &diagnosis.closing_prefix {
                        let shorter = steps.join("\n");
                        let verdict = backend
                            .verify(&theorem.header, &theorem.statement, &shorter)
                            .map_err(RefineError::Lean)?;
                        if verdict.is_proved() {
                            info!(attempt, round, "the proof's first steps verified alone");
                            result.rounds.push(RoundRecord {
                                attempt,
                                round,
                                proof: shorter.clone(),
                                proved: true,
                                feedback: None,
                                usage: proposal.usage,
                            });
                            return Ok(proved(result, shorter, attempt, round, began));
                        }
                    }
                    if diagnosis.reached.steps.len() > best.state.steps.len() {
                        best = Prefix {
                            state: diagnosis.reached,
                            attempt,
                            round,
                        };
                    }
                    diagnosis.feedback
                }
            };
            info!(attempt, round, status = %feedback.status, "whole proof failed");
            result.rounds.push(RoundRecord {
                attempt,
                round,
                proof: proof.clone(),
                proved: false,
                feedback: Some(feedback.clone()),
                usage: proposal.usage,
            });
            failed = Some(FailedProof { proof, feedback });
        }
    }
    if let Some(then) = then_search {
        let left = deadline.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            let mut search_config = then.config;
            search_config.time_limit = left;
            let prefix = best.state.steps.clone();
            let found = search_from(
                backend,
                then.predictor,
                best.state,
                &search_config,
                Instant::now(),
            )
            .map_err(RefineError::Search)?;
            if let Some(steps) = &found.proof {
                result.proved = true;
                result.stop = RefineStop::Proved;
                result.proof = Some(steps.join("\n"));
                result.found_by = Some(FoundBy::PrefixSearch);
                result.attempt = (best.attempt > 0).then_some(best.attempt);
                result.round = (best.attempt > 0).then_some(best.round);
            }
            result.search = Some(PrefixSearch {
                prefix,
                proved: found.proved,
                counts: found.counts,
            });
        }
    }
    result.secs = began.elapsed().as_secs_f64();
    Ok(result)
}

/// `result` with the model's `proof` from `attempt`'s `round` verified.
fn proved(
    mut result: RefineResult,
    proof: String,
    attempt: usize,
    round: usize,
    began: Instant,
) -> RefineResult {
    result.proved = true;
    result.stop = RefineStop::Proved;
    result.proof = Some(proof);
    result.found_by = Some(FoundBy::Model);
    result.attempt = Some(attempt);
    result.round = Some(round);
    result.secs = began.elapsed().as_secs_f64();
    result
}

/// A request's seed: distinct for every attempt and round of a run, below 2³¹ (servers
/// differ in how wide a seed they take).
fn request_seed(config: &RefineConfig, attempt: usize, round: usize) -> u64 {
    let index = (attempt - 1) * (config.rounds + 1) + round;
    config.seed.wrapping_add(index as u64) & 0x7fff_ffff
}
