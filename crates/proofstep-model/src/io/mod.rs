//! Models on disk: Hugging Face folders (`config.json`, safetensors, `tokenizer.json`), their
//! content fingerprint, GGUF import, and the tokenizer.

pub mod fingerprint;
pub mod folder;
pub mod gguf;
pub mod tokenizer;
