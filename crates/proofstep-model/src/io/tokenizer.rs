//! The tokenizer of a model folder (`tokenizer.json`, Hugging Face `tokenizers`, pure Rust),
//! with the end token of the proof-step format (`proofstep_core::prompt`).

use std::path::Path;

use proofstep_core::prompt::END_OF_TEXT;
use tokenizers::Tokenizer;

use crate::error::{ModelError, Result};

/// A tokenizer that knows the proof-step format's end token.
#[derive(Clone)]
pub struct ProofTokenizer {
    inner: Tokenizer,
    eos: Option<u32>,
}

impl ProofTokenizer {
    /// Wraps a `tokenizers` tokenizer; the end token is `<|endoftext|>` when the vocabulary
    /// has it, else `fallback_eos` (e.g. the model's `eos_token_id`).
    /// The tokenizer's own padding and truncation are dropped, as transformers' fast
    /// tokenizers drop them: a prompt is never padded to a fixed length or cut by tokenizer.json
    /// (the generator fits it to the model's context itself).
    pub fn new(mut inner: Tokenizer, fallback_eos: Option<u32>) -> Self {
        inner.with_padding(None);
        // Removing truncation cannot fail (only a stride larger than a length could).
        let _ = inner.with_truncation(None);
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

    /// Text of generated ids, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenizer(format!("decoding failed: {e}")))
    }

    /// The text each of `ids` adds to `decode(ids)`, in order (what a completions API reports
    /// per token). A token ending inside a character adds "" and the token completing the
    /// character carries it; each piece is found by decoding a few tokens of context, so a
    /// tokenizer that drops a leading space at the start of a text (SentencePiece) keeps the
    /// spaces between tokens.
    pub fn pieces(&self, ids: &[u32]) -> Result<Vec<String>> {
        /// Tokens decoded before the pending ones, so leading-space rules see a context.
        const CONTEXT: usize = 4;
        let mut pieces = Vec::with_capacity(ids.len());
        // `ids[..done]` are accounted for; later ones wait for a whole character.
        let mut done: usize = 0;
        for i in 0..ids.len() {
            let from = done.saturating_sub(CONTEXT);
            let before = self.decode(&ids[from..done])?;
            let after = self.decode(&ids[from..=i])?;
            if after.ends_with(char::REPLACEMENT_CHARACTER) && i + 1 < ids.len() {
                pieces.push(String::new());
                continue;
            }
            let piece = match after.strip_prefix(before.as_str()) {
                Some(rest) => rest.to_string(),
                None => after,
            };
            pieces.push(piece);
            done = i + 1;
        }
        Ok(pieces)
    }

    /// The text of `id` on its own (`" exact"`), or for a token that decodes to nothing (an
    /// end token, a part of a character) its name in the vocabulary (`<|endoftext|>`), or
    /// `<id>` for an id outside the vocabulary.
    pub fn token_text(&self, id: u32) -> String {
        match self.decode(&[id]) {
            Ok(text) if !text.is_empty() && !text.contains(char::REPLACEMENT_CHARACTER) => text,
            _ => self
                .inner
                .id_to_token(id)
                .unwrap_or_else(|| format!("<{id}>")),
        }
    }

    /// Writes `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self
            .inner
            .to_string(true)
            .map_err(|e| ModelError::Tokenizer(format!("serializing: {e}")))?;
        proofstep_core::fsutil::write_atomic(path, text.as_bytes())
            .map_err(|e| ModelError::io(path, e))
    }
}
