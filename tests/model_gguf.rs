//! GGUF import: a llama written by the test to GGUF the way llama.cpp's converter does
//! (llama.cpp tensor names, q/k rows permuted, F32/F16/Q8_0/Q4_0/Q4_1 tensors, vocabulary and
//! merges in the metadata) imports back to the same weights and logits, and the rebuilt
//! tokenizer encodes like the original tokenizer.json.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use proofstep::model::io::gguf::permute_rows;
use proofstep::model::{import_gguf, load_model, CausalLm, ModelConfig, ProofTokenizer};

const HEADS: usize = 4;
const KV_HEADS: usize = 2;

fn fixture_tokenizer() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tokenizers/gpt-neox-20b-tokenizer.json")
}

/// The fixture's vocabulary in id order, token types (1 normal, 3 control, 4 user-defined)
/// and merges, as llama.cpp's converter stores them.
fn vocabulary() -> (Vec<String>, Vec<i32>, Vec<String>) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_tokenizer()).unwrap()).unwrap();
    let mut by_id: HashMap<u64, (String, i32)> = HashMap::new();
    for (tok, id) in v["model"]["vocab"].as_object().unwrap() {
        by_id.insert(id.as_u64().unwrap(), (tok.clone(), 1));
    }
    for a in v["added_tokens"].as_array().unwrap() {
        let ty = if a["special"].as_bool().unwrap() {
            3
        } else {
            4
        };
        by_id.insert(
            a["id"].as_u64().unwrap(),
            (a["content"].as_str().unwrap().to_string(), ty),
        );
    }
    let n = *by_id.keys().max().unwrap() as usize + 1;
    let (tokens, types) = (0..n as u64)
        .map(|i| {
            by_id
                .remove(&i)
                .unwrap_or_else(|| (format!("[UNUSED{i}]"), 5))
        })
        .unzip();
    let merges = v["model"]["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    (tokens, types, merges)
}

fn tiny_llama(vocab: usize) -> CausalLm {
    let cfg = serde_json::json!({
        "model_type": "llama", "vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 256,
        "tie_word_embeddings": false, "eos_token_id": 0, "bos_token_id": 0
    });
    let lm = CausalLm::random_seeded(
        ModelConfig::from_json(&cfg.to_string()).unwrap(),
        &Device::Cpu,
        7,
    )
    .unwrap();
    for var in lm.varmap().all_vars() {
        var.set(&(var.as_tensor() * 10.0).unwrap()).unwrap();
    }
    lm
}

/// llama.cpp's name for a transformers tensor name.
fn gguf_name(hf: &str) -> String {
    match hf {
        "model.embed_tokens.weight" => return "token_embd.weight".into(),
        "model.norm.weight" => return "output_norm.weight".into(),
        "lm_head.weight" => return "output.weight".into(),
        _ => {}
    }
    let rest = hf.strip_prefix("model.layers.").unwrap();
    let (layer, tail) = rest.split_once('.').unwrap();
    let part = match tail {
        "input_layernorm.weight" => "attn_norm",
        "post_attention_layernorm.weight" => "ffn_norm",
        "self_attn.q_proj.weight" => "attn_q",
        "self_attn.k_proj.weight" => "attn_k",
        "self_attn.v_proj.weight" => "attn_v",
        "self_attn.o_proj.weight" => "attn_output",
        "mlp.gate_proj.weight" => "ffn_gate",
        "mlp.up_proj.weight" => "ffn_up",
        "mlp.down_proj.weight" => "ffn_down",
        other => panic!("unexpected {other}"),
    };
    format!("blk.{layer}.{part}.weight")
}

/// Storage type the test uses for each tensor: every required type appears.
fn dtype_for(gguf: &str, all_f32: bool) -> GgmlDType {
    if all_f32 || gguf.contains("norm") {
        return GgmlDType::F32;
    }
    match gguf.split('.').nth(2).unwrap_or(gguf) {
        "attn_q" => GgmlDType::Q4_0,
        "attn_k" => GgmlDType::Q4_1,
        "attn_v" => GgmlDType::Q8_0,
        "attn_output" => GgmlDType::F16,
        "ffn_gate" => GgmlDType::Q4_1,
        "ffn_up" => GgmlDType::Q4_0,
        "ffn_down" => GgmlDType::Q8_0,
        _ => GgmlDType::Q8_0,
    }
}

