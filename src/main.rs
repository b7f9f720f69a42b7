//! The `proofstep` command line. Each subcommand's arguments and body live in `src/cli/`;
//! how an error becomes an exit code, in `src/cli/exit.rs`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod cli;

/// Neural theorem proving for Lean 4: data, training, proof search, evaluation, suggestions.
#[derive(Parser)]
#[command(
    name = "proofstep",
    version,
    about,
    propagate_version = true,
    after_help = after_help()
)]
struct Cli {
    /// More log output (-v info, -vv debug); also RUST_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every theorem of a Lean file and classify it: proved, open, error, sorry or axiom.
    Check(cli::check::CheckArgs),
    /// Format training data: LeanDojo Benchmark 4 → the seed's JSONL splits, or whole-proof pairs for `refine`.
    Data(cli::data::DataArgs),
    /// Generate the test world's corpus: theorems with tactic proofs, checked by Lean, split train/val/test.
    Corpus(cli::corpus::CorpusArgs),
    /// Run Lean over Lean sources and record every tactic step (state before, tactic, state after) as LeanDojo JSON.
    Extract(cli::extract::ExtractArgs),
    /// Fine-tune (or train from scratch) a next-step predictor with the seed's options.
    Train(cli::train::TrainArgs),
    /// Train a byte-level BPE tokenizer on proof-step data (for from-scratch models).
    Tokenizer(cli::tokenizer::TokenizerArgs),
    /// Prove one theorem by best-first search: the model proposes steps, Lean checks each one.
    Prove(cli::prove::ProveArgs),
    /// Prove one theorem with whole proofs from a model (an OpenAI-compatible chat or
    /// completions endpoint), repaired with Lean's error messages.
    Refine(cli::refine::RefineArgs),
    /// Evaluate on a dataset: search every theorem, append one JSON line each, report the pass rate.
    Eval(cli::eval::EvalArgs),
    /// Expert iteration: search a pool of statements, learn from the proofs Lean verified,
    /// validate, round after round (resumable).
    Iterate(cli::iterate::IterateArgs),
    /// Serve next-step suggestions over HTTP with llmstep's protocol (POST / on localhost:6000).
    Serve(cli::serve::ServeArgs),
    /// Run Lean's language server behind a proxy that adds "Insert next step" code actions.
    Lsp(cli::lsp::LspArgs),
    /// Show which Lean toolchain, repl and models were found, and how to fix what is missing.
    Doctor(cli::doctor::DoctorArgs),
    /// Generate next-step candidates for a prompt with their scores (sampling or beam search).
    Generate(cli::generate::GenerateArgs),
    /// Model folders: import a GGUF file as a Hugging Face folder, or write one quantized once.
    Model(cli::model::ModelArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(cli::completions::CompletionsArgs),
}

/// The exit codes, then the environment variables no flag stands for.
fn after_help() -> String {
    format!(
        "{}\nEnvironment:\n  {}  cap the CPU kernels' instruction sets: scalar, avx2, avx512 (no AMX), native (default)\n",
        cli::exit::help_text(),
        proofstep::model::kernels::cpu::ENV
    )
}

fn main() -> ExitCode {
    cli::quiet_broken_pipe();
    let cli = Cli::parse();
    cli::init_logging(cli.verbose);
    if let Err(e) = proofstep::model::kernels::cpu::requested() {
        eprintln!("error: {e}");
        return ExitCode::from(cli::exit::Failure::Usage.code());
    }
    // `train` stops gracefully on its own (a checkpoint first) and starts no Lean.
    if !matches!(cli.command, Command::Train(_)) {
        if let Err(e) = proofstep::interrupt::install() {
            eprintln!("warning: Ctrl-C will not stop the Lean processes this run starts: {e}");
        }
    }
    let result = match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Data(args) => cli::data::run(args),
        Command::Corpus(args) => cli::corpus::run(args),
        Command::Extract(args) => cli::extract::run(args),
        Command::Doctor(args) => cli::doctor::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Model(args) => cli::model::run(args),
        Command::Tokenizer(args) => cli::tokenizer::run(args),
        Command::Train(args) => cli::train::run(args),
        Command::Prove(args) => cli::prove::run(args),
        Command::Refine(args) => cli::refine::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Iterate(args) => cli::iterate::run(args),
        Command::Serve(args) => cli::serve::run(args),
        Command::Lsp(args) => cli::lsp::run(args),
        Command::Completions(args) => cli::completions::run(args, Cli::command()),
    };
    proofstep::interrupt::wait_if_interrupted();
    match result {
        Ok(code) => code,
        Err(err) if cli::exit::is_closed_stdout(&err) => ExitCode::from(cli::exit::CLOSED_PIPE),
        Err(err) => {
            eprintln!("error: {}", cli::exit::message(&err));
            ExitCode::from(cli::exit::Failure::of(&err).code())
        }
    }
}
