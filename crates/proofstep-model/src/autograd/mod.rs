//! The differentiable ops of the training forward on the CPU, each one pass forward and one
//! pass backward written by hand (candle's composed versions make many graph nodes and
//! temporaries): RMSNorm, rotary embedding, masked softmax and SwiGLU (`ops`), the linear
//! layer, the first half of the SwiGLU MLP, causal self-attention, the cross-entropy, and the
//! LM head fused with the loss. Each is tested against the composed candle ops it replaces
//! (`gradcheck`, test-only).

pub mod attention;
pub mod cross_entropy;
#[cfg(test)]
mod gradcheck;
pub mod linear;
pub mod linear_cross_entropy;
pub mod mlp;
pub mod ops;
