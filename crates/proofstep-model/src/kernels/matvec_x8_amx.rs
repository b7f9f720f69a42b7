//! The interleaved Q8_0 kernel of `matvec_x8_zmm.rs` with its integer products on AMX's tile
//! multiply (`tdpbsud`, Sapphire Rapids and later): per block of 32 weights, one tile op
//! multiplies up to 16 input rows' int8 activations with a group's 8 × 32 levels, read straight
//! from the interleaved layout (byte `c·32 + r·4 + t` is what AMX wants of its second operand:
//! `K/4` rows of four bytes per output column). The exact int32 sums of two groups are stored
//! side by side and scaled on 512-bit registers by the same f32 operations per lane as the
//! 512-bit tile, so the results are bit-identical to it. Q4_0 / Q4_K (nibbles, which AMX would
//! need unpacked) stay on the 512-bit tile.
//!
//! Linux hands out AMX's tile state only on request (`arch_prctl(ARCH_REQ_XCOMP_PERM)`);
//! `available()` asks once and says no where the CPU or the kernel lacks it. Tile state is per
//! thread: each call loads its configuration and releases the tiles when it returns.

use std::arch::asm;
use std::arch::x86_64::*;
use std::sync::OnceLock;

use crate::kernels::matvec_x8::{prefetch_lines, X8Ptrs, AHEAD};
use crate::kernels::matvec_x8_zmm::{offset_block, sixteen_halves};
use crate::kernels::q4::BLOCK;
use crate::kernels::x8::{X8Kind, GROUP};

/// Input rows per tile: AMX's 16.
const TILE_ROWS: usize = 16;

/// Whether this CPU and OS run AMX-INT8 (CPUID, and Linux granted the tile state), with the
/// 512-bit tile's features for the scaling.
pub fn available() -> bool {
    static AMX: OnceLock<bool> = OnceLock::new();
    *AMX.get_or_init(|| {
        // SAFETY: the 512-bit tile's features imply OSXSAVE (std checks XCR0 for AVX-512), so
        // XGETBV exists.
        crate::kernels::cpu::amx_allowed()
            && crate::kernels::matvec_x8_zmm::available()
            && cpu_has_amx()
            && unsafe { os_enabled() }
            && granted()
    })
}

/// Whether the OS turned the tile state on in XCR0 (bits 17 and 18: XTILECFG, XTILEDATA); a
/// hypervisor that hides it makes every tile instruction fault.
///
/// # Safety
/// The CPU must have OSXSAVE.
#[target_feature(enable = "xsave")]
unsafe fn os_enabled() -> bool {
    let tiles = (1 << 17) | (1 << 18);
    _xgetbv(0) & tiles == tiles
}

/// CPUID leaf 7: AMX-TILE (EDX bit 24) and AMX-INT8 (bit 25).
fn cpu_has_amx() -> bool {
    let edx = __cpuid_count(7, 0).edx;
    edx & (1 << 24) != 0 && edx & (1 << 25) != 0
}

/// Asks Linux for the tile data state (XFEATURE_XTILEDATA, 18) for this process.
#[cfg(target_os = "linux")]
fn granted() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: arch_prctl with this request only changes which state the process may use.
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

/// Other systems: not used (their permission calls are not written here).
#[cfg(not(target_os = "linux"))]
fn granted() -> bool {
    false
}

/// The tile configuration for `rows` input rows: tmm0, tmm1 the two groups' int32 sums
/// (`rows` × 8), tmm2 the activations (`rows` × 32 bytes), tmm3, tmm4 the two groups' levels
/// (8 × 32 bytes).
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

impl TileConfig {
    fn new(rows: usize) -> Self {
        let mut c = [0u8; 64];
        c[0] = 1;
        let shapes = [(rows, 32), (rows, 32), (rows, 32), (8, 32), (8, 32)];
        for (t, (r, colsb)) in shapes.into_iter().enumerate() {
            c[16 + 2 * t..18 + 2 * t].copy_from_slice(&(colsb as u16).to_le_bytes());
            c[48 + t] = r as u8;
        }
        TileConfig(c)
    }
}

