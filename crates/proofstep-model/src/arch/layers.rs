//! Pieces both architectures share: the training/inference switch, rotary tables, attention
//! masks and scaled dot-product attention (the KV cache is `kv_cache.rs`).
//!
//! Training mode uses only ops with a backward pass (`softmax`, `rope_slow`, slow norms);
//! inference mode uses candle's fused kernels (`softmax_last_dim`, `rope`, `rms_norm`,
//! `layer_norm`), which have no gradient. Both compute the same function.

use candle_core::{Device, Tensor};
use candle_nn::{ops, Init};

use crate::arch::config::RopeScaling;
use crate::error::Result;

/// Which implementation of each op a forward uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Differentiable ops: every parameter gets a gradient.
    Train,
    /// Fused ops: fast, no gradients.
    Infer,
}

/// Additive mask value for forbidden attention links (finite, so padded rows never make NaN).
const MASKED: f32 = -1e9;

/// RoPE inverse frequencies, `1 / base^(2i/d)`, with optional scaling, as transformers computes them.
pub fn inv_freq(dim: usize, base: f64, scaling: Option<&RopeScaling>) -> Vec<f32> {
    let base = base as f32;
    let freqs: Vec<f32> = (0..dim)
        .step_by(2)
        .map(|i| 1.0 / base.powf(i as f32 / dim as f32))
        .collect();
    match scaling {
        None => freqs,
        Some(RopeScaling::Linear { factor }) => freqs.iter().map(|f| f / factor).collect(),
        Some(RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        }) => {
            let old = *original_max_position_embeddings as f32;
            let low_wavelen = old / low_freq_factor;
            let high_wavelen = old / high_freq_factor;
            freqs
                .iter()
                .map(|&f| {
                    let wavelen = 2.0 * std::f32::consts::PI / f;
                    if wavelen < high_wavelen {
                        f
                    } else if wavelen > low_wavelen {
                        f / factor
                    } else {
                        let smooth = (old / wavelen - low_freq_factor)
                            / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * f / factor + smooth * f
                    }
                })
                .collect()
        }
    }
}

/// cos and sin of `position * inv_freq`: `[t, d/2]` when every row shares positions `0..t`
/// (training), `[b, t, d/2]` for per-row positions (inference with left padding).
pub fn rotary_tables(
    inv_freq: &[f32],
    positions: &[Vec<u32>],
    shared: bool,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let half = inv_freq.len();
    let rows = if shared { &positions[..1] } else { positions };
    let t = rows[0].len();
    let mut cos = Vec::with_capacity(rows.len() * t * half);
    let mut sin = Vec::with_capacity(rows.len() * t * half);
    for row in rows {
        for &p in row {
            for &f in inv_freq {
                let a = p as f32 * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
    }
    if shared {
        Ok((
            Tensor::from_vec(cos, (t, half), device)?,
            Tensor::from_vec(sin, (t, half), device)?,
        ))
    } else {
        let b = rows.len();
        Ok((
            Tensor::from_vec(cos, (b, t, half), device)?,
            Tensor::from_vec(sin, (b, t, half), device)?,
        ))
    }
}

/// Applies rotary embedding to `x: [b, h, t, d]` (rotate-half layout, as transformers).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, mode: Mode) -> Result<Tensor> {
    Ok(match mode {
        Mode::Train => crate::autograd::ops::rope(x, cos, sin)?,
        Mode::Infer => candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)?,
    })
}

/// Where the rows of a batch stand: left padding per row and tokens already in the cache.
#[derive(Clone, Debug)]
pub struct Positions {
    /// Left-padding tokens at the start of each row (masked out as keys).
    pub pads: Vec<usize>,
    /// Tokens already in the KV cache before this call.
    pub past: usize,
    /// New tokens in this call.
    pub len: usize,
}

impl Positions {
    /// Position ids of the new tokens of each row (pads count from 0 too, they are masked).
    pub fn ids(&self) -> Vec<Vec<u32>> {
        self.pads
            .iter()
            .map(|&pad| {
                (self.past..self.past + self.len)
                    .map(|c| c.saturating_sub(pad) as u32)
                    .collect()
            })
            .collect()
    }

    /// Additive mask `[b|1, 1, 1, t, past+t]`: causal, pads hidden. `None` when a single new
    /// token needs no mask.
    pub fn mask(&self, device: &Device) -> Result<Option<Tensor>> {
        let no_pad = self.pads.iter().all(|&p| p == 0);
        if self.len == 1 && no_pad {
            return Ok(None);
        }
        let total = self.past + self.len;
        let rows: Vec<usize> = if no_pad { vec![0] } else { self.pads.clone() };
        let mut data = Vec::with_capacity(rows.len() * self.len * total);
        for &pad in &rows {
            for q in 0..self.len {
                let c = self.past + q;
                for k in 0..total {
                    let ok = k <= c && (k >= pad || k == c);
                    data.push(if ok { 0.0 } else { MASKED });
                }
            }
        }
        Ok(Some(Tensor::from_vec(
            data,
            (rows.len(), 1, 1, self.len, total),
            device,
        )?))
    }
}

/// `x: [b, kv, s, d]` as the batched matmul can read it: a view of the KV cache's buffers
/// (rows of `d` contiguous, batch dims mergeable) is used in place rather than copied.
fn matmul_ready(x: &Tensor) -> Result<Tensor> {
    let (st, dims) = (x.stride(), x.dims());
    let in_place = st.len() == 4 && st[3] == 1 && st[2] == dims[3] && st[0] == st[1] * dims[1];
    Ok(if in_place { x.clone() } else { x.contiguous()? })
}

/// Scaled dot-product attention with grouped-query heads. An inference step of one new token
/// per row without a mask goes to `decode_attention.rs` (keys/values read in place).
/// q: `[b, h, t, d]`, k/v: `[b, kv, s, d]`, mask broadcastable to `[b, kv, h/kv, t, s]`.
/// Returns `[b, t, h*d]`.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    mode: Mode,
) -> Result<Tensor> {
    let (b, h, t, d) = q.dims4()?;
    if mode == Mode::Infer && mask.is_none() && t == 1 {
        if let Some(out) = crate::kernels::decode_attention::decode_attention(q, k, v, None)? {
            return Ok(out);
        }
    }
    let kv = k.dim(1)?;
    let s = k.dim(2)?;
    let rep = h / kv;
    // Query heads sharing a key head are adjacent, so they fold into the query length.
    let q = (q.contiguous()?.reshape((b, kv, rep * t, d))? * (1.0 / (d as f64).sqrt()))?;
    let scores = q
        .matmul(&matmul_ready(k)?.t()?)?
        .reshape((b, kv, rep, t, s))?;
    let probs = match (mode, mask) {
        (Mode::Train, _) => crate::autograd::ops::masked_softmax(&scores, mask)?,
        (Mode::Infer, Some(m)) => ops::softmax_last_dim(&scores.broadcast_add(m)?.contiguous()?)?,
        (Mode::Infer, None) => ops::softmax_last_dim(&scores.contiguous()?)?,
    };
    let out = probs
        .reshape((b, kv, rep * t, s))?
        .matmul(&matmul_ready(v)?)?;
    Ok(out
        .reshape((b, h, t, d))?
        .transpose(1, 2)?
        .reshape((b, t, h * d))?)
}

/// Weight initialisation of a fresh model (transformers' `initializer_range` = 0.02).
pub const INIT: Init = Init::Randn {
    mean: 0.0,
    stdev: 0.02,
};
