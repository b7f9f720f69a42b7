//! A vectorized `exp` for the fused training ops (softmax, SwiGLU, cross-entropy): libm's
//! scalar `expf` was ~7 % of a training step. Cephes' single-precision method, 8 lanes of
//! AVX2/FMA at a time: `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-7 polynomial for
//! `e^r`, `2^n` put in the exponent bits — within 2 ulp of `f32::exp`. NaN stays NaN;
//! results below the smallest normal f32 (`x < -87.33`) are 0; lanes above 88 (near
//! overflow) go through `f32::exp`. Other CPUs use `f32::exp`.

/// `v[i] = scale · exp(v[i] - shift)`; returns the sum of the new values.
pub fn exp_shift_in_place(v: &mut [f32], shift: f32, scale: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::cpu::avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (`cpu::avx2_fma`, just above).
        return unsafe { avx2::exp_shift_in_place(v, shift, scale) };
    }
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = scale * (*x - shift).exp();
        sum += *x;
    }
    sum
}

/// `Σ exp(v[i] - shift)`.
pub fn sum_exp_shift(v: &[f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::cpu::avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (`cpu::avx2_fma`, just above).
        return unsafe { avx2::sum_exp_shift(v, shift) };
    }
    v.iter().map(|&x| (x - shift).exp()).sum()
}

/// `out[i] = 1 / (1 + exp(-x[i]))`, the logistic function.
pub fn sigmoid_into(x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::cpu::avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (`cpu::avx2_fma`, just above).
        return unsafe { avx2::sigmoid_into(x, out) };
    }
    for (o, &v) in out.iter_mut().zip(x) {
        *o = 1.0 / (1.0 + (-v).exp());
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use crate::kernels::matvec_avx2::hsum;

    /// Below this, `e^x` is under the smallest normal f32: the result is 0.
    const LO: f32 = -87.33;
    /// Above this, `2^n` would not fit the exponent bits: the lane goes through `f32::exp`.
    const HI: f32 = 88.0;

    /// `e^x` for 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub unsafe fn exp8(x: __m256) -> __m256 {
        // min / max return their second operand when either is NaN: NaN passes through.
        let xc = _mm256_max_ps(_mm256_set1_ps(LO), _mm256_min_ps(_mm256_set1_ps(HI), x));
        let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm256_mul_ps(xc, _mm256_set1_ps(std::f32::consts::LOG2_E)),
        );
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), xc);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            0.166_666_65,
            0.5,
        ] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let e_r = _mm256_add_ps(
            _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r),
            _mm256_set1_ps(1.0),
        );
        let pow2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_cvtps_epi32(n),
            _mm256_set1_epi32(127),
        )));
        let y = _mm256_mul_ps(e_r, pow2);
        let under = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(LO));
        let y = _mm256_andnot_ps(under, y);
        let over = _mm256_cmp_ps::<_CMP_GT_OQ>(x, _mm256_set1_ps(HI));
        if _mm256_movemask_ps(over) == 0 {
            return y;
        }
        let (mut xs, mut ys) = ([0f32; 8], [0f32; 8]);
        _mm256_storeu_ps(xs.as_mut_ptr(), x);
        _mm256_storeu_ps(ys.as_mut_ptr(), y);
        for (y, x) in ys.iter_mut().zip(xs) {
            if x > HI {
                *y = x.exp();
            }
        }
        _mm256_loadu_ps(ys.as_ptr())
    }

    /// As `super::exp_shift_in_place`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_shift_in_place(v: &mut [f32], shift: f32, scale: f32) -> f32 {
        let (sh, sc) = (_mm256_set1_ps(shift), _mm256_set1_ps(scale));
        let mut acc = _mm256_setzero_ps();
        let mut chunks = v.chunks_exact_mut(8);
        for c in &mut chunks {
            let e = _mm256_mul_ps(sc, exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), sh)));
            _mm256_storeu_ps(c.as_mut_ptr(), e);
            acc = _mm256_add_ps(acc, e);
        }
        let mut sum = hsum(acc);
        for x in chunks.into_remainder() {
            *x = scale * (*x - shift).exp();
            sum += *x;
        }
        sum
    }

    /// As `super::sum_exp_shift`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sum_exp_shift(v: &[f32], shift: f32) -> f32 {
        let sh = _mm256_set1_ps(shift);
        let mut acc = _mm256_setzero_ps();
        let chunks = v.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            acc = _mm256_add_ps(acc, exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), sh)));
        }
        hsum(acc) + rest.iter().map(|&x| (x - shift).exp()).sum::<f32>()
    }

    /// As `super::sigmoid_into`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sigmoid_into(x: &[f32], out: &mut [f32]) {
        let n = x.len().min(out.len());
        let one = _mm256_set1_ps(1.0);
        let full = n / 8 * 8;
        for i in (0..full).step_by(8) {
            let e = exp8(_mm256_sub_ps(
                _mm256_setzero_ps(),
                _mm256_loadu_ps(x.as_ptr().add(i)),
            ));
            _mm256_storeu_ps(
                out.as_mut_ptr().add(i),
                _mm256_div_ps(one, _mm256_add_ps(one, e)),
            );
        }
        for i in full..n {
            out[i] = 1.0 / (1.0 + (-x[i]).exp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within 2 ulp (relative 2.4e-7) of `f32::exp` from deep underflow to overflow; NaN,
    /// ±∞ and the flush-to-zero range as documented; the sum and the scale applied.
    #[test]
    fn matches_f32_exp() {
        let mut xs: Vec<f32> = (-1000..=1000).map(|i| i as f32 * 0.0893).collect();
        xs.extend([
            0.0, -0.0, 1e-8, -1e-8, 88.5, 88.72, 89.0, -87.0, -87.3, -87.5, -200.0,
        ]);
        xs.extend([f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
        let mut v = xs.clone();
        let sum = exp_shift_in_place(&mut v, 0.0, 1.0);
        for (&x, &got) in xs.iter().zip(&v) {
            let want = x.exp();
            if x.is_nan() {
                assert!(got.is_nan(), "exp(NaN) = {got}");
            } else if x < -87.33 {
                assert!(
                    got == 0.0 || (got - want).abs() <= want * 2.4e-7,
                    "exp({x}) = {got}"
                );
            } else if want.is_infinite() {
                assert_eq!(got, want, "exp({x})");
            } else {
                assert!(
                    (got - want).abs() <= want * 2.4e-7,
                    "exp({x}) = {got}, want {want}"
                );
            }
        }
        assert!(sum.is_nan(), "a NaN input makes the sum NaN");
        let finite: Vec<f32> = (-50..50).map(|i| i as f32 * 0.37).collect();
        let want: f32 = finite.iter().map(|&x| (x - 3.0).exp()).sum();
        let got = sum_exp_shift(&finite, 3.0);
        assert!((got - want).abs() <= want * 1e-6, "{got} vs {want}");
        let mut scaled = finite.clone();
        let s = exp_shift_in_place(&mut scaled, 3.0, 0.5);
        assert!((s - 0.5 * want).abs() <= want * 1e-6);
        let mut sig = vec![0f32; finite.len()];
        sigmoid_into(&finite, &mut sig);
        for (&x, &g) in finite.iter().zip(&sig) {
            let w = 1.0 / (1.0 + (-x).exp());
            assert!((g - w).abs() <= 3e-7, "sigmoid({x}) = {g}, want {w}");
        }
    }
}
