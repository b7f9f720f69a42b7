//! Tiny random Llama and GPT-NeoX models: every parameter gets a gradient through the training
//! forward; the training forward and the cached inference forward agree (GQA, partial rotary,
//! rope scaling, left padding); a model folder round-trips exactly.

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use proofstep::model::{load_model, save_model, CausalLm, ModelConfig};

/// A tiny config of the given architecture; `extra` overrides fields.
pub fn tiny(kind: &str, extra: serde_json::Value) -> ModelConfig {
    let mut v = match kind {
        "llama" => serde_json::json!({
            "model_type": "llama", "vocab_size": 61, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "rms_norm_eps": 1e-5, "max_position_embeddings": 128, "eos_token_id": 0
        }),
        _ => serde_json::json!({
            "model_type": "gpt_neox", "vocab_size": 61, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "rotary_pct": 0.5,
            "max_position_embeddings": 128, "eos_token_id": 0
        }),
    };
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    ModelConfig::from_json(&v.to_string()).unwrap()
}

fn ids(rows: &[&[u32]]) -> Tensor {
    let t = rows[0].len();
    let flat: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_vec(flat, (rows.len(), t), &Device::Cpu).unwrap()
}

fn configs() -> Vec<(&'static str, ModelConfig)> {
    vec![
        ("llama gqa untied", tiny("llama", serde_json::json!({}))),
        (
            "llama tied mha",
            tiny(
                "llama",
                serde_json::json!({"tie_word_embeddings": true, "num_key_value_heads": 4}),
            ),
        ),
        (
            "llama linear rope",
            tiny(
                "llama",
                serde_json::json!({"rope_scaling": {"type": "linear", "factor": 2.0}}),
            ),
        ),
        (
            "llama3 rope, biases",
            tiny(
                "llama",
                serde_json::json!({"attention_bias": true,
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}),
            ),
        ),
        ("neox parallel", tiny("gpt_neox", serde_json::json!({}))),
        (
            "neox sequential full rotary",
            tiny(
                "gpt_neox",
                serde_json::json!({"use_parallel_residual": false, "rotary_pct": 1.0}),
            ),
        ),
    ]
}

#[test]
fn every_parameter_gets_a_gradient() {
    for (name, cfg) in configs() {
        let lm = CausalLm::random_seeded(cfg, &Device::Cpu, 7).unwrap();
        let x = ids(&[&[1, 5, 9, 13, 2, 7], &[3, 3, 8, 60, 11, 4]]);
        let logits = lm.forward_train(&x).unwrap();
        assert_eq!(logits.dims(), &[2, 6, 61]);
        let loss = candle_nn::loss::cross_entropy(
            &logits.reshape((12, 61)).unwrap(),
            &x.flatten_all().unwrap(),
        )
        .unwrap();
        let grads = loss.backward().unwrap();
        let vars = lm.varmap().data().lock().unwrap();
        assert!(!vars.is_empty());
        for (param, var) in vars.iter() {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name}: no gradient for {param}"));
            let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{name}: zero gradient for {param}"
            );
        }
    }
}

#[test]
fn training_and_cached_inference_forwards_agree() {
    for (name, cfg) in configs() {
        let lm = CausalLm::random_seeded(cfg, &Device::Cpu, 7).unwrap();
        // Random weights at 0.02 give near-uniform logits; scale them up so differences show.
        for var in lm.varmap().all_vars() {
            let t = (var.as_tensor() * 8.0).unwrap();
            var.set(&t).unwrap();
        }
        let rows: [&[u32]; 2] = [
            &[1, 5, 9, 13, 2, 7, 40, 41, 42],
            &[3, 3, 8, 60, 11, 4, 20, 21, 22],
        ];
        let full = lm.forward_train(&ids(&rows)).unwrap();
        // Prefill 5 tokens, then one token at a time through the cache.
        let mut cache = lm.new_cache();
        let mut parts = vec![lm
            .forward_cached(
                &ids(&[&rows[0][..5], &rows[1][..5]]),
                &[0, 0],
                &mut cache,
                false,
            )
            .unwrap()];
        for j in 5..9 {
            parts.push(
                lm.forward_cached(
                    &ids(&[&rows[0][j..j + 1], &rows[1][j..j + 1]]),
                    &[0, 0],
                    &mut cache,
                    false,
                )
                .unwrap(),
            );
        }
        let cached = Tensor::cat(&parts, 1).unwrap();
        let d = common::max_abs_diff(&full, &cached);
        let scale = common::max_abs_diff(&full, &full.zeros_like().unwrap());
        eprintln!("{name}: max diff {d}, max logit {scale}");
        assert!(
            d < 1e-4 * scale.max(1.0),
            "{name}: train vs cached differ by {d} (scale {scale})"
        );

        // Left padding: row 1 shorter by 3 tokens gives the same logits as run alone.
        let padded = ids(&[rows[0], &[0, 0, 0, 3, 3, 8, 60, 11, 4]]);
        let mut cache = lm.new_cache();
        let out = lm
            .forward_cached(&padded, &[0, 3], &mut cache, true)
            .unwrap();
        let next = lm
            .forward_cached(&ids(&[&[7], &[9]]), &[0, 3], &mut cache, true)
            .unwrap();
        let alone = lm.forward_train(&ids(&[&[3, 3, 8, 60, 11, 4, 9]])).unwrap();
        let d1 = common::max_abs_diff(
            &out.get(1).unwrap().squeeze(0).unwrap(),
            &alone.get(0).unwrap().get(5).unwrap(),
        );
        let d2 = common::max_abs_diff(
            &next.get(1).unwrap().squeeze(0).unwrap(),
            &alone.get(0).unwrap().get(6).unwrap(),
        );
        assert!(
            d1.max(d2) < 1e-4 * scale.max(1.0),
            "{name}: left padding changes logits by {d1} / {d2}"
        );
    }
}

#[test]
fn model_folder_round_trips_exactly() {
    for (name, cfg) in configs() {
        let lm = CausalLm::random_seeded(cfg.clone(), &Device::Cpu, 7).unwrap();
        for shard in [usize::MAX, 20_000] {
            let dir = tempfile::tempdir().unwrap();
            save_model(&lm, dir.path(), shard).unwrap();
            if shard == 20_000 {
                assert!(
                    dir.path().join("model.safetensors.index.json").exists(),
                    "{name}: not sharded"
                );
            }
            let back = load_model(dir.path(), &Device::Cpu).unwrap();
            assert_eq!(back.config(), &cfg, "{name}: config changed");
            let (a, b): (HashMap<_, _>, HashMap<_, _>) = (lm.tensors(), back.tensors());
            assert_eq!(a.len(), b.len(), "{name}");
            for (k, t) in &a {
                let u = &b[k];
                let x: Vec<f32> = t
                    .flatten_all()
                    .unwrap()
                    .to_dtype(DType::F32)
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                let y: Vec<f32> = u.flatten_all().unwrap().to_vec1().unwrap();
                assert_eq!(x, y, "{name}: {k} changed");
            }
        }
    }
}

#[test]
fn missing_tensor_is_reported_by_name() {
    let cfg = tiny("llama", serde_json::json!({}));
    let lm = CausalLm::random_seeded(cfg.clone(), &Device::Cpu, 7).unwrap();
    let mut t = lm.tensors();
    t.remove("model.layers.1.mlp.up_proj.weight");
    let err = CausalLm::from_tensors(cfg, t, &Device::Cpu)
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("model.layers.1.mlp.up_proj.weight"), "{err}");
}
