//! Attention for a decoding step: one new query token per row, no mask, keys and values read
//! in place from the KV cache's buffers. candle's batched matmul would run two small GEMMs
//! per layer (scores and weighted values) through its thread pool with packing; here each
//! (row, head) pair is a few hundred multiply-adds done in one parallel pass.
//! Inference only: no gradient flows through it.

use candle_core::{Storage, Tensor};
use rayon::prelude::*;

use crate::error::Result;

/// Prompt keys and values `[p, kv, s, d]` shared by the rows, and each row's prompt row.
pub type Shared<'a> = (&'a Tensor, &'a Tensor, &'a [u32]);

/// `softmax(q · kᵀ / √d) · v` for `q: [b, h, 1, d]` and `k`, `v: [b, kv, s, d]` (views with
/// rows of `d` contiguous, such as the KV cache's), grouped-query heads (`h` a multiple of
/// `kv`, query heads sharing a key head adjacent). With `shared`, row `r`'s keys are the
/// shared prompt row `of_row[r]`'s followed by its own. Returns `[b, 1, h·d]` as `attention`
/// does. `None` when the inputs are not laid out for it (the caller then uses the general path).
pub fn decode_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    shared: Option<Shared>,
) -> Result<Option<Tensor>> {
    let (b, h, t, d) = q.dims4()?;
    let (_, kv, _, _) = k.dims4()?;
    let laid_out = |x: &Tensor| x.device().is_cpu() && row_major_heads(x);
    if t != 1 || h % kv != 0 || !laid_out(k) || !laid_out(v) {
        return Ok(None);
    }
    let of_row = match shared {
        Some((pk, pv, of_row)) => {
            let (prompts, pkv) = (pk.dim(0)?, pk.dim(1)?);
            let fits = laid_out(pk) && laid_out(pv) && pkv == kv && of_row.len() == b;
            if !fits || of_row.iter().any(|&p| p as usize >= prompts) {
                return Ok(None);
            }
            of_row
        }
        None => &[],
    };
    let rep = h / kv;
    let q = q.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let held = [Some((k, v)), shared.map(|(pk, pv, _)| (pk, pv))].map(|kv| {
        kv.map(|(k, v)| {
            let ((kg, kl), (vg, vl)) = (k.storage_and_layout(), v.storage_and_layout());
            (kg, kl.clone(), vg, vl.clone())
        })
    });
    let mut views = [None, None];
    for (view, held) in views.iter_mut().zip(&held) {
        if let Some((kg, kl, vg, vl)) = held {
            let (Storage::Cpu(kc), Storage::Cpu(vc)) = (&**kg, &**vg) else {
                return Ok(None);
            };
            *view = Some(View {
                k: &kc.as_slice::<f32>()?[kl.start_offset()..],
                v: &vc.as_slice::<f32>()?[vl.start_offset()..],
                k_strides: [kl.stride()[0], kl.stride()[1], kl.stride()[2]],
                v_strides: [vl.stride()[0], vl.stride()[1], vl.stride()[2]],
                len: kl.dims()[2],
            });
        }
    }
    let [Some(own), prefix] = views else {
        return Ok(None);
    };
    let before = prefix.as_ref().map_or(0, |p| p.len);
    let scale = 1.0 / (d as f32).sqrt();
    #[cfg(target_arch = "x86_64")]
    let avx2 = crate::kernels::cpu::avx2_fma();
    // Head-major order: rows sharing a prompt read the same head's prefix one after another,
    // while it is still in the cache. `out` is `[h, b, d]` here, transposed at the end.
    let mut out = vec![0f32; b * h * d];
    out.par_chunks_mut(d).enumerate().for_each_init(
        || vec![0f32; before + own.len],
        |scores, (i, o)| {
            let (head, row) = (i / b, i % b);
            let g = head / rep;
            let first = match &prefix {
                Some(p) => p.segment(of_row[row] as usize, g),
                None => Segment::EMPTY,
            };
            let one = Head {
                q: &q[(row * h + head) * d..][..d],
                segments: [first, own.segment(row, g)],
                scale,
            };
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: `cpu::avx2_fma()` checked that the CPU has AVX2 and FMA.
                unsafe { attend_avx2(&one, scores, o) };
                return;
            }
            attend(&one, scores, o);
        },
    );
    drop(held);
    let out = Tensor::from_vec(out, (h, b, d), k.device())?
        .transpose(0, 1)?
        .contiguous()?
        .reshape((b, 1, h * d))?;
    Ok(Some(out))
}

