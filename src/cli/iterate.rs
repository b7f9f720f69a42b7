//! `proofstep iterate`: expert iteration — search a pool of statements with the current model,
//! learn from the proofs Lean verified, evaluate on a validation split, round after round
//! (`proofstep::iterate`). Killed at any point, the same command resumes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use proofstep::eval::overlap::overlap;
use proofstep::eval::run_config::tasks_fingerprint;
use proofstep::eval::{load, DatasetOptions, IterateSettings, RunClaim, RunConfig, Task};
use proofstep::iterate::{run_iterate, FineTune, IterateOptions};
use proofstep::search::SearchConfig;

use crate::cli::args::{load_model_dir, SearchArgs};
use crate::cli::eval::checker;
use crate::cli::exit::Failure;

/// Arguments of `proofstep iterate`.
#[derive(clap::Args, Debug)]
pub struct IterateArgs {
    /// The pool of statements to prove (Lean files or a folder, e.g. from `proofstep corpus
    /// generate --statements-only`); statements that are validation theorems up to renaming
    /// are dropped.
    #[arg(long)]
    pub statements: PathBuf,
    /// The validation theorems every round is measured on.
    #[arg(long)]
    pub val: PathBuf,
    /// Rounds of search and fine-tuning after round 0 (the starting model's evaluation).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// The folder the rounds are written into (`round-K/model/`, `rounds.jsonl`, `rounds.svg`).
    #[arg(long)]
    pub out: PathBuf,
    /// Theorems searched at once.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Examples the starting model was trained on (seed JSONL), replayed in every round's
    /// fine-tune beside the new proofs.
    #[arg(long)]
    pub base_examples: Option<PathBuf>,
    /// Share of each fine-tune's examples taken by the proofs found so far (each repeated to
    /// make up about that share), the rest by --base-examples; 0 keeps one copy of each found
    /// example (what runs recorded before this flag did: resume those with 0). Without
    /// --base-examples the found proofs are all the data and the share has no effect.
    #[arg(long, default_value_t = 0.5, value_parser = share)]
    pub found_share: f64,
    /// Updates of each round's fine-tune.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Peak learning rate of each round's fine-tune.
    #[arg(long, default_value_t = 5e-4)]
    pub learning_rate: f64,
    /// Examples per update.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Warmup updates of each fine-tune.
    #[arg(long, default_value_t = 20)]
    pub warmup_steps: usize,
    /// Longest training example, in tokens.
    #[arg(long, default_value_t = 512)]
    pub model_max_length: usize,
    /// Seed of the fine-tunes' shuffles.
    #[arg(long, default_value_t = 0)]
    pub train_seed: u64,
    #[command(flatten)]
    pub search: SearchArgs,
}

