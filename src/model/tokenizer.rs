//! The tokenizer of a model folder (`tokenizer.json`, Hugging Face `tokenizers`, pure Rust) and
//! the seed's proof-step format: input `[GOAL]{state}[PROOFSTEP]`, output `{tactic}<|endoftext|>`.
//! `[GOAL]` and `[PROOFSTEP]` are ordinary text (as in the seed); `<|endoftext|>` is the end token.

use std::path::Path;

use tokenizers::Tokenizer;

use super::error::{ModelError, Result};

/// Marks the start of a proof state in a prompt.
pub const GOAL: &str = "[GOAL]";
/// Marks the end of the proof state; the tactic follows.
pub const PROOFSTEP: &str = "[PROOFSTEP]";
/// The end token that closes every tactic.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// The seed's prompt for a proof state: `[GOAL]{state}[PROOFSTEP]`.
pub fn format_prompt(state: &str) -> String {
    format!("{GOAL}{state}{PROOFSTEP}")
}

/// A tokenizer that knows the proof-step format and its end token.
#[derive(Clone)]
pub struct ProofTokenizer {
    inner: Tokenizer,
    eos: Option<u32>,
}

impl ProofTokenizer {
    /// Wraps a `tokenizers` tokenizer; the end token is `<|endoftext|>` when the vocabulary
    /// has it, else `fallback_eos` (e.g. the model's `eos_token_id`).
    pub fn new(inner: Tokenizer, fallback_eos: Option<u32>) -> Self {
        let eos = inner.token_to_id(END_OF_TEXT).or(fallback_eos);
        ProofTokenizer { inner, eos }
    }

    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path, fallback_eos: Option<u32>) -> Result<Self> {
        if !path.exists() {
            return Err(ModelError::Tokenizer(format!(
                "{} not found: copy the base model's tokenizer.json into the model folder",
                path.display()
            )));
        }
        let inner = Tokenizer::from_file(path)
            .map_err(|e| ModelError::Tokenizer(format!("{}: {e}", path.display())))?;
        Ok(Self::new(inner, fallback_eos))
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// Id of the end token, if the tokenizer or model defines one.
    pub fn eos_id(&self) -> Option<u32> {
        self.eos
    }

    /// Token ids of `text`, with the special tokens the tokenizer's post-processor adds (as
    /// transformers' `tokenizer.encode(text)`).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(format!("encoding failed: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// A training example: ids of `prompt + completion` followed by the end token, and how many
    /// leading ids belong to the prompt (the loss is taken on the rest).
    pub fn encode_example(&self, prompt: &str, completion: &str) -> Result<(Vec<u32>, usize)> {
        let eos = self.eos.ok_or_else(|| {
            ModelError::Tokenizer(format!(
                "the tokenizer has no {END_OF_TEXT} and the model no eos_token_id: add one"
            ))
        })?;
        let prompt_len = self.encode(prompt)?.len();
        let mut ids = self.encode(&format!("{prompt}{completion}"))?;
        ids.push(eos);
        Ok((ids, prompt_len))
    }

    /// Text of generated ids, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenizer(format!("decoding failed: {e}")))
    }

    /// Writes `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self
            .inner
            .to_string(true)
            .map_err(|e| ModelError::Tokenizer(format!("serializing: {e}")))?;
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|e| ModelError::io(path, e))
    }
}
