//! The decoding step's `x · Wᵀ` for interleaved int8 / int4 weights (`x8.rs`) and int8
//! activations: per block of 32, each load of 32 bytes is four weights of eight rows, multiplied
//! with four broadcast activation bytes and summed into the eight rows' lanes; the block's sum
//! is then corrected for the levels' offset, scaled by the eight rows' scales and the
//! activation block's scale, and added to the eight f32 accumulators. Tiles of 8 weight rows ×
//! up to 4 input rows. Two instruction sets, one body (`x8_kernel!`): AVX-512 VNNI's
//! `vpdpbusd` on 256-bit registers, and AVX2's `vpmaddubsw` + `vpmaddwd` as llama.cpp does
//! without VNNI — exact as well: 4-bit levels (≤ 15) times int8 never saturate a 16-bit pair
//! sum, and Q8_0 levels are multiplied as signed values (`|w| · sign(x, w)`, ≤ 2 · 128 · 127).

use std::arch::x86_64::*;

use crate::kernels::q4::BLOCK;
use crate::kernels::x8::{X8Kind, GROUP};

/// An interleaved matrix from one group on: its `scales`, `subs` (Q4_K) and `levels`.
#[derive(Clone, Copy)]
pub struct X8Ptrs {
    /// See `X8Matrix::scales`.
    pub scales: *const u16,
    /// See `X8Matrix::subs` (unused but for Q4_K).
    pub subs: *const u8,
    /// See `X8Matrix::levels`.
    pub levels: *const u8,
}

impl X8Ptrs {
    /// The same matrix from `g` groups further on (rows of `nb` blocks).
    ///
    /// # Safety
    /// Those groups must exist.
    pub unsafe fn skip_groups(self, kind: X8Kind, g: usize, nb: usize) -> Self {
        let scales = match kind {
            X8Kind::Q4K => g * (nb / 8) * 16,
            _ => g * nb * GROUP,
        };
        X8Ptrs {
            scales: self.scales.add(scales),
            subs: self
                .subs
                .add(if kind == X8Kind::Q4K { g * nb * 16 } else { 0 }),
            levels: self.levels.add(g * nb * kind.block_bytes()),
        }
    }
}

/// Blocks ahead whose levels the one-row kernels (`one_row_q8`, the 256-bit and 512-bit tiles
/// with one row) and AMX's kernel prefetch: they leave so little work per block that the loads
/// wait on memory unless asked for early (4–64 measured, none better).
pub(crate) const AHEAD: usize = 8;

/// Asks for every 64-byte line of the `bytes` bytes at each of `blocks`, line by line across
/// them: the one prefetch loop of the kernels that read levels `AHEAD` blocks early.
///
/// # Safety
/// Each of `blocks` starts `bytes` bytes inside the matrix (a prefetch never faults; the
/// kernels keep them inside all the same).
#[inline(always)]
pub(crate) unsafe fn prefetch_lines<const N: usize>(blocks: [*const u8; N], bytes: usize) {
    for line in (0..bytes).step_by(64) {
        for p in blocks {
            _mm_prefetch::<_MM_HINT_T0>(p.add(line) as *const i8);
        }
    }
}

/// `out[i · ldo + j] = Σ_p w[j][p] · xq[i][p]` for the first `groups · 8` rows of `w` and `m`
/// input rows: by VNNI on 512-bit registers where the CPU has AVX-512 F/BW/VNNI
/// (`matvec_x8_zmm`), by VNNI on 256-bit ones where it has VNNI only, else by AVX2.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C (`x8::available`); `w` holds `groups` groups of
/// `k / 32` blocks of `kind`; `xq` `m · k` levels, `xd` and `xs` `m · k / 32` scales and sums;
/// `out` `(m − 1) · ldo + 8 · groups` writable values.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rows_x8(
    kind: X8Kind,
    w: X8Ptrs,
    groups: usize,
    k: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const i32,
    m: usize,
    out: *mut f32,
    ldo: usize,
) {
    if crate::kernels::matvec_x8_zmm::available() {
        let amx = kind == X8Kind::Q8_0 && crate::kernels::matvec_x8_amx::available();
        rows_wide(kind, w, groups, k, xq, xd, xs, m, out, ldo, amx)
    } else if crate::kernels::x8::vnni() {
        rows_vnni(kind, w, groups, k, xq, xd, xs, m, out, ldo)
    } else {
        rows_avx2(kind, w, groups, k, xq, xd, xs, m, out, ldo)
    }
}

