//! Eight weight rows interleaved for integer dot products: ggml's Q8_0 / Q4_0 / Q4_K roundings
//! of a matrix (rows a multiple of 8), held so that one 256-bit load gives four consecutive weights
//! of each of eight rows — llama.cpp's repacked layout idea. The decoding kernel
//! (`matvec_x8.rs`) multiplies them with the activations rounded to int8
//! (`activations_q8::QuantizedRows`, ggml's Q8_0 rounding of `x`, as llama.cpp rounds its
//! activations) by VNNI's `vpdpbusd`, the
//! eight rows' dot products accumulating in the eight lanes of one register, so a block's
//! scales apply to all eight at once (AVX2's `vpmaddubsw` + `vpmaddwd` where the CPU lacks
//! VNNI). Used on x86-64 CPUs with AVX2 for `--weights q8_0`, `q4_0` and `q4_k` (reduced
//! precision, so the activation rounding is part of what is measured); elsewhere the row-major
//! blocks of `q8.rs` / `q4.rs` / `q4k.rs` are read with f32 activations.
//!
//! Per group of 8 rows and block of 32 weights: the 8 rows' scales `d` (f16 bits), then the
//! weights as unsigned levels `u` standing for `(u − o) · d`: Q8_0 `u = q + 128` (`o` 128), 256
//! bytes, byte `c·32 + r·4 + t` weight `4c + t` of row `r`; Q4_0 `u = q` (`o` 8), 128 bytes,
//! byte `c·32 + r·4 + t` weight `4c + t` (low nibble) and `16 + 4c + t` (high). 34 / 18 bytes
//! per 32 weights, as ggml's own blocks. Q4_K: the levels as Q4_0's with no offset, standing for
//! `u · d·sc − dmin·m`: per group and super-block of 256 the 8 rows' `d` then their `dmin` (f16
//! bits, in `scales`), per group and block the 8 rows' `sc` then their `m` (`subs`); 148 bytes
//! per 256 weights (ggml's 144).

use half::f16;
use rayon::prelude::*;

use crate::error::{ModelError, Result};
use crate::kernels::pending::PendingBytes;
use crate::kernels::q4::{Q40Matrix, BLOCK};
use crate::kernels::q4k::{sub_scale, Q4KMatrix, SUPER};
use crate::kernels::q8::Q8Matrix;

/// Rows per interleaved group.
pub const GROUP: usize = 8;

/// Which rounding the levels are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X8Kind {
    /// ggml's Q8_0: `u = q + 128`, one byte a weight.
    Q8_0,
    /// ggml's Q4_0: `u = q`, a nibble a weight.
    Q4_0,
    /// ggml's Q4_K: `u = q`, a nibble a weight, scales per sub-block and super-block.
    Q4K,
}

impl X8Kind {
    /// Bytes of levels per group and block.
    pub fn block_bytes(self) -> usize {
        match self {
            X8Kind::Q8_0 => GROUP * BLOCK,
            X8Kind::Q4_0 | X8Kind::Q4K => GROUP * BLOCK / 2,
        }
    }

    /// The offset `o` of Q8_0 / Q4_0 levels: a weight is `(u − o) · d` (Q4_K has none).
    pub fn offset(self) -> i32 {
        match self {
            X8Kind::Q8_0 => 128,
            X8Kind::Q4_0 => 8,
            X8Kind::Q4K => 0,
        }
    }
}

/// A `[rows, cols]` matrix in the interleaved layout (`rows` a multiple of 8, `cols` of 32).
#[derive(Clone, Debug, PartialEq)]
pub struct X8Matrix {
    /// Q8_0, Q4_0 or Q4_K levels.
    pub kind: X8Kind,
    /// Q8_0 / Q4_0: per group and block (`(g · nb + b) · 8 + r`), the row's scale `d`; Q4_K: per
    /// group and super-block (`(g · ns + s) · 16`), the 8 rows' `d` then their `dmin`; f16 bits.
    pub scales: Vec<u16>,
    /// Q4_K: per group and block (`(g · nb + b) · 16`), the 8 rows' `sc` then their `m`.
    pub subs: Vec<u8>,
    /// Per group and block: `kind.block_bytes()` bytes of levels (see the module's layout);
    /// possibly still being read from a quantized folder (`pending.rs`).
    pub levels: PendingBytes,
    /// Number of rows (output features), a multiple of 8.
    pub rows: usize,
    /// Row length (input features), a multiple of 32.
    pub cols: usize,
}

