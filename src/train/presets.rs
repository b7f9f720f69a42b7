//! Model configurations for training from scratch: named Llama presets (the sizes the
//! benchmarks use) or a user's config.json, with the vocabulary taken from the tokenizer.

use serde_json::{json, Value};

use crate::model::ModelConfig;

use super::error::TrainError;

/// The presets `--from_scratch` accepts, with (layers, hidden, ffn, heads, tied embeddings).
pub const PRESETS: [(&str, usize, usize, usize, usize, bool); 3] = [
    ("llama-tiny", 2, 64, 256, 4, true),
    ("llama-8m", 4, 256, 1024, 4, false),
    ("llama-25m", 6, 512, 1536, 8, true),
];

/// The config.json of preset `name` for a vocabulary of `vocab_size` whose end token is `eos`.
pub fn preset_config(
    name: &str,
    vocab_size: usize,
    eos: u32,
    max_len: usize,
) -> Result<ModelConfig, TrainError> {
    let Some(&(_, layers, hidden, ffn, heads, tied)) = PRESETS.iter().find(|p| p.0 == name) else {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
        return Err(TrainError::Config(format!(
            "unknown --from_scratch preset `{name}`: use one of {names:?}, or --config_json FILE"
        )));
    };
    let config = json!({
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": max_len.max(512),
        "tie_word_embeddings": tied,
        "initializer_range": 0.02,
        "eos_token_id": eos,
    });
    ModelConfig::from_json(&config.to_string()).map_err(TrainError::from)
}

/// A user's config.json text for from-scratch training, with `vocab_size` set to the
/// tokenizer's and `eos_token_id` to its end token when absent.
pub fn config_from_json(
    text: &str,
    vocab_size: usize,
    eos: u32,
) -> Result<ModelConfig, TrainError> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| TrainError::Config(format!("--config_json is not valid JSON: {e}")))?;
    let map = value.as_object_mut().ok_or_else(|| {
        TrainError::Config("--config_json must hold a JSON object (a config.json)".into())
    })?;
    map.insert("vocab_size".into(), json!(vocab_size));
    map.entry("eos_token_id").or_insert(json!(eos));
    ModelConfig::from_json(&value.to_string()).map_err(TrainError::from)
}
