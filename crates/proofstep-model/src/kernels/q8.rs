//! 8-bit blocks of inference weights: exact packing (`Precision::Packed`), the companion of `q4.rs`
//! for GGUF's Q8_0 blocks: 32 values `q · d` with `q` in -127..=127 and `d` f16 (SmolLM2's
//! tied embedding / LM head, the largest matrix of the model). Packing recovers `(d, q)` for
//! every block and keeps a matrix only if every block decodes back to its f32 values bit for
//! bit, so the packed weights are the same numbers as the f32 parameters in 9/32 of the bytes.
//! `quantize` rounds any matrix to Q8_0 as ggml does (`Precision::Q8_0`, reduced precision).

use candle_core::Tensor;
use half::f16;
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::q4::{f16_scales_near, pack_tensor};

/// Weights per block (as in GGUF's Q8_0).
pub const BLOCK: usize = 32;

/// A row-major `[rows, cols]` matrix as Q8_0 blocks of 32 along each row.
#[derive(Clone, Debug, PartialEq)]
pub struct Q8Matrix {
    /// Per block (`row * cols / 32 + b`): the scale `d`, widened to f32.
    pub scales: Vec<f32>,
    /// One signed byte per element, row-major.
    pub values: Vec<i8>,
    /// Number of rows (output features).
    pub rows: usize,
    /// Row length (input features), a multiple of 32.
    pub cols: usize,
}

/// The weight a packed element stands for: `q · d`, exact in f32 (8 × 11 significant bits),
/// so equal to candle's dequantized value.
pub fn decode(q: i8, d: f32) -> f32 {
    q as f32 * d
}

/// `(d, q)` with `decode(q[i], d) == v[i]` bit for bit for the 32 values, if any.
fn pack_block(v: &[f32]) -> Option<(f32, [i8; BLOCK])> {
    if v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let amax = v.iter().fold(0f32, |a, x| a.max(x.abs()));
    if amax == 0.0 {
        return v
            .iter()
            .all(|x| x.to_bits() == 0)
            .then_some((0.0, [0; BLOCK]));
    }
    // ggml's quantizer maps the block's largest magnitude to ±127 (before rounding d to f16).
    for d in f16_scales_near(amax / 127.0).filter(|&d| d > 0.0) {
        let inv = 1.0 / d;
        let mut q = [0i8; BLOCK];
        // The candidate `q` needs no exact division: the bitwise check below decides.
        let fits = v.iter().zip(q.iter_mut()).all(|(&x, qi)| {
            let r = x * inv + 128.5;
            if !(1.0..256.0).contains(&r) {
                return false;
            }
            *qi = (r as i32 - 128) as i8;
            decode(*qi, d).to_bits() == x.to_bits()
        });
        if fits {
            return Some((d, q));
        }
    }
    None
}

impl Q8Matrix {
    /// The exact Q8_0 packing of a 2-D f32 tensor, or `None` when some block is not exactly
    /// `q · d` (or the row length is not a multiple of 32): then nothing is saved.
    pub fn pack_exact(t: &Tensor) -> Result<Option<Self>> {
        let Some((rows, cols, blocks)) = pack_tensor(t, pack_block)? else {
            return Ok(None);
        };
        let scales = blocks.iter().map(|b| b.0).collect();
        let values = blocks.iter().flat_map(|b| b.1).collect();
        Ok(Some(Q8Matrix {
            scales,
            values,
            rows,
            cols,
        }))
    }
}

