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
    /// Divides every gradient by the scale (before their norm is taken and clipped).
    pub fn unscale(&self, grads: &mut HashMap<String, Tensor>) -> Result<(), TrainError> {
        let inverse = 1.0 / self.scale;
        for g in grads.values_mut() {
            *g = (&*g * inverse)?;
        }
        Ok(())
    }

    /// Records a step taken with finite gradients: after `GROWTH_INTERVAL` in a row the scale
    /// doubles.
    pub fn clean(&mut self) {
        self.clean_steps += 1;
        if self.clean_steps >= GROWTH_INTERVAL {
            self.scale *= 2.0;
            self.clean_steps = 0;
        }
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

    #[test]
    fn gradients_are_divided_by_the_scale_and_the_scale_grows_after_the_interval() {
        let mut s = GradScaler::default();
        let mut g = HashMap::from([(
            "w".to_string(),
            Tensor::from_slice(&[65536.0f32, -131072.0], 2, &Device::Cpu).unwrap(),
        )]);
        s.unscale(&mut g).unwrap();
        assert_eq!(g["w"].to_vec1::<f32>().unwrap(), vec![1.0, -2.0]);
        for _ in 0..GROWTH_INTERVAL {
            s.clean();
        }
        assert_eq!(s.scale, 2.0 * INITIAL_SCALE);
        assert_eq!(s.clean_steps, 0);
    }

    #[test]
    fn an_overflow_halves_the_scale_and_counts_the_skipped_step() {
        let mut s = GradScaler {
            scale: 1024.0,
            clean_steps: 7,
            skipped_steps: 0,
        };
        s.overflowed();
        s.overflowed();
        assert_eq!(s.scale, 256.0);
        assert_eq!((s.clean_steps, s.skipped_steps), (0, 2));
    }
}
