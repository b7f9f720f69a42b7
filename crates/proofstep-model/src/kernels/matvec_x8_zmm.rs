//! The interleaved int8 kernel of `matvec_x8.rs` on 512-bit registers: two consecutive groups
//! of 8 weight rows side by side in one register (group `g` in the low 256 bits, `g + 1` in the
//! high), so each `vpdpbusd` and each step of a block's scaling covers 16 rows instead of 8.
//! Same layout, and bit-identical results: the same integer sums and the same f32 operations
//! per lane as `matvec_x8`'s tile. Used for pairs of groups on CPUs with AVX-512 VNNI; an odd
//! last group goes to the 256-bit tile. Input rows go in tiles of 8 (then 4, 2, 1): 32
//! registers hold 8 rows' integer and float sums, and each weight register loaded serves 8
//! `vpdpbusd` (1.1–1.4x the 4-row tile at 16 rows, benchmarks/README.md "real_size").

use std::arch::x86_64::*;

use crate::kernels::matvec_x8::{prefetch_lines, Acts, X8Ptrs, AHEAD, Q4, Q4K, Q8};
use crate::kernels::q4::BLOCK;
use crate::kernels::x8::{X8Kind, GROUP};

/// Whether this CPU runs the 512-bit tile (AVX-512 F, BW, VNNI beside the 256-bit kernel's).
pub fn available() -> bool {
    crate::kernels::x8::vnni() && crate::kernels::cpu::avx512()
}

/// `rows_x8` for `pairs` pairs of groups (`2 · pairs · 8` rows) on 512-bit registers.
///
/// # Safety
/// As `matvec_x8::rows_x8` with `2 · pairs` groups, and `available()`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
pub unsafe fn rows_zmm(
    kind: X8Kind,
    w: X8Ptrs,
    pairs: usize,
    k: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const i32,
    m: usize,
    out: *mut f32,
    ldo: usize,
) {
    let nb = k / BLOCK;
    for p in 0..pairs {
        let w0 = w.skip_groups(kind, 2 * p, nb);
        let w1 = w.skip_groups(kind, 2 * p + 1, nb);
        let o = out.add(2 * p * GROUP);
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
                (X8Kind::Q8_0, r) if r >= 8 => tile::<Q8, 8>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q8_0, r) if r >= 4 => tile::<Q8, 4>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q8_0, r) if r >= 2 => tile::<Q8, 2>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q8_0, _) => tile::<Q8, 1>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4_0, r) if r >= 8 => tile::<Q4, 8>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4_0, r) if r >= 4 => tile::<Q4, 4>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4_0, r) if r >= 2 => tile::<Q4, 2>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4_0, _) => tile::<Q4, 1>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4K, r) if r >= 8 => tile::<Q4K, 8>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4K, r) if r >= 4 => tile::<Q4K, 4>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4K, r) if r >= 2 => tile::<Q4K, 2>(w0, w1, nb, x, oi, ldo),
                (X8Kind::Q4K, _) => tile::<Q4K, 1>(w0, w1, nb, x, oi, ldo),
            };
            i += r;
        }
    }
}

/// 32 bytes at `a` (low half) and 32 at `b` (high half).
#[target_feature(enable = "avx2,avx512f")]
#[inline]
unsafe fn two(a: *const u8, b: *const u8) -> __m512i {
    let low = _mm512_castsi256_si512(_mm256_loadu_si256(a as *const __m256i));
    _mm512_inserti64x4::<1>(low, _mm256_loadu_si256(b as *const __m256i))
}

/// Eight f16 values at `a` and eight at `b`, as sixteen f32 (the 8 + 8 rows' scales of a block).
#[target_feature(enable = "avx2,f16c,avx512f")]
#[inline]
pub(crate) unsafe fn sixteen_halves(a: *const u16, b: *const u16) -> __m512 {
    let low = _mm256_castsi128_si256(_mm_loadu_si128(a as *const __m128i));
    _mm512_cvtph_ps(_mm256_inserti128_si256::<1>(
        low,
        _mm_loadu_si128(b as *const __m128i),
    ))
}

/// Eight bytes at `a` and eight at `b`, as sixteen f32.
#[target_feature(enable = "avx2,avx512f")]
#[inline]
unsafe fn sixteen_bytes(a: *const u8, b: *const u8) -> __m512 {
    let both = _mm_unpacklo_epi64(
        _mm_loadl_epi64(a as *const __m128i),
        _mm_loadl_epi64(b as *const __m128i),
    );
    _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(both))
}

