//! GPT-NeoX (Pythia, the seed's family) in one file: LayerNorm with biases, fused QKV projection
//! (per-head interleaved, as transformers), partial rotary embedding (`rotary_pct` of each head),
//! GELU MLP, parallel or sequential residual, untied or tied output embedding.
//!
//! One forward serves training (`Mode::Train`: differentiable ops) and inference
//! (`Mode::Infer`: fused ops, KV cache); see `layers.rs` for the shared pieces.

use candle_core::{Tensor, D};
use candle_nn::{Init, VarBuilder};

use crate::arch::config::GptNeoxConfig;
use crate::arch::held::Held;
use crate::arch::kv_cache::{KvCache, LayerKv};
use crate::arch::layers::{inv_freq, rope, rotary_tables, Mode, Positions};
use crate::arch::proj::{embedding_and_head, linear, Embed, Proj};
use crate::error::{ModelError, Result};

/// LayerNorm weight and bias.
struct Norm {
    w: Tensor,
    b: Tensor,
}

impl Norm {
    fn new(vb: VarBuilder, d: usize) -> Result<Self> {
        Ok(Norm {
            w: vb.get_with_hints(d, "weight", Init::Const(1.0))?,
            b: vb.get_with_hints(d, "bias", Init::Const(0.0))?,
        })
    }

    fn forward(&self, x: &Tensor, eps: f64, mode: Mode) -> Result<Tensor> {
        Ok(match mode {
            Mode::Train => candle_nn::ops::layer_norm_slow(x, &self.w, &self.b, eps as f32)?,
            Mode::Infer => {
                candle_nn::ops::layer_norm(&x.contiguous()?, &self.w, &self.b, eps as f32)?
            }
        })
    }
}

/// The MLP activation named by `hidden_act`.
#[derive(Clone, Copy)]
enum Act {
    /// Exact GELU (`gelu`).
    GeluErf,
    /// Tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    GeluTanh,
    Relu,
}

/// One block: attention and MLP on LayerNorms of the input, residuals in parallel or in turn.
struct Block {
    ln1: Norm,
    ln2: Norm,
    qkv: Proj,
    dense: Proj,
    up: Proj,
    down: Proj,
}

/// A GPT-NeoX causal language model.
pub struct GptNeox {
    cfg: GptNeoxConfig,
    embed: Embed,
    blocks: Vec<Block>,
    final_norm: Norm,
    lm_head: Proj,
    act: Act,
    inv_freq: Vec<f32>,
}

