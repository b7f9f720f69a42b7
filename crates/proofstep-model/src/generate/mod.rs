//! Generation: `Generator` (a loaded model and tokenizer implementing the `Predictor` seam,
//! batched sampling), beam search, and the choice of each next token.

pub mod beam;
pub mod generator;
pub mod sampling;

pub use generator::{set_threads, Generator, Sequence};
