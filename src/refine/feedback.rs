//! What Lean says about a failed whole proof, for the next request and for `--then-search`:
//! its error messages with their positions in the proof (line 1 is the proof's first line),
//! and how far the proof gets — its top-level steps applied one by one until Lean rejects
//! one — with the goals open before that step. Every backend gives both (`elaborate` for the
//! messages, `apply` for the steps), so the feedback does not depend on which runs. No Lean
//! call starts after the run's deadline: what was not checked by then is said to be.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::lean::backend::layout::TheoremText;
use crate::lean::{LeanError, Outcome, ProofBackend, ProofState, Verdict};
use crate::refine::model::Theorem;
use crate::refine::steps::split_steps;

/// Messages kept per proof, and characters per message: a prompt stays bounded whatever
/// Lean prints.
const MAX_MESSAGES: usize = 8;
const MAX_MESSAGE_CHARS: usize = 1500;
/// Steps applied one by one at most (the rest count as not reached).
const MAX_STEPS: usize = 64;

/// One of Lean's messages about a proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofMessage {
    /// Line in the proof (1: its first line); None for a message about the whole theorem
    /// (at `by`, or from the axiom check).
    pub line: Option<u32>,
    /// Column in characters (from 0) on that line.
    pub column: Option<u32>,
    /// The message.
    pub text: String,
}

/// Why a proof failed and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// `refused` (the candidate filter refused it before Lean saw it), or the verdict's
    /// status: `error`, `open`, `sorry`, `axiom`.
    pub status: String,
    /// Lean's messages (or the filter's reason).
    pub messages: Vec<ProofMessage>,
    /// The goals open before the first step Lean rejected (after the whole proof, when every
    /// step was accepted and goals remain).
    pub goals: Vec<String>,
    /// Top-level steps Lean accepted, from the first.
    pub accepted_steps: usize,
    /// Top-level steps in the proof.
    pub total_steps: usize,
    /// The run's time limit came before Lean was asked where the proof's errors are (the
    /// messages are then the verdict's, without positions) or before every step was applied
    /// (steps after `accepted_steps` were not checked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_by_time_limit: bool,
}

impl Feedback {
    /// The feedback on a proof the candidate filter refused.
    pub fn refused(reason: &str) -> Feedback {
        Feedback {
            status: "refused".to_string(),
            messages: vec![ProofMessage {
                line: None,
                column: None,
                text: format!("the proof was refused before Lean checked it: it {reason}"),
            }],
            goals: Vec::new(),
            accepted_steps: 0,
            total_steps: 0,
            cut_by_time_limit: false,
        }
    }