/// `rows_x8` on 512-bit registers: pairs of groups by `matvec_x8_zmm` (one Q8_0 row by its
/// `one_row_q8`), or by `matvec_x8_amx` where `amx` and more than one row; an odd last group
/// by the 256-bit VNNI tile.
///
/// # Safety
/// As `rows_x8`, and `matvec_x8_zmm::available()`; where `amx`, `kind` is Q8_0 and
/// `matvec_x8_amx::available()`.
#[allow(clippy::too_many_arguments)]
unsafe fn rows_wide(
    kind: X8Kind,
    w: X8Ptrs,
    groups: usize,
    k: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const i32,
    m: usize,
    out: *mut f32,
    ldo: usize,
    amx: bool,
) {
    let pairs = groups / 2;
    if m == 1 && kind == X8Kind::Q8_0 {
        crate::kernels::matvec_x8_zmm::one_row_q8(w, pairs, k, xq, xd, xs, out);
    } else if amx {
        crate::kernels::matvec_x8_amx::rows_amx(w, pairs, k, xq, xd, xs, m, out, ldo);
    } else {
        crate::kernels::matvec_x8_zmm::rows_zmm(kind, w, pairs, k, xq, xd, xs, m, out, ldo);
    }
    if groups % 2 == 1 {
        let last = w.skip_groups(kind, 2 * pairs, k / BLOCK);
        let o = out.add(2 * pairs * GROUP);
        rows_vnni(kind, last, 1, k, xq, xd, xs, m, o, ldo);
    }
}

/// Rounded activation rows from the first of a tile: levels (row stride `k`), per-block scales
/// and sums (row stride `nb`).
#[derive(Clone, Copy)]
pub(crate) struct Acts {
    pub(crate) q: *const i8,
    pub(crate) d: *const f32,
    pub(crate) s: *const i32,
    pub(crate) k: usize,
    pub(crate) nb: usize,
}

/// Four activation bytes of row `i` from element `p`, broadcast to every lane.
#[inline(always)]
unsafe fn four(x: Acts, i: usize, p: usize) -> __m256i {
    _mm256_set1_epi32((x.q.add(i * x.k + p) as *const i32).read_unaligned())
}

/// The tile's weight format (a const parameter): Q8_0, Q4_0, Q4_K.
pub(crate) const Q8: u8 = 0;
pub(crate) const Q4: u8 = 1;
pub(crate) const Q4K: u8 = 2;

/// Eight f16 values as f32.
#[target_feature(enable = "avx2,f16c")]
#[inline]
unsafe fn eight_halves(p: *const u16) -> __m256 {
    _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
}

/// Eight bytes as f32.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn eight_bytes(p: *const u8) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p as *const __m128i)))
}