/// Whether this CPU runs the interleaved kernel (AVX2, FMA, F16C; `cpu`'s cap allowing).
pub fn available() -> bool {
    crate::kernels::cpu::avx2_fma_f16c()
}

/// Whether the interleaved kernel runs on VNNI's `vpdpbusd` (AVX-512 VNNI on 256-bit
/// registers) rather than AVX2's two-instruction products.
pub fn vnni() -> bool {
    available() && crate::kernels::cpu::avx512_vnni()
}

impl X8Matrix {
    /// `m`'s blocks interleaved; `None` unless its rows are a multiple of 8.
    pub fn from_q8_0(m: &Q8Matrix) -> Option<Self> {
        let levels = |r: usize, e: usize| (m.values[r * m.cols + e] as i16 + 128) as u8;
        Self::interleave(X8Kind::Q8_0, m.rows, m.cols, |i| m.scales[i], levels)
    }

    /// `m`'s super-blocks interleaved; `None` unless its rows are a multiple of 8.
    pub fn from_q4_k(m: &Q4KMatrix) -> Option<Self> {
        let levels = |r: usize, e: usize| {
            let byte = m.nibbles[(r * m.cols + e) / BLOCK * 16 + e % 16];
            if e % BLOCK < 16 {
                byte & 0x0F
            } else {
                byte >> 4
            }
        };
        let mut x = Self::interleave(X8Kind::Q4K, m.rows, m.cols, |_| 0.0, levels)?;
        let (nb, ns, groups) = (m.cols / BLOCK, m.cols / SUPER, m.rows / GROUP);
        x.scales = vec![0; groups * ns * 2 * GROUP];
        x.subs = vec![0; groups * nb * 2 * GROUP];
        for g in 0..groups {
            for r in 0..GROUP {
                let row = g * GROUP + r;
                for s in 0..ns {
                    let [d, dmin] = m.supers[row * ns + s];
                    x.scales[(g * ns + s) * 16 + r] = f16::from_f32(d).to_bits();
                    x.scales[(g * ns + s) * 16 + GROUP + r] = f16::from_f32(dmin).to_bits();
                }
                for b in 0..nb {
                    let [sc, mn] = m.subs[row * nb + b];
                    x.subs[(g * nb + b) * 16 + r] = sc;
                    x.subs[(g * nb + b) * 16 + GROUP + r] = mn;
                }
            }
        }
        Some(x)
    }

    /// `m`'s blocks interleaved; `None` unless its rows are a multiple of 8.
    pub fn from_q4_0(m: &Q40Matrix) -> Option<Self> {
        let levels = |r: usize, e: usize| {
            let (b, j) = (e / BLOCK, e % BLOCK);
            let byte = m.nibbles[(r * m.cols / BLOCK + b) * 16 + j % 16];
            if j < 16 {
                byte & 0x0F
            } else {
                byte >> 4
            }
        };
        Self::interleave(X8Kind::Q4_0, m.rows, m.cols, |i| m.scales[i], levels)
    }

    /// The layout from per-block scales (`scale(row · nb + b)`) and per-weight levels
    /// (`level(row, column)`).
    fn interleave(
        kind: X8Kind,
        rows: usize,
        cols: usize,
        scale: impl Fn(usize) -> f32 + Sync,
        level: impl Fn(usize, usize) -> u8 + Sync,
    ) -> Option<Self> {
        if rows == 0 || !rows.is_multiple_of(GROUP) || !cols.is_multiple_of(BLOCK) {
            return None;
        }
        let nb = cols / BLOCK;
        let per = kind.block_bytes();
        let mut scales = vec![0u16; rows * nb];
        let mut levels = vec![0u8; rows / GROUP * nb * per];
        scales
            .par_chunks_mut(GROUP * nb)
            .zip(levels.par_chunks_mut(nb * per))
            .enumerate()
            .for_each(|(g, (sc, lv))| {
                for b in 0..nb {
                    for r in 0..GROUP {
                        let row = g * GROUP + r;
                        sc[b * GROUP + r] = f16::from_f32(scale(row * nb + b)).to_bits();
                        let out = &mut lv[b * per..(b + 1) * per];
                        for (c, t) in (0..BLOCK / 4).flat_map(|c| (0..4).map(move |t| (c, t))) {
                            let e = b * BLOCK + 4 * c + t;
                            match kind {
                                X8Kind::Q8_0 => out[c * 32 + r * 4 + t] = level(row, e),
                                _ if c < 4 => out[c * 32 + r * 4 + t] |= level(row, e),
                                _ => out[(c - 4) * 32 + r * 4 + t] |= level(row, e) << 4,
                            }
                        }
                    }
                }
            });
        Some(X8Matrix {
            kind,
            scales,
            subs: Vec::new(),
            levels: PendingBytes::ready(levels),
            rows,
            cols,
        })
    }