/// Runs `proofstep iterate`.
pub fn run(args: IterateArgs) -> anyhow::Result<ExitCode> {
    if args.search.remote.is_remote() {
        return Err(Failure::Usage.error(
            "iterate fine-tunes the model it searches with, so it needs a local model folder \
             (--model), not a served one (--predictor-url)"
                .to_string(),
        ));
    }
    let pool = load(&args.statements, &DatasetOptions::default())
        .with_context(|| format!("reading the statements {}", args.statements.display()))?;
    let val = load(&args.val, &DatasetOptions::default())
        .with_context(|| format!("reading the validation theorems {}", args.val.display()))?;
    if val.is_empty() {
        return Err(Failure::Data.error(format!(
            "{} holds no theorems to validate on",
            args.val.display()
        )));
    }
    let copies = overlap(&pool, &val);
    let dropped: std::collections::HashSet<&str> =
        copies.copies.iter().map(|c| c.name.as_str()).collect();
    let pool: Vec<_> = pool
        .into_iter()
        .filter(|t| !dropped.contains(t.name.as_str()))
        .collect();
    if !dropped.is_empty() {
        eprintln!(
            "dropped {} pool statements that are validation theorems up to renaming",
            dropped.len()
        );
    }
    if pool.is_empty() {
        return Err(Failure::Data.error(format!(
            "{} holds no statements to search",
            args.statements.display()
        )));
    }
    let search = args.search.budget.config(args.search.backend.workers())?;
    let start = args.search.model.dir()?;
    let anchor = args
        .val
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    // Held for the run: one `iterate` writes OUT at a time, and only rounds of these settings
    // are resumed.
    let config = iterate_config(&args, &search, &anchor, &pool, &val)?;
    refuse_unrecorded_rounds(&args.out)?;
    let _claim = RunClaim::take(&args.out.join("rounds.jsonl"), &config, false)?;
    let backend = args.search.backend.open(&anchor)?;
    let also_try = args.search.budget.also_try();
    let (weights, device) = (args.search.model.weights, args.search.model.device);
    let load_model =
        move |dir: &std::path::Path| Ok(also_try.wrap(load_model_dir(dir, weights, device)?));
    let options = IterateOptions {
        rounds: args.rounds,
        out: args.out.clone(),
        workers: args.workers,
        search,
        fine_tune: FineTune {
            max_steps: args.steps,
            learning_rate: args.learning_rate,
            batch_size: args.batch_size,
            warmup_steps: args.warmup_steps,
            model_max_length: args.model_max_length,
            seed: args.train_seed,
            device: args.search.model.device,
            found_share: args.found_share,
        },
        base_examples: args.base_examples.clone(),
    };
    let rounds = run_iterate(&start, &pool, &val, backend.as_ref(), &load_model, &options)?;
    for r in &rounds {
        println!(
            "round {}: pool {}/{} proved ({} in total), {} new examples, val {}/{} ({:.1} %, {:.1}–{:.1} %)",
            r.round,
            r.pool_proved,
            r.pool_searched,
            r.pool_proved_total,
            r.new_examples,
            r.val_proved,
            r.val_total,
            100.0 * r.val_rate,
            100.0 * r.val_low,
            100.0 * r.val_high
        );
    }
    println!(
        "rounds in {}, plot {}",
        args.out.join("rounds.jsonl").display(),
        args.out.join("rounds.svg").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses an `out` holding round files but no record of the settings they were made with
/// (written before `iterate` recorded them, or by hand): a round's search results, examples and
/// model are resumed as they stand and its examples trained on, and none of that can be checked
/// again (the examples come from the search's traces), so such rounds are never taken as this
/// run's.
fn refuse_unrecorded_rounds(out: &std::path::Path) -> anyhow::Result<()> {
    if out.join("rounds.config.json").exists() {
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    let rounds = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("round-"))
        .count();
    let finished = out
        .join("rounds.jsonl")
        .metadata()
        .is_ok_and(|m| m.len() > 0);
    if rounds > 0 || finished {
        return Err(Failure::Conflict.error(format!(
            "{} holds rounds with no record of the settings they were made with, so they cannot be resumed as this run's (their examples could not be checked again): give this run a new --out",
            out.display()
        )));
    }
    Ok(())
}

/// The settings an `iterate` run records beside `rounds.jsonl` and resumes only under: the
/// starting model, the search, the validation theorems, what checks the proofs, the pool and
/// the fine-tunes.
fn iterate_config(
    args: &IterateArgs,
    search: &SearchConfig,
    anchor: &std::path::Path,
    pool: &[Task],
    val: &[Task],
) -> anyhow::Result<RunConfig> {
    let model = args.search.remote.identity(&args.search.model)?;
    let backend = clap::ValueEnum::to_possible_value(&args.search.backend.backend)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    let base_examples = match &args.base_examples {
        Some(path) => {
            use sha2::Digest;
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read --base-examples {}", path.display()))?;
            format!("{:x}", sha2::Sha256::digest(&bytes))
        }
        None => String::new(),
    };
    let both: Vec<Task> = val.iter().chain(pool).cloned().collect();
    Ok(RunConfig::new(
        &model.label,
        model.fingerprint,
        &backend,
        args.search.backend.tactic_timeout,
        search,
        &args.search.budget.also_try().tactics,
        &args.val.display().to_string(),
        None,
        val,
    )
    .checked_by(checker(&args.search, anchor, &both)?)
    .iterated(IterateSettings {
        pool: tasks_fingerprint(pool),
        base_examples,
        fine_tune: (
            args.steps,
            args.learning_rate,
            args.batch_size,
            args.warmup_steps,
            args.model_max_length,
            args.train_seed,
        ),
        // Without examples to replay every share gives the same data (one copy each).
        found_share: if args.base_examples.is_some() {
            args.found_share
        } else {
            0.0
        },
    }))
}

/// Reads `--found-share`: a share of the examples from 0 to 0.9 (the found examples' copies
/// are held in memory: 0.9 holds nine times the replayed examples).
fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number; give a share such as 0.5"))?;
    if (0.0..=0.9).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{text} is not a share from 0 to 0.9; give 0 (each found example once) up to 0.9"
        ))
    }
}
