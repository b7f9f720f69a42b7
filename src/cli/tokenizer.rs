//! `proofstep tokenizer train`: a byte-level BPE tokenizer for from-scratch models.

use std::path::PathBuf;
use std::process::ExitCode;

use proofstep::data::read_examples;
use proofstep::train::bpe::{save_tokenizer, train_tokenizer, SPECIAL_TOKENS};

/// Arguments of `proofstep tokenizer`.
#[derive(clap::Args, Debug)]
pub struct TokenizerArgs {
    #[command(subcommand)]
    pub command: TokenizerCommand,
}

/// What `proofstep tokenizer` can do.
#[derive(clap::Subcommand, Debug)]
pub enum TokenizerCommand {
    /// Learn a byte-level BPE over the inputs and outputs of proof-step JSONL files;
    /// `<|endoftext|>`, `[PAD]`, `[GOAL]`, `[PROOFSTEP]` are single tokens (ids 0 to 3).
    Train(TrainTokenizerArgs),
}

/// Arguments of `proofstep tokenizer train`.
#[derive(clap::Args, Debug)]
pub struct TrainTokenizerArgs {
    /// Proof-step JSONL files (`{"input", "output"}` per line), e.g. proofstep-train.jsonl.
    #[arg(long, num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    /// Largest vocabulary, bytes and special tokens included.
    #[arg(long, default_value_t = 8192)]
    pub vocab_size: usize,
    /// Folder to write tokenizer.json and tokenizer_config.json into.
    #[arg(long)]
    pub out: PathBuf,
    /// model_max_length written into tokenizer_config.json.
    #[arg(long, default_value_t = 1024)]
    pub model_max_length: usize,
}

/// Runs `proofstep tokenizer`.
pub fn run(args: TokenizerArgs) -> anyhow::Result<ExitCode> {
    let TokenizerCommand::Train(args) = args.command;
    let mut examples = Vec::new();
    for path in &args.data {
        examples.extend(read_examples(path)?);
    }
    if examples.is_empty() {
        return Err(crate::cli::exit::Failure::Data.error(format!(
            "no examples in {:?}: pass proof-step JSONL files written by `proofstep data`",
            args.data
        )));
    }
    tracing::info!(
        examples = examples.len(),
        vocab_size = args.vocab_size,
        "training the tokenizer"
    );
    let tokenizer = train_tokenizer(&examples, args.vocab_size)?;
    save_tokenizer(&tokenizer, &args.out, args.model_max_length)?;
    let summary = serde_json::json!({
        "tokenizer": args.out.join("tokenizer.json"),
        "vocab_size": tokenizer.get_vocab_size(true),
        "examples": examples.len(),
        "special_tokens": SPECIAL_TOKENS,
    });
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
