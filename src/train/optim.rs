//! AdamW (decoupled weight decay, torch's defaults) with global gradient-norm clipping, over
//! named parameters, with a state that can be saved and restored exactly (candle-nn's AdamW
//! keeps its moments private, so a checkpoint could not resume it). On the CPU each update is
//! one pass in Rust over the parameter; on a GPU the same arithmetic in candle's tensor ops,
//! the moments kept on the device.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Storage, Tensor, Var};
use rayon::prelude::*;

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
    moments: Moments,
    decay: bool,
}

/// The first and second moments of one parameter.
enum Moments {
    /// On the CPU: plain vectors, the update one pass in Rust over each parameter, not a dozen
    /// tensor operations that each allocate.
    Host { m: Vec<f32>, v: Vec<f32> },
    /// On a GPU: f32 tensors beside the parameter.
    Device { m: Tensor, v: Tensor },
}

impl Moments {
    /// Zero moments for `var`, where `var` lives.
    fn zeros(var: &Var) -> Result<Self, TrainError> {
        Ok(if var.device().is_cpu() {
            let n = var.elem_count();
            Moments::Host {
                m: vec![0.0; n],
                v: vec![0.0; n],
            }
        } else {
            let zeros = || Tensor::zeros(var.shape(), DType::F32, var.device());
            Moments::Device {
                m: zeros()?,
                v: zeros()?,
            }
        })
    }

