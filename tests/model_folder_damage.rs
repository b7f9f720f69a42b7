//! A damaged or hand-edited model folder is a clear model error (exit 4 from the CLI), never a
//! panic, an abort on a huge allocation or garbage candidates: config.json's sizes and
//! arithmetic are checked when it is read, tokenizer.json's own padding and truncation are
//! dropped, a tokenizer of another model and non-finite outputs are named (the twenty-second
//! audit's findings F1–F6). The folder mutated is the default model's, copied.

mod common;

use std::path::{Path, PathBuf};

use proofstep::model::{GenerateOptions, Generator, Predictor};

/// A copy of the default model folder in `dir`, with config.json's fields `edit` sets.
fn folder(dir: &Path, edit: &[(&str, serde_json::Value)]) -> PathBuf {
    let from = common::repo_root().join("models/testworld-small");
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ] {
        std::fs::copy(from.join(f), dir.join(f)).unwrap();
    }
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (key, value) in edit {
        config[*key] = value.clone();
    }
    std::fs::write(&path, config.to_string()).unwrap();
    dir.to_path_buf()
}

fn load_error(edit: &[(&str, serde_json::Value)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    match Generator::load(&folder(dir.path(), edit)) {
        Ok(_) => panic!("{edit:?} loaded"),
        Err(e) => e.to_string(),
    }
}

fn generate(dir: &Path) -> Result<Vec<String>, String> {
    let generator = Generator::load(dir).map_err(|e| e.to_string())?;
    let options = GenerateOptions::default();
    let out = generator
        .generate(
            &["[GOAL]n : Nat ⊢ n + 0 = n[PROOFSTEP]".to_string()],
            &options,
        )
        .map_err(|e| e.to_string())?;
    Ok(out[0].iter().map(|c| c.text.clone()).collect())
}

#[test]
fn a_config_no_model_has_is_named_when_it_is_read() {
    use serde_json::json;
    for (edit, words) in [
        (
            ("num_attention_heads", json!(0)),
            "num_attention_heads is 0",
        ),
        (
            ("num_hidden_layers", json!(1_000_000_000_000u64)),
            "num_hidden_layers is 1000000000000",
        ),
        (("num_hidden_layers", json!(0)), "num_hidden_layers is 0"),
        (
            ("num_attention_heads", json!(3)),
            "not a multiple of num_attention_heads 3",
        ),
        (("rope_theta", json!(0.0)), "rope_theta 0"),
        (("rms_norm_eps", json!(-1.0)), "rms_norm_eps -1"),
        (("hidden_act", json!("banana")), "hidden_act `banana`"),
        (("rope_scaling", json!("yes")), "rope_scaling is \"yes\""),
        (
            (
                "rope_scaling",
                json!({"rope_type": "linear", "factor": 0.0}),
            ),
            "not > 0",
        ),
    ] {
        let error = load_error(std::slice::from_ref(&edit));
        assert!(error.contains(words), "{edit:?}: {error}");
        assert!(error.contains("config.json"), "{edit:?}: {error}");
    }
}

/// config.json with fewer layers than the weights: the model would run a part of them.
#[test]
fn weights_with_layers_the_config_lacks_are_refused() {
    let error = load_error(&[("num_hidden_layers", serde_json::json!(2))]);
    assert!(error.contains("num_hidden_layers (2)"), "{error}");
}

/// tokenizer.json padding every text to a fixed length (1e9 tokens: an abort on allocation)
/// or cutting it: neither applies, as in transformers' fast tokenizers.
#[test]
fn the_tokenizers_own_padding_and_truncation_do_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = folder(dir.path(), &[]);
    let plain = generate(&path).unwrap();
    let file = path.join("tokenizer.json");
    let mut tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tokenizer["padding"] = serde_json::json!({
        "strategy": {"Fixed": 1_000_000_000u64}, "direction": "Right", "pad_to_multiple_of": null,
        "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"
    });
    tokenizer["truncation"] = serde_json::json!({
        "direction": "Right", "max_length": 1, "strategy": "LongestFirst", "stride": 0
    });
    std::fs::write(&file, tokenizer.to_string()).unwrap();
    assert_eq!(generate(&path).unwrap(), plain);
}

/// A tokenizer whose ids run past config.json's vocabulary (another model's).
#[test]
fn a_tokenizer_of_another_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = folder(dir.path(), &[]);
    let file = path.join("tokenizer.json");
    let mut tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let vocab = tokenizer["model"]["vocab"].as_object_mut().unwrap();
    for id in vocab.values_mut() {
        *id = serde_json::json!(id.as_u64().unwrap() + 5000);
    }
    std::fs::write(&file, tokenizer.to_string()).unwrap();
    let error = generate(&path).unwrap_err();
    assert!(error.contains("not this model's tokenizer"), "{error}");
}

/// Weights that compute NaN: no candidate with a NaN score, an error.
#[test]
fn non_finite_outputs_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = folder(dir.path(), &[]);
    let file = path.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&file, &candle_core::Device::Cpu).unwrap();
    let name = "model.norm.weight";
    let norm = &tensors[name];
    let nan = (norm * f64::NAN).unwrap();
    tensors.insert(name.to_string(), nan);
    candle_core::safetensors::save(&tensors, &file).unwrap();
    let error = generate(&path).unwrap_err();
    assert!(error.contains("not finite numbers"), "{error}");
}

/// A tensor stored in a type no model weight has (I32) is named as such, once, not reported as
/// weights that "do not match config.json" (F7).
#[test]
fn weights_of_an_integer_type_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = folder(dir.path(), &[]).join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    header["model.embed_tokens.weight"]["dtype"] = "I32".into();
    let header = header.to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&bytes[8 + len..]);
    std::fs::write(&path, out).unwrap();
    let error = match Generator::load(dir.path()) {
        Ok(_) => panic!("I32 weights loaded"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("stored as I32"), "{error}");
    assert!(!error.contains("config.json"), "{error}");
    assert_eq!(error.matches("weights:").count(), 1, "{error}");
}
