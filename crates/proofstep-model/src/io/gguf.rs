//! GGUF → Hugging Face model folder (Llama architecture): dequantizes every tensor to f32
//! (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the k-quants candle reads), maps llama.cpp
//! tensor names back to transformers' names, undoes the Q/K row permutation llama.cpp's
//! converter applies for its rotary layout, rebuilds config.json from the metadata and
//! tokenizer.json from the GGUF vocabulary and merges (byte-level BPE).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{Device, Tensor};
use serde_json::json;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, Tokenizer};

use crate::arch::causal_lm::CausalLm;
use crate::arch::config::{LlamaConfig, ModelConfig};
use crate::error::{ModelError, Result};
use crate::io::folder::{save_model, DEFAULT_SHARD_BYTES};
use crate::io::tokenizer::ProofTokenizer;

/// What an import produced, for the CLI to report.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// Tensors converted.
    pub tensors: usize,
    /// Scalar parameters.
    pub params: usize,
    /// GGUF storage types seen, with how many tensors had each.
    pub dtypes: Vec<(String, usize)>,
    /// Vocabulary size of the rebuilt tokenizer.
    pub vocab: usize,
}

fn meta<'a>(c: &'a Content, key: &str) -> Result<&'a Value> {
    c.metadata.get(key).ok_or_else(|| {
        ModelError::Gguf(format!(
            "metadata `{key}` is missing; is this a llama GGUF?"
        ))
    })
}

fn meta_usize(c: &Content, key: &str) -> Result<usize> {
    let v = meta(c, key)?;
    let n = match v.to_u64().or_else(|_| v.to_u32().map(u64::from)) {
        Ok(n) => n,
        Err(_) => {
            let x = v.to_i32().map_err(|_| damaged_value(key, v, "a count"))?;
            u64::try_from(x).map_err(|_| {
                ModelError::Gguf(format!(
                    "metadata `{key}` is {x}, not a count: the GGUF's metadata is damaged"
                ))
            })?
        }
    };
    usize::try_from(n)
        .map_err(|_| ModelError::Gguf(format!("metadata `{key}` is {n}, past any count")))
}

/// A value the GGUF may leave out (`None` then) but not damage: one that is there and cannot
/// be read as `read` reads it (`context_length = -1`, a string epsilon) is an error, never a
/// default in silence.
fn optional<T>(
    c: &Content,
    key: &str,
    read: impl Fn(&Content, &str) -> Result<T>,
) -> Result<Option<T>> {
    if c.metadata.contains_key(key) {
        read(c, key).map(Some)
    } else {
        Ok(None)
    }
}

/// The error of a metadata value that is not what its key holds.
fn damaged_value(key: &str, value: &Value, what: &str) -> ModelError {
    ModelError::Gguf(format!(
        "metadata `{key}` is {value:?}, not {what}: the GGUF's metadata is damaged"
    ))
}

/// An f32 metadata value widened to the f64 with the same shortest decimal (1e-5, not
/// 9.99999974e-6), as transformers' configs write it.
fn meta_f64(c: &Content, key: &str) -> Result<f64> {
    let x = meta_f32(c, key)?;
    Ok(x.to_string().parse().unwrap_or(f64::from(x)))
}

fn meta_f32(c: &Content, key: &str) -> Result<f32> {
    let v = meta(c, key)?;
    v.to_f32()
        .ok()
        .or_else(|| v.to_f64().ok().map(|x| x as f32))
        .ok_or_else(|| damaged_value(key, v, "a number"))
}

fn meta_u32(c: &Content, key: &str) -> Result<u32> {
    let v = meta(c, key)?;
    v.to_u32()
        .ok()
        .or_else(|| v.to_i32().ok().and_then(|x| u32::try_from(x).ok()))
        .ok_or_else(|| damaged_value(key, v, "a token id"))
}

fn meta_strings(c: &Content, key: &str) -> Result<Vec<String>> {
    let items = meta(c, key)?
        .to_vec()
        .map_err(|e| ModelError::Gguf(format!("`{key}`: {e}")))?;
    items
        .iter()
        .map(|v| {
            v.to_string()
                .cloned()
                .map_err(|e| ModelError::Gguf(format!("`{key}`: {e}")))
        })
        .collect()
}