    /// The two moments as tensors of the parameter's shape, on the CPU (to save).
    fn to_host(&self, var: &Var) -> Result<[Tensor; 2], TrainError> {
        let cpu = candle_core::Device::Cpu;
        Ok(match self {
            Moments::Host { m, v } => [
                Tensor::from_slice(m, var.shape(), &cpu)?,
                Tensor::from_slice(v, var.shape(), &cpu)?,
            ],
            Moments::Device { m, v } => [m.to_device(&cpu)?, v.to_device(&cpu)?],
        })
    }
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
            slots.insert(
                name.clone(),
                Slot {
                    var: var.clone(),
                    moments: Moments::zeros(var)?,
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

    /// Clips `grads` (by name; a parameter without a gradient is left alone) to the global norm
    /// limit and applies one AdamW update at learning rate `lr`. Returns the norm before clipping.
    /// Gradients are read and weights updated in place, each parameter split over the threads.
    pub fn step(&mut self, grads: &HashMap<String, Tensor>, lr: f64) -> Result<f64, TrainError> {
        let norm = self.grad_norm(grads)?;
        self.step_with_norm(grads, lr, norm)
    }

    /// The global L2 norm of `grads` over this optimizer's parameters (not finite when any
    /// gradient is not).
    pub fn grad_norm(&self, grads: &HashMap<String, Tensor>) -> Result<f64, TrainError> {
        let mut sq = 0f64;
        for name in self.slots.keys() {
            if let Some(g) = grads.get(name) {
                sq += squared_norm(g)?;
            }
        }
        Ok(sq.sqrt())
    }

    /// `step` with the gradients' global norm already computed (`grad_norm`), for a caller that
    /// needed it first (the fp16 loss scaler's overflow test).
    pub fn step_with_norm(
        &mut self,
        grads: &HashMap<String, Tensor>,
        lr: f64,
        norm: f64,
    ) -> Result<f64, TrainError> {
        let clip = if self.config.max_grad_norm > 0.0 && norm > self.config.max_grad_norm {
            self.config.max_grad_norm / (norm + 1e-6)
        } else {
            1.0
        };
        self.steps += 1;
        let c = &self.config;
        let coefficients = Coefficients {
            b1: c.beta1 as f32,
            b2: c.beta2 as f32,
            eps: c.eps as f32,
            bc1: (1.0 - c.beta1.powi(self.steps as i32)) as f32,
            bc2: (1.0 - c.beta2.powi(self.steps as i32)) as f32,
            clip: clip as f32,
            lr: lr as f32,
            shrink: 1.0,
        };
        for (name, slot) in self.slots.iter_mut() {
            let Some(g) = grads.get(name) else {
                continue;
            };
            let g = g.to_dtype(DType::F32)?.contiguous()?;
            let shrink = if slot.decay {
                1.0 - lr as f32 * c.weight_decay as f32
            } else {
                1.0
            };
            let k = Coefficients {
                shrink,
                ..coefficients
            };
            match &mut slot.moments {
                Moments::Host { m, v } => {
                    let update = Update {
                        moments: RefCell::new((m, v)),
                        k,
                    };
                    slot.var.as_tensor().inplace_op2(&g, &update)?;
                }
                Moments::Device { m, v } => update_on_device(&slot.var, &g, m, v, k)?,
            }
        }
        Ok(norm)
    }

    /// Writes the moments (`m.NAME`, `v.NAME`) and the update count to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: Vec<(String, Tensor)> = Vec::new();
        for (name, slot) in &self.slots {
            let [m, v] = slot.moments.to_host(&slot.var)?;
            tensors.push((format!("m.{name}"), m));
            tensors.push((format!("v.{name}"), v));
        }
        let meta = HashMap::from([("steps".to_string(), self.steps.to_string())]);
        let bytes = safetensors::serialize(tensors, Some(meta))
            .map_err(|e| TrainError::Config(format!("serializing the optimizer state: {e}")))?;
        crate::fsutil::write_atomic(path, &bytes).map_err(|e| TrainError::io(path, e))
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
        let mut tensors = candle_core::safetensors::load_buffer(&bytes, &candle_core::Device::Cpu)?;
        for (name, slot) in self.slots.iter_mut() {
            let mut read = |key: &str| -> Result<Tensor, TrainError> {
                let t = tensors.remove(&format!("{key}.{name}")).ok_or_else(|| {
                    bad(format!(
                        "no optimizer moment for {name}: the checkpoint is of another model"
                    ))
                })?;
                if t.shape() != slot.var.shape() {
                    return Err(bad(format!(
                        "optimizer moment of {name} has shape {:?}, the model {:?}",
                        t.shape(),
                        slot.var.shape()
                    )));
                }
                Ok(t.to_dtype(DType::F32)?)
            };
            let (m, v) = (read("m")?, read("v")?);
            slot.moments = match slot.moments {
                Moments::Host { .. } => Moments::Host {
                    m: m.flatten_all()?.to_vec1()?,
                    v: v.flatten_all()?.to_vec1()?,
                },
                Moments::Device { .. } => Moments::Device {
                    m: m.to_device(slot.var.device())?,
                    v: v.to_device(slot.var.device())?,
                },
            };
        }
        self.steps = steps;
        Ok(())
    }
}

/// Elements per parallel piece of the update and of the norm (fixed, so the norm's summation
/// order, and with it every update, is the same on any thread count).
const PIECE: usize = 1 << 15;

/// The sum of squares of a gradient's elements, in f64 on the CPU without copying it (on a
/// GPU, an f32 sum there).
fn squared_norm(g: &Tensor) -> Result<f64, TrainError> {
    let g = g.to_dtype(DType::F32)?.contiguous()?;
    if !g.device().is_cpu() {
        return Ok(g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64);
    }
    let (storage, layout) = g.storage_and_layout();
    let Storage::Cpu(CpuStorage::F32(data)) = &*storage else {
        return Err(TrainError::Config(
            "the gradients of a CPU model must be f32 tensors on the CPU".into(),
        ));
    };
    let (a, b) = layout.contiguous_offsets().expect("made contiguous above");
    let pieces: Vec<f64> = data[a..b]
        .par_chunks(PIECE)
        .map(|p| p.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>())
        .collect();
    Ok(pieces.iter().sum())
}

/// The scalars of one AdamW update.
#[derive(Clone, Copy)]
struct Coefficients {
    b1: f32,
    b2: f32,
    eps: f32,
    /// Bias corrections of the two moments, `1 - beta^step`.
    bc1: f32,
    bc2: f32,
    /// Factor of the global-norm clipping (1: none).
    clip: f32,
    lr: f32,
    /// Decoupled weight decay factor, `1 - lr * weight_decay` (1 for undecayed parameters).
    shrink: f32,
}

/// One parameter's AdamW update as a candle in-place op on its storage, reading the gradient
/// (no weight or gradient copies; `Var::set` would copy the whole parameter again).
struct Update<'a> {
    moments: RefCell<(&'a mut Vec<f32>, &'a mut Vec<f32>)>,
    k: Coefficients,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "adamw-update"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let not_contiguous = || candle_core::Error::Msg("adamw: not contiguous".into());
        let (wa, wb) = l1.contiguous_offsets().ok_or_else(not_contiguous)?;
        let (ga, gb) = l2.contiguous_offsets().ok_or_else(not_contiguous)?;
        let CpuStorage::F32(w) = s1 else {
            candle_core::bail!("adamw: parameters must be f32 to train");
        };
        let (w, g) = (&mut w[wa..wb], &s2.as_slice::<f32>()?[ga..gb]);
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        if g.len() != w.len() || m.len() != w.len() || v.len() != w.len() {
            candle_core::bail!("adamw: gradient or moments do not match the parameter's size");
        }
        let k = self.k;
        w.par_chunks_mut(PIECE)
            .zip(g.par_chunks(PIECE))
            .zip(m.par_chunks_mut(PIECE).zip(v.par_chunks_mut(PIECE)))
            .for_each(|((w, g), (m, v))| update_piece(w, g, m, v, k));
        Ok(())
    }
}

