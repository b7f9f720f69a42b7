//! Training a byte-level BPE tokenizer for from-scratch models (`proofstep tokenizer train`):
//! merges learned over the inputs and outputs of proof-step examples, with the format's markers
//! `[GOAL]`, `[PROOFSTEP]` and the end and padding tokens as single tokens.

use std::path::Path;

use serde_json::json;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::data::Example;
use crate::fsutil::write_atomic;
use crate::prompt::{END_OF_TEXT, GOAL, PAD, PROOFSTEP};

use super::error::TrainError;

/// The single tokens every trained tokenizer has, with their ids (0..4, in this order).
pub const SPECIAL_TOKENS: [&str; 4] = [END_OF_TEXT, PAD, GOAL, PROOFSTEP];

/// Learns a byte-level BPE vocabulary of at most `vocab_size` entries (the 256 byte symbols and
/// the four special tokens included) from the inputs and outputs of `examples`.
pub fn train_tokenizer(examples: &[Example], vocab_size: usize) -> Result<Tokenizer, TrainError> {
    let floor = 256 + SPECIAL_TOKENS.len();
    if vocab_size < floor {
        return Err(TrainError::Config(format!(
            "--vocab-size {vocab_size} is too small: a byte-level BPE needs at least {floor} (256 bytes + 4 special tokens)"
        )));
    }
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(t.to_string(), true))
        .collect();
    let mut trainer = TrainerWrapper::BpeTrainer(
        BpeTrainer::builder()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(specials.clone())
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build(),
    );
    let mut tokenizer = Tokenizer::new(BPE::default());
    tokenizer.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    // The markers are cut out of the text before BPE sees it, so merges never cross them.
    let texts = examples
        .iter()
        .flat_map(|e| [strip_markers(&e.input), strip_markers(&e.output)]);
    tokenizer
        .train(&mut trainer, texts)
        .map_err(|e| TrainError::Tokenizer(format!("training the tokenizer failed: {e}")))?;
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| TrainError::Tokenizer(format!("adding the special tokens: {e}")))?;
    Ok(tokenizer)
}

/// The text with the format's markers removed (they become single tokens, not merges), and
/// runs of more than `MAX_WORD` characters without a space broken by one: the BPE trainer's
/// time grows faster than the square of a word's length (a base64 blob or a huge numeral in
/// one state stalled it for hours), and no merge spans that far anyway.
fn strip_markers(text: &str) -> String {
    let text = SPECIAL_TOKENS
        .iter()
        .fold(text.to_string(), |t, m| t.replace(m, ""));
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_whitespace() { 0 } else { run + 1 };
        if run > MAX_WORD {
            out.push(' ');
            run = 1;
        }
        out.push(c);
    }
    out
}

/// Longest run of non-space characters the tokenizer trainer sees as one (see `strip_markers`).
const MAX_WORD: usize = 128;

/// Writes `tokenizer.json` and a `tokenizer_config.json` naming the end and padding tokens (so
/// transformers' `AutoTokenizer` loads the folder) into `dir`, atomically.
pub fn save_tokenizer(
    tokenizer: &Tokenizer,
    dir: &Path,
    max_length: usize,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let text = tokenizer
        .to_string(true)
        .map_err(|e| TrainError::Tokenizer(format!("serializing the tokenizer: {e}")))?;
    let path = dir.join("tokenizer.json");
    write_atomic(&path, text.as_bytes()).map_err(|e| TrainError::io(&path, e))?;
    let config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": null,
        "eos_token": END_OF_TEXT,
        "pad_token": PAD,
        "unk_token": null,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": false,
    });
    let text = serde_json::to_string_pretty(&config).expect("json");
    let path = dir.join("tokenizer_config.json");
    write_atomic(&path, text.as_bytes()).map_err(|e| TrainError::io(&path, e))
}

#[cfg(test)]
mod tests {

    #[test]
    fn long_runs_without_a_space_are_broken_for_the_trainer() {
        let word = "ab".repeat(100_000);
        let text = strip_markers(&format!("[GOAL]x : {word}[PROOFSTEP]"));
        assert!(text
            .split_whitespace()
            .all(|w| w.chars().count() <= MAX_WORD));
        assert_eq!(text.replace(' ', ""), format!("x:{word}"));
        assert_eq!(strip_markers("[GOAL]n : Nat ⊢ n = n"), "n : Nat ⊢ n = n");
    }

    use super::*;

    #[test]
    fn markers_are_single_tokens_and_text_round_trips() {
        let examples: Vec<Example> = (0..50)
            .map(|i| {
                Example::proofstep(
                    &format!("x y : ℕ\nh : x = {i}\n⊢ x + y = y + x"),
                    "rw [Nat.add_comm]",
                )
            })
            .collect();
        let tok = train_tokenizer(&examples, 400).unwrap();
        assert!(tok.get_vocab_size(true) <= 400);
        for (id, t) in SPECIAL_TOKENS.iter().enumerate() {
            assert_eq!(tok.token_to_id(t), Some(id as u32), "{t}");
        }
        let text = format!("{}{}", examples[3].input, examples[3].output);
        let enc = tok.encode(text.as_str(), false).unwrap();
        let ids = enc.get_ids();
        assert_eq!(ids[0], 2);
        assert_eq!(*ids.last().unwrap(), 0);
        assert!(ids.contains(&3));
        assert!(
            ids.len() < text.len() / 2,
            "merges were learned: {} ids",
            ids.len()
        );
        let no_markers = tok.encode("h : x = 7 ⊢ ∀ ε > 0, ∃ δ", false).unwrap();
        assert_eq!(
            tok.decode(no_markers.get_ids(), true).unwrap(),
            "h : x = 7 ⊢ ∀ ε > 0, ∃ δ"
        );
    }
}
