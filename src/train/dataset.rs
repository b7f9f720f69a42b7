//! Proof-step examples as token ids, the truncation rule for long states, and length-grouped
//! batches.
//!
//! Each example is `prompt ids ++ output ids`, the loss taken on the output ids only. The prompt
//! is the input encoded as the generator will encode it (with the tokenizer's own special tokens,
//! e.g. a BOS); the output is the tactic followed by the tokenizer's end-token id (a trailing
//! `<|endoftext|>` in the text is that token).
//!
//! Truncation rule (when prompt + output exceed `max_len`): the output is kept whole and the
//! prompt loses tokens from the *start of the proof state*, right after the leading `[GOAL]`
//! marker, keeping the marker, the end of the state and `[PROOFSTEP]`. A Lean state lists
//! hypotheses first and the goal (`⊢ …`) last, and a prompt always ends in `[PROOFSTEP]`, so this
//! keeps what the next tactic depends on most and what generation will see. (The seed truncates
//! the whole text on the right, which cuts the tactic and its end token instead.) An example
//! whose output alone leaves no room for the markers plus 16 state tokens is dropped and counted.

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::data::Example;
use crate::model::ProofTokenizer;
use crate::prompt::{tactic_of_completion, END_OF_TEXT, GOAL};

use super::error::TrainError;

/// One tokenized example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenizedExample {
    /// Prompt then output ids.
    pub ids: Vec<u32>,
    /// How many leading ids are prompt (no loss on them).
    pub prompt_len: usize,
}

impl TokenizedExample {
    /// Ids the loss is taken on.
    pub fn output_len(&self) -> usize {
        self.ids.len() - self.prompt_len
    }
}

/// Tokenized examples and what tokenizing did to them.
#[derive(Debug, Default)]
pub struct TokenizedSet {
    /// The examples kept, in input order.
    pub examples: Vec<TokenizedExample>,
    /// How many had their state truncated.
    pub truncated: usize,
    /// How many were dropped because the output alone did not fit.
    pub dropped: usize,
}

/// Tokenizes `examples` for sequences of at most `max_len` ids (see the module's truncation
/// rule), calling `progress` with the count done every 1024 examples.
pub fn tokenize(
    tokenizer: &ProofTokenizer,
    examples: &[Example],
    max_len: usize,
    mut progress: impl FnMut(usize),
) -> Result<TokenizedSet, TrainError> {
    let eos = tokenizer.eos_id().ok_or_else(|| {
        TrainError::Tokenizer(format!(
            "the tokenizer has no {END_OF_TEXT} and the model no eos_token_id: add an end token"
        ))
    })?;
    let encode = |text: &str, special: bool| -> Result<Vec<u32>, TrainError> {
        tokenizer
            .inner()
            .encode(text, special)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| TrainError::Tokenizer(format!("encoding failed: {e}")))
    };
    let head = encode(GOAL, true)?.len();
    let mut set = TokenizedSet::default();
    for (i, ex) in examples.iter().enumerate() {
        let mut prompt = encode(&ex.input, true)?;
        let tactic = tactic_of_completion(&ex.output);
        let mut output = encode(tactic, false)?;
        output.push(eos);
        if prompt.len() + output.len() > max_len {
            let keep = max_len.saturating_sub(output.len());
            let tail = keep.saturating_sub(head);
            if tail < 16 + 2 {
                set.dropped += 1;
                continue;
            }
            prompt.drain(head..prompt.len() - tail);
            set.truncated += 1;
        }
        let prompt_len = prompt.len();
        prompt.extend(output);
        set.examples.push(TokenizedExample {
            ids: prompt,
            prompt_len,
        });
        if i % 1024 == 0 {
            progress(i);
        }
    }
    progress(examples.len());
    Ok(set)
}

/// The batches of one epoch, as lists of example indices: a permutation drawn from
/// (`seed`, `epoch`), cut into mega-batches of 50 batches, each sorted by length (longest first)
/// and cut into batches of `batch_size` (transformers' `group_by_length` sampler), so padding is
/// small and the longest batch comes first (an out-of-memory shows at once). The same seed and
/// epoch give the same batches, which is what lets a resumed run continue exactly.
pub fn epoch_batches(
    lengths: &[usize],
    batch_size: usize,
    seed: u64,
    epoch: usize,
) -> Vec<Vec<usize>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(
        seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let mega = batch_size.max(1) * 50;
    let mut batches = Vec::new();
    for chunk in order.chunks(mega) {
        let mut chunk = chunk.to_vec();
        chunk.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
        batches.extend(chunk.chunks(batch_size.max(1)).map(|b| b.to_vec()));
    }
    if let Some(longest) = (0..batches.len()).max_by_key(|&b| lengths[batches[b][0]]) {
        batches.swap(0, longest);
    }
    batches
}

/// Consecutive batches of at most `batch_size` in input order, for evaluation.
pub fn sequential_batches(count: usize, batch_size: usize) -> Vec<Vec<usize>> {
    (0..count)
        .collect::<Vec<_>>()
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_example_once_and_group_lengths() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 300 + 1).collect();
        let batches = epoch_batches(&lengths, 8, 42, 0);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(lengths[batches[0][0]], 300);
        let spread: usize = batches
            .iter()
            .map(|b| lengths[b[0]] - lengths[*b.last().unwrap()])
            .sum();
        assert!(
            spread / batches.len() < 20,
            "mean length spread in a batch: {}",
            spread / batches.len()
        );
        assert_eq!(batches, epoch_batches(&lengths, 8, 42, 0));
        assert_ne!(batches, epoch_batches(&lengths, 8, 42, 1));
    }
}