/// The rows loop and the tile for one instruction set: `$features` its target features,
/// `$dot4` adds Σ u·q of 4-bit levels into a block's partial sums, which `$sum4` turns into
/// the eight rows' int32 lanes, `$q8` prepares a load of Q8_0 levels, `$dot8` adds its
/// dot product with int8 activations, `$q8_offset` what Q8_0's sums are corrected by (128
/// where `$dot8` multiplies the unsigned levels, 0 where the signed ones).
macro_rules! x8_kernel {
    ($rows:ident, $tile:ident, $features:literal, $dot4:ident, $sum4:ident, $q8:ident, $dot8:ident, $q8_offset:expr) => {
        /// `rows_x8` for this instruction set.
        ///
        /// # Safety
        /// As `rows_x8`, and the CPU has the target features.
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = $features)]
        unsafe fn $rows(
            kind: X8Kind,
            w: X8Ptrs,
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
            for g in 0..groups {
                let wg = w.skip_groups(kind, g, nb);
                let o = out.add(g * GROUP);
                let left = nb * (groups - g);
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
                        (X8Kind::Q8_0, r) if r >= 4 => $tile::<Q8, 4>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q8_0, r) if r >= 2 => $tile::<Q8, 2>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q8_0, _) => $tile::<Q8, 1>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4_0, r) if r >= 4 => $tile::<Q4, 4>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4_0, r) if r >= 2 => $tile::<Q4, 2>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4_0, _) => $tile::<Q4, 1>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4K, r) if r >= 4 => $tile::<Q4K, 4>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4K, r) if r >= 2 => $tile::<Q4K, 2>(wg, nb, left, x, oi, ldo),
                        (X8Kind::Q4K, _) => $tile::<Q4K, 1>(wg, nb, left, x, oi, ldo),
                    };
                    i += r;
                }
            }
        }

        /// One group of 8 weight rows against `R` input rows; returns `R`. With one row the
        /// levels `AHEAD` blocks on are asked for, into the next groups up to `left` blocks
        /// from this one's first (groups lie end to end), as `one_row_q8` does.
        #[target_feature(enable = $features)]
        #[inline]
        unsafe fn $tile<const F: u8, const R: usize>(
            w: X8Ptrs,
            nb: usize,
            left: usize,
            x: Acts,
            out: *mut f32,
            ldo: usize,
        ) -> usize {
            let offset = if F == Q8 { $q8_offset } else { 8 };
            let per = if F == Q8 { 256 } else { 128 };
            let low = _mm256_set1_epi8(0x0F);
            let mut acc = [_mm256_setzero_ps(); R];
            let (mut dsup, mut msup) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            for b in 0..nb {
                if R == 1 && b + AHEAD < left {
                    prefetch_lines([w.levels.add((b + AHEAD) * per)], per);
                }
                // Per row: the weight is (u − o)·d (Q8_0, Q4_0), or u·d + c with Q4_K's c = −dmin·m.
                let (d, c) = if F == Q4K {
                    if b % 8 == 0 {
                        dsup = eight_halves(w.scales.add(b / 8 * 16));
                        msup = eight_halves(w.scales.add(b / 8 * 16 + GROUP));
                    }
                    let sub = w.subs.add(b * 16);
                    let d = _mm256_mul_ps(dsup, eight_bytes(sub));
                    (
                        d,
                        _mm256_sub_ps(
                            _mm256_setzero_ps(),
                            _mm256_mul_ps(msup, eight_bytes(sub.add(8))),
                        ),
                    )
                } else {
                    (eight_halves(w.scales.add(b * GROUP)), _mm256_setzero_ps())
                };
                let lv = w.levels.add(b * per);
                let mut dot = [_mm256_setzero_si256(); R];
                if F != Q8 {
                    let mut part = [_mm256_setzero_si256(); R];
                    for c in 0..4 {
                        let v = _mm256_loadu_si256(lv.add(c * 32) as *const __m256i);
                        let lo = _mm256_and_si256(v, low);
                        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
                        for (i, s) in part.iter_mut().enumerate() {
                            let p = b * BLOCK + 4 * c;
                            *s = $dot4(*s, lo, four(x, i, p));
                            *s = $dot4(*s, hi, four(x, i, p + 16));
                        }
                    }
                    for (s, part) in dot.iter_mut().zip(part) {
                        *s = $sum4(part);
                    }
                } else {
                    for c in 0..8 {
                        let v = $q8(_mm256_loadu_si256(lv.add(c * 32) as *const __m256i));
                        for (i, s) in dot.iter_mut().enumerate() {
                            *s = $dot8(*s, v, four(x, i, b * BLOCK + 4 * c));
                        }
                    }
                }
                for (i, (a, s)) in acc.iter_mut().zip(dot).enumerate() {
                    let sum = *x.s.add(i * x.nb + b);
                    let block = if F == Q4K {
                        // Σ (u·d + c)·q = d·Σ u·q + c·Σ q.
                        let cs = _mm256_mul_ps(c, _mm256_set1_ps(sum as f32));
                        _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, cs)
                    } else {
                        // Σ (u − o)·q = Σ u·q − o·Σ q, exact in integers.
                        let corrected = _mm256_sub_epi32(s, _mm256_set1_epi32(offset * sum));
                        _mm256_mul_ps(_mm256_cvtepi32_ps(corrected), d)
                    };
                    *a = _mm256_fmadd_ps(block, _mm256_set1_ps(*x.d.add(i * x.nb + b)), *a);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(out.add(i * ldo), *a);
            }
            R
        }
    };
}