/// Writes `lm` as a llama.cpp-style GGUF; returns the HF tensors it should import back as.
fn write_gguf(lm: &CausalLm, path: &Path, all_f32: bool) -> HashMap<String, Tensor> {
    write_gguf_with(lm, path, all_f32, Vec::new())
}

/// `write_gguf` with the metadata values of `changed` in place of (or beside) its own.
fn write_gguf_with(
    lm: &CausalLm,
    path: &Path,
    all_f32: bool,
    changed: Vec<(&str, Value)>,
) -> HashMap<String, Tensor> {
    let (tokens, types, merges) = vocabulary();
    let mut q = Vec::new();
    let mut expected = HashMap::new();
    for (hf, t) in lm.tensors() {
        let name = gguf_name(&hf);
        let heads = if name.contains("attn_q") {
            Some(HEADS)
        } else if name.contains("attn_k") {
            Some(KV_HEADS)
        } else {
            None
        };
        let stored = match heads {
            Some(h) => permute_rows(&t, h).unwrap(),
            None => t.clone(),
        };
        let qt = QTensor::quantize(&stored, dtype_for(&name, all_f32)).unwrap();
        let back = qt.dequantize(&Device::Cpu).unwrap();
        let back = match heads {
            // Undo the permutation on the expectation with the plain inverse reshape.
            Some(h) => {
                let (rows, cols) = back.dims2().unwrap();
                back.reshape((h, rows / h / 2, 2, cols))
                    .unwrap()
                    .transpose(1, 2)
                    .unwrap()
                    .contiguous()
                    .unwrap()
                    .reshape((rows, cols))
                    .unwrap()
            }
            None => back,
        };
        expected.insert(hf, back);
        q.push((name, qt));
    }
    let s = |x: &str| Value::String(x.to_string());
    let metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", s("llama")),
        ("llama.block_count", Value::U32(2)),
        ("llama.context_length", Value::U32(256)),
        ("llama.embedding_length", Value::U32(32)),
        ("llama.feed_forward_length", Value::U32(64)),
        ("llama.attention.head_count", Value::U32(HEADS as u32)),
        ("llama.attention.head_count_kv", Value::U32(KV_HEADS as u32)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("llama.rope.freq_base", Value::F32(10000.0)),
        ("tokenizer.ggml.model", s("gpt2")),
        ("tokenizer.ggml.pre", s("gpt-2")),
        (
            "tokenizer.ggml.tokens",
            Value::Array(tokens.iter().map(|t| s(t)).collect()),
        ),
        (
            "tokenizer.ggml.token_type",
            Value::Array(types.iter().map(|&t| Value::I32(t)).collect()),
        ),
        (
            "tokenizer.ggml.merges",
            Value::Array(merges.iter().map(|m| s(m)).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", Value::U32(0)),
        ("tokenizer.ggml.eos_token_id", Value::U32(0)),
    ];
    let mut metadata: Vec<(&str, Value)> = metadata
        .into_iter()
        .filter(|(k, _)| !changed.iter().any(|(c, _)| c == k))
        .collect();
    metadata.extend(changed);
    let meta_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let q_refs: Vec<(&str, &QTensor)> = q.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut f = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut f, &meta_refs, &q_refs).unwrap();
    expected
}

fn logits(lm: &CausalLm, ids: &[u32]) -> Tensor {
    lm.forward_train(
        &Tensor::new(ids, &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn f32_gguf_with_llama_cpp_permutation_imports_to_the_same_logits() {
    let vocab = vocabulary().0.len();
    let lm = tiny_llama(vocab);
    let dir = tempfile::tempdir().unwrap();
    let gguf = dir.path().join("tiny.gguf");
    write_gguf(&lm, &gguf, true);
    let out = dir.path().join("hf");
    let summary = import_gguf(&gguf, &out).unwrap();
    assert_eq!(summary.tensors, lm.tensors().len());
    let back = load_model(&out, &Device::Cpu).unwrap();
    let ids = [5u32, 17, 300, 2, 9999, 42, 7, 50000];
    let d = common::max_abs_diff(&logits(&lm, &ids), &logits(&back, &ids));
    assert!(d < 1e-5, "imported logits differ by {d}");
    // Without undoing the permutation the logits would differ: the check above can fail.
    let mut raw = lm.tensors();
    let q = "model.layers.0.self_attn.q_proj.weight".to_string();
    raw.insert(q.clone(), permute_rows(&raw[&q], HEADS).unwrap());
    let wrong = CausalLm::from_tensors(lm.config().clone(), raw, &Device::Cpu).unwrap();
    assert!(common::max_abs_diff(&logits(&lm, &ids), &logits(&wrong, &ids)) > 1e-3);
}

/// A GGUF whose metadata no model has is an import error that says so, never a panic or an
/// abort on allocation (the twenty-second audit, F8).
#[test]
fn damaged_gguf_metadata_is_an_error() {
    let lm = tiny_llama(vocabulary().0.len());
    let dir = tempfile::tempdir().unwrap();
    for (key, value, words) in [
        ("llama.attention.head_count", Value::U32(0), "head_count 0"),
        ("llama.attention.head_count", Value::U32(3), "head_count 3"),
        (
            "llama.attention.head_count_kv",
            Value::U32(0),
            "num_key_value_heads is 0",
        ),
        (
            "llama.block_count",
            Value::U64(1_000_000_000_000),
            "num_hidden_layers is 1000000000000",
        ),
        ("general.alignment", Value::U32(0), "header is damaged"),
        // A value the GGUF may leave out, there but damaged: not the default in silence.
        (
            "llama.context_length",
            Value::I32(-1),
            "`llama.context_length` is -1",
        ),
        (
            "tokenizer.ggml.eos_token_id",
            Value::I32(-1),
            "not a token id",
        ),
        (
            "llama.attention.layer_norm_rms_epsilon",
            Value::String("x".into()),
            "not a number",
        ),
    ] {
        let gguf = dir.path().join("damaged.gguf");
        write_gguf_with(&lm, &gguf, true, vec![(key, value)]);
        let error = match import_gguf(&gguf, &dir.path().join("out")) {
            Ok(_) => panic!("{key} imported"),
            Err(e) => e.to_string(),
        };
        assert!(error.contains(words), "{key}: {error}");
    }
}

#[test]
fn quantized_tensors_dequantize_to_the_stored_values() {
    let vocab = vocabulary().0.len();
    let lm = tiny_llama(vocab);
    let dir = tempfile::tempdir().unwrap();
    let gguf = dir.path().join("q.gguf");
    let expected = write_gguf(&lm, &gguf, false);
    let out = dir.path().join("hf");
    let summary = import_gguf(&gguf, &out).unwrap();
    let kinds: Vec<&str> = summary.dtypes.iter().map(|(k, _)| k.as_str()).collect();
    for k in ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"] {
        assert!(kinds.contains(&k), "{k} not exercised: {kinds:?}");
    }
    let back = load_model(&out, &Device::Cpu).unwrap().tensors();
    let original = lm.tensors();
    for (name, want) in &expected {
        let got = &back[name];
        assert_eq!(
            common::max_abs_diff(got, want),
            0.0,
            "{name}: not the dequantized GGUF values"
        );
        // And the quantized values are close to the originals (4-bit: within a block step).
        let range: f32 = original[name]
            .flatten_all()
            .unwrap()
            .abs()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        let err = common::max_abs_diff(got, &original[name]);
        assert!(
            err <= range / 4.0 + 1e-6,
            "{name}: quantization error {err} vs range {range}"
        );
    }
}

#[test]
fn rebuilt_tokenizer_encodes_like_the_original() {
    let vocab = vocabulary().0.len();
    let lm = tiny_llama(vocab);
    let dir = tempfile::tempdir().unwrap();
    let gguf = dir.path().join("t.gguf");
    write_gguf(&lm, &gguf, true);
    let out = dir.path().join("hf");
    import_gguf(&gguf, &out).unwrap();
    let rebuilt = ProofTokenizer::from_file(&out.join("tokenizer.json"), None).unwrap();
    let original = ProofTokenizer::from_file(&fixture_tokenizer(), None).unwrap();
    let texts = [
        "[GOAL]m n : ℕ\n h : Nat.coprime m n\n ⊢ Nat.gcd m n = 1[PROOFSTEP]",
        "[GOAL]x y : ℝ\nh₀ : x + y = 10\n⊢ 2 * x ≤ 123456[PROOFSTEP]rw [← h₀]; linarith<|endoftext|>",
        "simp only [Subset.antisymm_iff, ← le_antisymm_iff, withBotCoe_subset_iff]",
        "    indented    with  many     spaces\n\n\ttabs",
    ];
    for t in texts {
        let a = rebuilt.encode(t).unwrap();
        assert_eq!(a, original.encode(t).unwrap(), "{t}");
        assert_eq!(rebuilt.decode(&a).unwrap(), original.decode(&a).unwrap());
    }
    assert_eq!(rebuilt.eos_id(), Some(0));
}
