//! Generation: `Generator` (a loaded model and tokenizer implementing the `Predictor` seam,
//! batched sampling), beam search, the choice of each next token, and `agreement` (how
//! closely reduced weights follow f32).

pub mod agreement;
pub mod beam;
pub mod generator;
pub mod sampling;

pub use generator::{set_threads, Generator, Sequence};
