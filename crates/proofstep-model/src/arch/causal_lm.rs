//! `CausalLm`: the one type the trainer and the generator use, whatever the architecture.
//! It owns the parameters (a `VarMap` with Hugging Face tensor names) and offers the two
//! forwards: `forward_train` (differentiable, all positions) and `forward_cached` (fused, KV cache).
//! A model loaded with reduced `--weights` (`load_held`) owns no parameters: its matrices are
//! converted as they are read from the folder and held once, so it runs `forward_cached` only.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};

use crate::arch::config::ModelConfig;
use crate::arch::gpt_neox::GptNeox;
use crate::arch::held::{Held, HeldMatrix, Source};
use crate::arch::kv_cache::KvCache;
use crate::arch::layers::{Mode, Positions};
use crate::arch::llama::Llama;
use crate::arch::precision::{Precision, PrecisionReport};
use crate::arch::proj::Proj;
use crate::error::{ModelError, Result};
use crate::io::stream::TensorStream;

/// The network of one architecture.
enum Net {
    Llama(Llama),
    GptNeox(GptNeox),
}

/// A causal language model with its parameters.
pub struct CausalLm {
    net: Net,
    config: ModelConfig,
    varmap: VarMap,
    device: Device,
    /// The precision a model loaded by `load_held` is held in (no parameters then).
    held: Option<Precision>,
    /// Scalars of the weights read, for a held model (its var map is empty).
    held_params: usize,
}

/// Buffers transformers may store that are not parameters (never read as weights).
pub(crate) fn is_buffer(name: &str) -> bool {
    name.ends_with("rotary_emb.inv_freq")
        || name.ends_with("rotary_emb.cos_cached")
        || name.ends_with("rotary_emb.sin_cached")
        || name.ends_with("attention.bias")
        || name.ends_with("attention.masked_bias")
}

/// Warns about each tensor of the weights the model does not use (a checkpoint may carry
/// extras), but refuses a layer past config.json's `num_hidden_layers`: the count is then not
/// the weights' own, and the model would run a part of them.
fn unused_tensors<'a>(config: &ModelConfig, names: impl Iterator<Item = &'a String>) -> Result<()> {
    for name in names.filter(|n| !is_buffer(n)) {
        let layer = name
            .split('.')
            .skip_while(|part| *part != "layers")
            .nth(1)
            .and_then(|k| k.parse::<usize>().ok());
        if layer.is_some_and(|k| k >= config.num_layers()) {
            return Err(ModelError::Weights(format!(
                "the weights hold `{name}`, a layer config.json's num_hidden_layers ({}) does not \
                 have: the weights are not for this config.json",
                config.num_layers()
            )));
        }
        tracing::warn!(tensor = %name, "tensor in the weights is not used by the model; dropped");
    }
    Ok(())
}

impl CausalLm {
    /// Builds the network on `varmap` (creating missing parameters) and returns the names
    /// the network asked for.
    fn build(
        config: ModelConfig,
        varmap: VarMap,
        device: &Device,
    ) -> Result<(Self, HashSet<String>)> {
        let asked = Arc::new(Mutex::new(HashSet::new()));
        let recorder = Recorder {
            map: varmap.clone(),
            asked: asked.clone(),
        };
        let net = Self::net(&config, Box::new(recorder), device, None)?;
        let asked = std::mem::take(&mut *asked.lock().expect("lock"));
        Ok((
            CausalLm {
                net,
                config,
                varmap,
                device: device.clone(),
                held: None,
                held_params: 0,
            },
            asked,
        ))
    }

    /// The network of `config` on the tensors `backend` gives.
    fn net(
        config: &ModelConfig,
        backend: Box<dyn SimpleBackend>,
        device: &Device,
        held: Option<&Held>,
    ) -> Result<Net> {
        let vb = VarBuilder::from_backend(backend, DType::F32, device.clone());
        Ok(match config {
            ModelConfig::Llama(c) => Net::Llama(Llama::new(c, vb, held)?),
            ModelConfig::GptNeox(c) => Net::GptNeox(GptNeox::new(c, vb, held)?),
        })
    }

