//! Quantized model folders (`proofstep model quantize`): a model held in bf16, q8_0, q4_0 or
//! q4_k is written with its matrices converted, and loading that folder gives bit for bit the
//! model that converting the original folder while loading gives — the same logits — without
//! rounding any weight again. The folder says what it holds: `auto` reads it so, another
//! `--weights` is refused with the fix named, a damaged part is an error, not a panic. The
//! command line writes one and `generate` labels it reduced precision.

mod common;

use std::path::Path;
use std::process::Command;

use candle_core::{DType, Device, Tensor};
use proofstep::model::{
    folder_weights, load_model_with, quantize_model, save_model, CausalLm, Weights,
};

const QUANTIZED: [Weights; 4] = [Weights::Bf16, Weights::Q8_0, Weights::Q4_0, Weights::Q4K];

/// A random model whose rows are of 256 (whole Q4_K super-blocks) and, in the Llama's MLP,
/// of 96 (Q4_K falls back to Q8_0 there); the Llama's embedding is tied to its head.
fn model(kind: &str) -> CausalLm {
    let v = match kind {
        "llama" => serde_json::json!({
            "model_type": "llama", "vocab_size": 96, "hidden_size": 256, "intermediate_size": 96,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "tie_word_embeddings": true
        }),
        _ => serde_json::json!({
            "model_type": "gpt_neox", "vocab_size": 80, "hidden_size": 256,
            "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
            "rotary_pct": 0.25
        }),
    };
    common::scaled_random_model(v, 5, 5.0)
}

/// Logits of every position of a fixed prompt through the inference forward.
fn infer(lm: &CausalLm) -> Vec<f32> {
    let ids: Vec<u32> = (0..12).map(|i| (i * 13 + 5) % 80).collect();
    let x = Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut cache = lm.new_cache();
    lm.forward_cached(&x, &[0], &mut cache, false)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn file_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("model.safetensors"))
        .unwrap()
        .len()
}

