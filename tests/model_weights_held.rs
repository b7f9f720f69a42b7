//! Models loaded with reduced `--weights` (bf16, q8_0, q4_0): converted while they load from
//! the folder (f32 or fp16 safetensors, sharded or not, PyTorch `.bin`), held once with no f32
//! parameters, computing what ggml's rounding of the weights computes, refused where the f32
//! parameters are needed; `auto` holds a GGUF import's exact blocks packed, with no f32 copy,
//! and computes what it computed before. The command line's
//! `--weights` is checked through `generate`, and labels its output.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use common::torch_checkpoint::write_torch_checkpoint;
use proofstep::model::io::folder::write_tensors;
use proofstep::model::{
    load_model, load_model_with, save_model, CausalLm, Decoding, GenerateOptions, Generator,
    ModelConfig, Precision, Predictor, Weights,
};

const REDUCED: [Weights; 3] = [Weights::Bf16, Weights::Q8_0, Weights::Q4_0];

/// A random model whose weights are f16 values (so an fp16 folder holds exactly them), at a
/// scale where the logits are far apart; rows are whole blocks of 32.
fn model(kind: &str) -> CausalLm {
    let v = match kind {
        "llama" => serde_json::json!({
            "model_type": "llama", "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "tie_word_embeddings": true
        }),
        _ => serde_json::json!({
            "model_type": "gpt_neox", "vocab_size": 80, "hidden_size": 64,
            "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
            "rotary_pct": 0.25
        }),
    };
    let lm = CausalLm::random_seeded(
        ModelConfig::from_json(&v.to_string()).unwrap(),
        &Device::Cpu,
        11,
    )
    .unwrap();
    for var in lm.varmap().all_vars() {
        let t = (var.as_tensor() * 5.0)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        var.set(&t.to_dtype(DType::F32).unwrap()).unwrap();
    }
    lm
}

fn ids() -> Vec<u32> {
    (0..16).map(|i| (i * 13 + 5) % 80).collect()
}

