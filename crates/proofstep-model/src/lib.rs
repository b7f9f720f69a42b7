//! Language models for next-step prediction, on candle: the Llama and GPT-NeoX architectures
//! (`arch`), the CPU kernels of decoding and of the fused training ops (`kernels`), the
//! differentiable ops training uses (`autograd`), model folders, GGUF import and tokenizers
//! (`io`), generation (`generate`), and the `Predictor` seam search and serve see. Knows
//! nothing of Lean or search; of the workspace it uses only `proofstep-core` (the prompt
//! format, atomic writes). See ARCHITECTURE.md.

pub mod arch;
pub mod autograd;
pub mod device;
pub mod error;
pub mod generate;
pub mod io;
pub mod kernels;
pub mod predictor;

pub use arch::causal_lm::CausalLm;
pub use arch::config::{GptNeoxConfig, LlamaConfig, ModelConfig};
pub use arch::kv_cache::KvCache;
pub use arch::precision::{Precision, PrecisionReport, Weights};
pub use device::{device_name, gpu_memory_used, DeviceChoice, CUDA_BUILT};
pub use error::ModelError;
pub use generate::agreement::{agreement, Agreement};
pub use generate::{set_threads, Generator, Sequence};
pub use io::fingerprint::model_fingerprint;
pub use io::folder::{
    folder_weights, load_model, load_model_on, load_model_with, quantize_model, read_tensors,
    save_model,
};
pub use io::gguf::{import_gguf, ImportSummary};
pub use io::hub::{resolve_model, HubId, HubSettings};
pub use io::tokenizer::ProofTokenizer;
pub use predictor::{
    rank_candidates, Candidate, Completion, CompletionToken, Decoding, GenerateOptions, Predictor,
    PromptCompletions, MAX_SEQUENCES,
};
