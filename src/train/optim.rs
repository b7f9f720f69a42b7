//! AdamW (decoupled weight decay, torch's defaults) with global gradient-norm clipping, over
//! named parameters, with a state that can be saved and restored exactly (candle-nn's AdamW
//! keeps its moments private, so a checkpoint could not resume it).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Tensor, Var};

use super::error::TrainError;

/// Hyper-parameters of AdamW.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Exponential decay of the first moment.
    pub beta1: f64,
    /// Exponential decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// Decoupled weight decay (applied to matrices only, not to biases and norm weights,
    /// as transformers' Trainer does).
    pub weight_decay: f64,
    /// Gradients are scaled down together when their global L2 norm exceeds this (0: no clipping).
    pub max_grad_norm: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
        }
    }
}

/// One parameter and its moments.
struct Slot {
    var: Var,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

/// AdamW over a fixed, named set of parameters.
pub struct AdamW {
    config: AdamWConfig,
    slots: BTreeMap<String, Slot>,
    /// Updates done so far (for bias correction).
    steps: usize,
}

impl AdamW {
    /// An optimizer with zero moments for every parameter of `vars`.
    pub fn new(vars: &HashMap<String, Var>, config: AdamWConfig) -> Result<Self, TrainError> {
        let mut slots = BTreeMap::new();
        for (name, var) in vars {
            let zeros = var.as_tensor().zeros_like()?;
            slots.insert(
                name.clone(),
                Slot {
                    var: var.clone(),
                    m: zeros.clone(),
                    v: zeros,
                    decay: var.rank() >= 2,
                },
            );
        }
        Ok(AdamW {
            config,
            slots,
            steps: 0,
        })
    }

    /// Updates done so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The parameters in name order (the order gradients are passed in).
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.slots.keys()
    }