/// Four activation bytes of row `i` from element `p`, in every lane.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn four(x: Acts, i: usize, p: usize) -> __m512i {
    _mm512_set1_epi32((x.q.add(i * x.k + p) as *const i32).read_unaligned())
}

/// Two groups (`w0`, `w1`: 16 weight rows) against `R` input rows; returns `R`. The 512-bit
/// twin of `matvec_x8`'s tile: the same per-block steps on 16 lanes.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
#[inline]
unsafe fn tile<const F: u8, const R: usize>(
    w0: X8Ptrs,
    w1: X8Ptrs,
    nb: usize,
    x: Acts,
    out: *mut f32,
    ldo: usize,
) -> usize {
    let offset = if F == Q8 { 128 } else { 8 };
    let per = if F == Q8 { 256 } else { 128 };
    let low = _mm512_set1_epi8(0x0F);
    let mut acc = [_mm512_setzero_ps(); R];
    let (mut dsup, mut msup) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for b in 0..nb {
        let (d, c) = if F == Q4K {
            if b % 8 == 0 {
                let s = b / 8 * 16;
                dsup = sixteen_halves(w0.scales.add(s), w1.scales.add(s));
                msup = sixteen_halves(w0.scales.add(s + GROUP), w1.scales.add(s + GROUP));
            }
            let (s0, s1) = (w0.subs.add(b * 16), w1.subs.add(b * 16));
            let d = _mm512_mul_ps(dsup, sixteen_bytes(s0, s1));
            let m = _mm512_mul_ps(msup, sixteen_bytes(s0.add(8), s1.add(8)));
            (d, _mm512_sub_ps(_mm512_setzero_ps(), m))
        } else {
            let s = b * GROUP;
            (
                sixteen_halves(w0.scales.add(s), w1.scales.add(s)),
                _mm512_setzero_ps(),
            )
        };
        let (l0, l1) = (w0.levels.add(b * per), w1.levels.add(b * per));
        // One row (a Q4_0 / Q4_K greedy step, `one_row_q8`'s leftover pair, a tile's last
        // row) asks for its levels early, as `one_row_q8` does (x8_rows, one row, alternating
        // four times: q4_k 16.7–17.7 → 18.6–19.7 GB/s, q4_0 17.9–20.0 → 17.1–19.8).
        if R == 1 && b + AHEAD < nb {
            prefetch_lines([l0.add(AHEAD * per), l1.add(AHEAD * per)], per);
        }
        let mut dot = [_mm512_setzero_si512(); R];
        if F != Q8 {
            for c in 0..4 {
                let v = two(l0.add(c * 32), l1.add(c * 32));
                let lo = _mm512_and_si512(v, low);
                let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), low);
                for (i, s) in dot.iter_mut().enumerate() {
                    let p = b * BLOCK + 4 * c;
                    *s = _mm512_dpbusd_epi32(*s, lo, four(x, i, p));
                    *s = _mm512_dpbusd_epi32(*s, hi, four(x, i, p + 16));
                }
            }
        } else {
            for c in 0..8 {
                let v = two(l0.add(c * 32), l1.add(c * 32));
                for (i, s) in dot.iter_mut().enumerate() {
                    *s = _mm512_dpbusd_epi32(*s, v, four(x, i, b * BLOCK + 4 * c));
                }
            }
        }
        for (i, (a, s)) in acc.iter_mut().zip(dot).enumerate() {
            let sum = *x.s.add(i * x.nb + b);
            let block = if F == Q4K {
                let cs = _mm512_mul_ps(c, _mm512_set1_ps(sum as f32));
                _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, cs)
            } else {
                offset_block(s, offset * sum, d)
            };
            *a = _mm512_fmadd_ps(block, _mm512_set1_ps(*x.d.add(i * x.nb + b)), *a);
        }
    }
    for (i, a) in acc.iter().enumerate() {
        _mm512_storeu_ps(out.add(i * ldo), *a);
    }
    R
}