/// Logits of every position of `ids()` through the inference forward.
fn infer(lm: &CausalLm) -> Tensor {
    let x = Tensor::new(ids().as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut cache = lm.new_cache();
    lm.forward_cached(&x, &[0], &mut cache, false).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// ggml's reference rounding of one block of 32 (`quantize_row_q8_0_ref`,
/// `quantize_row_q4_0_ref`), decoded: what llama.cpp computes with.
fn ggml_block(v: &[f32], q4: bool) -> Vec<f32> {
    let f16 = |x: f32| half::f16::from_f32(x).to_f32();
    if q4 {
        let max = v
            .iter()
            .fold(0f32, |m, &x| if x.abs() > m.abs() { x } else { m });
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        v.iter()
            .map(|&x| ((x * id + 8.5) as i8).min(15) as f32 - 8.0)
            .map(|q| q * f16(d))
            .collect()
    } else {
        let amax = v.iter().fold(0f32, |m, &x| m.max(x.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        // ggml stores q as an integer: a rounded −0 decodes to +0.
        v.iter()
            .map(|&x| (x * id).round() as i8 as f32 * f16(d))
            .collect()
    }
}

/// `lm` with every matrix rounded as `w` rounds it (the LM head and a tied embedding at
/// q8_0 under q4_0), in f32: the model a held load must compute.
fn rounded_reference(lm: &CausalLm, w: Weights) -> CausalLm {
    // The GPT-NeoX head is untied (`embed_out`, q8_0 under q4_0, its embedding `embed_in`
    // q4_0); the Llama one is tied to `embed_tokens` (both q8_0).
    let tied_or_head = |n: &str| n.contains("embed_out") || n.contains("embed_tokens");
    let tensors: HashMap<String, Tensor> = lm
        .tensors()
        .into_iter()
        .map(|(n, t)| {
            if t.rank() != 2 {
                return (n, t);
            }
            let t = match w {
                Weights::Bf16 => t
                    .to_dtype(DType::BF16)
                    .unwrap()
                    .to_dtype(DType::F32)
                    .unwrap(),
                _ => {
                    let q4 = w == Weights::Q4_0 && !tied_or_head(&n);
                    let v: Vec<f32> = t
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f32>()
                        .unwrap()
                        .chunks(32)
                        .flat_map(|b| ggml_block(b, q4))
                        .collect();
                    Tensor::from_vec(v, t.dims(), &Device::Cpu).unwrap()
                }
            };
            (n, t)
        })
        .collect();
    CausalLm::from_tensors(lm.config().clone(), tensors, &Device::Cpu).unwrap()
}

#[test]
fn reduced_weights_hold_no_parameters_and_compute_the_rounded_models_logits() {
    for kind in ["llama", "gpt_neox"] {
        let lm = model(kind);
        let dir = tempfile::tempdir().unwrap();
        save_model(&lm, dir.path(), usize::MAX).unwrap();
        let want = infer(&lm);
        let scale = want
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let mut diffs = Vec::new();
        for w in REDUCED {
            let held = load_model_with(dir.path(), w).unwrap();
            assert_eq!(held.held(), w.held(), "{kind} {w}");
            assert!(held.tensors().is_empty(), "{kind} {w} keeps f32 parameters");
            assert_eq!(held.num_params(), lm.num_params());
            let got = infer(&held);
            // The logits of the f32 model whose matrices were rounded by ggml's reference code;
            // on an AVX2 CPU, q8_0 and q4_0 also round the activations to int8 as llama.cpp
            // does (the kernel itself is checked exactly against that rounding in
            // `kernels::matvec`), which moves these deliberately sharp logits by a few percent.
            let exact = max_diff(&got, &infer(&rounded_reference(&lm, w)));
            let int8 = w != Weights::Bf16 && proofstep::model::kernels::x8::available();
            let tolerance = if int8 { 0.08 } else { 1e-4 };
            assert!(exact < tolerance * scale, "{kind} {w}: {exact} of {scale}");
            diffs.push(max_diff(&got, &want));
            // What needs the f32 parameters is refused, saying how to get them.
            let x = Tensor::new(&ids()[..4], &Device::Cpu)
                .unwrap()
                .unsqueeze(0)
                .unwrap();
            let err = held.forward_train(&x).unwrap_err().to_string();
            assert!(err.contains("--weights f32"), "{err}");
            let err = save_model(&held, &dir.path().join("copy"), usize::MAX)
                .unwrap_err()
                .to_string();
            assert!(err.contains("--weights f32"), "{err}");
        }
        assert!(
            0.0 < diffs[0] && diffs[0] < diffs[1] && diffs[1] < diffs[2],
            "{kind}: {diffs:?}"
        );
        // auto and f32 compute with the exact values: the same logits, bit for bit.
        for w in [Weights::Auto, Weights::F32] {
            let same = load_model_with(dir.path(), w).unwrap();
            assert_eq!(max_diff(&infer(&same), &want), 0.0, "{kind} {w}");
        }
        assert!(!load_model_with(dir.path(), Weights::F32)
            .unwrap()
            .tensors()
            .is_empty());
    }
}

#[test]
fn auto_holds_a_gguf_imports_exact_blocks_packed_with_no_f32_copy_and_the_same_logits() {
    for kind in ["llama", "gpt_neox"] {
        // Every matrix exactly Q8_0 blocks, as after importing a Q8_0 GGUF.
        let lm = rounded_reference(&model(kind), Weights::Q8_0);
        let dir = tempfile::tempdir().unwrap();
        save_model(&lm, dir.path(), usize::MAX).unwrap();
        // What every command loaded before: the f32 parameters plus their exact packings.
        let mut before = load_model(dir.path(), &Device::Cpu).unwrap();
        let packed = before.set_precision(Precision::Packed).unwrap();
        assert_eq!(packed.converted, packed.total, "{kind}");
        let auto = load_model_with(dir.path(), Weights::Auto).unwrap();
        assert_eq!(max_diff(&infer(&auto), &infer(&before)), 0.0, "{kind}");
        if proofstep::model::kernels::matvec::packed_is_fast() {
            assert_eq!(auto.held(), Some(Precision::Packed));
            assert!(
                auto.tensors().is_empty(),
                "{kind}: auto keeps f32 parameters"
            );
            assert_eq!(auto.precision_report(), packed, "{kind}");
        }
    }
}

#[test]
fn fp16_sharded_and_pytorch_folders_load_held_to_the_same_model() {
    let lm = model("gpt_neox");
    let f32_dir = tempfile::tempdir().unwrap();
    save_model(&lm, f32_dir.path(), usize::MAX).unwrap();
    let half: HashMap<String, Tensor> = lm
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_dtype(DType::F16).unwrap()))
        .collect();
    let sharded = tempfile::tempdir().unwrap();
    std::fs::copy(
        f32_dir.path().join("config.json"),
        sharded.path().join("config.json"),
    )
    .unwrap();
    write_tensors(sharded.path(), &half, 40_000).unwrap();
    assert!(sharded.path().join("model.safetensors.index.json").exists());
    let bin = tempfile::tempdir().unwrap();
    std::fs::copy(
        f32_dir.path().join("config.json"),
        bin.path().join("config.json"),
    )
    .unwrap();
    let listed: Vec<(String, Tensor)> = lm.tensors().into_iter().collect();
    write_torch_checkpoint(&bin.path().join("pytorch_model.bin"), &listed);
    for w in REDUCED {
        let want = infer(&load_model_with(f32_dir.path(), w).unwrap());
        for dir in [sharded.path(), bin.path()] {
            let got = infer(&load_model_with(dir, w).unwrap());
            assert_eq!(max_diff(&got, &want), 0.0, "{w} from {}", dir.display());
        }
    }
}

#[test]
fn a_folder_missing_a_tensor_or_with_a_wrong_shape_is_refused_when_loading_held() {
    let lm = model("llama");
    let dir = tempfile::tempdir().unwrap();
    save_model(&lm, dir.path(), usize::MAX).unwrap();
    let mut tensors = lm.tensors();
    tensors.remove("model.layers.1.mlp.up_proj.weight");
    write_tensors(dir.path(), &tensors, usize::MAX).unwrap();
    let err = load_model_with(dir.path(), Weights::Q8_0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("model.layers.1.mlp.up_proj.weight") && err.contains("config.json"),
        "{err}"
    );
    let mut tensors = lm.tensors();
    let name = "model.layers.0.self_attn.q_proj.weight";
    tensors.insert(
        name.into(),
        Tensor::zeros((32, 64), DType::F32, &Device::Cpu).unwrap(),
    );
    write_tensors(dir.path(), &tensors, usize::MAX).unwrap();
    let err = load_model_with(dir.path(), Weights::Q4_0)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(name) && err.contains("shape"), "{err}");
    // The f32 load of the same folder says the same (today's check).
    assert!(load_model(dir.path(), &Device::Cpu).is_err());
}

#[test]
fn a_generator_loaded_held_generates_and_says_which_weights_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let folder = common::untrained_model(dir.path());
    let options = GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![0.0, 1.0],
            samples: 4,
            top_p: 1.0,
        },
        max_new_tokens: 6,
        seed: 3,
    };
    for w in REDUCED {
        let g = Generator::load_with(&folder, w).unwrap();
        assert_eq!(g.weights(), w);
        let out = g
            .generate(&["[GOAL]⊢ True[PROOFSTEP]".into()], &options)
            .unwrap();
        assert_eq!(out.len(), 1);
        assert!(!out[0].is_empty(), "{w}");
    }
    assert_eq!(Generator::load(&folder).unwrap().weights(), Weights::Auto);
}

