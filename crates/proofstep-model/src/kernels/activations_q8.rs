//! Activation rows rounded to int8 as ggml rounds them for its Q8_0 dot products: what the
//! interleaved integer kernels (`x8.rs`, `matvec_x8.rs`) multiply the weights with. One scalar
//! definition of the rounding, and an AVX2 twin that gives the same bytes (every decoding step
//! rounds each projection's input, a few percent of a 16-row step when scalar).

use rayon::prelude::*;

use crate::kernels::q4::BLOCK;

/// Input rows rounded to int8 as ggml rounds activations for its Q8_0 dot products (per block
/// of 32: `d = max|x| / 127`, `q = round(x / d)`), with each block's sum of `q`.
pub struct QuantizedRows {
    /// `m · k` levels, row-major.
    pub q: Vec<i8>,
    /// Per block (`i · k / 32 + b`): the scale `d`.
    pub d: Vec<f32>,
    /// Per block: the sum of its 32 levels.
    pub sums: Vec<i32>,
}

/// `y.round().clamp(-127.0, 127.0) as i8` (halves away from zero; NaN to 0) without the `roundf`
/// call that `f32::round` becomes on baseline x86-64: the truncation and the fraction `y − t`
/// are exact for `|y| < 2²³`, so a half is recognized exactly; larger `|y|` clamp either way.
#[inline]
fn round_level(y: f32) -> i8 {
    let y = y.clamp(-128.0, 128.0);
    let t = y as i32;
    let frac = y - t as f32;
    let r = t + (frac >= 0.5) as i32 - (frac <= -0.5) as i32;
    r.clamp(-127, 127) as i8
}

/// ggml's Q8_0 rounding of whole blocks of `x` into `q`, with each block's scale and sum: on
/// AVX2 by `round_blocks_avx2`, else by `round_blocks_scalar` (the same bytes either way).
fn round_blocks(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::cpu::avx2() {
        // SAFETY: the CPU has AVX2; the slices are as `round_blocks_scalar` takes them.
        return unsafe { round_blocks_avx2(x, q, d, sums) };
    }
    round_blocks_scalar(x, q, d, sums)
}

/// The rounding's definition, one element at a time.
fn round_blocks_scalar(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32]) {
    for (b, v) in x.chunks_exact(BLOCK).enumerate() {
        let amax = v.iter().fold(0f32, |a, x| a.max(x.abs()));
        let scale = amax / 127.0;
        let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        let mut sum = 0;
        for (q, &x) in q[b * BLOCK..(b + 1) * BLOCK].iter_mut().zip(v) {
            *q = round_level(x * inv);
            sum += *q as i32;
        }
        d[b] = scale;
        sums[b] = sum;
    }
}

/// `round_blocks_scalar` eight lanes at a time: the same maximum (`max` ignores a NaN as
/// `f32::max` does), scale, products and rounding (truncate, then step by the exact fraction;
/// a NaN rounds to 0), so the same levels, scales and sums.
///
/// # Safety
/// The CPU must have AVX2; `q` holds `x.len()` levels, `d` and `sums` `x.len() / 32` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn round_blocks_avx2(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32]) {
    use std::arch::x86_64::*;
    let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let (lo, hi) = (_mm256_set1_ps(-128.0), _mm256_set1_ps(128.0));
    let (lim_lo, lim_hi) = (_mm256_set1_ps(-127.0), _mm256_set1_ps(127.0));
    let (half, neg_half, one) = (
        _mm256_set1_ps(0.5),
        _mm256_set1_ps(-0.5),
        _mm256_set1_ps(1.0),
    );
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (b, v) in x.chunks_exact(BLOCK).enumerate() {
        let p = v.as_ptr();
        let xs = [0, 1, 2, 3].map(|j| _mm256_loadu_ps(p.add(8 * j)));
        // `_mm256_max_ps(a, m)` returns `m` where `a` is NaN: NaNs are skipped.
        let m = xs.iter().fold(_mm256_setzero_ps(), |m, &x| {
            _mm256_max_ps(_mm256_and_ps(x, abs), m)
        });
        let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
        let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        let amax = _mm_cvtss_f32(_mm_max_ss(m2, _mm_shuffle_ps::<1>(m2, m2)));
        let scale = amax / 127.0;
        let inv = _mm256_set1_ps(if scale > 0.0 { 1.0 / scale } else { 0.0 });
        let levels = xs.map(|x| {
            let y = _mm256_mul_ps(x, inv);
            let y = _mm256_and_ps(y, _mm256_cmp_ps::<_CMP_ORD_Q>(y, y));
            let y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
            let t = _mm256_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(y);
            let frac = _mm256_sub_ps(y, t);
            let up = _mm256_and_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(frac, half), one);
            let down = _mm256_and_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(frac, neg_half), one);
            let r = _mm256_sub_ps(_mm256_add_ps(t, up), down);
            _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(r, lim_lo), lim_hi))
        });
        let total = _mm256_add_epi32(
            _mm256_add_epi32(levels[0], levels[1]),
            _mm256_add_epi32(levels[2], levels[3]),
        );
        let t4 = _mm_add_epi32(
            _mm256_castsi256_si128(total),
            _mm256_extracti128_si256::<1>(total),
        );
        let t2 = _mm_add_epi32(t4, _mm_unpackhi_epi64(t4, t4));
        let t1 = _mm_add_epi32(t2, _mm_shuffle_epi32::<1>(t2));
        let packed = _mm256_packs_epi16(
            _mm256_packs_epi32(levels[0], levels[1]),
            _mm256_packs_epi32(levels[2], levels[3]),
        );
        let bytes = _mm256_permutevar8x32_epi32(packed, order);
        _mm256_storeu_si256(q.as_mut_ptr().add(b * BLOCK) as *mut __m256i, bytes);
        d[b] = scale;
        sums[b] = _mm_cvtsi128_si32(t1);
    }
}

