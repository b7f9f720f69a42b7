//! bf16 inference weights (`Precision::Bf16`): close to f32 but not identical, f32 restored
//! exactly, training untouched. Mixed-precision training (`set_autocast`, the trainer's --bf16 /
//! --fp16 on a GPU), run here on the CPU: logits close to f32, every parameter trained. The `#[ignore]`d test measures the agreement on SmolLM2-135M
//! (benchmarks/README.md, "model_speed"): `cargo test --release --test model_precision --
//! --ignored --nocapture` after `benchmarks/model_speed/run.sh` has written the model folder.

use std::path::Path;

use candle_core::{Device, Tensor};
use proofstep::model::{
    CausalLm, Decoding, GenerateOptions, Generator, ModelConfig, Precision, Sequence, Weights,
};

fn model(kind: &str) -> CausalLm {
    let v = match kind {
        "llama" => serde_json::json!({
            "model_type": "llama", "vocab_size": 50, "hidden_size": 40, "intermediate_size": 56,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "tie_word_embeddings": true
        }),
        _ => serde_json::json!({
            "model_type": "gpt_neox", "vocab_size": 50, "hidden_size": 48, "intermediate_size": 72,
            "num_hidden_layers": 2, "num_attention_heads": 4, "rotary_pct": 0.5
        }),
    };
    let lm = CausalLm::random_seeded(
        ModelConfig::from_json(&v.to_string()).unwrap(),
        &Device::Cpu,
        3,
    )
    .unwrap();
    for var in lm.varmap().all_vars() {
        var.set(&(var.as_tensor() * 5.0).unwrap()).unwrap();
    }
    lm
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// Logits of every position of `ids` (one row) through the inference forward.
fn infer(lm: &CausalLm, ids: &[u32]) -> Tensor {
    let x = Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut cache = lm.new_cache();
    lm.forward_cached(&x, &[0], &mut cache, false).unwrap()
}

#[test]
fn bf16_weights_are_close_to_f32_and_f32_comes_back_exactly() {
    for kind in ["llama", "gpt_neox"] {
        let mut lm = model(kind);
        let ids: Vec<u32> = (0..12).map(|i| (i * 7 + 3) % 50).collect();
        let x = Tensor::new(ids.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let f32_logits = infer(&lm, &ids);
        let train = lm.forward_train(&x).unwrap();
        let scale = f32_logits
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        lm.set_precision(Precision::Bf16).unwrap();
        let half = infer(&lm, &ids);
        let d = max_diff(&half, &f32_logits);
        assert!(d > 0.0, "{kind}: bf16 weights changed nothing (not used?)");
        assert!(
            d < 0.05 * scale,
            "{kind}: bf16 logits differ by {d} (scale {scale})"
        );
        assert_eq!(
            max_diff(&lm.forward_train(&x).unwrap(), &train),
            0.0,
            "{kind}: training changed"
        );
        lm.set_precision(Precision::F32).unwrap();
        assert_eq!(
            max_diff(&infer(&lm, &ids), &f32_logits),
            0.0,
            "{kind}: f32 not restored"
        );
    }
}

/// Agreement of bf16 with f32 on SmolLM2-135M: max |logit diff| over every position of each
/// prompt, and greedy tokens (64 new) equal position by position. Prints one JSON line per prompt.
#[test]
#[ignore = "needs benchmarks/out/model_speed/smollm2-135m (benchmarks/model_speed/run.sh)"]
fn smollm2_bf16_agreement() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benchmarks/out/model_speed/smollm2-135m");
    let mut gen = Generator::load_with(&dir, Weights::F32)
        .expect("model folder: run benchmarks/model_speed/run.sh");
    gen.set_stop_ids(Vec::new());
    let prompts = [
        "[GOAL]m n : ℕ\n h : Nat.coprime m n\n ⊢ Nat.gcd m n = 1[PROOFSTEP]",
        "[GOAL]x y : ℝ\nh₀ : x + y = 10\nh₁ : x - y = 2\n⊢ x = 6 ∧ y = 4[PROOFSTEP]constructor\n\
         [GOAL]case left\nx y : ℝ\nh₀ : x + y = 10\nh₁ : x - y = 2\n⊢ x = 6[PROOFSTEP]linarith",
    ];
    let greedy = GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![0.0],
            samples: 1,
            top_p: 1.0,
        },
        max_new_tokens: 64,
        seed: 0,
    };
    for text in prompts {
        let ids = gen.tokenizer().encode(text).unwrap();
        let run = |gen: &Generator| -> (Tensor, Sequence) {
            let logits = infer(gen.lm(), &ids);
            let seq = gen
                .generate_ids(std::slice::from_ref(&ids), &greedy)
                .unwrap()[0][0]
                .clone();
            (logits, seq)
        };
        gen.set_precision(Precision::F32).unwrap();
        let (l32, s32) = run(&gen);
        gen.set_precision(Precision::Bf16).unwrap();
        let (l16, s16) = run(&gen);
        let range = l32
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let argmax_same = l32
            .argmax(2)
            .unwrap()
            .eq(&l16.argmax(2).unwrap())
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .mean_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let same = s32
            .tokens
            .iter()
            .zip(&s16.tokens)
            .filter(|(a, b)| a == b)
            .count();
        let prefix = s32
            .tokens
            .iter()
            .zip(&s16.tokens)
            .take_while(|(a, b)| a == b)
            .count();
        println!(
            "{}",
            serde_json::json!({
                "prompt_tokens": ids.len(),
                "max_abs_logit_diff": max_diff(&l16, &l32),
                "max_abs_logit": range,
                "prompt_argmax_agreement": argmax_same,
                "greedy_tokens": s32.tokens.len(),
                "greedy_same_position": same,
                "greedy_common_prefix": prefix,
            })
        );
        assert_eq!(s32.tokens.len(), 64);
    }
}

#[test]
fn mixed_precision_training_is_close_to_f32_and_trains_every_parameter() {
    for kind in ["llama", "gpt_neox"] {
        for dtype in [candle_core::DType::BF16, candle_core::DType::F16] {
            let mut lm = model(kind);
            let ids: Vec<u32> = (0..10).map(|i| (i * 11 + 5) % 50).collect();
            let x = Tensor::new(ids.as_slice(), &Device::Cpu)
                .unwrap()
                .reshape((2, 5))
                .unwrap();
            let f32_logits = lm.forward_train(&x).unwrap();
            lm.set_autocast(Some(dtype));
            assert_eq!(lm.autocast(), Some(dtype));
            let half = lm.forward_train(&x).unwrap();
            assert_eq!(half.dtype(), candle_core::DType::F32);
            let scale = f32_logits.abs().unwrap().max_all().unwrap();
            let d = max_diff(&half, &f32_logits) / scale.to_scalar::<f32>().unwrap();
            assert!(
                d > 0.0 && d < 0.05,
                "{kind} {dtype:?}: relative logit error {d}"
            );
            let grads = half.sqr().unwrap().mean_all().unwrap().backward().unwrap();
            for (name, var) in lm.varmap().data().lock().unwrap().iter() {
                let g = grads.get(var.as_tensor());
                assert!(g.is_some(), "{kind} {dtype:?}: no gradient for {name}");
                let norm = g
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>();
                assert!(norm.unwrap().is_finite(), "{kind} {dtype:?}: {name}");
            }
            lm.set_autocast(None);
            assert_eq!(max_diff(&lm.forward_train(&x).unwrap(), &f32_logits), 0.0);
        }
    }
}