fn generate_cli(model: &Path, weights: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["generate", "--goal", "⊢ True", "--json", "--samples", "2"])
        .args(["--max-new-tokens", "4", "--weights", weights, "--model"])
        .arg(model)
        .output()
        .unwrap()
}

#[test]
fn the_weights_flag_loads_reduced_precision_and_labels_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let folder = common::untrained_model(dir.path());
    for w in ["q8_0", "q4_0", "q4_k", "bf16", "f32", "auto"] {
        let out = generate_cli(&folder, w);
        assert!(
            out.status.success(),
            "{w}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["weights"], w);
        let reduced = !matches!(w, "f32" | "auto");
        assert_eq!(v["reduced_precision"], reduced);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.contains("reduced precision"), reduced, "{err}");
    }
    let out = generate_cli(&folder, "q5_k");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("q8_0") && err.contains("auto"), "{err}");
}

#[test]
fn a_folder_with_transformers_integer_buffers_loads_in_every_weights() {
    let lm = model("gpt_neox");
    let dir = tempfile::tempdir().unwrap();
    save_model(&lm, dir.path(), usize::MAX).unwrap();
    let mut tensors = lm.tensors();
    // Older GPT-NeoX checkpoints store the causal mask as a u8 buffer per layer.
    let mask = Tensor::ones((1, 1, 8, 8), DType::U8, &Device::Cpu).unwrap();
    tensors.insert("gpt_neox.layers.0.attention.bias".into(), mask);
    write_tensors(dir.path(), &tensors, usize::MAX).unwrap();
    let want = infer(&lm);
    for w in [Weights::Auto, Weights::F32] {
        let got = load_model_with(dir.path(), w).unwrap();
        assert_eq!(max_diff(&infer(&got), &want), 0.0, "{w}");
    }
    let held = load_model_with(dir.path(), Weights::Q8_0).unwrap();
    assert_eq!(held.num_params(), lm.num_params());
}

#[test]
fn serve_names_a_model_with_reduced_weights_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let folder = common::untrained_model(dir.path());
    let model = folder.to_str().unwrap();
    for (weights, id) in [("q4_0", "tiny-model-q4_0"), ("auto", "tiny-model")] {
        let server = common::ServeProcess::start(
            &["--port", "0", "--model", model, "--weights", weights],
            &[],
        );
        let (status, body) = common::http_client::exchange(server.addr, "GET", "/v1/models", b"");
        assert_eq!(status, 200);
        let models: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(models["data"][0]["id"], id);
    }
}
