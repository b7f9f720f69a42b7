//! The model architectures: configuration (`config.json`), the shared layers (rotary tables,
//! masks, attention), the KV cache, Llama and GPT-NeoX, and `CausalLm`, the one type training
//! and generation use whatever the architecture. A forward pass reads top to bottom:
//! `causal_lm` → `llama` or `gpt_neox` → `layers`, which calls the decoding `kernels` in
//! inference and the `autograd` ops in training. `precision` says which weights the inference
//! projections read, `proj` holds them (f32, with a copy, or converted once at load), `held`
//! is a model for inference as it loads (converted as read, or stored converted).

pub mod causal_lm;
pub mod config;
pub mod gpt_neox;
pub mod held;
pub mod kv_cache;
pub mod layers;
pub mod llama;
pub mod precision;
pub mod proj;
