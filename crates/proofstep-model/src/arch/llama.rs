//! The Llama family (Llama 2/3, SmolLM2, TinyLlama) in one file: RMSNorm, rotary position
//! embedding (with linear / llama3 scaling), SwiGLU MLP, grouped-query attention, tied or
//! untied embeddings. Tensor names are Hugging Face's, so folders load both ways.
//!
//! One forward serves training (`Mode::Train`: differentiable ops, all positions) and inference
//! (`Mode::Infer`: fused ops, KV cache); see `layers.rs` for the shared pieces.

use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};

use crate::arch::config::LlamaConfig;
use crate::arch::held::Held;
use crate::arch::kv_cache::{KvCache, LayerKv};
use crate::arch::layers::{inv_freq, rope, rotary_tables, Mode, Positions};
use crate::arch::proj::{embedding_and_head, linear, linears, Embed, Proj};
use crate::autograd::attention::causal_attention;
use crate::autograd::mlp::gated_up;
use crate::error::Result;

/// RMSNorm: `x / sqrt(mean(x²) + eps) * weight`.
fn rms_norm(x: &Tensor, w: &Tensor, eps: f64, mode: Mode) -> Result<Tensor> {
    Ok(match mode {
        Mode::Train => crate::autograd::ops::rms_norm(x, w, eps as f32)?,
        Mode::Infer => candle_nn::ops::rms_norm(&x.contiguous()?, w, eps as f32)?,
    })
}

/// One transformer block: attention and SwiGLU MLP, each after an RMSNorm, with residuals.
struct Block {
    input_norm: Tensor,
    q: Proj,
    k: Proj,
    v: Proj,
    o: Proj,
    post_norm: Tensor,
    gate: Proj,
    up: Proj,
    down: Proj,
}

/// A Llama-family causal language model.
pub struct Llama {
    cfg: LlamaConfig,
    embed: Embed,
    blocks: Vec<Block>,
    norm: Tensor,
    lm_head: Proj,
    inv_freq: Vec<f32>,
}