x8_kernel!(
    rows_vnni,
    tile_vnni,
    "avx2,fma,f16c,avx512vnni,avx512vl",
    dpbusd,
    same,
    same,
    dpbusd,
    128
);
x8_kernel!(
    rows_avx2,
    tile_avx2,
    "avx2,fma,f16c",
    maddubs4,
    pairs_to_lanes,
    signed8,
    maddubs8,
    0
);

/// `s + Σ u·q` per lane of four unsigned bytes `u` and four signed bytes `q` (VNNI).
#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
#[inline]
unsafe fn dpbusd(s: __m256i, u: __m256i, q: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(s, u, q)
}

/// Q8_0 levels as VNNI reads them (unsigned, as stored), and its 4-bit sums (int32 lanes
/// already).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn same(u: __m256i) -> __m256i {
    u
}

/// `s + u·q` per 16-bit pair of levels `u` ≤ 15 and activations `q` (|q| ≤ 127), as AVX2
/// sums a block: one pair is at most 2 · 15 · 127 = 3810, so the block's eight (32 levels
/// per lane) stay within 30480 and neither `vpmaddubsw` nor the 16-bit sum saturates.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn maddubs4(s: __m256i, u: __m256i, q: __m256i) -> __m256i {
    _mm256_add_epi16(s, _mm256_maddubs_epi16(u, q))
}

/// A block's 16-bit pair sums (`maddubs4`) as the eight rows' int32 lanes.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn pairs_to_lanes(pairs: __m256i) -> __m256i {
    _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
}

/// Q8_0 levels as AVX2 reads them: the signed `q = u − 128`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn signed8(u: __m256i) -> __m256i {
    _mm256_xor_si256(u, _mm256_set1_epi8(-128))
}

