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

/// A next-step predictor p(tactic | proof state).
pub trait Predictor: Send + Sync {
    /// Candidates for each prompt, duplicates removed, best score first. Prompts are decoded
    /// together (batched) where the implementation can.
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>>;
}
