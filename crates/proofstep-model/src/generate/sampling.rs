//! Choosing the next token of one row: temperature + nucleus (top-p) sampling, greedy at
//! temperature 0, and the model's log-probabilities (temperature 1) used for scores.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `log_softmax` of one row of logits, in f64 (the model's true log-probabilities).
pub fn log_probs(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let log_z = max + sum.ln();
    logits.iter().map(|&l| l as f64 - log_z).collect()
}

/// Index of the largest logit (ties: the lowest index).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// The model's log-probability (temperature 1) of token `tok` given one row of logits.
pub fn log_prob_of(logits: &[f32], tok: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    logits[tok as usize] as f64 - max - sum.ln()
}

/// Samples a token from `softmax(logits / temperature)` restricted to the smallest set of most
/// likely tokens whose probability reaches `top_p` (nucleus). Temperature <= 0 is greedy.
/// Returns the token and its log-probability under the model (temperature 1), the score unit.
pub fn sample(logits: &[f32], temperature: f32, top_p: f32, rng: &mut StdRng) -> (u32, f64) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if temperature <= 0.0 {
        let tok = argmax(logits);
        return (tok, log_prob_of(logits, tok));
    }
    let inv_t = 1.0 / temperature;
    let weights: Vec<f32> = logits.iter().map(|&l| ((l - max) * inv_t).exp()).collect();
    let total: f64 = weights.iter().map(|&w| w as f64).sum();
    let tok = if top_p < 1.0 {
        let nucleus = nucleus(&weights, total * top_p as f64);
        let kept: f64 = nucleus.iter().map(|p| p.0).sum();
        draw(nucleus.into_iter(), kept, rng)
    } else {
        draw(
            weights
                .iter()
                .enumerate()
                .map(|(i, &w)| (w as f64, i as u32)),
            total,
            rng,
        )
    };
    let log_z = if temperature == 1.0 {
        max as f64 + total.ln()
    } else {
        let sum: f64 = logits.iter().map(|&l| (l - max).exp() as f64).sum();
        max as f64 + sum.ln()
    };
    (tok, logits[tok as usize] as f64 - log_z)
}

/// Picks an index with probability proportional to its weight (`total` = sum of weights).
fn draw(items: impl Iterator<Item = (f64, u32)>, total: f64, rng: &mut StdRng) -> u32 {
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (w, i) in items {
        if w <= 0.0 {
            continue;
        }
        if u < w {
            return i;
        }
        u -= w;
        last = i;
    }
    last
}

/// The most likely tokens, largest first, until their weight reaches `mass`. Looks at the top
/// 64 first and widens only when needed, so a row costs O(vocab), not a full sort.
fn nucleus(weights: &[f32], mass: f64) -> Vec<(f64, u32)> {
    let mut k = 64;
    loop {
        let top = top_k(weights, k);
        let mut acc = 0.0;
        for (n, &(w, _)) in top.iter().enumerate() {
            acc += w;
            if acc >= mass {
                return top[..=n].to_vec();
            }
        }
        if k >= weights.len() {
            return top;
        }
        k *= 8;
    }
}

/// A random generator for one candidate row: the same (seed, prompt, row) always draws the same
/// numbers, whatever else is in the batch.
pub fn row_rng(seed: u64, prompt: &[u32], row: usize) -> StdRng {
    // FNV-1a over the prompt ids, mixed with the seed and the row number.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &t in prompt {
        h = (h ^ t as u64).wrapping_mul(0x100_0000_01b3);
    }
    h ^= seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ row as u64).wrapping_mul(0x100_0000_01b3);
    StdRng::seed_from_u64(h)
}

/// The `k` largest entries of `values` as (value, index), largest first (f32 values are widened
/// exactly, so their order is kept).
pub fn top_k<T: Copy + Into<f64>>(values: &[T], k: usize) -> Vec<(f64, u32)> {
    let mut idx: Vec<u32> = (0..values.len() as u32).collect();
    let k = k.min(idx.len());
    if k == 0 {
        return Vec::new();
    }
    let value = |i: u32| -> f64 { values[i as usize].into() };
    idx.select_nth_unstable_by(k - 1, |&a, &b| value(b).total_cmp(&value(a)));
    let mut top: Vec<(f64, u32)> = idx[..k].iter().map(|&i| (value(i), i)).collect();
    top.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    top
}