/// Keys and values `[b, kv, s, d]` as slices from their first element, with the strides of
/// their first three dimensions.
struct View<'a> {
    k: &'a [f32],
    v: &'a [f32],
    k_strides: [usize; 3],
    v_strides: [usize; 3],
    len: usize,
}

impl<'a> View<'a> {
    /// Row `r`, key head `g`: its `len` positions.
    fn segment(&self, r: usize, g: usize) -> Segment<'a> {
        let (ks, vs) = (self.k_strides, self.v_strides);
        Segment {
            k: &self.k[r * ks[0] + g * ks[1]..],
            k_stride: ks[2],
            v: &self.v[r * vs[0] + g * vs[1]..],
            v_stride: vs[2],
            len: self.len,
        }
    }
}

/// Consecutive cached positions of one (row, key head): key and value rows `stride` apart.
struct Segment<'a> {
    k: &'a [f32],
    k_stride: usize,
    v: &'a [f32],
    v_stride: usize,
    len: usize,
}

impl Segment<'_> {
    /// No positions (a row without a shared prefix).
    const EMPTY: Segment<'static> = Segment {
        k: &[],
        k_stride: 0,
        v: &[],
        v_stride: 0,
        len: 0,
    };
}

/// One (row, head) pair: its query, and its cached positions in order (shared prefix, own).
struct Head<'a> {
    q: &'a [f32],
    segments: [Segment<'a>; 2],
    scale: f32,
}

/// `attend` on AVX2 and FMA registers for head sizes a multiple of 8: each score a dot
/// product in eight fused lanes, eight (then four, then one) positions at a time; the output in
/// chunks of up to eight 8-wide slices, each slice accumulated in one register over every
/// position in order (independent chains, and each value row read once per chunk). Every
/// score and output lane takes the same operations in the same order whatever segment holds a
/// position or how positions are grouped, so a shared prefix gives the bits of copied rows.
/// Other head sizes take `attend`, compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_avx2(x: &Head, scores: &mut [f32], o: &mut [f32]) {
    use std::arch::x86_64::*;
    let d = x.q.len();
    if !d.is_multiple_of(8) {
        return attend(x, scores, o);
    }
    let mut max = f32::NEG_INFINITY;
    let mut at = 0;
    for seg in &x.segments {
        let mut j = 0;
        while j < seg.len {
            let n = match seg.len - j {
                r if r >= 8 => scores_avx2::<8>(x, seg, j, &mut scores[at..]),
                r if r >= 4 => scores_avx2::<4>(x, seg, j, &mut scores[at..]),
                _ => scores_avx2::<1>(x, seg, j, &mut scores[at..]),
            };
            for &sc in &scores[at..at + n] {
                max = max.max(sc);
            }
            (j, at) = (j + n, at + n);
        }
    }
    let mut total = 0f32;
    for sc in scores[..at].iter_mut() {
        *sc = (*sc - max).exp();
        total += *sc;
    }
    let inv = _mm256_set1_ps(1.0 / total);
    let scores = &scores[..at];
    let mut c = 0;
    while c < d {
        c += match (d - c) / 8 {
            r if r >= 8 => values_avx2::<8>(x, scores, inv, o, c),
            r if r >= 4 => values_avx2::<4>(x, scores, inv, o, c),
            r if r >= 2 => values_avx2::<2>(x, scores, inv, o, c),
            _ => values_avx2::<1>(x, scores, inv, o, c),
        };
    }
}

