//! One attempt of the refine loop: a first request and up to `rounds` repairs, each answer a
//! candidate like any other — the search's filter first (no `sorry`, no declarations, no `#`
//! commands), then the backend's `verify` (the whole theorem re-checked with the `#print
//! axioms` probe, under the backend's axiom policy) — and a failure's feedback
//! (`feedback::diagnose`) in the next request. A failed proof whose first steps already close
//! every goal is verified without the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tracing::info;

use crate::lean::{ProofBackend, ProofState};
use crate::refine::answer::proof_from_answer;
use crate::refine::error::RefineError;
use crate::refine::feedback::{diagnose, Feedback};
use crate::refine::model::{FailedProof, ProofAsk, Theorem, WholeProofModel};
use crate::refine::result::{RoundRecord, TokenTotals};
use crate::refine::run::RefineConfig;
use crate::search::check_candidate;

/// The longest whole proof Lean is given: a longer answer (from a server that ignores the
/// request's `max_tokens`) is refused and kept cut to this, so that no Lean run, repair
/// prompt or result record grows with it.
const MAX_PROOF_BYTES: usize = 64 * 1024;

/// `proof` cut to `MAX_PROOF_BYTES` (at a character's start), with why, when it is longer.
fn cut_to_bound(proof: &mut String) -> Option<String> {
    if proof.len() <= MAX_PROOF_BYTES {
        return None;
    }
    let long = proof.len();
    let cut = (0..=MAX_PROOF_BYTES)
        .rev()
        .find(|&i| proof.is_char_boundary(i))
        .unwrap_or(0);
    proof.truncate(cut);
    Some(format!(
        "is {long} bytes long, more than the {MAX_PROOF_BYTES} a whole proof may be (kept cut to that)"
    ))
}

/// What every attempt of one run shares.
pub(crate) struct Context<'a> {
    pub backend: &'a dyn ProofBackend,
    pub model: &'a dyn WholeProofModel,
    pub theorem: &'a Theorem,
    pub lean_version: &'a str,
    pub config: &'a RefineConfig,
    /// The state of the theorem's statement, where every proof's steps start.
    pub root: &'a ProofState,
    /// The run's time limit: no request or Lean call starts after it.
    pub deadline: Instant,
}

/// How one attempt went.
pub(crate) struct AttemptOutcome {
    /// The attempt, from 1.
    pub attempt: usize,
    /// Its rounds, in order.
    pub rounds: Vec<RoundRecord>,
    /// Their tokens.
    pub tokens: TokenTotals,
    /// The round and the verified proof, when one was.
    pub proved: Option<(usize, String)>,
    /// The longest prefix of its failed proofs that Lean accepted, and its round.
    pub reached: Option<(ProofState, usize)>,
    /// It stopped at the time limit.
    pub timed_out: bool,
    /// When it first asked the model (None: the time was up before it could).
    pub first_ask: Option<Instant>,
}