    /// The parameter called `name`.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.slots.get(name).map(|s| &s.var)
    }

    /// Clips `grads` (by name; a missing gradient counts as zero) to the global norm limit and
    /// applies one AdamW update at learning rate `lr`. Returns the norm before clipping.
    pub fn step(&mut self, grads: &HashMap<String, Tensor>, lr: f64) -> Result<f64, TrainError> {
        let mut sq = 0f64;
        for g in grads.values() {
            sq += g
                .sqr()?
                .sum_all()?
                .to_dtype(DType::F64)?
                .to_scalar::<f64>()?;
        }
        let norm = sq.sqrt();
        let clip = if self.config.max_grad_norm > 0.0 && norm > self.config.max_grad_norm {
            self.config.max_grad_norm / (norm + 1e-6)
        } else {
            1.0
        };
        self.steps += 1;
        let c = &self.config;
        let bc1 = 1.0 - c.beta1.powi(self.steps as i32);
        let bc2 = 1.0 - c.beta2.powi(self.steps as i32);
        for (name, slot) in self.slots.iter_mut() {
            let Some(g) = grads.get(name) else { continue };
            let g = if clip != 1.0 {
                g.affine(clip, 0.0)?
            } else {
                g.clone()
            };
            slot.m = ((&slot.m * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
            slot.v = ((&slot.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let update = ((&slot.m / bc1)? / ((&slot.v / bc2)?.sqrt()? + c.eps)?)?;
            let theta = slot.var.as_tensor();
            let decayed = if slot.decay && c.weight_decay > 0.0 {
                (theta * (1.0 - lr * c.weight_decay))?
            } else {
                theta.clone()
            };
            slot.var.set(&(decayed - (update * lr)?)?)?;
        }
        Ok(norm)
    }

    /// Writes the moments (`m.NAME`, `v.NAME`) and the update count to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: Vec<(String, Tensor)> = Vec::new();
        for (name, slot) in &self.slots {
            tensors.push((format!("m.{name}"), slot.m.clone()));
            tensors.push((format!("v.{name}"), slot.v.clone()));
        }
        let meta = HashMap::from([("steps".to_string(), self.steps.to_string())]);
        let bytes = safetensors::serialize(tensors, Some(meta))
            .map_err(|e| TrainError::Config(format!("serializing the optimizer state: {e}")))?;
        super::fsutil::write_atomic(path, &bytes)
    }

    /// Restores the moments and update count written by [`AdamW::save`].
    pub fn load(&mut self, path: &Path) -> Result<(), TrainError> {
        let bad = |reason: String| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let steps = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("steps"))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no update count in the optimizer state".into()))?;
        let device = self.slots.values().next().map(|s| s.var.device().clone());
        let device = device.unwrap_or(candle_core::Device::Cpu);
        let mut tensors = candle_core::safetensors::load_buffer(&bytes, &device)?;
        for (name, slot) in self.slots.iter_mut() {
            for (key, target) in [("m", &mut slot.m), ("v", &mut slot.v)] {
                let t = tensors.remove(&format!("{key}.{name}")).ok_or_else(|| {
                    bad(format!(
                        "no optimizer moment for {name}: the checkpoint is of another model"
                    ))
                })?;
                if t.shape() != target.shape() {
                    return Err(bad(format!(
                        "optimizer moment of {name} has shape {:?}, the model {:?}",
                        t.shape(),
                        target.shape()
                    )));
                }
                *target = t;
            }
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_a_hand_computed_adamw_step_and_round_trips() {
        let w = Var::from_vec(vec![1.0f32, -2.0, 3.0, 0.5], (2, 2), &Device::Cpu).unwrap();
        let b = Var::from_vec(vec![0.5f32, 0.5], 2, &Device::Cpu).unwrap();
        let vars = HashMap::from([("w".to_string(), w.clone()), ("b".to_string(), b.clone())]);
        let cfg = AdamWConfig {
            weight_decay: 0.1,
            max_grad_norm: 0.0,
            ..Default::default()
        };
        let mut opt = AdamW::new(&vars, cfg).unwrap();
        let g = Tensor::from_vec(vec![0.1f32, -0.2, 0.0, 0.4], (2, 2), &Device::Cpu).unwrap();
        let gb = Tensor::from_vec(vec![1.0f32, -1.0], 2, &Device::Cpu).unwrap();
        let grads = HashMap::from([("w".to_string(), g), ("b".to_string(), gb)]);
        opt.step(&grads, 0.01).unwrap();
        // First step: m̂ = g, v̂ = g², update = g/(|g|+eps) = sign(g) (0 where g = 0).
        let w1: Vec<f32> = w.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let want = [
            1.0 * 0.999 - 0.01,
            -2.0 * 0.999 + 0.01,
            3.0 * 0.999,
            0.5 * 0.999 - 0.01,
        ];
        for (a, b) in w1.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{w1:?}");
        }
        // Biases are not decayed.
        assert_eq!(b.as_tensor().to_vec1::<f32>().unwrap(), vec![0.49, 0.51]);

        let dir = tempfile::tempdir().unwrap();
        opt.save(&dir.path().join("opt.safetensors")).unwrap();
        let mut other = AdamW::new(&vars, AdamWConfig::default()).unwrap();
        other.load(&dir.path().join("opt.safetensors")).unwrap();
        assert_eq!(other.steps(), 1);
        let m: Vec<f32> = other.slots["b"].m.to_vec1().unwrap();
        assert!((m[0] - 0.1).abs() < 1e-7 && (m[1] + 0.1).abs() < 1e-7);
    }

    #[test]
    fn clips_to_the_global_norm() {
        let w = Var::from_vec(vec![0.0f32, 0.0], 2, &Device::Cpu).unwrap();
        let vars = HashMap::from([("w".to_string(), w.clone())]);
        let mut opt = AdamW::new(&vars, AdamWConfig::default()).unwrap();
        let g = Tensor::from_vec(vec![3.0f32, 4.0], 2, &Device::Cpu).unwrap();
        let norm = opt
            .step(&HashMap::from([("w".to_string(), g)]), 0.1)
            .unwrap();
        assert!((norm - 5.0).abs() < 1e-6);
        let m: Vec<f32> = opt.slots["w"].m.to_vec1().unwrap();
        assert!(
            (m[0] - 0.1 * 0.6).abs() < 1e-6 && (m[1] - 0.1 * 0.8).abs() < 1e-6,
            "{m:?}"
        );
    }
}
