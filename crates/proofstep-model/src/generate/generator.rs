//! `Generator`: a loaded model + tokenizer implementing the `Predictor` seam. Prompts are
//! tokenized, left-padded and prefilled together; each prompt's KV-cache row is then repeated
//! for its candidates and all rows decode in one batch, finished rows dropping out.
//! Scores are the mean model log-probability (temperature 1) of the generated tokens
//! including the end token; duplicates are removed and candidates sorted best first.

use std::path::Path;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::arch::causal_lm::CausalLm;
use crate::arch::kv_cache::KvCache;
use crate::arch::precision::{Precision, PrecisionReport, Weights};
use crate::error::{ModelError, Result};
use crate::generate::beam::beam_search;
use crate::generate::sampling::{log_probs, row_rng, sample, top_k};
use crate::io::folder::{eos_ids, load_model_on};
use crate::io::tokenizer::ProofTokenizer;
use crate::predictor::{
    rank_candidates, Candidate, Completion, CompletionToken, Decoding, GenerateOptions, Predictor,
    PromptCompletions, MAX_SEQUENCES,
};

/// One row's draw at a step: the id, its log-probability, and the most likely ids when asked.
type Draw = (u32, f64, Vec<(u32, f64)>);

/// A generated continuation as token ids.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Generated ids, without the end token.
    pub tokens: Vec<u32>,
    /// Whether generation stopped at an end token (counted in the score) or at the length limit.
    pub ended: bool,
    /// Sum of the model's log-probabilities of the generated ids (and the end token).
    pub logprob: f64,
    /// Each step's id and its log-probability: the generated ids, then the end id when `ended`.
    pub steps: Vec<(u32, f64)>,
    /// The most likely ids and their log-probabilities at each of `steps`, best first, when
    /// asked for (`Generator::complete_texts`); else empty.
    pub top: Vec<Vec<(u32, f64)>>,
}

impl Sequence {
    /// Mean log-probability per generated token, the end token included.
    pub fn score(&self) -> f64 {
        let n = self.tokens.len() + usize::from(self.ended);
        if n == 0 {
            0.0
        } else {
            self.logprob / n as f64
        }
    }
}

/// The rows being decoded: their KV cache, left padding, and last logits `[rows, vocab]`.
pub(crate) struct Rows {
    pub cache: KvCache,
    pub pads: Vec<usize>,
    pub logits: Vec<Vec<f32>>,
}

/// A model ready to generate: network, tokenizer and the ids that end a candidate.
pub struct Generator {
    lm: CausalLm,
    tokenizer: ProofTokenizer,
    stop: Vec<u32>,
    weights: Weights,
}

impl Generator {
    /// A generator from parts; `stop` are the end ids (the tokenizer's end token is added).
    pub fn new(lm: CausalLm, tokenizer: ProofTokenizer, mut stop: Vec<u32>) -> Self {
        stop.extend(tokenizer.eos_id());
        stop.sort();
        stop.dedup();
        Generator {
            lm,
            tokenizer,
            stop,
            weights: Weights::Auto,
        }
    }