    /// A model for inference only, held in `precision` (exact packings; bf16, Q8_0, Q4_0, Q4_K)
    /// with no f32 copy:
    /// each matrix is read from `stream`, converted and its f32 values dropped before the
    /// next is read, so memory while loading stays near the final size; a folder `proofstep
    /// model quantize` wrote gives its matrices converted already (`held.rs`). Norms and biases
    /// stay f32; a matrix the precision does not apply to (rows not whole blocks of 32) stays
    /// f32. Fails like `from_tensors` on a missing tensor or a wrong shape.
    pub fn load_held(
        config: ModelConfig,
        stream: TensorStream,
        precision: Precision,
    ) -> Result<Self> {
        Self::load_from(config, Arc::new(Source::new(stream, false)), precision)
    }

    /// `load_held`, also giving every tensor by name as the model holds it (what
    /// `io::quantized::save` writes; it shares the model's memory).
    pub fn load_held_saving(
        config: ModelConfig,
        stream: TensorStream,
        precision: Precision,
    ) -> Result<(Self, BTreeMap<String, HeldMatrix>)> {
        let source = Arc::new(Source::new(stream, true));
        let lm = Self::load_from(config, source.clone(), precision)?;
        Ok((lm, source.take_saved()))
    }

    /// The held model of `source`'s tensors.
    fn load_from(config: ModelConfig, source: Arc<Source>, precision: Precision) -> Result<Self> {
        let device = Device::Cpu;
        let held = Held::new(precision, source.clone());
        let backend = Streamer {
            source: source.clone(),
        };
        let net =
            Self::net(&config, Box::new(backend), &device, Some(&held)).map_err(|e| match e {
                ModelError::Candle(e) => source
                    .failure
                    .lock()
                    .expect("lock")
                    .take()
                    .unwrap_or_else(|| {
                        ModelError::Weights(format!("{e}: they do not match config.json"))
                    }),
                e => e,
            })?;
        let left = source.stream.lock().expect("lock").names();
        unused_tensors(&config, left.iter())?;
        Ok(CausalLm {
            net,
            config,
            varmap: VarMap::new(),
            device,
            held: Some(precision),
            held_params: source.params.load(Ordering::Relaxed),
        })
    }

    /// The precision a model loaded by `load_held` is held in; `None` for a model with f32
    /// parameters.
    pub fn held(&self) -> Option<Precision> {
        self.held
    }

    /// How many projections (the LM head included) inference reads converted, not as f32.
    pub fn precision_report(&self) -> PrecisionReport {
        let projections = match &self.net {
            Net::Llama(m) => m.projections(),
            Net::GptNeox(m) => m.projections(),
        };
        let mut report = PrecisionReport::default();
        for p in projections {
            report.add(p.is_converted());
        }
        report
    }

    /// An error for what needs the f32 parameters, on a held model.
    fn needs_parameters(&self, what: &str) -> Result<()> {
        match self.held {
            None => Ok(()),
            Some(p) => Err(ModelError::Generate(format!(
                "{what} needs the f32 parameters, but this model was loaded for inference only, \
                 held in {p:?} (--weights); load it with --weights f32"
            ))),
        }
    }

    /// A freshly initialised model (normal(0, 0.02) weights, unit norms, zero biases).
    pub fn random(config: ModelConfig, device: &Device) -> Result<Self> {
        Ok(Self::build(config, VarMap::new(), device)?.0)
    }

    /// Like [`CausalLm::random`] but repeatable: every randomly initialised parameter (those
    /// not constant, i.e. not norms or biases) is drawn from normal(0, 0.02) by a generator
    /// seeded with `seed`, in name order (candle's CPU generator cannot be seeded).
    pub fn random_seeded(config: ModelConfig, device: &Device, seed: u64) -> Result<Self> {
        use rand::{Rng, SeedableRng};
        let lm = Self::random(config, device)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        {
            let data = lm.varmap.data().lock().expect("var map lock");
            let mut names: Vec<&String> = data.keys().collect();
            names.sort();
            for name in names {
                let var = &data[name];
                let flat: Vec<f32> = var.as_tensor().flatten_all()?.to_vec1()?;
                if flat.iter().all(|&x| x == flat[0]) {
                    continue;
                }
                let values: Vec<f32> = (0..flat.len())
                    .map(|_| {
                        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                        (0.02 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
                    })
                    .collect();
                var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
            }
        }
        Ok(lm)
    }

    /// A model from named tensors (HF names, any float dtype; converted to f32). Fails when a
    /// parameter is missing or has the wrong shape; ignores known buffers, warns on extras.
    pub fn from_tensors(
        config: ModelConfig,
        tensors: HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let mut loaded = HashSet::new();
        {
            let mut data = varmap.data().lock().expect("var map lock");
            for (name, t) in tensors {
                if is_buffer(&name) {
                    continue;
                }
                let t = t.to_dtype(DType::F32)?.to_device(device)?;
                loaded.insert(name.clone());
                data.insert(name, Var::from_tensor(&t)?);
            }
        }
        let (lm, asked) = Self::build(config, varmap, device).map_err(|e| match e {
            ModelError::Candle(e) => {
                ModelError::Weights(format!("{e}: they do not match config.json"))
            }
            e => e,
        })?;
        let mut missing: Vec<&String> = asked.difference(&loaded).collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(ModelError::Weights(format!(
                "missing tensors {missing:?}: the weights are not for this config.json"
            )));
        }
        unused_tensors(lm.config(), loaded.difference(&asked))?;
        let mut data = lm.varmap.data().lock().expect("var map lock");
        for extra in loaded.difference(&asked) {
            data.remove(extra);
        }
        drop(data);
        Ok(lm)
    }