impl Llama {
    /// Builds the model from `vb` (a var map for training, or loaded weights), HF names;
    /// with `held`, each matrix is converted as it is read and kept only converted (the LM
    /// head and a tied embedding in `Precision::of_head`).
    pub fn new(cfg: &LlamaConfig, vb: VarBuilder, held: Option<&Held>) -> Result<Self> {
        let (d, hd) = (cfg.hidden_size, cfg.head_size());
        let (h, kv) = (cfg.num_attention_heads, cfg.kv_heads());
        let m = vb.pp("model");
        let (embed, lm_head) = embedding_and_head(
            &vb,
            &m,
            (cfg.vocab_size, d),
            cfg.tie_word_embeddings,
            "embed_tokens.weight",
            "lm_head",
            held,
        )?;
        let mut blocks = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = m.pp(format!("layers.{i}"));
            let a = l.pp("self_attn");
            let p = l.pp("mlp");
            let ab = cfg.attention_bias;
            blocks.push(Block {
                input_norm: l.get_with_hints(d, "input_layernorm.weight", Init::Const(1.0))?,
                q: Proj::new(&a, d, h * hd, ab, "q_proj", held)?,
                k: Proj::new(&a, d, kv * hd, ab, "k_proj", held)?,
                v: Proj::new(&a, d, kv * hd, ab, "v_proj", held)?,
                o: Proj::new(&a, h * hd, d, ab, "o_proj", held)?,
                post_norm: l.get_with_hints(
                    d,
                    "post_attention_layernorm.weight",
                    Init::Const(1.0),
                )?,
                gate: Proj::new(
                    &p,
                    d,
                    cfg.intermediate_size,
                    cfg.mlp_bias,
                    "gate_proj",
                    held,
                )?,
                up: Proj::new(&p, d, cfg.intermediate_size, cfg.mlp_bias, "up_proj", held)?,
                down: Proj::new(
                    &p,
                    cfg.intermediate_size,
                    d,
                    cfg.mlp_bias,
                    "down_proj",
                    held,
                )?,
            });
        }
        let norm = m.get_with_hints(d, "norm.weight", Init::Const(1.0))?;
        Ok(Llama {
            inv_freq: inv_freq(hd, cfg.theta(), cfg.scaling()?.as_ref()),
            cfg: cfg.clone(),
            embed,
            blocks,
            norm,
            lm_head,
        })
    }

    /// Every projection, mutable, the LM head last.
    pub fn projections_mut(&mut self) -> Vec<&mut Proj> {
        let mut all: Vec<&mut Proj> = self
            .blocks
            .iter_mut()
            .flat_map(|b| {
                [
                    &mut b.q,
                    &mut b.k,
                    &mut b.v,
                    &mut b.o,
                    &mut b.gate,
                    &mut b.up,
                    &mut b.down,
                ]
            })
            .collect();
        all.push(&mut self.lm_head);
        all
    }

    /// Every projection, the LM head last.
    pub fn projections(&self) -> Vec<&Proj> {
        let mut all: Vec<&Proj> = self
            .blocks
            .iter()
            .flat_map(|b| [&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down])
            .collect();
        all.push(&self.lm_head);
        all
    }

    /// Number of layers (the KV cache size).
    pub fn num_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Logits `[b, t, vocab]` (or `[b, 1, vocab]` with `last_only`) for `ids: [b, t]`.
    /// With a cache, keys/values are appended and attention covers everything cached.
    pub fn forward(
        &self,
        ids: &Tensor,
        pos: &Positions,
        cache: Option<&mut KvCache>,
        mode: Mode,
        last_only: bool,
    ) -> Result<Tensor> {
        let x = self.hidden(ids, pos, cache, mode, last_only)?;
        let x = rms_norm(&x, &self.norm, self.cfg.rms_norm_eps, mode)?;
        linear(&self.lm_head, &x, mode)
    }

    /// Training logits `[n, vocab]` at the flat positions `rows` (u32, row × t + column) of
    /// `ids: [b, t]` only: the final norm and the LM head skip every other position.
    pub fn forward_train_rows(
        &self,
        ids: &Tensor,
        pos: &Positions,
        rows: &Tensor,
    ) -> Result<Tensor> {
        let x = self.head_inputs_train_rows(ids, pos, rows)?;
        linear(&self.lm_head, &x, Mode::Train)
    }

    /// What the LM head multiplies in `forward_train_rows`: the final-normed hidden rows
    /// `[n, d]` at `rows`, for a loss that fuses the head with the cross-entropy.
    pub fn head_inputs_train_rows(
        &self,
        ids: &Tensor,
        pos: &Positions,
        rows: &Tensor,
    ) -> Result<Tensor> {
        self.lm_head.lin()?;
        let x = self.hidden(ids, pos, None, Mode::Train, false)?;
        let (b, t, d) = x.dims3()?;
        let x = x.reshape((b * t, d))?.index_select(rows, 0)?;
        rms_norm(&x, &self.norm, self.cfg.rms_norm_eps, Mode::Train)
    }

    /// The LM head's weight `[vocab, d]` (the embedding when tied); the head has no bias.
    /// An error in a model held in reduced precision.
    pub fn lm_head_weight(&self) -> Result<&Tensor> {
        Ok(self.lm_head.lin()?.weight())
    }

    /// The residual stream after the last block (before the final norm), `[b, t|1, d]`.
    fn hidden(
        &self,
        ids: &Tensor,
        pos: &Positions,
        mut cache: Option<&mut KvCache>,
        mode: Mode,
        last_only: bool,
    ) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let (h, kv, hd) = (
            self.cfg.num_attention_heads,
            self.cfg.kv_heads(),
            self.cfg.head_size(),
        );
        let shared = pos.pads.iter().all(|&p| p == 0);
        let (cos, sin) = rotary_tables(&self.inv_freq, &pos.ids(), shared, ids.device())?;
        let eps = self.cfg.rms_norm_eps;
        let mut x = self.embed.forward(ids)?;
        // Training on the CPU: attention as one fused op (causal, positions shared by rows).
        let fused = mode == Mode::Train
            && cache.is_none()
            && shared
            && pos.past == 0
            && crate::autograd::ops::fused_ok(&x);
        // The fused attention masks by itself; the composed one reads this tensor.
        let mask = if fused { None } else { pos.mask(ids.device())? };
        for (i, blk) in self.blocks.iter().enumerate() {
            let y = rms_norm(&x, &blk.input_norm, eps, mode)?;
            let [q, k, v]: [Tensor; 3] = linears(&[&blk.q, &blk.k, &blk.v], &y, mode)?
                .try_into()
                .expect("three projections");
            let a = if fused {
                causal_attention(&q, &k, &v, (&cos, &sin), (h, kv))?
            } else {
                let q = q.reshape((b, t, h, hd))?.transpose(1, 2)?;
                let k = k.reshape((b, t, kv, hd))?.transpose(1, 2)?;
                let v = v.reshape((b, t, kv, hd))?.transpose(1, 2)?;
                let q = rope(&q, &cos, &sin, mode)?;
                let k = rope(&k, &cos, &sin, mode)?;
                let kv = match cache.as_deref_mut() {
                    Some(c) => c.append(i, k, v)?,
                    None => LayerKv::plain(k, v),
                };
                kv.attend(&q, mask.as_ref(), mode)?
            };
            x = (x + linear(&blk.o, &a, mode)?)?;
            let y = rms_norm(&x, &blk.post_norm, eps, mode)?;
            // Training in f32: one fused op; in half precision or inference: two products.
            let gu = if mode == Mode::Train && blk.gate.autocast().is_none() {
                gated_up(blk.gate.lin()?, blk.up.lin()?, &y)?
            } else {
                let [g, u]: [Tensor; 2] = linears(&[&blk.gate, &blk.up], &y, mode)?
                    .try_into()
                    .expect("two projections");
                match mode {
                    Mode::Train => crate::autograd::ops::swiglu(&g, &u)?,
                    Mode::Infer => (candle_nn::ops::silu(&g)? * u)?,
                }
            };
            x = (x + linear(&blk.down, &gu, mode)?)?;
        }
        if last_only {
            x = x.narrow(1, t - 1, 1)?;
        }
        Ok(x)
    }
}
