//! Dynamic loss scaling for fp16 training, as torch's `GradScaler` does it under the HF Trainer's
//! `--fp16`: the loss is multiplied by a large scale before the backward pass so that small
//! gradients survive f16, the gradients are divided by it before the optimizer step, and a step
//! whose gradients overflowed is skipped with the scale halved; after `GROWTH_INTERVAL` clean
//! steps in a row the scale doubles.

use std::collections::HashMap;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::error::TrainError;

/// torch's defaults: initial scale 2^16, ×2 after 2,000 clean steps, ×0.5 on an overflow.
const INITIAL_SCALE: f64 = 65536.0;
const GROWTH_INTERVAL: usize = 2000;

/// The scaler's state (saved in every checkpoint's trainer state, so a resumed run goes on
/// with the same scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradScaler {
    /// What the loss is multiplied by before the backward pass.
    pub scale: f64,
    /// Clean steps since the scale last changed.
    pub clean_steps: usize,
    /// Steps skipped for overflow over the run: the learning-rate schedule does not advance on
    /// them (as the HF Trainer steps its scheduler only after an optimizer step).
    #[serde(default)]
    pub skipped_steps: usize,
}

impl Default for GradScaler {
    fn default() -> Self {
        GradScaler {
            scale: INITIAL_SCALE,
            clean_steps: 0,
            skipped_steps: 0,
        }
    }
}

impl GradScaler {
    /// Divides every gradient by the scale; returns whether they are all finite (the step can
    /// be taken). Updates the scale either way.
    pub fn unscale(&mut self, grads: &mut HashMap<String, Tensor>) -> Result<bool, TrainError> {
        let inverse = 1.0 / self.scale;
        let mut finite = true;
        for g in grads.values_mut() {
            *g = (&*g * inverse)?;
            if finite {
                let sum = g.abs()?.sum_all()?.to_dtype(candle_core::DType::F32)?;
                finite = sum.to_scalar::<f32>()?.is_finite();
            }
        }
        if finite {
            self.clean_steps += 1;
            if self.clean_steps >= GROWTH_INTERVAL {
                self.scale *= 2.0;
                self.clean_steps = 0;
            }
        } else {
            self.overflowed();
        }
        Ok(finite)
    }

    /// Records a step skipped because the loss or the gradients overflowed: the scale halves.
    pub fn overflowed(&mut self) {
        self.scale = (self.scale * 0.5).max(1.0);
        self.clean_steps = 0;
        self.skipped_steps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn grads(values: &[f32]) -> HashMap<String, Tensor> {
        HashMap::from([(
            "w".to_string(),
            Tensor::from_slice(values, values.len(), &Device::Cpu).unwrap(),
        )])
    }

    #[test]
    fn clean_gradients_are_divided_by_the_scale_and_the_scale_grows_after_the_interval() {
        let mut s = GradScaler::default();
        let mut g = grads(&[65536.0, -131072.0]);
        assert!(s.unscale(&mut g).unwrap());
        assert_eq!(g["w"].to_vec1::<f32>().unwrap(), vec![1.0, -2.0]);
        for _ in 1..GROWTH_INTERVAL {
            assert!(s.unscale(&mut grads(&[1.0])).unwrap());
        }
        assert_eq!(s.scale, 2.0 * INITIAL_SCALE);
        assert_eq!(s.clean_steps, 0);
    }

    #[test]
    fn an_overflow_skips_the_step_and_halves_the_scale() {
        let mut s = GradScaler {
            scale: 1024.0,
            clean_steps: 7,
            skipped_steps: 0,
        };
        assert!(!s.unscale(&mut grads(&[1.0, f32::INFINITY])).unwrap());
        assert!(!s.unscale(&mut grads(&[f32::NAN])).unwrap());
        assert_eq!(s.scale, 256.0);
        assert_eq!((s.clean_steps, s.skipped_steps), (0, 2));
    }
}
