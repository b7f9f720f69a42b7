//! How closely a model in reduced precision follows the f32 one: the reference model's greedy
//! continuations of some prompts are scored by both, teacher-forced, and compared position by
//! position — does the other model pick the same next token (top-1 agreement), and by how
//! much do the two log-probabilities of that token differ (mean |Δ log-prob|). The quality
//! table of benchmarks/README.md ("weights_quality") is made with it (`proofstep model agree`).

use candle_core::{Device, Tensor};

use crate::arch::causal_lm::CausalLm;
use crate::error::{ModelError, Result};
use crate::generate::sampling::{argmax, log_probs};

/// The comparison of two models over the same continuations.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Agreement {
    /// Positions compared (continuation tokens, all prompts).
    pub positions: usize,
    /// Fraction of positions where the other model's most likely token is the reference's.
    pub top1: f64,
    /// Mean |log p_reference(token) − log p_other(token)| over the positions.
    pub mean_abs_dlogp: f64,
    /// The largest such difference.
    pub max_abs_dlogp: f64,
}

/// Logits `[t, vocab]` of every position of `ids`, rows of f32.
fn all_logits(lm: &CausalLm, ids: &[u32]) -> Result<Vec<Vec<f32>>> {
    let x = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
    let mut cache = lm.new_cache();
    Ok(lm
        .forward_cached(&x, &[0], &mut cache, false)?
        .squeeze(0)?
        .to_vec2()?)
}

/// `reference`'s greedy continuation of `prompt`, `new_tokens` long (end tokens ignored).
fn greedy(reference: &CausalLm, prompt: &[u32], new_tokens: usize) -> Result<Vec<u32>> {
    let mut cache = reference.new_cache();
    let mut seq = prompt.to_vec();
    let mut x = Tensor::new(prompt, &Device::Cpu)?.unsqueeze(0)?;
    for _ in 0..new_tokens {
        let logits: Vec<f32> = reference
            .forward_cached(&x, &[0], &mut cache, true)?
            .flatten_all()?
            .to_vec1()?;
        let next = argmax(&logits);
        seq.push(next);
        x = Tensor::new(&[next], &Device::Cpu)?.unsqueeze(0)?;
    }
    Ok(seq)
}

/// Compares `other` with `reference` on `reference`'s greedy continuations (`new_tokens`
/// each) of `prompts`.
pub fn agreement(
    reference: &CausalLm,
    other: &CausalLm,
    prompts: &[Vec<u32>],
    new_tokens: usize,
) -> Result<Agreement> {
    if prompts.iter().any(Vec::is_empty) || new_tokens == 0 {
        return Err(ModelError::Generate(
            "agreement needs non-empty prompts and at least one new token".into(),
        ));
    }
    let (mut same, mut sum, mut max, mut n) = (0usize, 0f64, 0f64, 0usize);
    for prompt in prompts {
        let seq = greedy(reference, prompt, new_tokens)?;
        let (a, b) = (all_logits(reference, &seq)?, all_logits(other, &seq)?);
        for p in prompt.len() - 1..seq.len() - 1 {
            let token = seq[p + 1] as usize;
            same += usize::from(argmax(&b[p]) as usize == token);
            let d = (log_probs(&a[p])[token] - log_probs(&b[p])[token]).abs();
            sum += d;
            max = max.max(d);
            n += 1;
        }
    }
    Ok(Agreement {
        positions: n,
        top1: same as f64 / n as f64,
        mean_abs_dlogp: sum / n as f64,
        max_abs_dlogp: max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::config::ModelConfig;
    use crate::arch::precision::Precision;

    fn model() -> CausalLm {
        let v = serde_json::json!({
            "model_type": "llama", "vocab_size": 64, "hidden_size": 64, "intermediate_size": 64,
            "num_hidden_layers": 1, "num_attention_heads": 4, "tie_word_embeddings": true
        });
        let lm = CausalLm::random_seeded(
            ModelConfig::from_json(&v.to_string()).unwrap(),
            &Device::Cpu,
            5,
        )
        .unwrap();
        for var in lm.varmap().all_vars() {
            var.set(&(var.as_tensor() * 8.0).unwrap()).unwrap();
        }
        lm
    }

    #[test]
    fn a_model_agrees_with_itself_and_less_with_its_rounding() {
        let prompts = vec![vec![1, 2, 3], vec![9]];
        let lm = model();
        let same = agreement(&lm, &lm, &prompts, 5).unwrap();
        assert_eq!(same.positions, 10);
        assert_eq!((same.top1, same.mean_abs_dlogp), (1.0, 0.0));
        let mut q4 = model();
        q4.set_precision(Precision::Q4_0).unwrap();
        let rounded = agreement(&lm, &q4, &prompts, 5).unwrap();
        assert!(rounded.mean_abs_dlogp > 0.0 && rounded.max_abs_dlogp >= rounded.mean_abs_dlogp);
        assert!(agreement(&lm, &lm, &[vec![]], 5).is_err());
    }
}