impl QuantizedRows {
    /// Rounds `x` (rows of `k`, a multiple of 32); long inputs (several rows of a decoding
    /// step) split across rayon's threads, 64 blocks a task.
    pub fn of(x: &[f32]) -> Self {
        const TASK: usize = 64;
        let blocks = x.len() / BLOCK;
        let mut rows = QuantizedRows {
            q: vec![0; x.len()],
            d: vec![0.0; blocks],
            sums: vec![0; blocks],
        };
        let tasks = rows
            .q
            .par_chunks_mut(TASK * BLOCK)
            .zip(rows.d.par_chunks_mut(TASK))
            .zip(rows.sums.par_chunks_mut(TASK))
            .zip(x.par_chunks(TASK * BLOCK));
        tasks
            .with_min_len(if x.len() >= 1 << 14 { 1 } else { usize::MAX })
            .for_each(|(((q, d), sums), x)| round_blocks(x, q, d, sums));
        rows
    }

    /// Row `i` (length `k`) as the f32 values the levels stand for.
    pub fn row(&self, i: usize, k: usize) -> Vec<f32> {
        (0..k)
            .map(|p| self.q[i * k + p] as f32 * self.d[(i * k + p) / BLOCK])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::x8::tests::values;

    #[test]
    fn levels_round_as_f32_round_does() {
        let mut ys = vec![
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            1e30,
            -1e30,
        ];
        for i in -1300..=1300 {
            let half = i as f32 / 10.0 + 0.05;
            ys.extend([
                i as f32 / 10.0,
                half,
                i as f32 + 0.5,
                (i as f32 + 0.5).next_up(),
                (i as f32 + 0.5).next_down(),
            ]);
        }
        ys.extend([
            0.49999997f32,
            -0.49999997,
            126.5,
            -126.5,
            127.49999,
            127.5,
            -127.5,
        ]);
        for y in ys {
            let want = y.round().clamp(-127.0, 127.0) as i8;
            assert_eq!(round_level(y), want, "{y}");
        }
    }

    #[test]
    fn activations_round_to_within_half_a_step() {
        let x = values(64, 2);
        let q = QuantizedRows::of(&x);
        for (p, v) in q.row(0, 64).iter().enumerate() {
            assert!(
                (v - x[p]).abs() <= 0.5 * q.d[p / 32] * 1.0001,
                "{} vs {v}",
                x[p]
            );
        }
        assert_eq!(q.sums[0], q.q[..32].iter().map(|&v| v as i32).sum::<i32>());
        // Long enough to be split across threads: the same as one pass over every block.
        let long = values(1 << 15, 4);
        let split = QuantizedRows::of(&long);
        let blocks = long.len() / BLOCK;
        let (mut q, mut d, mut sums) = (vec![0; long.len()], vec![0.0; blocks], vec![0; blocks]);
        round_blocks_scalar(&long, &mut q, &mut d, &mut sums);
        assert!(split.q == q && split.d == d && split.sums == sums);
        let zero = QuantizedRows::of(&[0.0; 32]);
        assert!(zero.q.iter().all(|&v| v == 0) && zero.d[0] == 0.0);
    }

    #[test]
    fn vector_rounding_gives_the_scalar_bytes() {
        // Blocks of ordinary values, exact halves after scaling, zeros, NaNs, infinities,
        // huge and tiny magnitudes, and a lone outlier.
        let mut x = values(32 * 64, 5);
        for (b, block) in x.chunks_exact_mut(BLOCK).enumerate().skip(40) {
            for (j, v) in block.iter_mut().enumerate() {
                let n = (b * 7 + j * 13) % 254;
                *v = match b % 8 {
                    // Scale 1: integers and exact halves, rounded away from zero.
                    0 | 1 => n as f32 / 2.0 - 63.5,
                    2 => (127.0 - n as f32) * 0.5,
                    3 => [0.0, -0.0, 3.0e38, -1.0][j % 4],
                    4 => 1e-38 * (j as f32 - 16.0),
                    5 => [f32::NAN, 2.5, -7.5, 0.25][j % 4],
                    6 => [f32::INFINITY, 1.0, f32::NEG_INFINITY, -0.5][j % 4],
                    _ => *v * 1e6,
                };
            }
            block[0] = if b % 8 < 3 { 127.0 } else { block[0] };
        }
        x[32 * 63..].fill(f32::NAN);
        x[32 * 39..32 * 40].fill(0.0);
        let blocks = x.len() / BLOCK;
        let (mut q, mut d, mut sums) = (vec![0; x.len()], vec![0.0; blocks], vec![0; blocks]);
        round_blocks_scalar(&x, &mut q, &mut d, &mut sums);
        let (mut q2, mut d2, mut sums2) = (vec![1; x.len()], vec![1.0; blocks], vec![1; blocks]);
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::cpu::avx2() {
            // SAFETY: the CPU has AVX2; the slices have the sizes the scalar pass took.
            unsafe { round_blocks_avx2(&x, &mut q2, &mut d2, &mut sums2) };
        } else {
            eprintln!("no AVX2 here: only the scalar rounding runs");
            return;
        }
        #[cfg(not(target_arch = "x86_64"))]
        return;
        assert_eq!(q, q2);
        assert_eq!(sums, sums2);
        for (a, b) in d.iter().zip(&d2) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}