    /// The level `u` of row `r`, column `e`, from the matrix's levels `all`.
    fn level(&self, all: &[u8], r: usize, e: usize) -> u8 {
        let (nb, per) = (self.cols / BLOCK, self.kind.block_bytes());
        let (g, rr, b, j) = (r / GROUP, r % GROUP, e / BLOCK, e % BLOCK);
        let lv = &all[(g * nb + b) * per..(g * nb + b + 1) * per];
        match self.kind {
            X8Kind::Q8_0 => lv[(j / 4) * 32 + rr * 4 + j % 4],
            _ if j < 16 => lv[(j / 4) * 32 + rr * 4 + j % 4] & 0x0F,
            _ => lv[((j - 16) / 4) * 32 + rr * 4 + j % 4] >> 4,
        }
    }

    /// Row `r` decoded to f32 (the values the kernel multiplies with); an error if the levels
    /// could not be read.
    pub fn row(&self, r: usize) -> Result<Vec<f32>> {
        let (nb, g, rr) = (self.cols / BLOCK, r / GROUP, r % GROUP);
        let half = |i: usize| f16::from_bits(self.scales[i]).to_f32();
        let all = self.levels.get()?;
        Ok((0..self.cols)
            .map(|e| {
                let (u, b) = (self.level(all, r, e), e / BLOCK);
                match self.kind {
                    X8Kind::Q4K => {
                        let (ns, s) = (self.cols / SUPER, e / SUPER);
                        let (sup, sub) = ((g * ns + s) * 16, (g * nb + b) * 16);
                        let (d, m) = sub_scale(
                            &[half(sup + rr), half(sup + GROUP + rr)],
                            [self.subs[sub + rr], self.subs[sub + GROUP + rr]],
                        );
                        (u as f32).mul_add(d, m)
                    }
                    _ => (u as i32 - self.kind.offset()) as f32 * half((g * nb + b) * GROUP + rr),
                }
            })
            .collect())
    }

    /// The row-major Q8_0 blocks these levels interleave (`from_q8_0`'s inverse): what a CPU
    /// without AVX2 reads. An error for another kind or levels that could not be read.
    pub fn to_q8_0(&self) -> Result<Q8Matrix> {
        self.expect_kind(X8Kind::Q8_0)?;
        let all = self.levels.get()?;
        Ok(Q8Matrix {
            scales: self.row_major_scales(),
            values: (0..self.rows * self.cols)
                .map(|i| (self.level(all, i / self.cols, i % self.cols) as i16 - 128) as i8)
                .collect(),
            rows: self.rows,
            cols: self.cols,
        })
    }

    /// The row-major Q4_0 blocks (`from_q4_0`'s inverse). An error for another kind or levels
    /// that could not be read.
    pub fn to_q4_0(&self) -> Result<Q40Matrix> {
        self.expect_kind(X8Kind::Q4_0)?;
        Ok(Q40Matrix {
            scales: self.row_major_scales(),
            nibbles: self.row_major_nibbles()?,
            rows: self.rows,
            cols: self.cols,
        })
    }

