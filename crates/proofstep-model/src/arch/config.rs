//! Model configuration read from (and written to) a Hugging Face `config.json`, dispatched on
//! `model_type` (`llama` or `gpt_neox`). Unknown fields are kept so a round trip loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ModelError;

/// RoPE frequency scaling (`rope_scaling` / `rope_parameters` in config.json).
#[derive(Clone, Debug, PartialEq)]
pub enum RopeScaling {
    /// Positions divided by `factor` (linear interpolation).
    Linear {
        /// How many times longer the context becomes.
        factor: f32,
    },
    /// Llama 3.x frequency-dependent scaling.
    Llama3 {
        /// How many times longer the context becomes.
        factor: f32,
        /// Wavelengths above original/low_freq_factor are scaled fully.
        low_freq_factor: f32,
        /// Wavelengths below original/high_freq_factor are left alone.
        high_freq_factor: f32,
        /// The context length the model was trained with.
        original_max_position_embeddings: usize,
    },
}

/// Configuration of a Llama-family model (Llama, SmolLM2, TinyLlama, ...).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LlamaConfig {
    /// Rows of the token embedding (at least the tokenizer's vocabulary).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP's hidden layer.
    pub intermediate_size: usize,
    /// Number of transformer blocks.
    pub num_hidden_layers: usize,
    /// Query heads per attention layer.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); absent means one per query head.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Width of one head; absent means hidden_size / num_attention_heads.
    #[serde(default)]
    pub head_dim: Option<usize>,
    /// Epsilon of RMSNorm.
    #[serde(default = "default_rms_eps")]
    pub rms_norm_eps: f64,
    /// RoPE base frequency (10000 when absent).
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// RoPE scaling as written in config.json (see `RopeScaling`).
    #[serde(default)]
    pub rope_scaling: Option<Value>,
    /// Longest sequence the model is meant for.
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    /// Whether the LM head reuses the token embedding.
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Whether the attention projections have biases.
    #[serde(default)]
    pub attention_bias: bool,
    /// Whether the MLP projections have biases.
    #[serde(default)]
    pub mlp_bias: bool,
    /// Beginning-of-sequence token id(s), as in config.json.
    #[serde(default)]
    pub bos_token_id: Option<Value>,
    /// End-of-sequence token id(s), as in config.json: generation stops at any of them.
    #[serde(default)]
    pub eos_token_id: Option<Value>,
    /// Everything else in config.json, written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Configuration of a GPT-NeoX model (Pythia, the seed's family).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GptNeoxConfig {
    /// Rows of the token embedding (at least the tokenizer's vocabulary).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP's hidden layer.
    pub intermediate_size: usize,
    /// Number of transformer blocks.
    pub num_hidden_layers: usize,
    /// Query heads per attention layer.
    pub num_attention_heads: usize,
    /// The MLP activation (`gelu`, `gelu_new`, `relu`, ...).
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// Fraction of each head's dimensions that get rotary embeddings (partial rotary).
    #[serde(default)]
    pub rotary_pct: Option<f64>,
    /// RoPE base frequency (10000 when absent).
    #[serde(default)]
    pub rotary_emb_base: Option<f64>,
    /// Longest sequence the model is meant for.
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    /// Epsilon of LayerNorm.
    #[serde(default = "default_ln_eps")]
    pub layer_norm_eps: f64,
    /// Attention and MLP read the same input and add to the residual together (Pythia).
    #[serde(default = "default_true")]
    pub use_parallel_residual: bool,
    /// Whether the LM head reuses the token embedding.
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Whether the attention projections have biases.
    #[serde(default = "default_true")]
    pub attention_bias: bool,
    /// Beginning-of-sequence token id(s), as in config.json.
    #[serde(default)]
    pub bos_token_id: Option<Value>,
    /// End-of-sequence token id(s), as in config.json: generation stops at any of them.
    #[serde(default)]
    pub eos_token_id: Option<Value>,
    /// Everything else in config.json, written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Largest vocabulary `validate` accepts (real models: up to a few hundred thousand).
