//! The AVX-512 tile of the decoding kernel: 4 weight rows × up to 4 input rows per pass, so
//! each 16-wide load of a weight row feeds 4 FMAs and each load of an input row feeds 4
//! (16 accumulators in registers). Weights are f32 or bf16 (widened to f32 in registers,
//! activations and sums stay f32); blocks of 4-bit or 8-bit weights (`q4.rs`, `q8.rs`) have
//! their own tile, which decodes each block in registers. The caller checks `avx512f` and
//! `avx512bw`.

use std::arch::x86_64::*;

use crate::kernels::matvec::add_bias;

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
    add_bias(bias, rows, m, out, ldo);
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

/// Rows of 4-bit or 8-bit blocks of 32 weights (`q4.rs`, `q8.rs`) the block tile decodes
/// to f32 in registers.
pub trait Blocks: Copy {
    /// The same matrix from row `j` on (`nb` blocks per row).
    ///
    /// # Safety
    /// Row `j` must exist.
    unsafe fn skip_rows(self, j: usize, nb: usize) -> Self;

    /// Block `b` of row `j` as two vectors of 16 f32 (elements 0..16, 16..32), the exact
    /// values the block stands for.
    ///
    /// # Safety
    /// The block must exist; the CPU must have AVX-512 F/BW.
    unsafe fn block(self, j: usize, nb: usize, b: usize) -> (__m512, __m512);
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
    unsafe fn block(self, j: usize, nb: usize, b: usize) -> (__m512, __m512) {
        let [d, m] = *self.0.add(j * nb + b);
        let bytes = _mm_loadu_si128(self.1.add((j * nb + b) * 16) as *const __m128i);
        let q = _mm512_cvtepu8_epi32(bytes);
        let (d, m) = (_mm512_set1_ps(d), _mm512_set1_ps(m));
        let low = _mm512_and_si512(q, _mm512_set1_epi32(0x0F));
        (
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(low), d, m),
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4)), d, m),
        )
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
    unsafe fn block(self, j: usize, nb: usize, b: usize) -> (__m512, __m512) {
        let d = _mm512_set1_ps(*self.0.add(j * nb + b));
        let bytes = _mm_loadu_si128(self.1.add((j * nb + b) * 16) as *const __m128i);
        let q = _mm512_cvtepu8_epi32(bytes);
        let eight = _mm512_set1_epi32(8);
        let low = _mm512_sub_epi32(_mm512_and_si512(q, _mm512_set1_epi32(0x0F)), eight);
        let high = _mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight);
        (
            _mm512_mul_ps(_mm512_cvtepi32_ps(low), d),
            _mm512_mul_ps(_mm512_cvtepi32_ps(high), d),
        )
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
    unsafe fn block(self, j: usize, nb: usize, b: usize) -> (__m512, __m512) {
        let i = j * nb + b;
        let (d, m) = crate::kernels::q4k::sub_scale(&*self.0.add(i / 8), *self.1.add(i));
        let bytes = _mm_loadu_si128(self.2.add(i * 16) as *const __m128i);
        let q = _mm512_cvtepu8_epi32(bytes);
        let (d, m) = (_mm512_set1_ps(d), _mm512_set1_ps(m));
        let low = _mm512_and_si512(q, _mm512_set1_epi32(0x0F));
        (
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(low), d, m),
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4)), d, m),
        )
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
    unsafe fn block(self, j: usize, nb: usize, b: usize) -> (__m512, __m512) {
        let d = _mm512_set1_ps(*self.0.add(j * nb + b));
        let p = self.1.add((j * nb + b) * 32);
        let q0 = _mm512_cvtepi8_epi32(_mm_loadu_si128(p as *const __m128i));
        let q1 = _mm512_cvtepi8_epi32(_mm_loadu_si128(p.add(16) as *const __m128i));
        (
            _mm512_mul_ps(_mm512_cvtepi32_ps(q0), d),
            _mm512_mul_ps(_mm512_cvtepi32_ps(q1), d),
        )
    }
}

/// Block weights (`Blocks`): `out[i * ldo + j] = dot(w_j, x_i) + bias[j]` for weight rows
/// `j` in `0..rows` and input rows `i` in `0..m`. Each block of 32 weights is decoded to f32
/// in registers once per tile and fed to the FMAs of up to 8 input rows.
///
/// # Safety
/// The CPU must have AVX-512 F/BW; `k` is a multiple of 32; `w` holds `rows` rows of `k / 32`
/// blocks; `xs`, `out`, `bias` as in `rows`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw")]
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
    let mut j = 0;
    while j < rows {
        let wj = w.skip_rows(j, nb);
        let o = out.add(j);
        let two = rows - j >= 2;
        let mut i = 0;
        while i < m {
            let (x, oi) = (xs.add(i * k), o.add(i * ldo));
            let r = match m - i {
                r if r >= 8 => 8,
                r if r >= 4 => 4,
                r if r >= 2 => 2,
                _ => 1,
            };
            match (two, r) {
                (true, 8) => tile_blocks::<B, 2, 8>(wj, nb, x, k, oi, ldo),
                (true, 4) => tile_blocks::<B, 2, 4>(wj, nb, x, k, oi, ldo),
                (true, 2) => tile_blocks::<B, 2, 2>(wj, nb, x, k, oi, ldo),
                (true, _) => tile_blocks::<B, 2, 1>(wj, nb, x, k, oi, ldo),
                (false, 8) => tile_blocks::<B, 1, 8>(wj, nb, x, k, oi, ldo),
                (false, 4) => tile_blocks::<B, 1, 4>(wj, nb, x, k, oi, ldo),
                (false, 2) => tile_blocks::<B, 1, 2>(wj, nb, x, k, oi, ldo),
                (false, _) => tile_blocks::<B, 1, 1>(wj, nb, x, k, oi, ldo),
            }
            i += r;
        }
        j += if two { 2 } else { 1 };
    }
    add_bias(bias, rows, m, out, ldo);
}

/// `NW` block weight rows (`nb` blocks each) against `R` input rows (stride `k`).
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
unsafe fn tile_blocks<B: Blocks, const NW: usize, const R: usize>(
    w: B,
    nb: usize,
    x: *const f32,
    k: usize,
    out: *mut f32,
    ldo: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); R]; NW];
    for b in 0..nb {
        let mut ws = [(_mm512_setzero_ps(), _mm512_setzero_ps()); NW];
        for (j, wj) in ws.iter_mut().enumerate() {
            *wj = w.block(j, nb, b);
        }
        // Each input load feeds the FMAs of all NW weight rows.
        for i in 0..R {
            let xp = x.add(i * k + b * 32);
            let (x0, x1) = (_mm512_loadu_ps(xp), _mm512_loadu_ps(xp.add(16)));
            for (a, &(w0, w1)) in acc.iter_mut().zip(&ws) {
                a[i] = _mm512_fmadd_ps(w0, x0, a[i]);
                a[i] = _mm512_fmadd_ps(w1, x1, a[i]);
            }
        }
    }
    for (j, a) in acc.iter().enumerate() {
        for (i, v) in a.iter().enumerate() {
            *out.add(i * ldo + j) = _mm512_reduce_add_ps(*v);
        }
    }
}
