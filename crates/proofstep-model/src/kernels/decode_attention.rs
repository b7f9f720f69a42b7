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
    #[cfg(target_arch = "x86_64")]
    let avx2 = avx2();
    let mut out = vec![0f32; b * h * d];
    out.par_chunks_mut(d)
        .zip(q.par_chunks(d))
        .enumerate()
        .for_each_init(
            || vec![0f32; s],
            |scores, (i, (o, qh))| {
                let (row, head) = (i / h, i % h);
                let g = head / rep;
                let one = Head {
                    q: qh,
                    k: &ks[k0 + row * kst[0] + g * kst[1]..],
                    k_stride: kst[2],
                    v: &vs[v0 + row * vst[0] + g * vst[1]..],
                    v_stride: vst[2],
                    scale,
                };
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2()` checked that the CPU has AVX2.
                    unsafe { attend_avx2(&one, scores, o) };
                    return;
                }
                attend(&one, scores, o);
            },
        );
    drop((kg, vg));
    Ok(Some(Tensor::from_vec(out, (b, 1, h * d), k.device())?))
}

/// One (row, head) pair: its query, and its key and value rows (`stride` apart) in the cache.
struct Head<'a> {
    q: &'a [f32],
    k: &'a [f32],
    k_stride: usize,
    v: &'a [f32],
    v_stride: usize,
    scale: f32,
}

/// Whether this CPU has AVX2 (then `attend` is compiled for it: eight lanes, not SSE's four).
#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// `attend` compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn attend_avx2(x: &Head, scores: &mut [f32], o: &mut [f32]) {
    attend(x, scores, o)
}

/// `o += softmax(q · kⱼ · scale) · vⱼ` over the `scores.len()` cached positions `j`.
#[inline(always)]
fn attend(x: &Head, scores: &mut [f32], o: &mut [f32]) {
    let d = x.q.len();
    let mut max = f32::NEG_INFINITY;
    for (j, sc) in scores.iter_mut().enumerate() {
        *sc = dot(x.q, &x.k[j * x.k_stride..j * x.k_stride + d]) * x.scale;
        max = max.max(*sc);
    }
    let mut total = 0f32;
    for sc in scores.iter_mut() {
        *sc = (*sc - max).exp();
        total += *sc;
    }
    let inv = 1.0 / total;
    for (j, &p) in scores.iter().enumerate() {
        let w = p * inv;
        for (oe, ve) in o.iter_mut().zip(&x.v[j * x.v_stride..j * x.v_stride + d]) {
            *oe += w * ve;
        }
    }
}

/// `Σ a·b` in eight independent lanes (a sequential sum cannot be vectorized).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + tail
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
        // Head sizes whole multiples of the dot product's eight lanes, and not.
        for d in [8, 13] {
            matches_on(&dev, d)?;
        }
        Ok(())
    }

    fn matches_on(dev: &Device, d: usize) -> Result<()> {
        let dev = dev.clone();
        let (b, h, kv, s, cap) = (3, 6, 2, 5, 9);
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
        assert!(diff < 1e-5, "d {d}: max |diff| {diff}");
        Ok(())
    }
}