impl GptNeox {
    /// Builds the model from `vb` (a var map for training, or loaded weights), HF names;
    /// with `held`, each matrix is converted as it is read and kept only converted (the LM
    /// head and a tied embedding in `Precision::of_head`).
    pub fn new(cfg: &GptNeoxConfig, vb: VarBuilder, held: Option<&Held>) -> Result<Self> {
        let d = cfg.hidden_size;
        let act = match cfg.hidden_act.as_str() {
            "gelu" => Act::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "relu" => Act::Relu,
            other => {
                return Err(ModelError::Config(format!(
                    "hidden_act `{other}` is not supported (gelu, gelu_new, relu)"
                )))
            }
        };
        if !cfg.rotary_dims().is_multiple_of(2) {
            return Err(ModelError::Config(
                "rotary dims (head size × rotary_pct) must be even".into(),
            ));
        }
        let m = vb.pp("gpt_neox");
        let (embed, lm_head) = embedding_and_head(
            &vb,
            &m,
            (cfg.vocab_size, d),
            cfg.tie_word_embeddings,
            "embed_in.weight",
            "embed_out",
            held,
        )?;
        let bias = cfg.attention_bias;
        let mut blocks = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = m.pp(format!("layers.{i}"));
            blocks.push(Block {
                ln1: Norm::new(l.pp("input_layernorm"), d)?,
                ln2: Norm::new(l.pp("post_attention_layernorm"), d)?,
                qkv: Proj::new(&l.pp("attention"), d, 3 * d, bias, "query_key_value", held)?,
                dense: Proj::new(&l.pp("attention"), d, d, bias, "dense", held)?,
                up: Proj::new(
                    &l.pp("mlp"),
                    d,
                    cfg.intermediate_size,
                    true,
                    "dense_h_to_4h",
                    held,
                )?,
                down: Proj::new(
                    &l.pp("mlp"),
                    cfg.intermediate_size,
                    d,
                    true,
                    "dense_4h_to_h",
                    held,
                )?,
            });
        }
        let final_norm = Norm::new(m.pp("final_layer_norm"), d)?;
        Ok(GptNeox {
            inv_freq: inv_freq(cfg.rotary_dims(), cfg.theta(), None),
            cfg: cfg.clone(),
            embed,
            blocks,
            final_norm,
            lm_head,
            act,
        })
    }

    /// Every projection, mutable, the LM head last.
    pub fn projections_mut(&mut self) -> Vec<&mut Proj> {
        let mut all: Vec<&mut Proj> = self
            .blocks
            .iter_mut()
            .flat_map(|b| [&mut b.qkv, &mut b.dense, &mut b.up, &mut b.down])
            .collect();
        all.push(&mut self.lm_head);
        all
    }

    /// Every projection, the LM head last.
    pub fn projections(&self) -> Vec<&Proj> {
        let mut all: Vec<&Proj> = self
            .blocks
            .iter()
            .flat_map(|b| [&b.qkv, &b.dense, &b.up, &b.down])
            .collect();
        all.push(&self.lm_head);
        all
    }

    /// Number of layers (the KV cache size).
    pub fn num_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Rotates the first `rotary_dims` of each head, leaves the rest.
    fn partial_rope(&self, x: &Tensor, cos: &Tensor, sin: &Tensor, mode: Mode) -> Result<Tensor> {
        let (rot, hd) = (self.cfg.rotary_dims(), self.cfg.head_size());
        if rot == hd {
            return rope(x, cos, sin, mode);
        }
        let head = rope(&x.narrow(D::Minus1, 0, rot)?, cos, sin, mode)?;
        Ok(Tensor::cat(
            &[&head, &x.narrow(D::Minus1, rot, hd - rot)?],
            D::Minus1,
        )?)
    }

    fn mlp(&self, blk: &Block, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let u = linear(&blk.up, x, mode)?;
        let u = match self.act {
            Act::GeluErf if mode == Mode::Infer && u.device().is_cpu() => {
                crate::kernels::gelu::gelu_erf(&u)?
            }
            Act::GeluErf => u.gelu_erf()?,
            Act::GeluTanh => u.gelu()?,
            Act::Relu => u.relu()?,
        };
        linear(&blk.down, &u, mode)
    }

    /// Logits `[b, t, vocab]` (or `[b, 1, vocab]` with `last_only`) for `ids: [b, t]`.
    /// With a cache, keys/values are appended and attention covers everything cached.
    pub fn forward(
        &self,
        ids: &Tensor,
        pos: &Positions,
        mut cache: Option<&mut KvCache>,
        mode: Mode,
        last_only: bool,
    ) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let (h, hd) = (self.cfg.num_attention_heads, self.cfg.head_size());
        let shared = pos.pads.iter().all(|&p| p == 0);
        let (cos, sin) = rotary_tables(&self.inv_freq, &pos.ids(), shared, ids.device())?;
        let mask = pos.mask(ids.device())?;
        let eps = self.cfg.layer_norm_eps;
        let mut x = self.embed.forward(ids)?;
        for (i, blk) in self.blocks.iter().enumerate() {
            let y = blk.ln1.forward(&x, eps, mode)?;
            // [b, t, h, 3*hd]: each head holds its q, k, v side by side.
            let qkv = linear(&blk.qkv, &y, mode)?
                .reshape((b, t, h, 3 * hd))?
                .transpose(1, 2)?;
            let q = self.partial_rope(&qkv.narrow(D::Minus1, 0, hd)?, &cos, &sin, mode)?;
            let k = self.partial_rope(&qkv.narrow(D::Minus1, hd, hd)?, &cos, &sin, mode)?;
            let v = qkv.narrow(D::Minus1, 2 * hd, hd)?;
            let kv = match cache.as_deref_mut() {
                Some(c) => c.append(i, k, v)?,
                None => LayerKv::plain(k, v),
            };
            let a = linear(&blk.dense, &kv.attend(&q, mask.as_ref(), mode)?, mode)?;
            x = if self.cfg.use_parallel_residual {
                let m = self.mlp(blk, &blk.ln2.forward(&x, eps, mode)?, mode)?;
                ((x + a)? + m)?
            } else {
                let x1 = (x + a)?;
                let m = self.mlp(blk, &blk.ln2.forward(&x1, eps, mode)?, mode)?;
                (x1 + m)?
            };
        }
        if last_only {
            x = x.narrow(1, t - 1, 1)?;
        }
        let x = self.final_norm.forward(&x, eps, mode)?;
        linear(&self.lm_head, &x, mode)
    }
}