    /// The row-major Q4_K super-blocks (`from_q4_k`'s inverse). An error for another kind or
    /// levels that could not be read.
    pub fn to_q4_k(&self) -> Result<Q4KMatrix> {
        self.expect_kind(X8Kind::Q4K)?;
        let (nb, ns) = (self.cols / BLOCK, self.cols / SUPER);
        let half = |i: usize| f16::from_bits(self.scales[i]).to_f32();
        let (mut supers, mut subs) = (Vec::new(), Vec::new());
        for row in 0..self.rows {
            let (g, r) = (row / GROUP, row % GROUP);
            supers.extend((0..ns).map(|s| {
                let i = (g * ns + s) * 16;
                [half(i + r), half(i + GROUP + r)]
            }));
            subs.extend((0..nb).map(|b| {
                let i = (g * nb + b) * 16;
                [self.subs[i + r], self.subs[i + GROUP + r]]
            }));
        }
        Ok(Q4KMatrix {
            supers,
            subs,
            nibbles: self.row_major_nibbles()?,
            rows: self.rows,
            cols: self.cols,
        })
    }

    /// An error unless the levels are of `kind`.
    fn expect_kind(&self, kind: X8Kind) -> Result<()> {
        if self.kind == kind {
            Ok(())
        } else {
            Err(ModelError::Quantized(format!(
                "interleaved {:?} levels read as {kind:?}",
                self.kind
            )))
        }
    }

    /// Q8_0 / Q4_0: the scale of block `b` of row `r` at `r · nb + b`, widened to f32.
    fn row_major_scales(&self) -> Vec<f32> {
        let nb = self.cols / BLOCK;
        (0..self.rows * nb)
            .map(|i| {
                let (row, b) = (i / nb, i % nb);
                let at = ((row / GROUP) * nb + b) * GROUP + row % GROUP;
                f16::from_bits(self.scales[at]).to_f32()
            })
            .collect()
    }

    /// 4-bit levels row-major, 16 bytes per block of 32: element `j` in the low nibble of
    /// byte `j`, element `j + 16` in its high nibble.
    fn row_major_nibbles(&self) -> Result<Vec<u8>> {
        let all = self.levels.get()?;
        let mut out = vec![0u8; self.rows * self.cols / 2];
        for row in 0..self.rows {
            for e in 0..self.cols {
                let byte = &mut out[(row * self.cols + e) / BLOCK * 16 + e % 16];
                *byte |= self.level(all, row, e) << if e % BLOCK < 16 { 0 } else { 4 };
            }
        }
        Ok(out)
    }

    /// Bytes the matrix occupies.
    pub fn bytes(&self) -> usize {
        2 * self.scales.len() + self.subs.len() + self.levels.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic small values in ±0.1, `seed` choosing the sequence.
    pub(crate) fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(9);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.2
            })
            .collect()
    }

    #[test]
    fn interleaving_keeps_every_weight_of_both_roundings() {
        let (rows, cols) = (16, 96);
        let w = values(rows * cols, 1);
        let q8 = Q8Matrix::quantize(&w, rows, cols).unwrap();
        let x8 = X8Matrix::from_q8_0(&q8).unwrap();
        assert_eq!(x8.bytes(), rows * cols / 32 * 34);
        let q4 = Q40Matrix::quantize(&w, rows, cols).unwrap();
        let x4 = X8Matrix::from_q4_0(&q4).unwrap();
        assert_eq!(x4.bytes(), rows * cols / 32 * 18);
        let qk = Q4KMatrix::quantize(&values(rows * 512, 3), rows, 512).unwrap();
        let xk = X8Matrix::from_q4_k(&qk).unwrap();
        assert_eq!(xk.bytes(), rows * 512 / 256 * 148);
        for r in 0..rows {
            assert_eq!(x8.row(r).unwrap(), q8.row(r), "q8_0 row {r}");
            assert_eq!(x4.row(r).unwrap(), q4.row(r), "q4_0 row {r}");
            assert_eq!(xk.row(r).unwrap(), qk.row(r), "q4_k row {r}");
        }
        assert_eq!(x8.to_q8_0().unwrap(), q8);
        assert_eq!(x4.to_q4_0().unwrap(), q4);
        assert_eq!(xk.to_q4_k().unwrap(), qk);
        assert!(x8.to_q4_0().is_err() && x4.to_q4_k().is_err() && xk.to_q8_0().is_err());
        let odd = Q8Matrix::quantize(&w[..12 * cols], 12, cols).unwrap();
        assert!(X8Matrix::from_q8_0(&odd).is_none());
    }
}
