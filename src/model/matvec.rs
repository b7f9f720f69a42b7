//! `x · Wᵀ (+ b)` for the few rows of a decoding step (one token per candidate). candle's
//! general matmul repacks the transposed weight on every call, which costs more than the
//! arithmetic when only a handful of rows multiply it; here each weight row is read once,
//! straight from memory, and dotted with every input row (AVX2/FMA when the CPU has it).
//! Inference only: no gradient flows through it.

use candle_core::{Storage, Tensor};
use rayon::prelude::*;

use super::error::{ModelError, Result};

/// Above this many input rows the general matmul (prefill) is faster.
pub const MAX_ROWS: usize = 32;

/// Runs `f` on the f32 data of a contiguous CPU tensor.
fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        return Err(ModelError::Generate(
            "the decoding kernel runs on the CPU only".into(),
        ));
    };
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| ModelError::Generate("decoding kernel needs contiguous tensors".into()))?;
    Ok(f(&cpu.as_slice::<f32>()?[start..end]))
}

/// `x: [.., k]` times `w: [n, k]` transposed, plus `bias: [n]`: `[.., n]`.
pub fn linear_rows(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let k = *dims.last().expect("x has a last dimension");
    let m = x.elem_count() / k;
    let n = w.dim(0)?;
    let xs: Vec<f32> = x.contiguous()?.flatten_all()?.to_vec1()?;
    let w = w.contiguous()?;
    // out_t[j * m + i] = dot(w_j, x_i): threads own disjoint weight rows.
    let mut out_t = vec![0f32; n * m];
    with_slice(&w, |ws| {
        let rows_per_task = (n / (4 * rayon::current_num_threads().max(1))).clamp(16, 1024);
        out_t
            .par_chunks_mut(rows_per_task * m)
            .enumerate()
            .for_each(|(c, chunk)| {
                let j0 = c * rows_per_task;
                for (jj, outs) in chunk.chunks_mut(m).enumerate() {
                    let wr = &ws[(j0 + jj) * k..(j0 + jj + 1) * k];
                    dot_rows(wr, &xs, k, outs);
                }
            });
    })?;
    let mut out = vec![0f32; m * n];
    for j in 0..n {
        for i in 0..m {
            out[i * n + j] = out_t[j * m + i];
        }
    }
    let mut shape = dims;
    *shape.last_mut().expect("rank >= 1") = n;
    let y = Tensor::from_vec(out, shape, x.device())?;
    Ok(match bias {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
}

/// `outs[i] = dot(w, x_i)` for every row `x_i` (length `k`) of `xs`.
fn dot_rows(w: &[f32], xs: &[f32], k: usize, outs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { avx2::dot_rows(w, xs, k, outs) };
            return;
        }
    }
    for (i, o) in outs.iter_mut().enumerate() {
        *o = w
            .iter()
            .zip(&xs[i * k..(i + 1) * k])
            .map(|(a, b)| a * b)
            .sum();
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Horizontal sum of 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps(v, 1);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// Four input rows at a time share each load of the weight row.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_rows(w: &[f32], xs: &[f32], k: usize, outs: &mut [f32]) {
        let m = outs.len();
        let full = k / 8 * 8;
        let wp = w.as_ptr();
        let mut i = 0;
        while i + 4 <= m {
            let x0 = xs.as_ptr().add(i * k);
            let (x1, x2, x3) = (x0.add(k), x0.add(2 * k), x0.add(3 * k));
            let (mut a0, mut a1, mut a2, mut a3) = (
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
            );
            let mut p = 0;
            while p < full {
                let wv = _mm256_loadu_ps(wp.add(p));
                a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x0.add(p)), a0);
                a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x1.add(p)), a1);
                a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x2.add(p)), a2);
                a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x3.add(p)), a3);
                p += 8;
            }
            let mut s = [hsum(a0), hsum(a1), hsum(a2), hsum(a3)];
            for q in full..k {
                let wq = *wp.add(q);
                s[0] += wq * *x0.add(q);
                s[1] += wq * *x1.add(q);
                s[2] += wq * *x2.add(q);
                s[3] += wq * *x3.add(q);
            }
            outs[i..i + 4].copy_from_slice(&s);
            i += 4;
        }
        while i < m {
            let x0 = xs.as_ptr().add(i * k);
            let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            let mut p = 0;
            while p + 16 <= full {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wp.add(p)), _mm256_loadu_ps(x0.add(p)), a0);
                a1 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(wp.add(p + 8)),
                    _mm256_loadu_ps(x0.add(p + 8)),
                    a1,
                );
                p += 16;
            }
            while p < full {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wp.add(p)), _mm256_loadu_ps(x0.add(p)), a0);
                p += 8;
            }
            let mut s = hsum(_mm256_add_ps(a0, a1));
            for q in full..k {
                s += *wp.add(q) * *x0.add(q);
            }
            outs[i] = s;
            i += 1;
        }
    }
}
