//! Hugging Face model folders: `config.json`, the weights (`weights.rs`: safetensors or
//! PyTorch `.bin`, single or sharded), `tokenizer.json`, `generation_config.json`. Everything
//! is written atomically (`proofstep_core::fsutil`), always as safetensors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::{json, Value};

pub use crate::io::weights::read_tensors;

use crate::arch::causal_lm::{is_buffer, CausalLm};
use crate::arch::config::{token_ids, ModelConfig};
use crate::arch::precision::{Precision, Weights};
use crate::error::{ModelError, Result};
use crate::io::quantized;
use crate::io::stream::TensorStream;
use crate::kernels::matvec::packed_is_fast;

/// Writes `bytes` to `path` atomically, as a model folder error naming the file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    proofstep_core::fsutil::write_atomic(path, bytes).map_err(|e| ModelError::io(path, e))
}

/// Default largest shard written (bytes); bigger models are split like transformers does.
pub const DEFAULT_SHARD_BYTES: usize = 2 << 30;

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))
}

/// Reads the configuration of a model folder.
pub fn read_config(dir: &Path) -> Result<ModelConfig> {
    let path = dir.join("config.json");
    if !path.exists() {
        return Err(ModelError::Config(format!(
            "{} not found: --model must be a Hugging Face model folder (config.json, \
             model.safetensors or pytorch_model.bin, tokenizer.json) or a Hub id such as \
             EleutherAI/pythia-160m; convert a GGUF with `proofstep model import-gguf`",
            path.display()
        )));
    }
    ModelConfig::from_json(&read_text(&path)?)
}

/// Loads the model of a folder onto `device` (f32, whatever dtype the weights are stored in).
/// Tensors are taken one at a time from the mapped files and widened to f32 as they come, so
/// an fp16 folder never sits in memory whole beside its f32 model.
pub fn load_model(dir: &Path, device: &Device) -> Result<CausalLm> {
    let config = read_config(dir)?;
    let mut stream = TensorStream::open(dir)?;
    if let Some(stored) = quantized::stored_weights(&stream)? {
        return Err(stored_mismatch(dir, stored, Weights::F32));
    }
    let mut tensors = HashMap::new();
    for name in stream.names().into_iter().filter(|n| !is_buffer(n)) {
        if let Some(t) = stream.take_f32(&name)? {
            tensors.insert(name, t.to_device(device)?);
        }
    }
    CausalLm::from_tensors(config, tensors, device)
}

/// Loads the model of a folder for inference on the CPU as `--weights` says: `F32` is
/// `load_model` (trainable parameters); the others are held for inference only, each matrix
/// converted as it is read, with no f32 copy (`CausalLm::load_held`): `Auto` packs the
/// matrices that are exactly Q4_1 / Q8_0 blocks (a GGUF import: the same values) and keeps the
/// others f32 — on a CPU whose kernels read packed blocks slower than f32 it is `F32` — and
/// the reduced precisions round every matrix.
pub fn load_model_with(dir: &Path, weights: Weights) -> Result<CausalLm> {
    let stored = quantized::stored_weights(&TensorStream::open_headers(dir)?)?;
    let held = match (stored, weights) {
        (Some(stored), Weights::Auto) => stored.held(),
        (Some(stored), w) if w == stored => stored.held(),
        (Some(stored), w) => return Err(stored_mismatch(dir, stored, w)),
        (None, Weights::F32) => None,
        (None, Weights::Auto) => packed_is_fast().then_some(Precision::Packed),
        (None, reduced) => reduced.held(),
    };
    match held {
        Some(p) => CausalLm::load_held(read_config(dir)?, TensorStream::open(dir)?, p),
        None => load_model(dir, &Device::Cpu),
    }
}

/// The weights a folder is read in when `--weights` asks for `asked`: what a folder of
/// converted matrices (`proofstep model quantize`) holds, else `asked`. An error when the
/// folder holds other weights than asked (it has no f32 values to convert again).
pub fn folder_weights(dir: &Path, asked: Weights) -> Result<Weights> {
    match quantized::stored_weights(&TensorStream::open_headers(dir)?)? {
        None => Ok(asked),
        Some(stored) if asked == Weights::Auto || asked == stored => Ok(stored),
        Some(stored) => Err(stored_mismatch(dir, stored, asked)),
    }
}

/// The error of a quantized folder asked for other weights.
fn stored_mismatch(dir: &Path, stored: Weights, asked: Weights) -> ModelError {
    ModelError::Quantized(format!(
        "{} holds weights quantized to {stored} (`proofstep model quantize`) and cannot be read \
         as {asked}: give --weights {stored} or auto, or load the original model folder (which \
         training, reading f32, needs)",
        dir.display()
    ))
}

/// Writes the model of the folder `src` held in `weights` (bf16, q8_0, q4_0, q4_k) as a folder
/// `out` of converted matrices (`io/quantized.rs`), which later loads without converting
/// again. Returns the weight file's bytes.
pub fn quantize_model(src: &Path, weights: Weights, out: &Path) -> Result<u64> {
    let Some(p) = weights.held() else {
        return Err(ModelError::Quantized(format!(
            "--weights {weights} keeps the exact values: nothing to quantize; give bf16, q8_0, \
             q4_0 or q4_k"
        )));
    };
    let stream = TensorStream::open(src)?;
    if let Some(stored) = quantized::stored_weights(&stream)? {
        return Err(ModelError::Quantized(format!(
            "{} is already quantized ({stored}); quantize the original model folder",
            src.display()
        )));
    }
    let (_lm, tensors) = CausalLm::load_held_saving(read_config(src)?, stream, p)?;
    quantized::save(out, src, weights, &tensors)
}