    /// The messages as a prompt shows them, one per paragraph with its position.
    pub fn messages_text(&self) -> String {
        if self.messages.is_empty() {
            return "(none)".to_string();
        }
        self.messages
            .iter()
            .map(|m| match (m.line, m.column) {
                (Some(line), Some(column)) => format!("line {line}, column {column}: {}", m.text),
                _ => m.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The goals as a prompt shows them.
    pub fn goals_text(&self) -> String {
        if self.goals.is_empty() {
            "(none known)".to_string()
        } else {
            self.goals.join("\n\n")
        }
    }
}

/// The feedback on a proof Lean checked, and the state its accepted steps reach (what
/// `--then-search` starts from).
pub struct Diagnosis {
    /// What to tell the model.
    pub feedback: Feedback,
    /// The state after the accepted steps (the root when none was).
    pub reached: ProofState,
    /// The accepted steps, when they close every goal before the proof ends (what follows
    /// them is what Lean objects to): a shorter proof to verify.
    pub closing_prefix: Option<Vec<String>>,
}

/// Diagnoses `proof` of `theorem`, which `verify` judged `verdict` (not proved), asking Lean
/// nothing once `deadline` has passed (`root`, the statement's state, is then the state
/// reached). Its steps start from a state started anew, as the backend places it (the REPL
/// pool spreads the states of attempts diagnosed at once over its workers).
pub fn diagnose(
    backend: &dyn ProofBackend,
    theorem: &Theorem,
    root: &ProofState,
    proof: &str,
    verdict: &Verdict,
    deadline: Instant,
) -> Result<Diagnosis, LeanError> {
    let mut cut_by_time_limit = false;
    let mut messages = if Instant::now() < deadline {
        positioned_errors(backend, theorem, proof)?
    } else {
        cut_by_time_limit = true;
        Vec::new()
    };
    if messages.is_empty() {
        // Nothing Lean flagged in the text: the verdict says why (an axiom outside the
        // allowed set, `sorry` reached through a lemma).
        messages = verdict
            .errors
            .iter()
            .map(|e| ProofMessage {
                line: None,
                column: None,
                text: bounded(e),
            })
            .collect();
        if !verdict.axioms.is_empty() {
            messages.push(ProofMessage {
                line: None,
                column: None,
                text: format!(
                    "the proof rests on axioms that are not allowed: {}",
                    verdict.axioms.join(", ")
                ),
            });
        }
    }
    let steps = split_steps(proof);
    let mut reached = if Instant::now() < deadline {
        backend.start(&theorem.header, &theorem.statement)?
    } else {
        root.clone()
    };
    let mut accepted = 0;
    let mut closing_prefix = None;
    for step in steps.iter().take(MAX_STEPS) {
        if Instant::now() >= deadline {
            cut_by_time_limit = true;
            break;
        }
        match backend.apply(&reached, step)? {
            Outcome::Open(next) => {
                reached = next;
                accepted += 1;
            }
            Outcome::Proved(_) => {
                accepted += 1;
                if accepted < steps.len() {
                    closing_prefix = Some(steps[..accepted].to_vec());
                }
                break;
            }
            Outcome::Failed(_) => break,
        }
    }
    Ok(Diagnosis {
        feedback: Feedback {
            status: verdict.status.as_str().to_string(),
            messages,
            goals: reached.goals.clone(),
            accepted_steps: accepted,
            total_steps: steps.len(),
            cut_by_time_limit,
        },
        reached,
        closing_prefix,
    })
}

/// Lean's errors about the theorem written out with `proof`, positioned in the proof.
fn positioned_errors(
    backend: &dyn ProofBackend,
    theorem: &Theorem,
    proof: &str,
) -> Result<Vec<ProofMessage>, LeanError> {
    let layout = TheoremText::new(&theorem.header, &theorem.statement, &[proof.to_string()]);
    let statement_line = layout.pos(layout.statement_start).line;
    let by_line = layout.pos(layout.by_end).line;
    let diagnostics = backend.elaborate(&layout.text)?;
    Ok(diagnostics
        .iter()
        .filter(|d| d.is_error() && d.pos.line >= statement_line)
        .take(MAX_MESSAGES)
        .map(|d| {
            let in_proof = d.pos.line > by_line;
            ProofMessage {
                line: in_proof.then(|| d.pos.line - by_line),
                // The layout indents every line of the proof two columns.
                column: in_proof.then(|| d.pos.column.saturating_sub(2)),
                text: bounded(&d.data),
            }
        })
        .collect())
}

/// `text` trimmed, cut to `MAX_MESSAGE_CHARS`.
fn bounded(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_shows_each_message_with_its_position() {
        let feedback = Feedback {
            status: "error".into(),
            messages: vec![
                ProofMessage {
                    line: Some(2),
                    column: Some(6),
                    text: "unknown identifier 'hq'".into(),
                },
                ProofMessage {
                    line: None,
                    column: None,
                    text: "axiom".into(),
                },
            ],
            goals: vec![],
            accepted_steps: 1,
            total_steps: 2,
            cut_by_time_limit: false,
        };
        assert_eq!(
            feedback.messages_text(),
            "line 2, column 6: unknown identifier 'hq'\n\naxiom"
        );
        assert_eq!(feedback.goals_text(), "(none known)");
        assert!(Feedback::refused("uses `sorry`, which proves nothing")
            .messages_text()
            .contains("refused before Lean checked it: it uses `sorry`"));
        assert_eq!(
            bounded(&"x".repeat(2000)).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }
}