    /// Loads a Hugging Face model folder (config.json, safetensors, tokenizer.json,
    /// generation_config.json) onto the CPU as `--weights auto` does: the exact values, held
    /// for inference; on a CPU with AVX-512 or AVX2/FMA, matrices that are exactly Q4_1 / Q8_0
    /// blocks (a model imported from such a GGUF) are held packed (the same values in a
    /// quarter of the memory traffic), every other one as f32 (see `load_model_with`).
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_with(dir, Weights::Auto)
    }

    /// Loads a model folder as `--weights` says (`load` is `Weights::Auto`; see
    /// `load_model_with`: bf16, q8_0, q4_0 and q4_k hold the model once, converted, reduced
    /// precision).
    pub fn load_with(dir: &Path, weights: Weights) -> Result<Self> {
        Self::load_on(dir, weights, &Device::Cpu)
    }

    /// `load_with` on `device` (a GPU reads f32 or bf16 weights; see `load_model_on`).
    pub fn load_on(dir: &Path, weights: Weights, device: &Device) -> Result<Self> {
        let lm = load_model_on(dir, weights, device)?;
        let eos = eos_ids(dir, lm.config());
        let tokenizer =
            ProofTokenizer::from_file(&dir.join("tokenizer.json"), eos.first().copied())?;
        let mut generator = Self::new(lm, tokenizer, eos);
        generator.weights = weights;
        Ok(generator)
    }

    /// The weights it was loaded with (`Weights::Auto` for one made by `new`).
    pub fn weights(&self) -> Weights {
        self.weights
    }

    /// The network.
    pub fn lm(&self) -> &CausalLm {
        &self.lm
    }

    /// Chooses the weights generation reads beside the f32 parameters of a generator loaded
    /// with `Weights::F32` (or made by `new`): exact packings, bf16, Q8_0, Q4_0, Q4_K copies (see
    /// `precision.rs`); says how many projections read a copy. An error on a held model.
    pub fn set_precision(&mut self, p: Precision) -> Result<PrecisionReport> {
        self.lm.set_precision(p)
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &ProofTokenizer {
        &self.tokenizer
    }

    /// Replaces the ids that end a candidate (empty: always generate `max_new_tokens`, as
    /// speed benchmarks do).
    pub fn set_stop_ids(&mut self, ids: Vec<u32>) {
        self.stop = ids;
    }

    /// Ids that end a candidate.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop
    }

    /// Runs the prompts (token ids) through the model, left-padded into one batch.
    /// `capacity`: tokens the caller will add, so the cache is allocated once.
    pub(crate) fn prefill(&self, prompts: &[Vec<u32>], capacity: usize) -> Result<Rows> {
        let len = prompts.iter().map(Vec::len).max().unwrap_or(0);
        if prompts.iter().any(Vec::is_empty) {
            return Err(ModelError::Generate(
                "empty prompt: give at least one token".into(),
            ));
        }
        let pad_id = self.stop.first().copied().unwrap_or(0);
        let mut flat = Vec::with_capacity(prompts.len() * len);
        let mut pads = Vec::with_capacity(prompts.len());
        for p in prompts {
            pads.push(len - p.len());
            flat.extend(std::iter::repeat_n(pad_id, len - p.len()));
            flat.extend_from_slice(p);
        }
        let ids = Tensor::from_vec(flat, (prompts.len(), len), self.lm.device())?;
        // Room for the new tokens up front, up to a bound: past it the cache grows by doubling,
        // so a long `max_new_tokens` costs memory only as tokens come.
        let room = capacity.min(PREALLOCATED_NEW_TOKENS);
        let mut cache = KvCache::with_capacity(self.lm.num_layers(), len + room);
        let logits = self
            .lm
            .forward_cached(&ids, &pads, &mut cache, true)?
            .squeeze(1)?;
        Ok(Rows {
            cache,
            pads,
            logits: logits.to_vec2()?,
        })
    }

    /// Keeps rows `keep` (in that order, repeats allowed) and feeds each kept row its next id.
    pub(crate) fn advance(&self, rows: &mut Rows, keep: &[u32], next: &[u32]) -> Result<()> {
        let identity =
            keep.len() == rows.pads.len() && keep.iter().enumerate().all(|(i, &k)| i as u32 == k);
        // Candidates of one unpadded prompt share its keys and values rather than copy them.
        let expand = keep.len() > rows.pads.len() && rows.pads.iter().all(|&p| p == 0);
        if expand && rows.cache.can_share() {
            rows.cache.share_prefix(keep)?;
            rows.pads = keep.iter().map(|&k| rows.pads[k as usize]).collect();
        } else if !identity {
            let idx = Tensor::new(keep, self.lm.device())?;
            rows.cache.select_rows(&idx)?;
            rows.pads = keep.iter().map(|&k| rows.pads[k as usize]).collect();
        }
        let ids = Tensor::from_vec(next.to_vec(), (next.len(), 1), self.lm.device())?;
        let logits = self
            .lm
            .forward_cached(&ids, &rows.pads, &mut rows.cache, true)?;
        rows.logits = logits.squeeze(1)?.to_vec2()?;
        Ok(())
    }

    /// Prompts cut to the model's context, `max_new_tokens` left free after them: a longer
    /// prompt keeps its end (a goal's `⊢` line and the prompt's last marker), as the model
    /// never saw more, and the memory of attention and of the decoding cache stays bounded
    /// whatever a client or a file sends.
    /// An id past the model's vocabulary (a tokenizer.json of another model) is an error.
    fn fit_to_context(&self, prompts: &[Vec<u32>], max_new_tokens: usize) -> Result<Vec<Vec<u32>>> {
        let vocab = self.lm.config().vocab_size();
        if let Some(id) = prompts.iter().flatten().find(|id| **id as usize >= vocab) {
            return Err(ModelError::Tokenizer(format!(
                "the prompt has token id {id}, past config.json's vocab_size {vocab}: \
                 tokenizer.json is not this model's tokenizer; copy the model's own into the folder"
            )));
        }
        let context = self.lm.config().context_length().max(2);
        let room = context
            .saturating_sub(max_new_tokens.min(context / 2))
            .max(1);
        Ok(prompts
            .iter()
            .map(|p| p[p.len().saturating_sub(room)..].to_vec())
            .collect())
    }

    /// Token-level generation for prompts given as ids: per prompt, the sequences (not yet
    /// deduplicated), in no particular order. A prompt longer than the model's context keeps
    /// its end (`fit_to_context`).
    pub fn generate_ids(
        &self,
        prompts: &[Vec<u32>],
        options: &GenerateOptions,
    ) -> Result<Vec<Vec<Sequence>>> {
        if prompts.is_empty() {
            return Ok(Vec::new());
        }
        options.check_size().map_err(ModelError::Generate)?;
        // Decoded a chunk of prompts at a time, so the decoding caches stay bounded.
        let chunk = (MAX_SEQUENCES / options.per_prompt().max(1)).max(1);
        if prompts.len() > chunk {
            let mut out = Vec::with_capacity(prompts.len());
            for part in prompts.chunks(chunk) {
                out.extend(self.generate_ids(part, options)?);
            }
            return Ok(out);
        }
        // No sequence outgrows the model's context, whatever a flag or request asks.
        let options = &GenerateOptions {
            max_new_tokens: options
                .max_new_tokens
                .min(self.lm.config().context_length()),
            ..options.clone()
        };
        let fitted = self.fit_to_context(prompts, options.max_new_tokens)?;
        let prompts = fitted.as_slice();
        let seqs = match &options.decoding {
            Decoding::Beam { width } => {
                if *width == 0 {
                    return Err(ModelError::Generate("beam width must be at least 1".into()));
                }
                beam_search(self, prompts, *width, options.max_new_tokens)
            }
            Decoding::Sample {
                temperatures,
                samples,
                top_p,
            } => {
                if !(*top_p > 0.0 && *top_p <= 1.0) {
                    return Err(ModelError::Generate(format!(
                        "top_p {top_p} must be in (0, 1]"
                    )));
                }
                self.sample_ids(prompts, temperatures, *samples, *top_p, options, 0)
            }
        }?;
        finite(seqs)
    }

    /// Samples `samples` rows per temperature for each prompt; `top` > 0 also records the `top`
    /// most likely ids at each step.
    fn sample_ids(
        &self,
        prompts: &[Vec<u32>],
        temperatures: &[f32],
        samples: usize,
        top_p: f32,
        options: &GenerateOptions,
        top: usize,
    ) -> Result<Vec<Vec<Sequence>>> {
        let mut out: Vec<Vec<Sequence>> = vec![Vec::new(); prompts.len()];
        let per_prompt = temperatures.len() * samples;
        if per_prompt == 0 || options.max_new_tokens == 0 {
            return Ok(out);
        }
        let mut rows = self.prefill(prompts, options.max_new_tokens)?;
        // One decoding row per (prompt, temperature, sample), each with its own random stream.
        struct Row {
            prompt: usize,
            temperature: f32,
            rng: rand::rngs::StdRng,
            seq: Sequence,
        }
        let mut alive: Vec<Row> = Vec::with_capacity(prompts.len() * per_prompt);
        let mut source: Vec<u32> = Vec::with_capacity(prompts.len() * per_prompt);
        for (p, ids) in prompts.iter().enumerate() {
            for (r, &temperature) in temperatures
                .iter()
                .flat_map(|t| std::iter::repeat_n(t, samples))
                .enumerate()
            {
                alive.push(Row {
                    prompt: p,
                    temperature,
                    rng: row_rng(options.seed, ids, r),
                    seq: Sequence {
                        tokens: Vec::new(),
                        ended: false,
                        logprob: 0.0,
                        steps: Vec::new(),
                        top: Vec::new(),
                    },
                });
                source.push(p as u32);
            }
        }
        rows.logits = source
            .iter()
            .map(|&s| rows.logits[s as usize].clone())
            .collect();
        let mut row_of_cache = source;
        for step in 0..options.max_new_tokens {
            let mut keep = Vec::with_capacity(alive.len());
            let mut next = Vec::with_capacity(alive.len());
            let mut still = Vec::with_capacity(alive.len());
            // Rows draw in parallel (each from its own random stream, so the result does not
            // depend on the threads).
            let drawn: Vec<Draw> = alive
                .par_iter_mut()
                .zip(&rows.logits)
                .map(|(row, logits)| {
                    let (tok, logprob) = sample(logits, row.temperature, top_p, &mut row.rng);
                    let best = if top > 0 {
                        top_k(&log_probs(logits), top)
                            .into_iter()
                            .map(|(lp, id)| (id, lp))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    (tok, logprob, best)
                })
                .collect();
            for ((i, mut row), (tok, logprob, best)) in alive.into_iter().enumerate().zip(drawn) {
                row.seq.logprob += logprob;
                row.seq.steps.push((tok, logprob));
                if top > 0 {
                    row.seq.top.push(best);
                }
                if self.stop.contains(&tok) {
                    row.seq.ended = true;
                    out[row.prompt].push(row.seq);
                } else {
                    row.seq.tokens.push(tok);
                    if step + 1 == options.max_new_tokens {
                        out[row.prompt].push(row.seq);
                    } else {
                        keep.push(row_of_cache[i]);
                        next.push(tok);
                        still.push(row);
                    }
                }
            }
            alive = still;
            if alive.is_empty() {
                break;
            }
            self.advance(&mut rows, &keep, &next)?;
            row_of_cache = (0..alive.len() as u32).collect();
        }
        Ok(out)
    }

    /// Every sample for each prompt with its tokens, as `Predictor::complete` returns them:
    /// sampling only (beam search is refused), `top_logprobs` alternatives per step.
    pub fn complete_texts(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        top_logprobs: usize,
    ) -> Result<Vec<PromptCompletions>> {
        let Decoding::Sample {
            temperatures,
            samples,
            top_p,
        } = &options.decoding
        else {
            return Err(ModelError::Generate(
                "token-level completions are sampled; beam search has none".into(),
            ));
        };
        if !(*top_p > 0.0 && *top_p <= 1.0) {
            return Err(ModelError::Generate(format!(
                "top_p {top_p} must be in (0, 1]"
            )));
        }
        options.check_size().map_err(ModelError::Generate)?;
        let options = &GenerateOptions {
            max_new_tokens: options
                .max_new_tokens
                .min(self.lm.config().context_length()),
            ..options.clone()
        };
        let ids = prompts
            .iter()
            .map(|p| self.tokenizer.encode(p))
            .collect::<Result<Vec<_>>>()?;
        let ids = self.fit_to_context(&ids, options.max_new_tokens)?;
        let seqs = if ids.is_empty() {
            Vec::new()
        } else {
            finite(self.sample_ids(&ids, temperatures, *samples, *top_p, options, top_logprobs)?)?
        };
        let name = |id: u32| self.tokenizer.token_text(id);
        ids.iter()
            .zip(seqs)
            .map(|(prompt, seqs)| {
                let choices = seqs
                    .into_iter()
                    .map(|s| {
                        let mut texts = self.tokenizer.pieces(&s.tokens)?;
                        if s.ended {
                            texts.extend(s.steps.last().map(|&(id, _)| name(id)));
                        }
                        let mut top = s.top.into_iter();
                        let tokens = texts
                            .into_iter()
                            .zip(s.steps.iter().map(|&(_, lp)| lp))
                            .map(|(text, logprob)| CompletionToken {
                                text,
                                logprob,
                                top: top
                                    .next()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|(id, lp)| (name(id), lp))
                                    .collect(),
                            })
                            .collect();
                        Ok(Completion {
                            text: self.tokenizer.decode(&s.tokens)?,
                            tokens,
                            ended: s.ended,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PromptCompletions {
                    prompt_tokens: prompt.len(),
                    choices,
                })
            })
            .collect()
    }

    /// Candidates for each prompt, each starting with (and returned including) its prefix: the
    /// prefix is appended to the prompt and generation continues from it (llmstep's
    /// prefix-constrained suggestions). An empty prefix is plain generation.
    pub fn generate_with_prefixes(
        &self,
        prompts: &[String],
        prefixes: &[String],
        options: &GenerateOptions,
    ) -> Result<Vec<Vec<Candidate>>> {
        if prompts.len() != prefixes.len() {
            return Err(ModelError::Generate(
                "one prefix per prompt is needed".into(),
            ));
        }
        let ids = prompts
            .iter()
            .zip(prefixes)
            .map(|(p, x)| self.tokenizer.encode(&format!("{p}{x}")))
            .collect::<Result<Vec<_>>>()?;
        let seqs = self.generate_ids(&ids, options)?;
        let limit = match options.decoding {
            Decoding::Beam { width } => width,
            Decoding::Sample { .. } => usize::MAX,
        };
        seqs.into_iter()
            .zip(prefixes)
            .map(|(seqs, prefix)| {
                let cands = seqs
                    .into_iter()
                    .map(|s| {
                        Ok(Candidate {
                            text: format!("{prefix}{}", self.tokenizer.decode(&s.tokens)?),
                            score: s.score(),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut cands = rank_candidates(cands);
                cands.truncate(limit);
                Ok(cands)
            })
            .collect()
    }
}

impl Predictor for Generator {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let prefixes = vec![String::new(); prompts.len()];
        Ok(self.generate_with_prefixes(prompts, &prefixes, options)?)
    }

    fn complete(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        top_logprobs: usize,
    ) -> anyhow::Result<Vec<PromptCompletions>> {
        Ok(self.complete_texts(prompts, options, top_logprobs)?)
    }
}

/// Sets how many threads candle's CPU kernels use. Call before the first model operation
/// (it sets `RAYON_NUM_THREADS`, which candle and rayon's global pool read once).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}

/// New tokens the decoding cache holds room for before the first one (more grow it).
const PREALLOCATED_NEW_TOKENS: usize = 512;

/// `seqs`, unless a score is not a finite number: the model's outputs were NaN or infinite
/// (damaged weights, or a config.json whose arithmetic overflows), and no candidate of it
/// means anything.
fn finite(seqs: Vec<Vec<Sequence>>) -> Result<Vec<Vec<Sequence>>> {
    if seqs.iter().flatten().any(|s| !s.logprob.is_finite()) {
        return Err(ModelError::Generate(
            "the model's outputs are not finite numbers (NaN or infinity): its weights or \
             config.json are damaged; load the model's own files again"
                .into(),
        ));
    }
    Ok(seqs)
}