/// Inverse of llama.cpp's `permute(w, n_head)`: rows of each head go from interleaved
/// (pairs) back to transformers' rotate-half layout (first half, second half).
pub fn unpermute_rows(w: &Tensor, heads: usize) -> Result<Tensor> {
    let dims = w.dims().to_vec();
    let rows = dims[0];
    let half = rows / heads / 2;
    let t = match dims.len() {
        1 => w
            .reshape((heads, half, 2))?
            .transpose(1, 2)?
            .contiguous()?
            .reshape(rows)?,
        _ => {
            let cols = dims[1];
            w.reshape((heads, half, 2, cols))?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((rows, cols))?
        }
    };
    Ok(t)
}

/// llama.cpp's `permute(w, n_head)` (what its converter does to q/k rows); used by tests and
/// by anyone writing a GGUF llama.cpp can read.
pub fn permute_rows(w: &Tensor, heads: usize) -> Result<Tensor> {
    let dims = w.dims().to_vec();
    let rows = dims[0];
    let half = rows / heads / 2;
    let t = match dims.len() {
        1 => w
            .reshape((heads, 2, half))?
            .transpose(1, 2)?
            .contiguous()?
            .reshape(rows)?,
        _ => {
            let cols = dims[1];
            w.reshape((heads, 2, half, cols))?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((rows, cols))?
        }
    };
    Ok(t)
}

