//! The decoding step's `x · Wᵀ` for interleaved int8 / int4 weights (`x8.rs`) and int8
//! activations, by AVX-512 VNNI's `vpdpbusd` on 256-bit registers: per block of 32, each load
//! of 32 bytes is four weights of eight rows, multiplied with four broadcast activation bytes
//! and summed into the eight rows' lanes; the block's sum is then corrected for the levels'
//! offset, scaled by the eight rows' scales and the activation block's scale, and added to the
//! eight f32 accumulators. Tiles of 8 weight rows × up to 4 input rows.

use std::arch::x86_64::*;

use crate::kernels::q4::BLOCK;
use crate::kernels::x8::{X8Kind, GROUP};

/// `out[i · ldo + j] = Σ_p w[j][p] · xq[i][p]` for the `groups · 8` rows of `levels` /
/// `scales` (the matrix's groups from the first one to compute) and `m` input rows.
///
/// # Safety
/// The CPU must have AVX2, FMA, F16C, AVX-512 VNNI and VL (`x8::available`); `scales` and
/// `levels` hold `groups` groups of `k / 32` blocks; `xq` `m · k` levels, `xd` and `xs` `m · k / 32`
/// scales and sums; `out` `(m − 1) · ldo + 8 · groups` writable values.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
pub unsafe fn rows_x8(
    kind: X8Kind,
    scales: *const u16,
    levels: *const u8,
    groups: usize,
    k: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const i32,
    m: usize,
    out: *mut f32,
    ldo: usize,
) {
    let nb = k / BLOCK;
    let per = kind.block_bytes();
    for g in 0..groups {
        let (sc, lv) = (scales.add(g * nb * GROUP), levels.add(g * nb * per));
        let o = out.add(g * GROUP);
        let mut i = 0;
        while i < m {
            let x = Acts {
                q: xq.add(i * k),
                d: xd.add(i * nb),
                s: xs.add(i * nb),
                k,
                nb,
            };
            let oi = o.add(i * ldo);
            let r = match (kind, m - i) {
                (X8Kind::Q8_0, r) if r >= 4 => tile::<false, 4>(sc, lv, nb, x, oi, ldo),
                (X8Kind::Q8_0, r) if r >= 2 => tile::<false, 2>(sc, lv, nb, x, oi, ldo),
                (X8Kind::Q8_0, _) => tile::<false, 1>(sc, lv, nb, x, oi, ldo),
                (X8Kind::Q4_0, r) if r >= 4 => tile::<true, 4>(sc, lv, nb, x, oi, ldo),
                (X8Kind::Q4_0, r) if r >= 2 => tile::<true, 2>(sc, lv, nb, x, oi, ldo),
                (X8Kind::Q4_0, _) => tile::<true, 1>(sc, lv, nb, x, oi, ldo),
            };
            i += r;
        }
    }
}

/// Rounded activation rows from the first of a tile: levels (row stride `k`), per-block scales
/// and sums (row stride `nb`).
#[derive(Clone, Copy)]
struct Acts {
    q: *const i8,
    d: *const f32,
    s: *const i32,
    k: usize,
    nb: usize,
}

/// Four activation bytes of row `i` from element `p`, broadcast to every lane.
#[inline(always)]
unsafe fn four(x: Acts, i: usize, p: usize) -> __m256i {
    _mm256_set1_epi32((x.q.add(i * x.k + p) as *const i32).read_unaligned())
}

/// One group of 8 weight rows against `R` input rows; returns `R`.
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
#[inline]
unsafe fn tile<const Q4: bool, const R: usize>(
    scales: *const u16,
    levels: *const u8,
    nb: usize,
    x: Acts,
    out: *mut f32,
    ldo: usize,
) -> usize {
    let offset = if Q4 { 8 } else { 128 };
    let per = if Q4 { 128 } else { 256 };
    let low = _mm256_set1_epi8(0x0F);
    let mut acc = [_mm256_setzero_ps(); R];
    for b in 0..nb {
        let d = _mm256_cvtph_ps(_mm_loadu_si128(scales.add(b * GROUP) as *const __m128i));
        let lv = levels.add(b * per);
        let mut dot = [_mm256_setzero_si256(); R];
        if Q4 {
            for c in 0..4 {
                let v = _mm256_loadu_si256(lv.add(c * 32) as *const __m256i);
                let lo = _mm256_and_si256(v, low);
                let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
                for (i, s) in dot.iter_mut().enumerate() {
                    let p = b * BLOCK + 4 * c;
                    *s = _mm256_dpbusd_epi32(*s, lo, four(x, i, p));
                    *s = _mm256_dpbusd_epi32(*s, hi, four(x, i, p + 16));
                }
            }
        } else {
            for c in 0..8 {
                let v = _mm256_loadu_si256(lv.add(c * 32) as *const __m256i);
                for (i, s) in dot.iter_mut().enumerate() {
                    *s = _mm256_dpbusd_epi32(*s, v, four(x, i, b * BLOCK + 4 * c));
                }
            }
        }
        for (i, (a, s)) in acc.iter_mut().zip(dot).enumerate() {
            // Σ (u − o)·q = Σ u·q − o·Σ q.
            let corrected = _mm256_sub_epi32(s, _mm256_set1_epi32(offset * *x.s.add(i * x.nb + b)));
            let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(corrected), d);
            *a = _mm256_fmadd_ps(scaled, _mm256_set1_ps(*x.d.add(i * x.nb + b)), *a);
        }
    }
    for (i, a) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.add(i * ldo), *a);
    }
    R
}