/// One input row (a greedy decoding step) against `pairs` pairs of Q8_0 groups, two pairs at a
/// time: four streams of levels in flight instead of two, and no tile state to load, as AMX's
/// kernel would (pythia-2.8b q8_0 greedy 4–8 % faster end to end, benchmarks/README.md,
/// "real_size"). Per pair the same lanes and operations as `tile::<Q8, 1>`: bit-identical.
///
/// # Safety
/// As `rows_zmm` with `kind` Q8_0 and `m` 1.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
pub unsafe fn one_row_q8(
    w: X8Ptrs,
    pairs: usize,
    k: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const i32,
    out: *mut f32,
) {
    let nb = k / BLOCK;
    let x = Acts {
        q: xq,
        d: xd,
        s: xs,
        k,
        nb,
    };
    let (per, offset) = (X8Kind::Q8_0.block_bytes(), X8Kind::Q8_0.offset());
    let quad = |p: usize| -> [X8Ptrs; 4] {
        std::array::from_fn(|j| w.skip_groups(X8Kind::Q8_0, 2 * p + j, nb))
    };
    if pairs >= 2 {
        let g = quad(0);
        for t in 0..AHEAD.min(nb) {
            prefetch_q8_block(&g, t, nb);
        }
    }
    let mut p = 0;
    while p + 2 <= pairs {
        let g = quad(p);
        // The next two pairs' first blocks while these two end, so their streams do not start
        // cold (a leftover pair after them, taken by `rows_zmm`, prefetches within itself only).
        let next = (p + 4 <= pairs).then(|| quad(p + 2));
        let mut acc = [_mm512_setzero_ps(); 2];
        for b in 0..nb {
            match (b + AHEAD < nb, &next) {
                (true, _) => prefetch_q8_block(&g, b + AHEAD, nb),
                (false, Some(n)) if b + AHEAD - nb < nb => prefetch_q8_block(n, b + AHEAD - nb, nb),
                _ => {}
            }
            let mut dot = [_mm512_setzero_si512(); 2];
            for c in 0..8 {
                let xb = four(x, 0, b * BLOCK + 4 * c);
                for (h, s) in dot.iter_mut().enumerate() {
                    let v = two(
                        g[2 * h].levels.add(b * per + c * 32),
                        g[2 * h + 1].levels.add(b * per + c * 32),
                    );
                    *s = _mm512_dpbusd_epi32(*s, v, xb);
                }
            }
            let sum = *x.s.add(b);
            for (h, (a, s)) in acc.iter_mut().zip(dot).enumerate() {
                let d = sixteen_halves(
                    g[2 * h].scales.add(b * GROUP),
                    g[2 * h + 1].scales.add(b * GROUP),
                );
                let block = offset_block(s, offset * sum, d);
                *a = _mm512_fmadd_ps(block, _mm512_set1_ps(*x.d.add(b)), *a);
            }
        }
        for (h, a) in acc.iter().enumerate() {
            _mm512_storeu_ps(out.add((2 * p + 2 * h) * GROUP), *a);
        }
        p += 2;
    }
    if p < pairs {
        let w = w.skip_groups(X8Kind::Q8_0, 2 * p, nb);
        // One row: the output stride is never used.
        rows_zmm(
            X8Kind::Q8_0,
            w,
            pairs - p,
            k,
            xq,
            xd,
            xs,
            1,
            out.add(2 * p * GROUP),
            0,
        );
    }
}

/// Asks for block `t` of four Q8_0 groups: its levels, and on every fourth block the line of
/// scales that holds it (measured with `x8_rows` at one row, alternating five times: the
/// scales' prefetch 25.0–26.9 GB/s against 25.0–26.3 without it, benchmarks/README.md).
///
/// # Safety
/// `t < nb`, and the four groups exist.
#[inline]
unsafe fn prefetch_q8_block(g: &[X8Ptrs; 4], t: usize, nb: usize) {
    let per = X8Kind::Q8_0.block_bytes();
    debug_assert!(t < nb);
    for gj in g {
        prefetch_lines([gj.levels.add(t * per)], per);
        if t.is_multiple_of(4) {
            _mm_prefetch::<_MM_HINT_T0>(gj.scales.add(t * GROUP) as *const i8);
        }
    }
}

/// A block's int32 sums `s` less the levels' offset (`correction`: the offset times the block's
/// activation sum), as f32, times the 16 rows' scales `d`: the float steps every Q8_0 / Q4_0
/// kernel takes per lane, in this order, which keeps them bit-identical.
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) unsafe fn offset_block(s: __m512i, correction: i32, d: __m512) -> __m512 {
    _mm512_mul_ps(
        _mm512_cvtepi32_ps(_mm512_sub_epi32(s, _mm512_set1_epi32(correction))),
        d,
    )
}