/// transformers' name of a llama.cpp tensor, or None for tensors that are not parameters.
pub fn hf_name(gguf: &str) -> Option<String> {
    let fixed = match gguf {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(n) = fixed {
        return Some(n.to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, tail) = rest.split_once('.')?;
    let (part, kind) = tail.rsplit_once('.')?;
    let hf = match part {
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf}.{kind}"))
}

/// The Llama configuration described by GGUF metadata.
fn llama_config(c: &Content, vocab: usize, tied: bool) -> Result<LlamaConfig> {
    let heads = meta_usize(c, "llama.attention.head_count")?;
    let hidden = meta_usize(c, "llama.embedding_length")?;
    let key_length = optional(c, "llama.attention.key_length", meta_usize)?;
    if heads == 0 || (key_length.is_none() && hidden % heads != 0) {
        return Err(ModelError::Gguf(format!(
            "llama.attention.head_count {heads} does not divide llama.embedding_length {hidden}: \
             the GGUF's metadata is damaged"
        )));
    }
    let head_dim = key_length.filter(|&d| d != hidden / heads);
    let scaling = match c
        .metadata
        .get("llama.rope.scaling.type")
        .and_then(|v| v.to_string().ok())
    {
        Some(t) if t == "linear" => Some(json!({
            "type": "linear",
            "factor": optional(c, "llama.rope.scaling.factor", meta_f32)?.unwrap_or(1.0),
        })),
        Some(t) if t != "none" => {
            return Err(ModelError::Gguf(format!(
                "rope scaling `{t}` in GGUF is not supported"
            )))
        }
        _ => None,
    };
    if c.tensor_infos.contains_key("rope_freqs.weight") {
        return Err(ModelError::Gguf(
            "this GGUF carries llama3 rope frequencies (rope_freqs.weight), which the importer \
             does not read yet; convert the original Hugging Face checkpoint instead"
                .into(),
        ));
    }
    let mut extra = serde_json::Map::new();
    extra.insert("hidden_act".into(), json!("silu"));
    Ok(LlamaConfig {
        vocab_size: vocab,
        hidden_size: hidden,
        intermediate_size: meta_usize(c, "llama.feed_forward_length")?,
        num_hidden_layers: meta_usize(c, "llama.block_count")?,
        num_attention_heads: heads,
        num_key_value_heads: Some(
            optional(c, "llama.attention.head_count_kv", meta_usize)?.unwrap_or(heads),
        ),
        head_dim,
        rms_norm_eps: optional(c, "llama.attention.layer_norm_rms_epsilon", meta_f64)?
            .unwrap_or(1e-5),
        rope_theta: Some(optional(c, "llama.rope.freq_base", meta_f64)?.unwrap_or(10000.0)),
        rope_scaling: scaling,
        max_position_embeddings: optional(c, "llama.context_length", meta_usize)?.unwrap_or(2048),
        tie_word_embeddings: tied,
        attention_bias: c.tensor_infos.contains_key("blk.0.attn_q.bias"),
        mlp_bias: false,
        bos_token_id: optional(c, "tokenizer.ggml.bos_token_id", meta_u32)?.map(|x| json!(x)),
        eos_token_id: optional(c, "tokenizer.ggml.eos_token_id", meta_u32)?.map(|x| json!(x)),
        extra,
    })
}

/// Rebuilds the byte-level BPE tokenizer stored in GGUF metadata (`tokenizer.ggml.*`).
pub fn gguf_tokenizer(c: &Content) -> Result<Tokenizer> {
    let model = meta(c, "tokenizer.ggml.model")?
        .to_string()
        .map_err(|e| ModelError::Gguf(e.to_string()))?;
    if model != "gpt2" {
        return Err(ModelError::Gguf(format!(
            "tokenizer model `{model}` is not supported (only byte-level BPE, `gpt2`); \
             copy the original tokenizer.json into the output folder instead"
        )));
    }
    let tokens = meta_strings(c, "tokenizer.ggml.tokens")?;
    let merges: Vec<(String, String)> = meta_strings(c, "tokenizer.ggml.merges")?
        .into_iter()
        .filter_map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    let types: Vec<i32> = match c
        .metadata
        .get("tokenizer.ggml.token_type")
        .and_then(|v| v.to_vec().ok())
    {
        Some(v) => v.iter().map(|t| t.to_i32().unwrap_or(1)).collect(),
        None => vec![1; tokens.len()],
    };
    let vocab: tokenizers::models::bpe::Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| ModelError::Gguf(format!("rebuilding BPE: {e}")))?;
    let pre = c
        .metadata
        .get("tokenizer.ggml.pre")
        .and_then(|v| v.to_string().ok().cloned())
        .unwrap_or_else(|| "default".into());
    let byte_level = ByteLevel::new(false, true, true);
    let pre_tokenizer: PreTokenizerWrapper = match pre.as_str() {
        "smollm" | "starcoder" | "refact" => Sequence::new(vec![
            PreTokenizerWrapper::Digits(Digits::new(true)),
            PreTokenizerWrapper::ByteLevel(byte_level),
        ])
        .into(),
        "gpt-2" | "default" | "gpt2" => byte_level.into(),
        other => {
            tracing::warn!(
                pre = other,
                "unknown GGUF pre-tokenizer; using plain byte-level (GPT-2)"
            );
            byte_level.into()
        }
    };
    let mut tok = Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(pre_tokenizer));
    tok.with_decoder(Some(ByteLevel::default()));
    tok.with_post_processor(Some(ByteLevel::new(true, false, true)));
    let mut special = Vec::new();
    let mut user = Vec::new();
    for (t, ty) in tokens.iter().zip(&types) {
        match ty {
            3 => special.push(AddedToken::from(t.clone(), true).normalized(false)),
            4 => user.push(AddedToken::from(t.clone(), false).normalized(false)),
            _ => {}
        }
    }
    tok.add_special_tokens(special)
        .map_err(|e| ModelError::Gguf(e.to_string()))?;
    tok.add_tokens(user)
        .map_err(|e| ModelError::Gguf(e.to_string()))?;
    Ok(tok)
}

/// Refuses a tensor whose dimensions multiply past what memory can hold (candle's reader
/// would wrap the count around and slice out of bounds).
fn check_tensor_shapes(c: &Content) -> Result<()> {
    for (name, info) in &c.tensor_infos {
        let count = info
            .shape
            .dims()
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(*d))
            .filter(|n| *n <= 1 << 40);
        if count.is_none() {
            return Err(ModelError::Gguf(format!(
                "tensor {name} has dimensions {:?}, more elements than any model holds: the \
                 GGUF is damaged",
                info.shape.dims()
            )));
        }
    }
    Ok(())
}

/// Runs `f`, catching a panic in it without the panic's message: the process's panic hook
/// is wrapped once so that it stays silent on this thread while `f` runs, and reports every
/// other panic as before (swapping the hook per call would race with other threads).
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static WRAP: std::sync::Once = std::sync::Once::new();
    WRAP.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result
}