/// `s + Σ w·q` per lane of four signed bytes `w` and `q` (|q| ≤ 127): `|w| · sign(q, w)`, so
/// that `vpmaddubsw`'s pairs stay within ±2 · 128 · 127 (`|−128|` reads as the unsigned 128).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn maddubs8(s: __m256i, w: __m256i, q: __m256i) -> __m256i {
    let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(q, w));
    _mm256_add_epi32(s, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::activations_q8::QuantizedRows;
    use crate::kernels::q4::Q40Matrix;
    use crate::kernels::q4k::Q4KMatrix;
    use crate::kernels::q8::Q8Matrix;
    use crate::kernels::x8::X8Matrix;

    /// Each instruction set this CPU has, called directly (56 rows: three pairs of groups and an
    /// odd one for the 512-bit tile; 31 input rows: a tile of each height 16 (AMX), 8, 4, 2, 1,
    /// for each pair; then one input row, which Q8_0 takes two pairs at a time and then the
    /// third alone),
    /// against the f64 dot products of the
    /// decoded weights and the rounded activations, at the extremes of 16-bit pair sums:
    /// Q8_0 levels −128 and ±127, 4-bit levels 15, activations ±127.
    #[test]
    fn both_instruction_sets_are_exact_at_the_extremes() {
        if !crate::kernels::x8::available() {
            return;
        }
        let (n, k) = (56, 512);
        let mut q8 = Q8Matrix {
            // Scales differ by row and block, so a tile reading another row's or block's
            // scale gives other bits.
            scales: (0..n * k / BLOCK)
                .map(|i| 0.01 * (1 + i % 7) as f32)
                .collect(),
            values: (0..n * k)
                .map(|i| [-128i8, 127, -127, -128, 5][i % 5])
                .collect(),
            rows: n,
            cols: k,
        };
        q8.values[7] = 0;
        let q4 = Q40Matrix {
            scales: (0..n * k / BLOCK)
                .map(|i| 0.02 * (1 + i % 5) as f32)
                .collect(),
            // The first group's rows all 15: against input row 0 (all +127) or 1 (all −127)
            // each 16-bit lane of AVX2's block sum reaches ±8 · 2 · 15 · 127 = ±30480.
            nibbles: (0..n * k / 2)
                .map(|i| {
                    if i < GROUP * k / 2 {
                        0xFF
                    } else {
                        [0xFFu8, 0xF0, 0x0F][i % 3]
                    }
                })
                .collect(),
            rows: n,
            cols: k,
        };
        let wk: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919) % 97) as f32 - 48.0)
            .collect();
        let qk = Q4KMatrix::quantize(&wk, n, k).unwrap();
        // Each row its own sign pattern and scale: a tile mixing up rows, or their scales and
        // sums, gives other values. Row 0 is all positive, row 1 all negative.
        let x: Vec<f32> = (0..31 * k)
            .map(|i| {
                let (r, j) = (i / k, i % k);
                let sign = if r == 0 || (r > 1 && ((j + 5 * r) / 3) % 2 == 0) {
                    1.0
                } else {
                    -1.0
                };
                sign * (r + 1) as f32
            })
            .collect();
        let rows = [31, 1].map(|m| (m, QuantizedRows::of(&x[..m * k])));
        assert!(rows[0].1.q.iter().all(|&q| q.abs() == 127));
        let mats = [
            X8Matrix::from_q8_0(&q8).unwrap(),
            X8Matrix::from_q4_0(&q4).unwrap(),
            X8Matrix::from_q4_k(&qk).unwrap(),
        ];
        type Rows = unsafe fn(
            X8Kind,
            X8Ptrs,
            usize,
            usize,
            *const i8,
            *const f32,
            *const i32,
            usize,
            *mut f32,
            usize,
        );
        let mut kernels: Vec<(&str, Rows)> = vec![("avx2", rows_avx2)];
        if crate::kernels::x8::vnni() {
            kernels.push(("vnni", rows_vnni));
        }
        if crate::kernels::matvec_x8_zmm::available() {
            kernels.push(("vnni 512-bit", |kind, w, g, k, q, d, s, m, o, l| unsafe {
                rows_wide(kind, w, g, k, q, d, s, m, o, l, false)
            }));
        }
        if crate::kernels::matvec_x8_amx::available() {
            kernels.push(("amx", |kind, w, g, k, q, d, s, m, o, l| unsafe {
                rows_wide(kind, w, g, k, q, d, s, m, o, l, kind == X8Kind::Q8_0)
            }));
        }
        for (w, (m, xq)) in mats.iter().flat_map(|w| rows.iter().map(move |r| (w, r))) {
            let m = *m;
            let mut first: Option<Vec<f32>> = None;
            for (name, kernel) in &kernels {
                let mut out = vec![0f32; m * n];
                let ptrs = X8Ptrs {
                    scales: w.scales.as_ptr(),
                    subs: w.subs.as_ptr(),
                    levels: w.levels.get().unwrap().as_ptr(),
                };
                // SAFETY: `available` checked the CPU; the buffers have the sizes the kernel
                // reads and writes (n / 8 groups, m rows of k, m · n outputs).
                unsafe {
                    kernel(
                        w.kind,
                        ptrs,
                        n / GROUP,
                        k,
                        xq.q.as_ptr(),
                        xq.d.as_ptr(),
                        xq.sums.as_ptr(),
                        m,
                        out.as_mut_ptr(),
                        n,
                    )
                };
                for i in 0..m {
                    let xi = xq.row(i, k);
                    for j in 0..n {
                        let want: f64 = w
                            .row(j)
                            .unwrap()
                            .iter()
                            .zip(&xi)
                            .map(|(a, c)| *a as f64 * *c as f64)
                            .sum();
                        let got = out[i * n + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{name} {:?} ({i},{j}): {got} vs {want}",
                            w.kind
                        );
                    }
                }
                // Exact integer sums and the same float steps: every instruction set gives
                // the same bits.
                let first = first.get_or_insert_with(|| out.clone());
                assert!(
                    first
                        .iter()
                        .zip(&out)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{name} {:?} differs from the first instruction set",
                    w.kind
                );
            }
        }
    }
}
