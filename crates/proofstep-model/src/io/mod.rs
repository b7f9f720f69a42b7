//! Models on disk: Hugging Face folders (`config.json`, safetensors or PyTorch `.bin` weights,
//! `tokenizer.json`), the Hub they may come from, their content fingerprint, GGUF import, and
//! the tokenizer; `stream` takes a folder's tensors one at a time for loading converted, and
//! `quantized` is a folder that holds them converted already (`proofstep model quantize`).

pub mod fingerprint;
pub mod folder;
pub mod gguf;
pub mod hub;
pub mod quantized;
pub mod stream;
pub mod tokenizer;
pub mod weights;