/// Converts `input` (a llama GGUF) into a Hugging Face model folder `out`.
pub fn import_gguf(input: &Path, out: &Path) -> Result<ImportSummary> {
    let mut file = File::open(input).map_err(|e| ModelError::io(input, e))?;
    let damaged = |e: String| {
        ModelError::Gguf(format!(
            "{}: not a readable GGUF file: {e}",
            input.display()
        ))
    };
    // candle's reader panics on some damaged headers (an alignment of 0): caught, and named.
    let read = quietly(|| Content::read(&mut file));
    let content = match read {
        Ok(read) => read.map_err(|e| damaged(e.to_string()))?,
        Err(_) => {
            return Err(damaged(
                "its header is damaged (e.g. an alignment of 0)".into(),
            ))
        }
    };
    let arch = meta(&content, "general.architecture")?
        .to_string()
        .map_err(|e| ModelError::Gguf(e.to_string()))?;
    if arch != "llama" {
        return Err(ModelError::Gguf(format!(
            "architecture `{arch}` is not supported by the importer (llama only)"
        )));
    }
    let tokenizer = gguf_tokenizer(&content)?;
    let tokens = meta_strings(&content, "tokenizer.ggml.tokens")?;
    let vocab = tokens.len();
    let tied = !content.tensor_infos.contains_key("output.weight");
    let config = llama_config(&content, vocab, tied)?;
    // Every metadata value is read before anything is written: a damaged one leaves no folder.
    let eos = optional(&content, "tokenizer.ggml.eos_token_id", meta_u32)?;
    let mut special = serde_json::Map::new();
    for kind in ["bos", "eos", "unknown", "padding"] {
        let key = format!("tokenizer.ggml.{kind}_token_id");
        let name =
            optional(&content, &key, meta_u32)?.and_then(|id| tokens.get(id as usize).cloned());
        special.insert(kind.to_string(), json!(name));
    }
    ModelConfig::Llama(config.clone())
        .validate()
        .map_err(|e| ModelError::Gguf(format!("{}: {e}", input.display())))?;
    check_tensor_shapes(&content)?;
    let (heads, kv_heads) = (config.num_attention_heads, config.kv_heads());
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = HashMap::new();
    let mut dtypes: HashMap<String, usize> = HashMap::new();
    for name in names {
        let Some(hf) = hf_name(name) else {
            tracing::warn!(tensor = %name, "GGUF tensor has no transformers counterpart; skipped");
            continue;
        };
        let q = content
            .tensor(&mut file, name, &Device::Cpu)
            .map_err(|e| ModelError::Gguf(format!("reading {name}: {e}")))?;
        *dtypes.entry(format!("{:?}", q.dtype())).or_default() += 1;
        let mut t = q
            .dequantize(&Device::Cpu)
            .map_err(|e| ModelError::Gguf(format!("dequantizing {name}: {e}")))?;
        if name.contains(".attn_q.") {
            t = unpermute_rows(&t, heads)?;
        } else if name.contains(".attn_k.") {
            t = unpermute_rows(&t, kv_heads)?;
        }
        tracing::debug!(gguf = %name, hf = %hf, shape = ?t.dims(), "converted");
        tensors.insert(hf, t);
    }
    let count = tensors.len();
    let context = config.max_position_embeddings;
    let lm = CausalLm::from_tensors(ModelConfig::Llama(config), tensors, &Device::Cpu)?;
    save_model(&lm, out, DEFAULT_SHARD_BYTES)?;
    ProofTokenizer::new(tokenizer, eos).save(&out.join("tokenizer.json"))?;
    let tok_config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": special["bos"],
        "eos_token": special["eos"],
        "unk_token": special["unknown"],
        "pad_token": special["padding"],
        "clean_up_tokenization_spaces": false,
        "model_max_length": context,
    });
    let config_path = out.join("tokenizer_config.json");
    let text = serde_json::to_string_pretty(&tok_config).unwrap_or_default();
    proofstep_core::fsutil::write_atomic(&config_path, text.as_bytes())
        .map_err(|e| ModelError::io(&config_path, e))?;
    let mut dtypes: Vec<(String, usize)> = dtypes.into_iter().collect();
    dtypes.sort();
    Ok(ImportSummary {
        tensors: count,
        params: lm.num_params(),
        dtypes,
        vocab,
    })
}