#[test]
fn a_quantized_folder_loads_the_same_model_as_converting_while_loading() {
    for kind in ["llama", "gpt_neox"] {
        let lm = model(kind);
        let src = tempfile::tempdir().unwrap();
        save_model(&lm, src.path(), usize::MAX).unwrap();
        std::fs::write(src.path().join("tokenizer.json"), "{\"kept\": true}").unwrap();
        let f32_bytes = file_len(src.path());
        for w in QUANTIZED {
            let out = tempfile::tempdir().unwrap();
            let out = out.path().join("q");
            let bytes = quantize_model(src.path(), w, &out).unwrap();
            assert_eq!(bytes, file_len(&out), "{kind} {w}");
            // Stored in fewer bytes than f32: bf16 half, the block formats a third or less.
            let most = if w == Weights::Bf16 { 0.55 } else { 0.34 };
            assert!(
                (bytes as f64) < most * f32_bytes as f64,
                "{kind} {w}: {bytes} of {f32_bytes}"
            );
            assert_eq!(
                std::fs::read_to_string(out.join("tokenizer.json")).unwrap(),
                "{\"kept\": true}"
            );
            let want = load_model_with(src.path(), w).unwrap();
            for asked in [Weights::Auto, w] {
                let got = load_model_with(&out, asked).unwrap();
                assert_eq!(got.held(), w.held(), "{kind} {w}");
                assert_eq!(got.num_params(), want.num_params(), "{kind} {w}");
                assert_eq!(
                    got.precision_report(),
                    want.precision_report(),
                    "{kind} {w}"
                );
                assert_eq!(infer(&got), infer(&want), "{kind} {w} read as {asked}");
            }
            assert_eq!(folder_weights(&out, Weights::Auto).unwrap(), w);
            assert_eq!(
                folder_weights(src.path(), Weights::Auto).unwrap(),
                Weights::Auto
            );
            // Other weights: refused, naming the ones it holds.
            let other = if w == Weights::Q8_0 {
                Weights::Q4_0
            } else {
                Weights::Q8_0
            };
            for asked in [Weights::F32, other] {
                let err = load_model_with(&out, asked).err().unwrap().to_string();
                assert!(
                    err.contains(&format!("--weights {w} or auto")),
                    "{kind} {w} as {asked}: {err}"
                );
            }
            let again = tempfile::tempdir().unwrap();
            let err = quantize_model(&out, Weights::Q8_0, &again.path().join("x"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("already quantized"), "{err}");
        }
        let err = quantize_model(src.path(), Weights::Auto, &src.path().join("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing to quantize"), "{err}");
    }
}

/// A stored tensor: dtype, shape, bytes.
type Stored = (safetensors::Dtype, Vec<usize>, Vec<u8>);

/// Rewrites the quantized folder's `model.safetensors`: `edit` changes a tensor in place or
/// returns false to drop it, `meta` changes the header metadata.
fn rewrite(
    dir: &Path,
    mut edit: impl FnMut(&str, &mut Stored) -> bool,
    meta: impl FnOnce(&mut std::collections::HashMap<String, String>),
) {
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap_or_default();
    meta(&mut metadata);
    let mut kept = Vec::new();
    for (n, t) in st.tensors() {
        let mut stored = (t.dtype(), t.shape().to_vec(), t.data().to_vec());
        if edit(&n, &mut stored) {
            kept.push((n, stored));
        }
    }
    let views: Vec<_> = kept
        .iter()
        .map(|(n, (d, s, b))| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let out = safetensors::serialize(views, Some(metadata)).unwrap();
    std::fs::write(&path, out).unwrap();
}

/// The quantized folder's tensor `name` cut short by one row.
fn damage(dir: &Path, name: &str) {
    rewrite(
        dir,
        |n, (_, shape, data)| {
            if n == name {
                let row = data.len() / shape[0];
                shape[0] -= 1;
                data.drain(..row);
            }
            true
        },
        |_| {},
    );
}

/// The name of the first layer's q_proj part ending in one of `suffixes` (in whichever layout
/// this CPU holds it: `.q`/`.d` row-major, `.levels`/`.scales` interleaved).
fn q_proj_part(dir: &Path, suffixes: &[&str]) -> String {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.names()
        .into_iter()
        .filter(|n| {
            n.starts_with("model.layers.0.self_attn.q_proj.weight.")
                && suffixes.iter().any(|s| n.ends_with(s))
        })
        .max()
        .unwrap()
        .to_string()
}

#[test]
fn a_damaged_quantized_folder_is_an_error_that_says_to_quantize_again() {
    let src = tempfile::tempdir().unwrap();
    save_model(&model("llama"), src.path(), usize::MAX).unwrap();
    for w in [Weights::Q8_0, Weights::Q4K] {
        let out = tempfile::tempdir().unwrap();
        let out = out.path().join("q");
        quantize_model(src.path(), w, &out).unwrap();
        let part = q_proj_part(&out, &[""]);
        damage(&out, &part);
        let err = load_model_with(&out, Weights::Auto)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("quantize the original model again") || err.contains("config.json"),
            "{w} {part}: {err}"
        );
    }
}

/// A quantized folder whose file was cut short (a copy interrupted) is refused while loading
/// (safetensors' header check, as before the levels were read behind the load), not when the
/// first product waits for levels that are not there, and the error names the fix.
#[test]
fn a_truncated_quantized_folder_is_refused_at_load_not_at_first_use() {
    let src = tempfile::tempdir().unwrap();
    save_model(&model("gpt_neox"), src.path(), usize::MAX).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q");
    quantize_model(src.path(), Weights::Q8_0, &q).unwrap();
    let file = q.join("model.safetensors");
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 1000)
        .unwrap();
    let err = load_model_with(&q, Weights::Auto)
        .err()
        .expect("a truncated folder loaded")
        .to_string();
    assert!(
        err.contains("not a safetensors file") && err.contains("quantize"),
        "{err}"
    );
}

