//! Language models for next-step prediction: tokenizer, the Llama and GPT-NeoX architectures,
//! Hugging Face model folders and GGUF import, generation. Imports nothing else of the crate.

pub mod beam;
pub mod bf16;
pub mod causal_lm;
pub mod config;
pub mod decode_attention;
pub mod error;
pub mod fingerprint;
pub mod gemm_f32;
pub mod generate;
pub mod gguf;
pub mod gpt_neox;
pub mod layers;
pub mod llama;
pub mod matvec;
#[cfg(target_arch = "x86_64")]
mod matvec_avx2;
#[cfg(target_arch = "x86_64")]
mod matvec_avx512;
pub mod precision;
pub mod predictor;
pub mod q4;
pub mod q8;
pub mod sampling;
pub mod tokenizer;
pub mod train_attention;
#[cfg(test)]
mod train_check;
pub mod train_linear;
pub mod train_mlp;
pub mod train_ops;
pub mod vexp;
pub mod weights;

pub use causal_lm::CausalLm;
pub use config::{GptNeoxConfig, LlamaConfig, ModelConfig};
pub use error::ModelError;
pub use fingerprint::model_fingerprint;
pub use generate::{set_threads, Generator, Sequence};
pub use gguf::{import_gguf, ImportSummary};
pub use layers::KvCache;
pub use precision::{Precision, PrecisionReport};
pub use predictor::{Candidate, Decoding, GenerateOptions, Predictor};
pub use tokenizer::{format_prompt, ProofTokenizer};
pub use weights::{load_model, save_model};