/// Scores of `P` positions of `seg` from `j` into `out`: `P` independent dot products.
/// Returns `P`.
///
/// # Safety
/// As `attend_avx2`; `seg` holds positions `j..j + P`, `x.q.len()` a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn scores_avx2<const P: usize>(x: &Head, seg: &Segment, j: usize, out: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    let q = x.q.as_ptr();
    let k = seg.k.as_ptr().add(j * seg.k_stride);
    let mut acc = [_mm256_setzero_ps(); P];
    for c in (0..x.q.len()).step_by(8) {
        let qc = _mm256_loadu_ps(q.add(c));
        for (p, a) in acc.iter_mut().enumerate() {
            *a = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k.add(p * seg.k_stride + c)), *a);
        }
    }
    for (p, a) in acc.into_iter().enumerate() {
        let h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
        let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        out[p] = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps::<1>(h, h))) * x.scale;
    }
    P
}

/// `o[c..c + 8·N] += Σⱼ scoreⱼ · inv · vⱼ[c..c + 8·N]` over every position in order, `N`
/// registers accumulating at once. Returns `8·N`.
///
/// # Safety
/// As `attend_avx2`; `c + 8·N ≤ o.len()`, `scores` one per position of the segments.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn values_avx2<const N: usize>(
    x: &Head,
    scores: &[f32],
    inv: std::arch::x86_64::__m256,
    o: &mut [f32],
    c: usize,
) -> usize {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_setzero_ps(); N];
    for (s, a) in acc.iter_mut().enumerate() {
        *a = _mm256_loadu_ps(o.as_ptr().add(c + 8 * s));
    }
    let mut sc = scores.iter();
    for seg in &x.segments {
        let v = seg.v.as_ptr().add(c);
        for (j, &p) in (0..seg.len).zip(&mut sc) {
            let w = _mm256_mul_ps(_mm256_set1_ps(p), inv);
            let vj = v.add(j * seg.v_stride);
            for (s, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj.add(8 * s)), *a);
            }
        }
    }
    for (s, a) in acc.into_iter().enumerate() {
        _mm256_storeu_ps(o.as_mut_ptr().add(c + 8 * s), a);
    }
    8 * N
}

/// `o += softmax(q · kⱼ · scale) · vⱼ` over every position `j` of the head's segments
/// (`scores` holds one entry per position).
#[inline(always)]
fn attend(x: &Head, scores: &mut [f32], o: &mut [f32]) {
    let d = x.q.len();
    let mut max = f32::NEG_INFINITY;
    let mut sc = scores.iter_mut();
    for seg in &x.segments {
        for (j, sc) in (0..seg.len).zip(&mut sc) {
            *sc = dot(x.q, &seg.k[j * seg.k_stride..j * seg.k_stride + d]) * x.scale;
            max = max.max(*sc);
        }
    }
    let mut total = 0f32;
    for sc in scores.iter_mut() {
        *sc = (*sc - max).exp();
        total += *sc;
    }
    let inv = 1.0 / total;
    let mut sc = scores.iter();
    for seg in &x.segments {
        for (j, &p) in (0..seg.len).zip(&mut sc) {
            let w = p * inv;
            for (oe, ve) in o
                .iter_mut()
                .zip(&seg.v[j * seg.v_stride..j * seg.v_stride + d])
            {
                *oe += w * ve;
            }
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
        // Head sizes whole multiples of the eight lanes (the fused path) and not; positions
        // in eights, fours and ones; output chunks of 8, 4, 2 and 1 slices.
        for (d, s) in [(8, 5), (13, 5), (16, 11), (80, 3), (80, 13), (128, 9)] {
            matches_on(&dev, d, s)?;
        }
        Ok(())
    }

    fn matches_on(dev: &Device, d: usize, s: usize) -> Result<()> {
        let dev = dev.clone();
        let (b, h, kv, cap) = (3, 6, 2, s + 4);
        let q = Tensor::randn(0f32, 1.0, (b, h, 1, d), &dev)?;
        let kbuf = Tensor::randn(0f32, 1.0, (b, kv, cap, d), &dev)?;
        let vbuf = Tensor::randn(0f32, 1.0, (b, kv, cap, d), &dev)?;
        let (k, v) = (kbuf.narrow(2, 0, s)?, vbuf.narrow(2, 0, s)?);
        let fused = decode_attention(&q, &k, &v, None)?.expect("cache views are supported");
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