    /// The architecture and hyper-parameters.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters, for an optimizer (`varmap().all_vars()`) and for saving (empty for a
    /// held model).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The parameters by Hugging Face name (clones share storage with the vars); empty for a
    /// held model.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        let data = self.varmap.data().lock().expect("var map lock");
        data.iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Number of scalar parameters (of a held model: of the weights it was loaded from).
    pub fn num_params(&self) -> usize {
        if self.held.is_some() {
            return self.held_params;
        }
        self.varmap.all_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// Layers, i.e. the size of a KV cache.
    pub fn num_layers(&self) -> usize {
        match &self.net {
            Net::Llama(m) => m.num_layers(),
            Net::GptNeox(m) => m.num_layers(),
        }
    }

    /// An empty KV cache for this model.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.num_layers())
    }

    /// Chooses the weights the inference forward's projections read: `Precision::F32` (the
    /// default: the parameters themselves), `Precision::Packed` (exact Q4_1 packings where the
    /// weights are exactly Q4_1) or `Precision::Bf16` (bf16 copies); copies are made now, so
    /// call again after training (see `precision.rs`). Training forwards always use f32.
    pub fn set_precision(&mut self, p: Precision) -> Result<PrecisionReport> {
        self.needs_parameters("choosing another precision")?;
        let mut report = PrecisionReport::default();
        for proj in self.projections_mut() {
            report.add(proj.set_precision(p)?);
        }
        Ok(report)
    }

    /// Every projection of the network, the LM head last.
    fn projections_mut(&mut self) -> Vec<&mut Proj> {
        match &mut self.net {
            Net::Llama(m) => m.projections_mut(),
            Net::GptNeox(m) => m.projections_mut(),
        }
    }

    /// Mixed precision for training: the projections multiply in `dtype` (bf16, or f16 with
    /// the trainer's loss scaling) from the f32 parameters, which stay the master weights the
    /// optimizer updates; `None` (or f32) is f32 throughout.
    pub fn set_autocast(&mut self, dtype: Option<DType>) {
        for p in self.projections_mut() {
            p.set_autocast(dtype);
        }
    }

    /// The dtype training multiplies in, `None` for f32 (see `set_autocast`).
    pub fn autocast(&self) -> Option<DType> {
        match &self.net {
            Net::Llama(m) => m.projections()[0].autocast(),
            Net::GptNeox(m) => m.projections()[0].autocast(),
        }
    }

    /// Training forward: `ids: [b, t]` (u32) → logits `[b, t, vocab]`, differentiable ops only,
    /// so every parameter gets a gradient. Rows are not padded on the left (pad on the right).
    pub fn forward_train(&self, ids: &Tensor) -> Result<Tensor> {
        self.needs_parameters("training")?;
        self.forward(ids, &train_positions(ids)?, None, Mode::Train, false)
    }

    /// Training forward at chosen positions: logits `[n, vocab]` at the flat positions `rows`
    /// (u32, row × t + column) of `ids: [b, t]`, the LM head applied at those rows only
    /// (in fine-tuning the loss covers a fraction of the positions).
    pub fn forward_train_rows(&self, ids: &Tensor, rows: &Tensor) -> Result<Tensor> {
        self.needs_parameters("training")?;
        let (b, t) = ids.dims2()?;
        match &self.net {
            Net::Llama(m) => m.forward_train_rows(ids, &train_positions(ids)?, rows),
            Net::GptNeox(_) => {
                let logits = self.forward_train(ids)?;
                let v = logits.dim(2)?;
                Ok(logits.reshape((b * t, v))?.index_select(rows, 0)?)
            }
        }
    }