/// Loads the model of a folder for inference on `device`: on the CPU exactly
/// `load_model_with`; on a GPU the f32 parameters on the device (`Auto`, `F32`), with a bf16
/// copy of every projection that the matrix products read (`Bf16`: half-precision compute on
/// the GPU's tensor cores). Q8_0 / Q4_0 / Q4_K are CPU kernels: an error that names the choices.
pub fn load_model_on(dir: &Path, weights: Weights, device: &Device) -> Result<CausalLm> {
    if device.is_cpu() {
        return load_model_with(dir, weights);
    }
    if let Some(stored) = quantized::stored_weights(&TensorStream::open_headers(dir)?)? {
        return Err(ModelError::Device(format!(
            "{} holds weights quantized to {stored} for the CPU kernels (`proofstep model \
             quantize`); on a GPU load the original model folder, or run with --device cpu",
            dir.display()
        )));
    }
    match weights {
        Weights::Auto | Weights::F32 => load_model(dir, device),
        Weights::Bf16 => {
            let mut lm = load_model(dir, device)?;
            lm.set_precision(Precision::Bf16)?;
            Ok(lm)
        }
        Weights::Q8_0 | Weights::Q4_0 | Weights::Q4K => Err(ModelError::Device(format!(
            "--weights {} is a CPU format; on a GPU give --weights bf16 (half precision) or \
             f32, or run with --device cpu",
            weights.name()
        ))),
    }
}

/// Writes tensors as `model.safetensors`, or as shards of at most `max_shard_bytes` with an
/// index, with the names transformers expects.
pub fn write_tensors(
    dir: &Path,
    tensors: &HashMap<String, Tensor>,
    max_shard_bytes: usize,
) -> Result<()> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let size = |n: &String| tensors[n].elem_count() * tensors[n].dtype().size_in_bytes();
    let mut shards: Vec<Vec<&String>> = vec![Vec::new()];
    let mut current = 0;
    for n in names {
        if current > 0 && current + size(n) > max_shard_bytes {
            shards.push(Vec::new());
            current = 0;
        }
        current += size(n);
        shards.last_mut().expect("one shard").push(n);
    }
    let metadata = Some(HashMap::from([("format".to_string(), "pt".to_string())]));
    let count = shards.len();
    let mut weight_map = BTreeMap::new();
    for (i, shard) in shards.iter().enumerate() {
        let file = if count == 1 {
            "model.safetensors".to_string()
        } else {
            format!("model-{:05}-of-{:05}.safetensors", i + 1, count)
        };
        let views: Vec<(String, Tensor)> = shard
            .iter()
            .map(|n| ((*n).clone(), tensors[*n].contiguous()))
            .map(|(n, t)| (n, t.expect("contiguous copy")))
            .collect();
        let bytes = safetensors::serialize(views, metadata.clone())
            .map_err(|e| ModelError::Weights(format!("serializing {file}: {e}")))?;
        write_file(&dir.join(&file), &bytes)?;
        for n in shard {
            weight_map.insert((*n).clone(), file.clone());
        }
    }
    let index = dir.join("model.safetensors.index.json");
    if count > 1 {
        let total: usize = tensors.keys().map(size).sum();
        let v = json!({"metadata": {"total_size": total}, "weight_map": weight_map});
        write_file(
            &index,
            serde_json::to_string_pretty(&v)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        let _ = std::fs::remove_file(dir.join("model.safetensors"));
    } else if index.is_file() {
        std::fs::remove_file(&index).map_err(|e| ModelError::io(&index, e))?;
    }
    Ok(())
}

/// Writes config.json, the weights and generation_config.json of `lm` into `dir` (created if
/// needed). The tokenizer is written separately (see `ProofTokenizer::save`).
pub fn save_model(lm: &CausalLm, dir: &Path, max_shard_bytes: usize) -> Result<()> {
    if let Some(p) = lm.held() {
        return Err(ModelError::Weights(format!(
            "this model is held in {p:?} (loaded with reduced --weights) and has no f32 \
             parameters to save; load it with --weights f32 to save it"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    write_file(&dir.join("config.json"), lm.config().to_json().as_bytes())?;
    write_tensors(dir, &lm.tensors(), max_shard_bytes)?;
    let (bos, eos) = match lm.config() {
        ModelConfig::Llama(c) => (c.bos_token_id.clone(), c.eos_token_id.clone()),
        ModelConfig::GptNeox(c) => (c.bos_token_id.clone(), c.eos_token_id.clone()),
    };
    let mut gen = serde_json::Map::new();
    if let Some(b) = bos.filter(|b| !b.is_null()) {
        gen.insert("bos_token_id".into(), b);
    }
    if let Some(e) = eos.filter(|e| !e.is_null()) {
        gen.insert("eos_token_id".into(), e);
    }
    let text = serde_json::to_string_pretty(&Value::Object(gen)).unwrap_or_default();
    write_file(&dir.join("generation_config.json"), text.as_bytes())
}

/// End-of-sequence ids of a folder: config.json's plus generation_config.json's.
pub fn eos_ids(dir: &Path, config: &ModelConfig) -> Vec<u32> {
    let mut ids = config.eos_ids();
    if let Ok(text) = std::fs::read_to_string(dir.join("generation_config.json")) {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            ids.extend(token_ids(&v.get("eos_token_id").cloned()));
        }
    }
    ids.sort();
    ids.dedup();
    ids
}
