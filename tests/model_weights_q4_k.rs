//! `--weights q4_k`: ggml's Q4_K rounding, checked against the bytes ggml itself wrote for the
//! same matrix (tests/fixtures/ggml/q4_k.bin, made by make.py beside it), and a model loaded
//! with it computes the logits of the f32 model whose matrices are those rounded values (rows
//! that are not whole super-blocks of 256 at Q8_0, the head at Q8_0, as documented).

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use proofstep::model::kernels::q4k::Q4KMatrix;
use proofstep::model::kernels::q8::Q8Matrix;
use proofstep::model::{load_model_with, save_model, CausalLm, Weights};

/// The fixture: `(rows, cols, values, ggml's block_q4_K bytes)`.
fn fixture() -> (usize, usize, Vec<f32>, Vec<u8>) {
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ggml/q4_k.bin"
    ))
    .unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().unwrap()) as usize;
    let (rows, cols) = (u32_at(0), u32_at(4));
    let values: Vec<f32> = raw[8..8 + 4 * rows * cols]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (rows, cols, values, raw[8 + 4 * rows * cols..].to_vec())
}

#[test]
fn q4_k_rounds_as_ggml_does() {
    let (rows, cols, values, ggml) = fixture();
    let ours = Q4KMatrix::quantize(&values, rows, cols).unwrap();
    let theirs = Q4KMatrix::from_ggml(&ggml, rows, cols).unwrap();
    assert_eq!(ours.supers, theirs.supers, "super-block scales");
    assert_eq!(ours.subs, theirs.subs, "6-bit sub-block scales and mins");
    assert_eq!(ours.nibbles, theirs.nibbles, "4-bit levels");
    // And the values are the weights, to a 4-bit rounding (not a wrong-layout mess).
    for r in 0..rows {
        let err: f32 = ours
            .row(r)
            .iter()
            .zip(&values[r * cols..(r + 1) * cols])
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / cols as f32;
        assert!(err < 0.004, "row {r}: mean error {err}");
    }
}

/// A random GPT-NeoX whose projections have rows of 256 (Q4_K) and 512 (Q4_K), and an odd-sized
/// vocabulary.
fn model() -> CausalLm {
    let v = serde_json::json!({
        "model_type": "gpt_neox", "vocab_size": 72, "hidden_size": 256,
        "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
        "rotary_pct": 0.25
    });
    common::scaled_random_model(v, 5, 2.0)
}

fn infer(lm: &CausalLm, ids: &[u32]) -> Tensor {
    let x = Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut cache = lm.new_cache();
    lm.forward_cached(&x, &[0], &mut cache, false).unwrap()
}

#[test]
fn a_model_held_at_q4_k_computes_the_rounded_models_logits() {
    let lm = model();
    let dir = tempfile::tempdir().unwrap();
    save_model(&lm, dir.path(), usize::MAX).unwrap();
    // Every matrix rounded as q4_k holds it, decoded to f32: the head Q8_0, the rest Q4_K.
    let tensors: HashMap<String, Tensor> = lm
        .tensors()
        .into_iter()
        .map(|(n, t)| {
            if t.rank() != 2 {
                return (n, t);
            }
            let (rows, cols) = t.dims2().unwrap();
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let decoded: Vec<f32> = if n.contains("embed_out") {
                let q = Q8Matrix::quantize(&v, rows, cols).unwrap();
                (0..rows).flat_map(|r| q.row(r)).collect()
            } else {
                let q = Q4KMatrix::quantize(&v, rows, cols).unwrap();
                (0..rows).flat_map(|r| q.row(r)).collect()
            };
            (
                n,
                Tensor::from_vec(decoded, (rows, cols), &Device::Cpu).unwrap(),
            )
        })
        .collect();
    let reference = CausalLm::from_tensors(lm.config().clone(), tensors, &Device::Cpu).unwrap();
    let held = load_model_with(dir.path(), Weights::Q4K).unwrap();
    assert!(held.tensors().is_empty(), "q4_k keeps f32 parameters");
    let report = held.precision_report();
    assert_eq!(report.converted, report.total);
    let ids: Vec<u32> = (0..12).map(|i| (i * 11 + 3) % 72).collect();
    let (got, want, exact) = (
        infer(&held, &ids),
        infer(&reference, &ids),
        infer(&lm, &ids),
    );
    let scale = exact
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let diff = |a: &Tensor, b: &Tensor| {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    // On an AVX2 CPU every projection multiplies the activations rounded to int8, as
    // llama.cpp does (checked exactly in `kernels::matvec`): the logits move a little more.
    let tolerance = if proofstep::model::kernels::x8::available() {
        0.02
    } else {
        1e-4
    };
    assert!(
        diff(&got, &want) < tolerance * scale,
        "{} of {scale}",
        diff(&got, &want)
    );
    assert!(diff(&got, &exact) > 1e-3 * scale, "q4_k changed nothing?");
}