    /// For a loss that fuses the LM head with the cross-entropy: the hidden rows the head
    /// multiplies at the flat positions `rows` (`[n, d]`, as in `forward_train_rows`) and the
    /// head's weight `[vocab, d]`. `None` for GPT-NeoX (use `forward_train_rows`).
    pub fn head_inputs_train_rows(
        &self,
        ids: &Tensor,
        rows: &Tensor,
    ) -> Result<Option<(Tensor, Tensor)>> {
        match &self.net {
            Net::Llama(m) => {
                let x = m.head_inputs_train_rows(ids, &train_positions(ids)?, rows)?;
                Ok(Some((x, m.lm_head_weight()?.clone())))
            }
            Net::GptNeox(_) => Ok(None),
        }
    }

    /// Inference forward with fused ops: appends `ids: [b, t]` to `cache` and returns the
    /// logits of the new tokens (`[b, t, vocab]`, or `[b, 1, vocab]` with `last_only`).
    /// `pads[i]` left-padding tokens of row i are masked out.
    pub fn forward_cached(
        &self,
        ids: &Tensor,
        pads: &[usize],
        cache: &mut KvCache,
        last_only: bool,
    ) -> Result<Tensor> {
        let pos = Positions {
            pads: pads.to_vec(),
            past: cache.seq_len(),
            len: ids.dim(1)?,
        };
        self.forward(ids, &pos, Some(cache), Mode::Infer, last_only)
    }

    fn forward(
        &self,
        ids: &Tensor,
        pos: &Positions,
        cache: Option<&mut KvCache>,
        mode: Mode,
        last_only: bool,
    ) -> Result<Tensor> {
        // Inference on the CPU runs on the worker that takes this job, so the kernels' parallel
        // loops share the work with the other workers without waking, and putting back to
        // sleep, the caller at each of the ~130 products of a step (pythia-2.8b q8_0 greedy:
        // 150 k context switches a run → 43 k, 3–5 % faster; benchmarks/README.md,
        // "real_size"). Training and other devices keep the caller's thread.
        if matches!(mode, Mode::Infer)
            && self.device().is_cpu()
            && rayon::current_thread_index().is_none()
        {
            return rayon::scope(|_| self.forward(ids, pos, cache, mode, last_only));
        }
        match &self.net {
            Net::Llama(m) => m.forward(ids, pos, cache, mode, last_only),
            Net::GptNeox(m) => m.forward(ids, pos, cache, mode, last_only),
        }
    }
}

/// A var-map backend that remembers which parameter names the network asked for, so
/// missing and unused tensors of a checkpoint can be told apart.
struct Recorder {
    map: VarMap,
    asked: Arc<Mutex<HashSet<String>>>,
}

impl SimpleBackend for Recorder {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        self.asked.lock().expect("lock").insert(name.to_string());
        self.map.get(s, name, h, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}` requested without a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.map.data().lock().expect("lock").contains_key(name)
    }
}

/// A var-builder backend that takes each tensor from a held model's `Source` when the network
/// asks for it and keeps nothing (unless the load is saved): the network converts it and the
/// f32 values are dropped.
struct Streamer {
    source: Arc<Source>,
}

impl SimpleBackend for Streamer {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: Init,
        _: DType,
        _: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self
            .source
            .stream
            .lock()
            .expect("lock")
            .take_f32(name)
            .map_err(|e| {
                let text = e.to_string();
                self.source.failure.lock().expect("lock").get_or_insert(e);
                candle_core::Error::Msg(text)
            })?
            .ok_or_else(|| {
                candle_core::Error::Msg(format!(
                    "missing tensor {name}: the weights are not for this config.json"
                ))
            })?;
        if t.shape() != &s {
            candle_core::bail!(
                "tensor {name} has shape {:?}, config.json asks for {:?}",
                t.dims(),
                s.dims()
            );
        }
        self.source
            .params
            .fetch_add(t.elem_count(), Ordering::Relaxed);
        self.source.record(name, HeldMatrix::F32(t.clone()));
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}` requested without a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.source.stream.lock().expect("lock").contains(name)
    }
}

/// Positions of a training batch `ids: [b, t]`: no left padding, no past.
fn train_positions(ids: &Tensor) -> Result<Positions> {
    let (b, t) = ids.dims2()?;
    Ok(Positions {
        pads: vec![0; b],
        past: 0,
        len: t,
    })
}
