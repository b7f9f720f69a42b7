//! One training configuration, timed: the step `proofstep train` runs (batch tensors, forward,
//! loss, backward, gradient clipping, AdamW) on random ids, `batch × seq` tokens per step.
//! Prints one JSON line: median tokens/s over the timed steps and peak resident memory.
//! Usage: train-speed --config llama-8m|llama-25m|smollm2-135m [--batch 8] [--seq 256] [--steps 5] [--warmup 2]

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{Device, Tensor};
use proofstep::model::{CausalLm, ModelConfig};
use proofstep::train::dataset::TokenizedExample;
use proofstep::train::loss::{make_batch, summed_nll};
use proofstep::train::optim::{AdamW, AdamWConfig};
use rand::{Rng, SeedableRng};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// The benchmark's model configurations, the same numbers as hf.py's.
fn config(name: &str) -> ModelConfig {
    let (vocab, hidden, ffn, layers, heads, kv, tied) = match name {
        "llama-8m" => (8192, 256, 1024, 4, 4, 4, false),
        "llama-25m" => (8192, 512, 1536, 6, 8, 8, true),
        "smollm2-135m" => (49152, 576, 1536, 30, 9, 3, true),
        other => panic!("unknown config {other}"),
    };
    let json = serde_json::json!({
        "model_type": "llama", "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": ffn,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 2048,
        "tie_word_embeddings": tied, "hidden_act": "silu",
    });
    ModelConfig::from_json(&json.to_string()).unwrap()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = arg(&args, "--config", "llama-8m");
    let batch: usize = arg(&args, "--batch", "8").parse().unwrap();
    let seq: usize = arg(&args, "--seq", "256").parse().unwrap();
    let steps: usize = arg(&args, "--steps", "5").parse().unwrap();
    let warmup: usize = arg(&args, "--warmup", "2").parse().unwrap();
    // The allocator settings `proofstep train` uses.
    proofstep::train::alloc::tune_for_training();
    let cfg = config(&name);
    let vocab = cfg.vocab_size();
    let lm = CausalLm::random(cfg, &Device::Cpu).unwrap();
    let vars = lm.varmap().data().lock().unwrap().clone();
    let mut opt = AdamW::new(
        &vars,
        AdamWConfig {
            weight_decay: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut times = Vec::new();
    for step in 0..warmup + steps {
        let examples: Vec<TokenizedExample> = (0..batch)
            .map(|_| TokenizedExample {
                ids: (0..seq)
                    .map(|_| rng.random_range(0..vocab as u32))
                    .collect(),
                prompt_len: 1,
            })
            .collect();
        let refs: Vec<&TokenizedExample> = examples.iter().collect();
        let started = Instant::now();
        let b = make_batch(&refs, 0, &Device::Cpu).unwrap();
        let loss = (summed_nll(&lm, &b).unwrap() / b.label_tokens as f64).unwrap();
        let forward = started.elapsed().as_secs_f64();
        let store = loss.backward().unwrap();
        let backward = started.elapsed().as_secs_f64() - forward;
        let grads: HashMap<String, Tensor> = opt
            .names()
            .filter_map(|n| Some((n.clone(), store.get(opt.var(n)?.as_tensor())?.clone())))
            .collect();
        opt.step(&grads, 1e-4).unwrap();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{name} step {step}: {secs:.3} s (forward+loss {forward:.3}, backward {backward:.3}, optimizer {:.3}), loss {:.3}",
            secs - forward - backward,
            loss.to_scalar::<f32>().unwrap()
        );
        if step >= warmup {
            times.push(secs);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = times[times.len() / 2];
    let line = serde_json::json!({
        "impl": "proofstep", "config": name, "params": lm.num_params(), "batch": batch, "seq": seq,
        "steps": steps, "median_step_s": median, "tokens_per_s": (batch * seq) as f64 / median,
        "peak_rss_mb": peak_rss_mb(),
        "loadavg_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    });
    println!("{line}");
}
