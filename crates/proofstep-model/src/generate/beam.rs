//! Beam search over the batched decoder: every prompt keeps `width` live beams; each step
//! extends each beam by its `2 × width` most likely tokens, beams that emit an end token
//! (within the top `width`) are finished, and the best `width` others go on, their KV-cache
//! rows reordered with `index_select`. A prompt is done when it has `width` finished beams
//! and no live beam can beat them (transformers' heuristic), or at the length limit.

use crate::error::Result;
use crate::generate::generator::{Generator, Sequence};
use crate::generate::sampling::{log_probs, top_k};

/// A live beam: its tokens with their log-probabilities, their sum, and its KV-cache row.
#[derive(Clone)]
struct Beam {
    tokens: Vec<u32>,
    steps: Vec<(u32, f64)>,
    logprob: f64,
    row: u32,
}

/// Beam search for each prompt; returns up to `width` sequences per prompt (finished ones,
/// or the live ones cut at `max_new_tokens`).
pub(crate) fn beam_search(
    gen: &Generator,
    prompts: &[Vec<u32>],
    width: usize,
    max_new_tokens: usize,
) -> Result<Vec<Vec<Sequence>>> {
    let mut finished: Vec<Vec<Sequence>> = vec![Vec::new(); prompts.len()];
    if max_new_tokens == 0 {
        return Ok(finished);
    }
    let mut rows = gen.prefill(prompts, max_new_tokens)?;
    let mut beams: Vec<Vec<Beam>> = (0..prompts.len())
        .map(|p| {
            vec![Beam {
                tokens: Vec::new(),
                steps: Vec::new(),
                logprob: 0.0,
                row: p as u32,
            }]
        })
        .collect();
    let stop = gen.stop_ids();
    for step in 0..max_new_tokens {
        let mut keep = Vec::new();
        let mut next = Vec::new();
        for p in 0..prompts.len() {
            if beams[p].is_empty() {
                continue;
            }
            let mut cands: Vec<(f64, usize, u32, f64)> = Vec::new();
            for (b, beam) in beams[p].iter().enumerate() {
                let lp = log_probs(&rows.logits[beam.row as usize]);
                for (v, tok) in top_k(&lp, 2 * width) {
                    cands.push((beam.logprob + v, b, tok, v));
                }
            }
            cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let mut live = Vec::with_capacity(width);
            for (rank, &(logprob, b, tok, step_logprob)) in cands.iter().enumerate() {
                let parent = &beams[p][b];
                let steps = || {
                    let mut steps = parent.steps.clone();
                    steps.push((tok, step_logprob));
                    steps
                };
                if stop.contains(&tok) {
                    if rank < width {
                        let seq = Sequence {
                            tokens: parent.tokens.clone(),
                            ended: true,
                            logprob,
                            steps: steps(),
                            top: Vec::new(),
                        };
                        finished[p].push(seq);
                    }
                    continue;
                }
                let mut tokens = parent.tokens.clone();
                tokens.push(tok);
                live.push(Beam {
                    tokens,
                    steps: steps(),
                    logprob,
                    row: parent.row,
                });
                if live.len() == width {
                    break;
                }
            }
            let last = step + 1 == max_new_tokens;
            if last {
                finished[p].extend(live.drain(..).map(|b| Sequence {
                    tokens: b.tokens,
                    ended: false,
                    logprob: b.logprob,
                    steps: b.steps,
                    top: Vec::new(),
                }));
            } else if finished[p].len() >= width {
                let mut scores: Vec<f64> = finished[p].iter().map(Sequence::score).collect();
                scores.sort_by(|a, b| b.total_cmp(a));
                let worst_kept = scores[width - 1];
                let best_live = live
                    .iter()
                    .map(|b| b.logprob / (b.tokens.len() + 1) as f64)
                    .fold(f64::NEG_INFINITY, f64::max);
                if best_live <= worst_kept {
                    live.clear();
                }
            }
            for beam in live.iter_mut() {
                keep.push(beam.row);
                next.push(*beam.tokens.last().expect("a live beam has a token"));
                beam.row = (keep.len() - 1) as u32;
            }
            beams[p] = live;
        }
        if keep.is_empty() {
            break;
        }
        gen.advance(&mut rows, &keep, &next)?;
    }
    for f in finished.iter_mut() {
        f.sort_by(|a, b| b.score().total_cmp(&a.score()));
        f.truncate(width);
    }
    Ok(finished)
}
