//! The `Predictor` seam: what search and serve know of the model.

/// How to decode candidates from a prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoding {
    /// Temperature sampling with nucleus (top-p) filtering: `samples` candidates per
    /// temperature, for each temperature in turn (the seed's list of temperatures).
    Sample {
        /// The temperatures, each used for `samples` candidates (0 means greedy).
        temperatures: Vec<f32>,
        /// Candidates drawn per temperature.
        samples: usize,
        /// Nucleus mass kept when sampling (1.0 keeps the whole distribution).
        top_p: f32,
    },
    /// Beam search returning the `width` best finished sequences.
    Beam {
        /// Beams kept at each step, and sequences returned.
        width: usize,
    },
}

/// Options for one generation call.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    /// Sampling or beam search.
    pub decoding: Decoding,
    /// Stop after this many new tokens even without an end token.
    pub max_new_tokens: usize,
    /// Seed of the sampler: the same seed gives the same candidates.
    pub seed: u64,
}

/// Most sequences one prompt may ask to decode at once (samples × temperatures, or a beam's
/// width): each holds a decoding cache, so a flag or request asking for more would exhaust
/// memory rather than finish.
pub const MAX_SEQUENCES: usize = 4096;

impl GenerateOptions {
    /// The sequences decoded for each prompt: the beam's width, or samples × temperatures.
    pub fn per_prompt(&self) -> usize {
        match &self.decoding {
            Decoding::Beam { width } => *width,
            Decoding::Sample {
                temperatures,
                samples,
                ..
            } => temperatures.len().saturating_mul(*samples),
        }
    }

    /// An error naming the fix when one prompt asks for more than `MAX_SEQUENCES` sequences.
    pub fn check_size(&self) -> Result<(), String> {
        let n = self.per_prompt();
        if n > MAX_SEQUENCES {
            return Err(format!(
                "{n} sequences per prompt (samples × temperatures, or the beam's width) is more \
                 than the {MAX_SEQUENCES} decoded at once; ask for fewer"
            ));
        }
        Ok(())
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            decoding: Decoding::Sample {
                temperatures: vec![0.5],
                samples: 8,
                top_p: 0.95,
            },
            max_new_tokens: 64,
            seed: 0,
        }
    }
}

/// One generated continuation and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The generated text, without the prompt and without the end token.
    pub text: String,
    /// Mean log-probability of the generated tokens including the end token (the seed's
    /// normalization); higher is better, always <= 0.
    pub score: f64,
}

/// Candidates with duplicates removed (a text keeps its best score), best score first (ties
/// in text order): the order `Predictor::generate` promises, for every predictor.
pub fn rank_candidates(candidates: impl IntoIterator<Item = Candidate>) -> Vec<Candidate> {
    let mut best: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    for c in candidates {
        let score = best.entry(c.text).or_insert(f64::NEG_INFINITY);
        *score = score.max(c.score);
    }
    let mut ranked: Vec<Candidate> = best
        .into_iter()
        .map(|(text, score)| Candidate { text, score })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.text.cmp(&b.text))
    });
    ranked
}

/// One generated token of a [`Completion`]: what an OpenAI-style completions endpoint reports
/// per token when log-probabilities are asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionToken {
    /// The text this token adds to the completion (empty for a token that ends inside a
    /// character, whose text comes with the token completing it); for the end token, which
    /// adds nothing, its own name (`<|endoftext|>`).
    pub text: String,
    /// The model's log-probability of the token (temperature 1, as scores use).
    pub logprob: f64,
    /// The most likely tokens at this step with their log-probabilities, best first, when
    /// asked for; else empty.
    pub top: Vec<(String, f64)>,
}

/// One sampled continuation with its tokens: a choice of an OpenAI-style completion, before
/// any deduplication (`Predictor::generate` returns candidates; this is the raw material).
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The generated text, without the prompt and without the end token.
    pub text: String,
    /// Each generated token, the end token last when `ended`; its log-probabilities' mean is
    /// the candidate's score.
    pub tokens: Vec<CompletionToken>,
    /// Whether generation stopped at an end token (else at the token limit).
    pub ended: bool,
}

/// The samples for one prompt, and how many tokens the prompt took.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptCompletions {
    /// Tokens of the prompt (the usage an OpenAI-style endpoint reports).
    pub prompt_tokens: usize,
    /// The samples, in the order they were drawn.
    pub choices: Vec<Completion>,
}

/// A next-step predictor p(tactic | proof state).
pub trait Predictor: Send + Sync {
    /// Candidates for each prompt, duplicates removed, best score first. Prompts are decoded
    /// together (batched) where the implementation can.
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>>;

    /// `generate` for a caller whose time runs out at `deadline` (a search's `--time-limit`):
    /// a predictor that waits on something outside it (a server) stops waiting then and
    /// answers what it has, possibly nothing, rather than hold the caller past its limit. A
    /// model decoding here keeps this default (one step's decoding is short) and answers in
    /// full.
    fn generate_until(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        deadline: std::time::Instant,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let _ = deadline;
        self.generate(prompts, options)
    }

    /// Every sample for each prompt with its tokens' log-probabilities (and the `top_logprobs`
    /// most likely alternatives at each step), for serving the OpenAI completions API. Only
    /// sampling: beam search has no such answer. A predictor that cannot see tokens (one that
    /// only returns candidates) keeps this default, which says so.
    fn complete(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        top_logprobs: usize,
    ) -> anyhow::Result<Vec<PromptCompletions>> {
        let _ = (prompts, options, top_logprobs);
        anyhow::bail!(
            "this predictor returns scored candidates only, not token-level completions; \
             serve a model folder (--model) to answer /v1/completions"
        )
    }
}