/// Each way a quantized folder's parts can disagree with what it says it holds: an error that
/// names the part and says to quantize again, never a model computing with it.
#[test]
fn a_quantized_folder_whose_parts_disagree_with_its_metadata_is_refused() {
    let src = tempfile::tempdir().unwrap();
    save_model(&model("llama"), src.path(), usize::MAX).unwrap();
    // A folder quantized to `w`, changed by `edit`, must be refused with `want` in the error.
    let case = |w: Weights, edit: &dyn Fn(&Path), want: &str| {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("q");
        quantize_model(src.path(), w, &q).unwrap();
        edit(&q);
        let err = load_model_with(&q, Weights::Auto)
            .err()
            .expect("loaded")
            .to_string();
        assert!(err.starts_with("quantized folder: "), "{err}");
        assert!(err.contains(want), "wanted {want:?}: {err}");
    };
    let relabel = |q: &Path| {
        rewrite(
            q,
            |_, _| true,
            |m| {
                m.insert("proofstep.weights".into(), "bf16".into());
            },
        )
    };
    case(
        Weights::Q8_0,
        &relabel,
        "another format than the folder's metadata",
    );
    // A NaN block scale (f16 0x7e00) in q_proj.
    let nan_scale = |q: &Path| {
        let part = q_proj_part(q, &[".d", ".scales"]);
        rewrite(
            q,
            |n, (_, _, data)| {
                if n == part {
                    data[..2].copy_from_slice(&0x7e00u16.to_le_bytes());
                }
                true
            },
            |_| {},
        )
    };
    case(Weights::Q8_0, &nan_scale, "infinite or NaN");
    // q_proj's levels dropped, its scales left.
    let no_levels = |q: &Path| {
        let levels = q_proj_part(q, &[".q", ".levels"]);
        rewrite(q, |n, _| n != levels, |_| {})
    };
    case(Weights::Q4_0, &no_levels, "without the rest of its matrix");
    // The layout named, the weights not.
    let unnamed = |q: &Path| {
        rewrite(
            q,
            |_, _| true,
            |m| {
                m.remove("proofstep.weights");
            },
        )
    };
    case(Weights::Q4K, &unnamed, "proofstep.weights");
}

#[test]
fn the_command_line_writes_a_quantized_folder_and_generate_labels_it() {
    let bin = env!("CARGO_BIN_EXE_proofstep");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/testworld-small");
    let out = tempfile::tempdir().unwrap();
    let q = out.path().join("q8");
    let run = Command::new(bin)
        .args([
            "model",
            "quantize",
            "--weights",
            "q8_0",
            "--json",
            "--model",
        ])
        .arg(&src)
        .arg("--out")
        .arg(&q)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["weights"], "q8_0");
    // A second run into the same folder is refused (it is not empty).
    let again = Command::new(bin)
        .args(["model", "quantize", "--weights", "q8_0", "--model"])
        .arg(&src)
        .arg("--out")
        .arg(&q)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let generate = |dir: &Path, weights: &str| {
        let run = Command::new(bin)
            .args([
                "generate",
                "--goal",
                "p q : Prop\nh : p ∧ q\n⊢ q ∧ p",
                "--json",
            ])
            .args(["--samples", "4", "--temperature", "0", "--device", "cpu"])
            .args(["--weights", weights, "--model"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()
    };
    let quantized = generate(&q, "auto");
    assert_eq!(quantized["weights"], "q8_0");
    assert_eq!(quantized["reduced_precision"], true);
    let converted = generate(&src, "q8_0");
    assert_eq!(quantized["candidates"], converted["candidates"]);
    let refused = Command::new(bin)
        .args([
            "generate",
            "--goal",
            "⊢ True",
            "--weights",
            "f32",
            "--model",
        ])
        .arg(&q)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--weights q8_0 or auto"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
