//! `proofstep refine`: whole proofs from a model, repaired with Lean's feedback. A model
//! (`model::WholeProofModel`, beside the step `Predictor`; `api::ApiModel` reaches any
//! OpenAI-compatible chat or completions endpoint) writes a whole tactic proof from a prompt
//! (`template`); the proof is taken out of its answer (`answer`), refused or verified like any
//! search candidate, and on failure Lean's messages and the goals where it stopped
//! (`feedback`, over the proof's `steps`) go into the next request (`attempt`); `run` runs
//! the attempts, several at once if asked. With a step model,
//! the best-first search starts from the longest prefix Lean accepted; `pairs` makes the
//! training pairs of a local whole-proof model. Depends on `search`, `openai`, `data`, `lean`
//! and `model`.

pub mod answer;
pub mod api;
pub mod attempt;
pub mod error;
pub mod feedback;
pub mod model;
pub mod pairs;
pub mod result;
pub mod run;
pub mod steps;
pub mod template;

pub use api::{ApiKind, ApiModel, ApiOptions};
pub use error::RefineError;
pub use feedback::{Feedback, ProofMessage};
pub use model::{FailedProof, ProofAsk, Proposal, Theorem, TokenUsage, WholeProofModel};
pub use result::{FoundBy, RefineResult, RefineStop, RoundRecord};
pub use run::{refine, RefineConfig, ThenSearch};
pub use template::PromptTemplates;