/// `rows_x8` for Q8_0 and `pairs` pairs of groups on AMX (`available()`).
///
/// # Safety
/// As `matvec_x8::rows_x8` with `kind` Q8_0 and `2 · pairs` groups, and `available()`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw")]
pub unsafe fn rows_amx(
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
    // The input rows in tiles of 16, then 8, 4, 2, 1, each with its rows' offset corrections
    // and scales side by side per block: one broadcast operand each in the scaling, not a
    // pointer and a shift per row.
    let mut tiles = Vec::new();
    let mut i = 0;
    while i < m {
        let rows = [TILE_ROWS, 8, 4, 2, 1]
            .into_iter()
            .find(|&r| r <= m - i)
            .unwrap_or(1);
        let (mut corrections, mut scales) = (vec![0i32; nb * rows], vec![0f32; nb * rows]);
        for r in 0..rows {
            for b in 0..nb {
                corrections[b * rows + r] = X8Kind::Q8_0.offset() * *xs.add((i + r) * nb + b);
                scales[b * rows + r] = *xd.add((i + r) * nb + b);
            }
        }
        tiles.push((i, rows, corrections, scales));
        i += rows;
    }
    // Pairs outside, tiles inside: a pair's levels come from memory once and stay in the cache
    // for the other tiles (a prompt's 64 rows would otherwise stream the matrix four times).
    let mut configured = 0;
    for p in 0..pairs {
        let w0 = w.skip_groups(X8Kind::Q8_0, 2 * p, nb);
        let w1 = w.skip_groups(X8Kind::Q8_0, 2 * p + 1, nb);
        for &(i, rows, ref corrections, ref scales) in &tiles {
            if rows != configured {
                let config = TileConfig::new(rows);
                asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack, readonly));
                configured = rows;
            }
            let x = Rows {
                q: xq.add(i * k),
                k,
                nb,
                corrections: corrections.as_ptr(),
                scales: scales.as_ptr(),
            };
            let o = out.add(i * ldo + 2 * p * GROUP);
            match rows {
                TILE_ROWS => pair::<TILE_ROWS>(w0, w1, x, o, ldo),
                8 => pair::<8>(w0, w1, x, o, ldo),
                4 => pair::<4>(w0, w1, x, o, ldo),
                2 => pair::<2>(w0, w1, x, o, ldo),
                _ => pair::<1>(w0, w1, x, o, ldo),
            }
        }
    }
    if configured != 0 {
        asm!("tilerelease", options(nostack, nomem));
    }
}

/// A tile of rounded activation rows: levels from the first row (row stride `k`), then per
/// block the rows' offset corrections (`128 ·` the block's sum) and scales, `R` a block.
#[derive(Clone, Copy)]
struct Rows {
    q: *const i8,
    k: usize,
    nb: usize,
    corrections: *const i32,
    scales: *const f32,
}

/// Two groups (`w0`, `w1`) against the tile's `R` rows (the configuration's row count).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw")]
#[inline]
unsafe fn pair<const R: usize>(w0: X8Ptrs, w1: X8Ptrs, x: Rows, out: *mut f32, ldo: usize) {
    #[repr(C, align(64))]
    struct Sums([i32; TILE_ROWS * 2 * GROUP]);
    let mut sums = Sums([0; TILE_ROWS * 2 * GROUP]);
    let mut acc = [_mm512_setzero_ps(); R];
    let per = X8Kind::Q8_0.block_bytes();
    for b in 0..x.nb {
        if b + AHEAD < x.nb {
            let ahead = (b + AHEAD) * per;
            prefetch_lines([w0.levels.add(ahead), w1.levels.add(ahead)], per);
        }
        asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tileloadd tmm2, [{a} + {lda}]",
            "tileloadd tmm3, [{b0} + {ldb}]",
            "tileloadd tmm4, [{b1} + {ldb}]",
            "tdpbsud tmm0, tmm2, tmm3",
            "tdpbsud tmm1, tmm2, tmm4",
            "tilestored [{s} + {lds}], tmm0",
            "tilestored [{s1} + {lds}], tmm1",
            a = in(reg) x.q.add(b * BLOCK),
            lda = in(reg) x.k,
            b0 = in(reg) w0.levels.add(b * per),
            b1 = in(reg) w1.levels.add(b * per),
            ldb = in(reg) 32usize,
            s = in(reg) sums.0.as_mut_ptr(),
            s1 = in(reg) sums.0.as_mut_ptr().add(GROUP),
            lds = in(reg) 2 * GROUP * 4,
            options(nostack),
        );
        let d = sixteen_halves(w0.scales.add(b * GROUP), w1.scales.add(b * GROUP));
        for (i, a) in acc.iter_mut().enumerate() {
            let s = _mm512_load_si512(sums.0.as_ptr().add(i * 2 * GROUP) as *const __m512i);
            let block = offset_block(s, *x.corrections.add(b * R + i), d);
            *a = _mm512_fmadd_ps(block, _mm512_set1_ps(*x.scales.add(b * R + i)), *a);
        }
    }
    for (i, a) in acc.iter().enumerate() {
        _mm512_storeu_ps(out.add(i * ldo), *a);
    }
}
