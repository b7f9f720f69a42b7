//! Attention for a decoding step: one new query token per row, no mask, keys and values read
//! in place from the KV cache's buffers. candle's batched matmul would run two small GEMMs
//! per layer (scores and weighted values) through its thread pool with packing; here each
//! (row, head) pair is a few hundred multiply-adds done in one parallel pass.
//! Inference only: no gradient flows through it.

use candle_core::{Storage, Tensor};
use rayon::prelude::*;

use crate::error::Result;

/// `softmax(q · kᵀ / √d) · v` for `q: [b, h, 1, d]` and `k`, `v: [b, kv, s, d]` (views with
/// rows of `d` contiguous, such as the KV cache's), grouped-query heads (`h` a multiple of
/// `kv`, query heads sharing a key head adjacent). Returns `[b, 1, h·d]` as `attention` does.
/// `None` when the inputs are not laid out for it (the caller then uses the general path).
pub fn decode_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Option<Tensor>> {
    let (b, h, t, d) = q.dims4()?;
    let (_, kv, s, _) = k.dims4()?;
    if t != 1 || h % kv != 0 || !k.device().is_cpu() || !row_major_heads(k) || !row_major_heads(v) {
        return Ok(None);
    }
    let rep = h / kv;
    let q = q.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let (kg, kl) = k.storage_and_layout();
    let (vg, vl) = v.storage_and_layout();
    let (Storage::Cpu(kc), Storage::Cpu(vc)) = (&*kg, &*vg) else {
        return Ok(None);
    };
    let (ks, vs) = (kc.as_slice::<f32>()?, vc.as_slice::<f32>()?);
    let (kst, vst) = (kl.stride(), vl.stride());
    let (k0, v0) = (kl.start_offset(), vl.start_offset());
    let scale = 1.0 / (d as f32).sqrt();
    let mut out = vec![0f32; b * h * d];
    out.par_chunks_mut(d)
        .zip(q.par_chunks(d))
        .enumerate()
        .for_each_init(
            || vec![0f32; s],
            |scores, (i, (o, qh))| {
                let (row, head) = (i / h, i % h);
                let g = head / rep;
                let kb = &ks[k0 + row * kst[0] + g * kst[1]..];
                let vb = &vs[v0 + row * vst[0] + g * vst[1]..];
                let mut max = f32::NEG_INFINITY;
                for (j, sc) in scores.iter_mut().enumerate() {
                    let kr = &kb[j * kst[2]..j * kst[2] + d];
                    *sc = qh.iter().zip(kr).map(|(a, b)| a * b).sum::<f32>() * scale;
                    max = max.max(*sc);
                }
                let mut total = 0f32;
                for sc in scores.iter_mut() {
                    *sc = (*sc - max).exp();
                    total += *sc;
                }
                let inv = 1.0 / total;
                for (j, &p) in scores.iter().enumerate() {
                    let vr = &vb[j * vst[2]..j * vst[2] + d];
                    let w = p * inv;
                    for (oe, ve) in o.iter_mut().zip(vr) {
                        *oe += w * ve;
                    }
                }
            },
        );
    drop((kg, vg));
    Ok(Some(Tensor::from_vec(out, (b, 1, h * d), k.device())?))
}

/// Whether `x: [b, kv, s, d]` has its last dimension contiguous (any other strides).
fn row_major_heads(x: &Tensor) -> bool {
    x.stride().len() == 4 && x.stride()[3] == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::layers::{attention, Mode};
    use candle_core::Device;

    /// Same values as the general (training) attention, on keys/values that are views of a
    /// larger buffer as the KV cache hands them out.
    #[test]
    fn matches_general_attention_on_cache_views() -> Result<()> {
        let dev = Device::Cpu;
        let (b, h, kv, s, cap, d) = (3, 6, 2, 5, 9, 8);
        let q = Tensor::randn(0f32, 1.0, (b, h, 1, d), &dev)?;
        let kbuf = Tensor::randn(0f32, 1.0, (b, kv, cap, d), &dev)?;
        let vbuf = Tensor::randn(0f32, 1.0, (b, kv, cap, d), &dev)?;
        let (k, v) = (kbuf.narrow(2, 0, s)?, vbuf.narrow(2, 0, s)?);
        let fused = decode_attention(&q, &k, &v)?.expect("cache views are supported");
        let general = attention(&q, &k, &v, None, Mode::Train)?;
        let diff = (fused - general)?
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar::<f32>()?;
        assert!(diff < 1e-5, "max |diff| {diff}");
        Ok(())
    }
}