const MAX_VOCAB: usize = 1 << 24;
/// Largest width (hidden, intermediate, head) `validate` accepts.
const MAX_WIDTH: usize = 1 << 20;
/// Most transformer blocks `validate` accepts (real models: up to a few hundred).
const MAX_LAYERS: usize = 4096;
/// Most attention heads `validate` accepts.
const MAX_HEADS: usize = 4096;
/// Longest context `validate` accepts (real models: up to about ten million tokens).
const MAX_CONTEXT: usize = 1 << 24;

fn default_rms_eps() -> f64 {
    1e-6
}
fn default_ln_eps() -> f64 {
    1e-5
}
fn default_max_pos() -> usize {
    2048
}
fn default_true() -> bool {
    true
}
fn default_hidden_act() -> String {
    "gelu".to_string()
}

/// The architecture of a model folder, with its configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelConfig {
    /// `model_type: "llama"` (Llama, SmolLM2, TinyLlama, ...).
    Llama(LlamaConfig),
    /// `model_type: "gpt_neox"` (Pythia).
    GptNeox(GptNeoxConfig),
}

/// Reads a number from `rope_parameters` (transformers 5) when the legacy field is absent.
fn rope_param(extra: &Map<String, Value>, key: &str) -> Option<f64> {
    extra.get("rope_parameters")?.get(key)?.as_f64()
}

/// The ids in an `eos_token_id` field, which may be a number, a list or absent.
pub fn token_ids(v: &Option<Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_u64())
            .map(|x| x as u32)
            .collect(),
        _ => Vec::new(),
    }
}

impl LlamaConfig {
    /// Query heads per key/value head (grouped-query attention).
    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }
    /// Size of one attention head.
    pub fn head_size(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }
    /// RoPE base frequency.
    pub fn theta(&self) -> f64 {
        self.rope_theta
            .or_else(|| rope_param(&self.extra, "rope_theta"))
            .unwrap_or(10000.0)
    }
    /// RoPE scaling, from `rope_scaling` or transformers 5's `rope_parameters`.
    pub fn scaling(&self) -> Result<Option<RopeScaling>, ModelError> {
        let v = match (&self.rope_scaling, self.extra.get("rope_parameters")) {
            (Some(v), _) if !v.is_null() => v,
            (_, Some(v)) if !v.is_null() => v,
            _ => return Ok(None),
        };
        if !v.is_object() {
            return Err(ModelError::Config(format!(
                "config.json: rope_scaling is {v}, not an object with a `rope_type`; \
                 fix config.json or use the model's own"
            )));
        }
        let kind = v
            .get("rope_type")
            .or_else(|| v.get("type"))
            .and_then(|t| t.as_str());
        let num = |k: &str| v.get(k).and_then(|x| x.as_f64());
        match kind {
            None | Some("default") => Ok(None),
            Some("linear") => Ok(Some(RopeScaling::Linear {
                factor: num("factor").unwrap_or(1.0) as f32,
            })),
            Some("llama3") => Ok(Some(RopeScaling::Llama3 {
                factor: num("factor").unwrap_or(8.0) as f32,
                low_freq_factor: num("low_freq_factor").unwrap_or(1.0) as f32,
                high_freq_factor: num("high_freq_factor").unwrap_or(4.0) as f32,
                original_max_position_embeddings: num("original_max_position_embeddings")
                    .unwrap_or(8192.0) as usize,
            })),
            Some(other) => Err(ModelError::Config(format!(
                "rope scaling type `{other}` is not supported (supported: linear, llama3); \
                 remove `rope_scaling` from config.json or use a model without it"
            ))),
        }
    }
}

