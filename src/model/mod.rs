//! Language models for next-step prediction: tokenizer, the Llama and GPT-NeoX architectures,
//! Hugging Face model folders and GGUF import, generation. Imports nothing else of the crate.

pub mod predictor;

pub use predictor::{Candidate, Decoding, GenerateOptions, Predictor};
