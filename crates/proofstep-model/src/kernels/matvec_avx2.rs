//! The AVX2/FMA tile of the decoding kernel, for CPUs without AVX-512: 2 weight rows × up to
//! 4 input rows per pass (8 accumulators of 8 lanes), so each load of a weight row feeds
//! several FMAs and each load of an input row feeds two. Weights are f32 or bf16 (widened to
//! f32 in registers); blocks of 4-bit or 8-bit weights (`q4.rs`, `q8.rs`) have their own
//! tile, which decodes each block in registers, 8 weights at a time, once per up to 8 input
//! rows. The caller checks `avx2` and `fma`.

use std::arch::x86_64::*;

use crate::kernels::matvec::add_bias;

/// A weight element type the tile can load 8 at a time as f32.
pub trait Elem: Copy + Default {
    /// Loads 8 elements at `p` as f32.
    ///
    /// # Safety
    /// 8 elements must be readable at `p`; the CPU must have AVX2.
    unsafe fn load8(p: *const Self) -> __m256;
}

impl Elem for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
}

impl Elem for u16 {
    /// bf16 bits: the f32 with the same top 16 bits.
    #[inline(always)]
    unsafe fn load8(p: *const u16) -> __m256 {
        let h = _mm_loadu_si128(p as *const __m128i);
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16))
    }
}

/// Horizontal sum of 8 lanes.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
}

/// `out[i * ldo + j] = dot(w_j, x_i) + bias[j]` for weight rows `j` in `0..rows` of `w`
/// (row length `k`) and input rows `i` in `0..m` of `xs`.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `w` holds `rows * k` elements, `xs` `m * k`, `out`
/// `(m - 1) * ldo + rows` writable elements, `bias` (if any) `rows`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
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
    while j < rows {
        let two = rows - j >= 2;
        let (wj, o) = (w.add(j * k), out.add(j));
        let mut i = 0;
        while i < m {
            let (x, oi) = (xs.add(i * k), o.add(i * ldo));
            let r = (m - i).min(4);
            match (two, r) {
                (true, 4) => tile::<E, 2, 4>(wj, k, x, oi, ldo),
                (true, 3) => tile::<E, 2, 3>(wj, k, x, oi, ldo),
                (true, 2) => tile::<E, 2, 2>(wj, k, x, oi, ldo),
                (true, _) => tile::<E, 2, 1>(wj, k, x, oi, ldo),
                (false, 4) => tile::<E, 1, 4>(wj, k, x, oi, ldo),
                (false, 3) => tile::<E, 1, 3>(wj, k, x, oi, ldo),
                (false, 2) => tile::<E, 1, 2>(wj, k, x, oi, ldo),
                (false, _) => tile::<E, 1, 1>(wj, k, x, oi, ldo),
            }
            i += r;
        }
        j += if two { 2 } else { 1 };
    }
    add_bias(bias, rows, m, out, ldo);
}

/// `NW` weight rows (from `w`, stride `k`) against `R` input rows (from `x`, stride `k`):
/// `out[i * ldo + j] = dot`. The last `k % 8` elements go through zero-padded copies.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile<E: Elem, const NW: usize, const R: usize>(
    w: *const E,
    k: usize,
    x: *const f32,
    out: *mut f32,
    ldo: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); R]; NW];
    let full = k / 8 * 8;
    let mut p = 0;
    while p < full {
        let mut wv = [_mm256_setzero_ps(); NW];
        for (j, v) in wv.iter_mut().enumerate() {
            *v = E::load8(w.add(j * k + p));
        }
        for i in 0..R {
            let xv = _mm256_loadu_ps(x.add(i * k + p));
            for (a, v) in acc.iter_mut().zip(&wv) {
                a[i] = _mm256_fmadd_ps(*v, xv, a[i]);
            }
        }
        p += 8;
    }
    if p < k {
        let n = k - p;
        let mut wv = [_mm256_setzero_ps(); NW];
        for (j, v) in wv.iter_mut().enumerate() {
            let mut pad = [E::default(); 8];
            std::ptr::copy_nonoverlapping(w.add(j * k + p), pad.as_mut_ptr(), n);
            *v = E::load8(pad.as_ptr());
        }
        for i in 0..R {
            let mut pad = [0f32; 8];
            std::ptr::copy_nonoverlapping(x.add(i * k + p), pad.as_mut_ptr(), n);
            let xv = _mm256_loadu_ps(pad.as_ptr());
            for (a, v) in acc.iter_mut().zip(&wv) {
                a[i] = _mm256_fmadd_ps(*v, xv, a[i]);
            }
        }
    }
    for (j, a) in acc.iter().enumerate() {
        for (i, v) in a.iter().enumerate() {
            *out.add(i * ldo + j) = hsum(*v);
        }
    }
}

