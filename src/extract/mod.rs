//! `proofstep extract`: runs Lean over Lean sources and records every tactic step — the goals
//! before it (`$/lean/plainGoal` at its start), its text, and the goals after it (at its end) —
//! grouped per theorem with file and position, as LeanDojo Benchmark 4 split files that
//! `proofstep data leandojo` reads. Works with the test world's `lean` and with `lake env lean`
//! in a Lake project; several servers work on different files at once.

pub mod error;
pub mod record;
pub mod run;
pub mod steps;
pub mod writer;

pub use error::ExtractError;
pub use record::{TracedTactic, TracedTheorem};
pub use run::{collect_inputs, extract, ExtractOptions, ExtractSummary};