/// Runs attempt `attempt`; gives up before a request when an attempt numbered lower than it
/// has proved the theorem (`proved_by`, the lowest such number), since the run reports that
/// one, and records its own success there.
pub(crate) fn run_attempt(
    cx: &Context<'_>,
    attempt: usize,
    proved_by: &AtomicUsize,
) -> Result<AttemptOutcome, RefineError> {
    let (theorem, backend) = (cx.theorem, cx.backend);
    let mut out = AttemptOutcome {
        attempt,
        rounds: Vec::new(),
        tokens: TokenTotals::default(),
        proved: None,
        reached: None,
        timed_out: false,
        first_ask: None,
    };
    let mut failed: Option<FailedProof> = None;
    for round in 0..=cx.config.rounds {
        if proved_by.load(Ordering::SeqCst) < attempt {
            break;
        }
        if Instant::now() >= cx.deadline {
            out.timed_out = true;
            break;
        }
        let ask = ProofAsk {
            theorem,
            lean_version: cx.lean_version,
            repair: failed.as_ref(),
            seed: request_seed(cx.config, attempt, round),
        };
        out.first_ask.get_or_insert_with(Instant::now);
        let proposal = match cx.model.propose(&ask, cx.deadline) {
            Ok(Some(proposal)) => proposal,
            Ok(None) => {
                out.timed_out = true;
                break;
            }
            // The time is up and the model answered this attempt before: it ends out of
            // time, as it would have; a failure at its first request is the model's.
            Err(err) if Instant::now() >= cx.deadline && !out.rounds.is_empty() => {
                tracing::warn!("the whole-proof model failed as the time limit came: {err:#}");
                out.timed_out = true;
                break;
            }
            Err(err) => return Err(RefineError::Model(err)),
        };
        match proposal.usage {
            Some(u) => {
                out.tokens.prompt += u.prompt;
                out.tokens.completion += u.completion;
            }
            None => out.tokens.unreported += 1,
        }
        let mut record = RoundRecord {
            attempt,
            round,
            proof: proof_from_answer(&proposal.text),
            proved: false,
            feedback: None,
            usage: proposal.usage,
        };
        let too_long = cut_to_bound(&mut record.proof);
        let feedback = match too_long.map_or_else(
            || check_candidate(&record.proof).map_err(|r| r.to_string()),
            Err,
        ) {
            Err(reason) => Feedback::refused(&reason),
            Ok(()) => {
                // Lean failing itself (`LeanError::is_transient`) is asked once more.
                let verify = |proof: &str| {
                    let check = || backend.verify(&theorem.header, &theorem.statement, proof);
                    match check() {
                        Err(e) if e.is_transient() => check(),
                        other => other,
                    }
                    .map_err(RefineError::Lean)
                };
                let verdict = verify(&record.proof)?;
                if verdict.is_proved() {
                    info!(attempt, round, "whole proof verified");
                    return Ok(out.proved_with(record, proved_by));
                }
                let diagnosis = diagnose(
                    backend,
                    theorem,
                    cx.root,
                    &record.proof,
                    &verdict,
                    cx.deadline,
                )
                .map_err(RefineError::Lean)?;
                out.timed_out |= diagnosis.feedback.cut_by_time_limit;
                // Steps that close every goal before the proof ends: the proof without the
                // rest, verified like any other (before the deadline, as every Lean call).
                if let (Some(steps), true) =
                    (&diagnosis.closing_prefix, Instant::now() < cx.deadline)
                {
                    let shorter = steps.join("\n");
                    if verify(&shorter)?.is_proved() {
                        info!(attempt, round, "the proof's first steps verified alone");
                        record.proof = shorter;
                        return Ok(out.proved_with(record, proved_by));
                    }
                }
                let longest = out.reached.as_ref().map_or(0, |(s, _)| s.steps.len());
                if diagnosis.reached.steps.len() > longest {
                    out.reached = Some((diagnosis.reached, round));
                }
                diagnosis.feedback
            }
        };
        info!(attempt, round, status = %feedback.status, "whole proof failed");
        record.feedback = Some(feedback.clone());
        failed = Some(FailedProof {
            proof: record.proof.clone(),
            feedback,
        });
        out.rounds.push(record);
    }
    Ok(out)
}

impl AttemptOutcome {
    /// The outcome with `record`'s proof verified.
    fn proved_with(mut self, mut record: RoundRecord, proved_by: &AtomicUsize) -> Self {
        proved_by.fetch_min(self.attempt, Ordering::SeqCst);
        record.proved = true;
        self.proved = Some((record.round, record.proof.clone()));
        self.rounds.push(record);
        self
    }
}

/// A request's seed: distinct for every attempt and round of a run (whatever runs in
/// parallel), below 2³¹ (servers differ in how wide a seed they take).
fn request_seed(config: &RefineConfig, attempt: usize, round: usize) -> u64 {
    let index = (attempt - 1) * (config.rounds + 1) + round;
    config.seed.wrapping_add(index as u64) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_past_the_bound_is_cut_at_a_character_and_says_why() {
        let mut short = "exact hp".to_string();
        assert_eq!(cut_to_bound(&mut short), None);
        assert_eq!(short, "exact hp");
        // Three-byte characters, so the bound falls inside one.
        let mut long = "⟨".repeat(MAX_PROOF_BYTES);
        let why = cut_to_bound(&mut long).unwrap();
        assert!(long.len() <= MAX_PROOF_BYTES && long.len() > MAX_PROOF_BYTES - 3);
        assert!(long.chars().all(|c| c == '⟨'));
        assert!(
            why.contains(&format!("is {} bytes long", 3 * MAX_PROOF_BYTES)),
            "{why}"
        );
    }
}