/// AdamW on one piece: moments from the clipped gradient, then the decayed weight minus the
/// bias-corrected step.
fn update_piece(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: Coefficients) {
    for i in 0..w.len() {
        let gi = g[i] * k.clip;
        let mi = k.b1 * m[i] + (1.0 - k.b1) * gi;
        let vi = k.b2 * v[i] + (1.0 - k.b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * k.shrink - k.lr * (mi / k.bc1) / ((vi / k.bc2).sqrt() + k.eps);
    }
}

/// `update_piece`'s arithmetic in tensor ops, for a parameter on a GPU: the moments replaced,
/// the parameter set to its updated value.
fn update_on_device(
    var: &Var,
    g: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    k: Coefficients,
) -> Result<(), TrainError> {
    let g = (g * k.clip as f64)?;
    let m1 = ((&*m * k.b1 as f64)? + (&g * (1.0 - k.b1 as f64))?)?;
    let v1 = ((&*v * k.b2 as f64)? + (g.sqr()? * (1.0 - k.b2 as f64))?)?;
    let step = ((&m1 / k.bc1 as f64)? / ((&v1 / k.bc2 as f64)?.sqrt()? + k.eps as f64)?)?;
    let w = ((var.as_tensor() * k.shrink as f64)? - (step * k.lr as f64)?)?;
    var.set(&w)?;
    *m = m1;
    *v = v1;
    Ok(())
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
        let b1: Vec<f32> = b.as_tensor().to_vec1().unwrap();
        assert!(
            (b1[0] - 0.49).abs() < 1e-6 && (b1[1] - 0.51).abs() < 1e-6,
            "{b1:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        opt.save(&dir.path().join("opt.safetensors")).unwrap();
        let mut other = AdamW::new(&vars, AdamWConfig::default()).unwrap();
        other.load(&dir.path().join("opt.safetensors")).unwrap();
        assert_eq!(other.steps(), 1);
        let Moments::Host { m, .. } = &other.slots["b"].moments else {
            panic!("a CPU parameter keeps its moments on the host")
        };
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
        let Moments::Host { m, .. } = &opt.slots["w"].moments else {
            panic!("a CPU parameter keeps its moments on the host")
        };
        assert!(
            (m[0] - 0.1 * 0.6).abs() < 1e-6 && (m[1] - 0.1 * 0.8).abs() < 1e-6,
            "{m:?}"
        );
    }

    #[test]
    fn a_parameter_of_many_pieces_gets_the_element_wise_update() {
        let n = 3 * PIECE + 123;
        let w0: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) / 50.0).collect();
        let g0: Vec<f32> = (0..n).map(|i| ((i % 89) as f32 - 44.0) / 30.0).collect();
        let w = Var::from_vec(w0.clone(), (n / 3, 3), &Device::Cpu).unwrap();
        let vars = HashMap::from([("w".to_string(), w.clone())]);
        let cfg = AdamWConfig {
            weight_decay: 0.01,
            ..Default::default()
        };
        let mut opt = AdamW::new(&vars, cfg).unwrap();
        let g = Tensor::from_vec(g0.clone(), w.shape(), &Device::Cpu).unwrap();
        let grads = HashMap::from([("w".to_string(), g)]);
        let norm = opt.step(&grads, 0.1).unwrap();
        let want_norm = g0.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        assert!((norm - want_norm).abs() < 1e-9 * want_norm);
        let clip = (1.0 / (want_norm + 1e-6)) as f32;
        let got: Vec<f32> = w.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        for i in [0, PIECE - 1, PIECE, 2 * PIECE + 7, n - 1] {
            let gi = g0[i] * clip;
            let (m, v) = (0.1 * gi, 0.001 * gi * gi);
            let want = w0[i] * (1.0 - 0.1 * 0.01) - 0.1 * (m / 0.1) / ((v / 0.001).sqrt() + 1e-8);
            assert!(
                (got[i] - want).abs() < 1e-6,
                "element {i}: {} vs {want}",
                got[i]
            );
            let Moments::Host { m: moment, .. } = &opt.slots["w"].moments else {
                panic!("a CPU parameter keeps its moments on the host")
            };
            assert!((moment[i] - m).abs() < 1e-9);
        }
    }

    /// The GPU path's tensor arithmetic (`update_on_device`, run here on CPU tensors) gives the
    /// CPU pass's update over several steps, moments included.
    #[test]
    fn the_device_update_is_the_host_update_in_tensor_ops() {
        let n = 257;
        let w0: Vec<f32> = (0..n).map(|i| ((i % 31) as f32 - 15.0) / 20.0).collect();
        let (mut w, mut m, mut v) = (w0.clone(), vec![0f32; n], vec![0f32; n]);
        let var = Var::from_vec(w0, n, &Device::Cpu).unwrap();
        let mut mt = Tensor::zeros(n, DType::F32, &Device::Cpu).unwrap();
        let mut vt = mt.clone();
        for step in 1..=3 {
            let g: Vec<f32> = (0..n)
                .map(|i| (((i * step) % 23) as f32 - 11.0) / 7.0)
                .collect();
            let k = Coefficients {
                b1: 0.9,
                b2: 0.999,
                eps: 1e-8,
                bc1: 1.0 - 0.9f32.powi(step as i32),
                bc2: 1.0 - 0.999f32.powi(step as i32),
                clip: 0.5,
                lr: 0.01,
                shrink: 0.999,
            };
            update_piece(&mut w, &g, &mut m, &mut v, k);
            let gt = Tensor::from_vec(g, n, &Device::Cpu).unwrap();
            update_on_device(&var, &gt, &mut mt, &mut vt, k).unwrap();
        }
        let got: Vec<f32> = var.as_tensor().to_vec1().unwrap();
        let (gm, gv): (Vec<f32>, Vec<f32>) = (mt.to_vec1().unwrap(), vt.to_vec1().unwrap());
        for i in 0..n {
            assert!(
                (got[i] - w[i]).abs() < 1e-6,
                "w[{i}]: {} vs {}",
                got[i],
                w[i]
            );
            assert!((gm[i] - m[i]).abs() < 1e-6 && (gv[i] - v[i]).abs() < 1e-6);
        }
    }

    /// The fp16 loss scaler's overflow test: a gradient with an infinity or a NaN makes the
    /// global norm not finite.
    #[test]
    fn the_norm_of_gradients_that_overflowed_is_not_finite() {
        let w = Var::from_vec(vec![0.0f32; 2], 2, &Device::Cpu).unwrap();
        let opt = AdamW::new(
            &HashMap::from([("w".to_string(), w)]),
            AdamWConfig::default(),
        )
        .unwrap();
        let norm = |g: Vec<f32>| {
            let t = Tensor::from_vec(g, 2, &Device::Cpu).unwrap();
            opt.grad_norm(&HashMap::from([("w".to_string(), t)]))
                .unwrap()
        };
        assert_eq!(norm(vec![3.0, 4.0]), 5.0);
        assert!(!norm(vec![1.0, f32::INFINITY]).is_finite());
        assert!(!norm(vec![f32::NAN, 1.0]).is_finite());
    }
}