impl GptNeoxConfig {
    /// Size of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
    /// How many leading dimensions of each head are rotated.
    pub fn rotary_dims(&self) -> usize {
        let pct = self
            .rotary_pct
            .or_else(|| rope_param(&self.extra, "partial_rotary_factor"))
            .or_else(|| {
                self.extra
                    .get("partial_rotary_factor")
                    .and_then(|v| v.as_f64())
            })
            .unwrap_or(0.25);
        (self.head_size() as f64 * pct) as usize
    }
    /// RoPE base frequency.
    pub fn theta(&self) -> f64 {
        self.rotary_emb_base
            .or_else(|| self.extra.get("rope_theta").and_then(|v| v.as_f64()))
            .or_else(|| rope_param(&self.extra, "rope_theta"))
            .unwrap_or(10000.0)
    }
}

impl ModelConfig {
    /// Parses config.json text, choosing the architecture by `model_type`.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ModelError::Config(format!("config.json is not valid JSON: {e}")))?;
        let kind = value
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let bad = |e: serde_json::Error| ModelError::Config(format!("config.json ({kind}): {e}"));
        let mut value = value;
        if let Value::Object(m) = &mut value {
            // Written back by `to_json`; not part of the hyper-parameters.
            for key in ["model_type", "architectures", "torch_dtype", "dtype"] {
                m.remove(key);
            }
        }
        let config = match kind.as_str() {
            "llama" => ModelConfig::Llama(serde_json::from_value(value).map_err(bad)?),
            "gpt_neox" => ModelConfig::GptNeox(serde_json::from_value(value).map_err(bad)?),
            other => {
                return Err(ModelError::Config(format!(
                "model_type `{other}` is not supported: use a `llama` or `gpt_neox` model folder"
            )))
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// Refuses hyper-parameters no model has (a size of 0 or past any real model's, a head
    /// count that does not divide the width, a RoPE base, epsilon or scaling that makes the
    /// arithmetic NaN, an activation the model does not implement): a damaged or hand-edited
    /// config.json is named here instead of failing inside the network or its allocation.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |what: String| {
            Err(ModelError::Config(format!(
                "config.json: {what}; fix config.json or use the model's own"
            )))
        };
        let mut sizes = vec![
            ("vocab_size", self.vocab_size(), MAX_VOCAB),
            ("num_hidden_layers", self.num_layers(), MAX_LAYERS),
            (
                "max_position_embeddings",
                self.context_length(),
                MAX_CONTEXT,
            ),
        ];
        let (hidden, intermediate, heads) = match self {
            ModelConfig::Llama(c) => (c.hidden_size, c.intermediate_size, c.num_attention_heads),
            ModelConfig::GptNeox(c) => (c.hidden_size, c.intermediate_size, c.num_attention_heads),
        };
        sizes.extend([
            ("hidden_size", hidden, MAX_WIDTH),
            ("intermediate_size", intermediate, MAX_WIDTH),
            ("num_attention_heads", heads, MAX_HEADS),
        ]);
        if let ModelConfig::Llama(c) = self {
            sizes.push(("num_key_value_heads", c.kv_heads(), MAX_HEADS));
            sizes.push(("head_dim", c.head_dim.unwrap_or(1), MAX_WIDTH));
        }
        for (name, value, max) in sizes {
            if value == 0 || value > max {
                return bad(format!("{name} is {value}, not between 1 and {max}"));
            }
        }
        // A head's width is hidden_size / num_attention_heads unless llama's head_dim says it.
        let head_dim_given = matches!(self, ModelConfig::Llama(c) if c.head_dim.is_some());
        if !head_dim_given && hidden % heads != 0 {
            return bad(format!(
                "hidden_size {hidden} is not a multiple of num_attention_heads {heads}"
            ));
        }
        match self {
            ModelConfig::Llama(c) => {
                if c.num_attention_heads % c.kv_heads() != 0 {
                    return bad(format!(
                        "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                        c.num_attention_heads,
                        c.kv_heads()
                    ));
                }
                if !(c.rms_norm_eps.is_finite() && c.rms_norm_eps >= 0.0) {
                    return bad(format!(
                        "rms_norm_eps {} is not a finite number ≥ 0",
                        c.rms_norm_eps
                    ));
                }
                let theta = c.theta();
                if !(theta.is_finite() && theta > 0.0) {
                    return bad(format!("rope_theta {theta} is not a finite number > 0"));
                }
                let act = c.extra.get("hidden_act").and_then(Value::as_str);
                if !matches!(act, None | Some("silu" | "swish")) {
                    return bad(format!(
                        "hidden_act `{}` is not supported for llama (supported: silu)",
                        act.unwrap_or_default()
                    ));
                }
                let factors = match c.scaling()? {
                    None => vec![],
                    Some(RopeScaling::Linear { factor }) => vec![factor],
                    Some(RopeScaling::Llama3 {
                        factor,
                        low_freq_factor,
                        high_freq_factor,
                        original_max_position_embeddings,
                    }) => {
                        if original_max_position_embeddings == 0
                            || low_freq_factor >= high_freq_factor
                        {
                            return bad(
                                "rope_scaling (llama3) needs original_max_position_embeddings \
                                 ≥ 1 and low_freq_factor < high_freq_factor"
                                    .into(),
                            );
                        }
                        vec![factor, low_freq_factor, high_freq_factor]
                    }
                };
                if factors.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
                    return bad(format!(
                        "rope_scaling has a factor that is not > 0: {factors:?}"
                    ));
                }
            }
            ModelConfig::GptNeox(c) => {
                if !(c.layer_norm_eps.is_finite() && c.layer_norm_eps >= 0.0) {
                    return bad(format!(
                        "layer_norm_eps {} is not a finite number ≥ 0",
                        c.layer_norm_eps
                    ));
                }
                let theta = c.theta();
                if !(theta.is_finite() && theta > 0.0) {
                    return bad(format!(
                        "rotary_emb_base {theta} is not a finite number > 0"
                    ));
                }
                if let Some(pct) = c.rotary_pct {
                    if !(0.0..=1.0).contains(&pct) {
                        return bad(format!("rotary_pct {pct} is not between 0 and 1"));
                    }
                }
            }
        }
        Ok(())
    }

    /// config.json text that transformers can load (model_type, architectures, dtype set).
    pub fn to_json(&self) -> String {
        let (value, kind, arch) = match self {
            ModelConfig::Llama(c) => (serde_json::to_value(c), "llama", "LlamaForCausalLM"),
            ModelConfig::GptNeox(c) => (serde_json::to_value(c), "gpt_neox", "GPTNeoXForCausalLM"),
        };
        let mut map = match value {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        map.retain(|_, x| !x.is_null());
        map.insert("model_type".into(), Value::from(kind));
        map.insert("architectures".into(), Value::from(vec![arch]));
        map.insert("torch_dtype".into(), Value::from("float32"));
        serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default()
    }

    /// The longest sequence the model is meant for (`max_position_embeddings`).
    pub fn context_length(&self) -> usize {
        match self {
            ModelConfig::Llama(c) => c.max_position_embeddings,
            ModelConfig::GptNeox(c) => c.max_position_embeddings,
        }
    }

    /// Vocabulary size (rows of the embedding).
    pub fn vocab_size(&self) -> usize {
        match self {
            ModelConfig::Llama(c) => c.vocab_size,
            ModelConfig::GptNeox(c) => c.vocab_size,
        }
    }

    /// Number of transformer blocks.
    pub fn num_layers(&self) -> usize {
        match self {
            ModelConfig::Llama(c) => c.num_hidden_layers,
            ModelConfig::GptNeox(c) => c.num_hidden_layers,
        }
    }

    /// End-of-sequence ids named in the config.
    pub fn eos_ids(&self) -> Vec<u32> {
        match self {
            ModelConfig::Llama(c) => token_ids(&c.eos_token_id),
            ModelConfig::GptNeox(c) => token_ids(&c.eos_token_id),
        }
    }
}