/// Rows of 4-bit or 8-bit blocks of 32 weights (`q4.rs`, `q8.rs`) the block tile decodes
/// to f32 in registers.
pub trait Blocks: Copy {
    /// The same matrix from row `j` on (`nb` blocks per row).
    ///
    /// # Safety
    /// Row `j` must exist.
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self;

    /// Block `b` of row 0 as four vectors of 8 f32 (elements 0..8, .., 24..32), the exact
    /// values the block stands for.
    ///
    /// # Safety
    /// The block must exist; the CPU must have AVX2 and FMA.
    unsafe fn block(self, b: usize) -> [__m256; 4];
}

/// Q4_1 blocks: `(d, m)` per block and 16 bytes of nibbles (element `i` low, `i + 16` high).
#[derive(Clone, Copy)]
pub struct Q4Blocks(pub *const [f32; 2], pub *const u8);

impl Blocks for Q4Blocks {
    #[inline(always)]
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self {
        Q4Blocks(self.0.add(j * nb), self.1.add(j * nb * 16))
    }

    /// `q · d + m` by one FMA: exact, since `q · d` is exact in f32.
    #[inline(always)]
    unsafe fn block(self, b: usize) -> [__m256; 4] {
        let [d, m] = *self.0.add(b);
        let (d, m) = (_mm256_set1_ps(d), _mm256_set1_ps(m));
        let bytes = _mm_loadu_si128(self.1.add(b * 16) as *const __m128i);
        let lo = _mm256_cvtepu8_epi32(bytes);
        let hi = _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8));
        let nib = _mm256_set1_epi32(0x0F);
        let value = |q: __m256i| _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), d, m);
        [
            value(_mm256_and_si256(lo, nib)),
            value(_mm256_and_si256(hi, nib)),
            value(_mm256_srli_epi32(lo, 4)),
            value(_mm256_srli_epi32(hi, 4)),
        ]
    }
}

/// Q4_K blocks (`q4k.rs`): `[d, dmin]` per super-block of 8 blocks, `[sc, m]` per block, and
/// 16 bytes of nibbles per block (element `i` low, `i + 16` high).
#[derive(Clone, Copy)]
pub struct Q4KBlocks(pub *const [f32; 2], pub *const [u8; 2], pub *const u8);

impl Blocks for Q4KBlocks {
    #[inline(always)]
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self {
        Q4KBlocks(
            self.0.add(j * nb / 8),
            self.1.add(j * nb),
            self.2.add(j * nb * 16),
        )
    }

    /// `q · (d·sc) − dmin·m` by one FMA.
    #[inline(always)]
    unsafe fn block(self, b: usize) -> [__m256; 4] {
        let (d, m) = crate::kernels::q4k::sub_scale(&*self.0.add(b / 8), *self.1.add(b));
        let (d, m) = (_mm256_set1_ps(d), _mm256_set1_ps(m));
        let bytes = _mm_loadu_si128(self.2.add(b * 16) as *const __m128i);
        let lo = _mm256_cvtepu8_epi32(bytes);
        let hi = _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8));
        let nib = _mm256_set1_epi32(0x0F);
        let value = |q: __m256i| _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), d, m);
        [
            value(_mm256_and_si256(lo, nib)),
            value(_mm256_and_si256(hi, nib)),
            value(_mm256_srli_epi32(lo, 4)),
            value(_mm256_srli_epi32(hi, 4)),
        ]
    }
}

/// Q4_0 blocks: `d` per block and 16 bytes of nibbles (element `i` low, `i + 16` high).
#[derive(Clone, Copy)]
pub struct Q40Blocks(pub *const f32, pub *const u8);

impl Blocks for Q40Blocks {
    #[inline(always)]
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self {
        Q40Blocks(self.0.add(j * nb), self.1.add(j * nb * 16))
    }

