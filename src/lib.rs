//! proofstep: neural theorem proving for Lean 4, end to end.
//!
//! Module map (see `../shared/docs/design.md`): `lean` talks to Lean, `model` holds the
//! language models, `data` the proof-step formats, `train` the fine-tuning loop, `search`
//! the best-first prover, `eval` batch evaluation, `serve` editor suggestions; `fsutil` the
//! atomic file writes every one of them uses.
//! Dependencies flow one way: eval/serve → search → {model, lean}; train → {model, data}.

pub mod data;
pub mod eval;
pub mod extract;
pub mod fsutil;
pub mod lean;
pub mod model;
pub mod search;
pub mod serve;
pub mod train;
