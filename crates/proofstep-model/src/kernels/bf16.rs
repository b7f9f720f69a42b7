//! Reduced-precision inference weights, an explicit opt-in (`Precision::Bf16`): a bf16 copy
//! of each projection matrix, read by the decoding kernel, which widens it to f32 in
//! registers (activations, sums, norms and attention stay f32). Halves the bytes read per
//! decoding step. As a copy (`set_precision`) the f32 parameters stay in place; a model
//! loaded with `--weights bf16` holds only this.

use candle_core::Tensor;

use crate::error::Result;

/// A row-major `[rows, cols]` matrix of bf16 values (raw bits).
#[derive(Clone, Debug)]
pub struct Bf16Matrix {
    /// `rows * cols` bf16 bit patterns.
    pub data: Vec<u16>,
    /// Number of rows (output features).
    pub rows: usize,
    /// Row length (input features).
    pub cols: usize,
}

/// f32 to bf16 bits, rounding to nearest even (NaN stays NaN).
pub fn to_bf16(v: f32) -> u16 {
    let b = v.to_bits();
    if v.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    let round = 0x7FFF + ((b >> 16) & 1);
    (b.wrapping_add(round) >> 16) as u16
}

/// bf16 bits to f32 (exact).
pub fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

impl Bf16Matrix {
    /// A bf16 copy of a 2-D f32 tensor (a snapshot: later changes to the tensor are not seen).
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let (rows, cols) = t.dims2()?;
        let data = t
            .flatten_all()?
            .to_vec1::<f32>()?
            .into_iter()
            .map(to_bf16)
            .collect();
        Ok(Bf16Matrix { data, rows, cols })
    }

    /// The bf16 rounding of a row-major `[rows, cols]` matrix's values.
    pub fn from_values(values: &[f32], rows: usize, cols: usize) -> Self {
        Bf16Matrix {
            data: values.iter().map(|&v| to_bf16(v)).collect(),
            rows,
            cols,
        }
    }

    /// Row `r` widened to f32.
    pub fn row(&self, r: usize) -> Vec<f32> {
        self.data[r * self.cols..(r + 1) * self.cols]
            .iter()
            .map(|&h| from_bf16(h))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(from_bf16(to_bf16(1.0)), 1.0);
        assert_eq!(from_bf16(to_bf16(-2.5)), -2.5);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0)), 1.0);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
        assert_eq!(from_bf16(to_bf16(1.0 + 3.0 / 256.0)), 1.0 + 1.0 / 64.0);
        let v = 0.123_456_79_f32;
        assert!((from_bf16(to_bf16(v)) - v).abs() <= v * 2f32.powi(-8));
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
    }
}