    /// `(q − 8) · d`: exact in f32.
    #[inline(always)]
    unsafe fn block(self, b: usize) -> [__m256; 4] {
        let d = _mm256_set1_ps(*self.0.add(b));
        let bytes = _mm_loadu_si128(self.1.add(b * 16) as *const __m128i);
        let lo = _mm256_cvtepu8_epi32(bytes);
        let hi = _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8));
        let (nib, eight) = (_mm256_set1_epi32(0x0F), _mm256_set1_epi32(8));
        let value = |q: __m256i| _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, eight)), d);
        [
            value(_mm256_and_si256(lo, nib)),
            value(_mm256_and_si256(hi, nib)),
            value(_mm256_srli_epi32(lo, 4)),
            value(_mm256_srli_epi32(hi, 4)),
        ]
    }
}

/// Q8_0 blocks: `d` per block and 32 signed bytes.
#[derive(Clone, Copy)]
pub struct Q8Blocks(pub *const f32, pub *const i8);

impl Blocks for Q8Blocks {
    #[inline(always)]
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self {
        Q8Blocks(self.0.add(j * nb), self.1.add(j * nb * 32))
    }

    /// `q · d`: exact in f32.
    #[inline(always)]
    unsafe fn block(self, b: usize) -> [__m256; 4] {
        let d = _mm256_set1_ps(*self.0.add(b));
        let p = self.1.add(b * 32);
        let value = |o: usize| {
            let q = _mm_loadl_epi64(p.add(o) as *const __m128i);
            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d)
        };
        [value(0), value(8), value(16), value(24)]
    }
}

/// Block weights (`Blocks`): `out[i * ldo + j] = dot(w_j, x_i) + bias[j]` for weight rows
/// `j` in `0..rows` and input rows `i` in `0..m`. Each block of 32 weights is decoded in
/// registers once per tile of up to 8 input rows.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `k` is a multiple of 32; `w` holds `rows` rows of
/// `k / 32` blocks; `xs`, `out`, `bias` as in `rows`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn rows_blocks<B: Blocks>(
    w: B,
    rows: usize,
    k: usize,
    xs: *const f32,
    m: usize,
    bias: Option<*const f32>,
    out: *mut f32,
    ldo: usize,
) {
    let nb = k / 32;
    for j in 0..rows {
        let wj = w.skip_rows(j, nb);
        let o = out.add(j);
        let mut i = 0;
        while i < m {
            let (x, oi) = (xs.add(i * k), o.add(i * ldo));
            // Few input rows get one accumulator per quarter block, so that consecutive
            // FMAs do not wait on each other.
            let r = match m - i {
                r if r >= 8 => {
                    tile_blocks::<B, 8, 1>(wj, nb, x, k, oi, ldo);
                    8
                }
                r if r >= 4 => {
                    tile_blocks::<B, 4, 2>(wj, nb, x, k, oi, ldo);
                    4
                }
                r if r >= 2 => {
                    tile_blocks::<B, 2, 4>(wj, nb, x, k, oi, ldo);
                    2
                }
                _ => {
                    tile_blocks::<B, 1, 4>(wj, nb, x, k, oi, ldo);
                    1
                }
            };
            i += r;
        }
    }
    add_bias(bias, rows, m, out, ldo);
}

/// One block weight row (`nb` blocks) against `R` input rows (stride `k`), with `A`
/// accumulators per input row (quarter `q` of a block adds into accumulator `q % A`).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile_blocks<B: Blocks, const R: usize, const A: usize>(
    w: B,
    nb: usize,
    x: *const f32,
    k: usize,
    out: *mut f32,
    ldo: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); A]; R];
    for b in 0..nb {
        let ws = w.block(b);
        for (i, a) in acc.iter_mut().enumerate() {
            let xp = x.add(i * k + b * 32);
            for (q, wq) in ws.iter().enumerate() {
                a[q % A] = _mm256_fmadd_ps(*wq, _mm256_loadu_ps(xp.add(q * 8)), a[q % A]);
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        let mut s = a[0];
        for v in &a[1..] {
            s = _mm256_add_ps(s, *v);
        }
        *out.add(i * ldo) = hsum(s);
    }
}
