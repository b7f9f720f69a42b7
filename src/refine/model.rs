//! The whole-proof model seam, beside the step `Predictor`: a theorem (and, in a repair, the
//! proof that failed and Lean's messages about it) in, one whole tactic proof out. A model
//! behind an OpenAI-compatible endpoint (`api::ApiModel`) implements it; a local model trained
//! on (statement → whole proof) pairs can implement it the same way.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::refine::feedback::Feedback;

/// The theorem a refine run proves.
#[derive(Clone, Debug)]
pub struct Theorem {
    /// Its full name.
    pub name: String,
    /// Everything before it in its file: imports, opens, earlier declarations.
    pub header: String,
    /// The statement without its proof, e.g. `theorem t (p : Prop) (hp : p) : p`.
    pub statement: String,
}

/// A proof that failed, with what Lean said about it: what a repair request carries.
#[derive(Clone, Debug)]
pub struct FailedProof {
    /// The tactic proof as it was checked.
    pub proof: String,
    /// Lean's messages, or the filter's reason for refusing it.
    pub feedback: Feedback,
}

/// One request to a whole-proof model.
#[derive(Clone, Debug)]
pub struct ProofAsk<'a> {
    /// The theorem.
    pub theorem: &'a Theorem,
    /// `lean --version`'s line, for the prompt.
    pub lean_version: &'a str,
    /// The failed proof to repair; None for an attempt's first request.
    pub repair: Option<&'a FailedProof>,
    /// Seed of the sampler (differs per attempt and round).
    pub seed: u64,
}

/// Tokens one request read and wrote, as the model reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens of the prompt.
    pub prompt: usize,
    /// Tokens of the answer.
    pub completion: usize,
}

/// A model's answer.
#[derive(Clone, Debug)]
pub struct Proposal {
    /// The answer's text as the model gave it (fences and all).
    pub text: String,
    /// Its token counts, when the model reports them.
    pub usage: Option<TokenUsage>,
}

/// A model that writes whole proofs.
pub trait WholeProofModel: Send + Sync {
    /// One answer to `ask`, or None when `deadline` (the run's time limit) came first.
    fn propose(&self, ask: &ProofAsk<'_>, deadline: Instant) -> anyhow::Result<Option<Proposal>>;

    /// How results name the model (its name and where it is served).
    fn describe(&self) -> String;

    /// The failure of a run whose time limit came before the model answered any request:
    /// nothing was learnt from it, so the run has no verdict.
    fn no_answer_in_time(&self) -> anyhow::Error;
}