impl Q8Matrix {
    /// ggml's Q8_0 rounding of a row-major `[rows, cols]` matrix (`quantize_row_q8_0_ref`):
    /// per block of 32, `d = max|x| / 127` stored as f16 and `q = round(x / d)` (with the
    /// unrounded `d`, as ggml). `None` when `cols` is not a multiple of 32.
    pub fn quantize(values: &[f32], rows: usize, cols: usize) -> Option<Self> {
        if !cols.is_multiple_of(BLOCK) || cols == 0 || values.len() != rows * cols {
            return None;
        }
        let blocks: Vec<(f32, [i8; BLOCK])> = values
            .par_chunks_exact(BLOCK)
            .map(|v| {
                let amax = v.iter().fold(0f32, |a, x| a.max(x.abs()));
                let d = amax / 127.0;
                let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
                let mut q = [0i8; BLOCK];
                for (qi, &x) in q.iter_mut().zip(v) {
                    *qi = (x * inv).round().clamp(-127.0, 127.0) as i8;
                }
                (f16::from_f32(d).to_f32(), q)
            })
            .collect();
        Some(Q8Matrix {
            scales: blocks.iter().map(|b| b.0).collect(),
            values: blocks.iter().flat_map(|b| b.1).collect(),
            rows,
            cols,
        })
    }

    /// Row `r` decoded to f32.
    pub fn row(&self, r: usize) -> Vec<f32> {
        let nb = self.cols / BLOCK;
        decode_blocks(
            &self.scales[r * nb..(r + 1) * nb],
            &self.values[r * self.cols..(r + 1) * self.cols],
        )
    }
}

/// The f32 values of consecutive blocks (`scales[b]`, 32 of `values` each).
pub fn decode_blocks(scales: &[f32], values: &[i8]) -> Vec<f32> {
    scales
        .iter()
        .zip(values.chunks_exact(BLOCK))
        .flat_map(|(&d, qs)| qs.iter().map(move |&q| decode(q, d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// A matrix dequantized from pseudo-random Q8_0 blocks the way candle does it (with the
    /// ±127 that ggml's quantizer gives each block's largest magnitude).
    fn q8_0_weights(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
        let mut next = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 24) as u8
        };
        let mut out = Vec::with_capacity(rows * cols);
        for _ in 0..rows * cols / BLOCK {
            let d = f16::from_f32((next() as f32 + 1.0) * 3e-5).to_f32();
            for i in 0..BLOCK {
                let q = match i {
                    5 => -127,
                    _ => (next() as i8).max(-127),
                };
                out.push(decode(q, d));
            }
        }
        out
    }

    #[test]
    fn packs_dequantized_q8_0_exactly() -> Result<()> {
        let (rows, cols) = (5, 64);
        let w = q8_0_weights(rows, cols, 1);
        let t = Tensor::from_vec(w.clone(), (rows, cols), &Device::Cpu)?;
        let p = Q8Matrix::pack_exact(&t)?.expect("Q8_0 values pack");
        let back = decode_blocks(&p.scales, &p.values);
        assert_eq!(back.len(), w.len());
        for (a, b) in back.iter().zip(&w) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        Ok(())
    }

    #[test]
    fn q8_0_rounding_is_within_half_a_step_of_every_weight() {
        let w: Vec<f32> = (0..3 * 64)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-3)
            .collect();
        let q = Q8Matrix::quantize(&w, 3, 64).expect("whole blocks");
        for r in 0..3 {
            for (c, v) in q.row(r).iter().enumerate() {
                let x = w[r * 64 + c];
                let d = q.scales[r * 2 + c / BLOCK];
                assert!(
                    (v - x).abs() <= 0.5 * d + 1e-3 * x.abs(),
                    "{x} → {v} (d {d})"
                );
            }
        }
        assert!(Q8Matrix::quantize(&w[..3 * 48], 3, 48).is_none());
    }

    #[test]
    fn refuses_weights_that_are_not_q8_0() -> Result<()> {
        let mut w = q8_0_weights(2, 64, 2);
        w[40] *= 1.0 + 1e-6;
        let t = Tensor::from_vec(w, (2, 64), &Device::Cpu)?;
        assert!(Q8Matrix::pack_exact(&t)?.is_none());
        let random = Tensor::randn(0f32, 0.02, (4, 64), &Device::Cpu)?;
        assert!(Q8Matrix::pack_exact(&random)?.is_none());
        Ok(())
    }
}
