//! The AVX-512 tile of the decoding kernel: 4 weight rows × up to 4 input rows per pass, so
//! each 16-wide load of a weight row feeds 4 FMAs and each load of an input row feeds 4
//! (16 accumulators in registers). Weights are f32 or bf16 (widened to f32 in registers,
//! activations and sums stay f32). The caller checks `avx512f` and `avx512bw`.

use std::arch::x86_64::*;

/// A weight element type the tile can load 16 at a time as f32.
pub trait Elem: Copy {
    /// Loads 16 elements at `p` as f32 (`mask`: which of the 16 exist).
    ///
    /// # Safety
    /// The masked-in elements must be readable; the CPU must have AVX-512 F/BW.
    unsafe fn load(p: *const Self, mask: __mmask16) -> __m512;
}

impl Elem for f32 {
    #[inline(always)]
    unsafe fn load(p: *const f32, mask: __mmask16) -> __m512 {
        if mask == 0xFFFF {
            _mm512_loadu_ps(p)
        } else {
            _mm512_maskz_loadu_ps(mask, p)
        }
    }
}

impl Elem for u16 {
    /// bf16 bits: the f32 with the same top 16 bits.
    #[inline(always)]
    unsafe fn load(p: *const u16, mask: __mmask16) -> __m512 {
        let h = if mask == 0xFFFF {
            _mm256_loadu_si256(p as *const __m256i)
        } else {
            _mm256_maskz_loadu_epi16(mask, p as *const i16)
        };
        _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))
    }
}

/// `out[i * ldo + j] = dot(w_j, x_i) + bias[j]` for weight rows `j` in `0..rows` of `w`
/// (row length `k`) and input rows `i` in `0..m` of `xs`.
///
/// # Safety
/// The CPU must have AVX-512 F/BW; `w` holds `rows * k` elements, `xs` `m * k`, `out`
/// `(m - 1) * ldo + rows` writable elements, `bias` (if any) `rows`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw")]
pub unsafe fn rows<E: Elem>(
    w: *const E,
    rows: usize,
    k: usize,
    xs: *const f32,
    m: usize,
    bias: Option<*const f32>,
    out: *mut f32,
    ldo: usize,
) {
    let mut j = 0;
    while j + 4 <= rows {
        let wj = w.add(j * k);
        let mut i = 0;
        while i + 4 <= m {
            tile::<E, 4, 4>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo);
            i += 4;
        }
        match m - i {
            1 => tile::<E, 4, 1>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo),
            2 => tile::<E, 4, 2>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo),
            3 => tile::<E, 4, 3>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo),
            _ => {}
        }
        j += 4;
    }
    while j < rows {
        let wj = w.add(j * k);
        let mut i = 0;
        while i + 4 <= m {
            tile::<E, 1, 4>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo);
            i += 4;
        }
        while i < m {
            tile::<E, 1, 1>(wj, k, xs.add(i * k), out.add(i * ldo + j), ldo);
            i += 1;
        }
        j += 1;
    }
    if let Some(b) = bias {
        for i in 0..m {
            for j in 0..rows {
                *out.add(i * ldo + j) += *b.add(j);
            }
        }
    }
}

/// `NW` weight rows (from `w`, stride `k`) against `R` input rows (from `x`, stride `k`):
/// `out[i * ldo + j] = dot`.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
unsafe fn tile<E: Elem, const NW: usize, const R: usize>(
    w: *const E,
    k: usize,
    x: *const f32,
    out: *mut f32,
    ldo: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); R]; NW];
    let full = k / 16 * 16;
    let mut p = 0;
    while p < full {
        let mut xv = [_mm512_setzero_ps(); R];
        for (i, v) in xv.iter_mut().enumerate() {
            *v = _mm512_loadu_ps(x.add(i * k + p));
        }
        for (j, a) in acc.iter_mut().enumerate() {
            let wp = w.add(j * k + p);
            // The next block of weight rows streams in from memory while this one computes.
            _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(NW * k) as *const i8);
            let wv = E::load(wp, 0xFFFF);
            for (i, v) in xv.iter().enumerate() {
                a[i] = _mm512_fmadd_ps(wv, *v, a[i]);
            }
        }
        p += 16;
    }
    if p < k {
        let mask = ((1u32 << (k - p)) - 1) as __mmask16;
        let mut xv = [_mm512_setzero_ps(); R];
        for (i, v) in xv.iter_mut().enumerate() {
            *v = _mm512_maskz_loadu_ps(mask, x.add(i * k + p));
        }
        for (j, a) in acc.iter_mut().enumerate() {
            let wv = E::load(w.add(j * k + p), mask);
            for (i, v) in xv.iter().enumerate() {
                a[i] = _mm512_fmadd_ps(wv, *v, a[i]);
            }
        }
    }
    for (j, a) in acc.iter().enumerate() {
        for (i, v) in a.iter().enumerate() {
            *out.add(i * ldo + j) = _mm512_reduce_add_ps(*v);
        }
    }
}
