//! Proof-step data: LeanDojo Benchmark 4 records, the seed's `[GOAL]…[PROOFSTEP]…<|endoftext|>`
//! format, JSONL splits, and the benchmark download. Used by `proofstep data` and by training.

pub mod convert;
pub mod download;
pub mod error;
pub mod examples;
pub mod format;
pub mod leandojo;
pub mod traces;

pub use convert::{convert_leandojo, SplitCounts, SplitKind};
pub use error::DataError;
pub use examples::read_examples;
pub use format::Example;
