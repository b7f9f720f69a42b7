//! proofstep: neural theorem proving for Lean 4, end to end — the application crate.
//!
//! Module map (ARCHITECTURE.md has the whole one): `data` the proof-step formats, `testworld`
//! the test world's theorem generator, `extract` tactic steps from Lean files, `train` the
//! fine-tuning loop, `search` the best-first prover, `eval` batch evaluation, `serve` editor
//! suggestions, `openai` the OpenAI completions API (a remote predictor, and the JSON `serve`
//! answers it with), `refine` whole proofs from a model repaired with Lean's feedback. Lean (`lean`, the `proofstep-lean` crate), the language models (`model`,
//! `proofstep-model`) and the shared leaf (`fsutil`, `process`, `prompt`, from
//! `proofstep-core`) are re-exported so everything is named from one root.
//! Dependencies flow one way: eval/serve → search → {model, lean}; serve → openai → model;
//! refine → {search, openai};
//! train → {model, data};
//! extract → {testworld, lean}.

pub use proofstep_core::{fsutil, interrupt, process, prompt};
pub use proofstep_lean as lean;
pub use proofstep_model as model;

pub mod data;
pub mod eval;
pub mod extract;
pub mod iterate;
pub mod openai;
pub mod refine;
pub mod search;
pub mod serve;
pub mod testworld;
pub mod train;
