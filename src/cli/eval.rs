//! `proofstep eval`: search every theorem of a dataset, one JSON line per theorem appended to
//! `--out` as it finishes (a rerun resumes), then a summary (printed and written as JSON) and a
//! Markdown report with a plot of pass rate against the expansion budget.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::eval::{
    evaluate, load, write_report, DatasetOptions, EvalOptions, ResultsFile, RunClaim, RunConfig,
    Summary,
};
use proofstep::lean::toolchain::LakeProject;

use crate::cli::args::{SearchArgs, SearchSetup};

/// Arguments of `proofstep eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The theorems: a miniF2F/ProofNet JSONL (`formal_statement` + `header`), a JSONL or JSON file
    /// of LeanDojo records (`full_name` + `statement`, or a LeanDojo Benchmark 4 split file with
    /// `--repo`), a Lean file, or a folder of Lean files.
    #[arg(long)]
    pub dataset: PathBuf,
    /// Results, one JSON line per theorem. An existing file is resumed when it was written
    /// with the same settings (recorded beside it in `<stem>.config.json`); a run holds a lock
    /// on `<stem>.lock` while it writes.
    #[arg(long)]
    pub out: PathBuf,
    /// Only theorems of this split (e.g. test, valid), for datasets that record one.
    #[arg(long)]
    pub split: Option<String>,
    /// Only the first N theorems (after the split filter).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Theorems searched at once.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// The Lake project whose sources LeanDojo records point to (their statements and headers
    /// are read from there).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// A header for records that carry none (e.g. "import Mathlib").
    #[arg(long)]
    pub header: Option<String>,
    /// Keep every search's full trace in its result line.
    #[arg(long)]
    pub trace: bool,
    /// Resume a results file written before proofstep recorded run settings, taking its
    /// results as this run's (only when they came from these same settings).
    #[arg(long)]
    pub adopt_results: bool,
    #[command(flatten)]
    pub search: SearchArgs,
}

/// Runs `proofstep eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let options = DatasetOptions {
        split: args.split.clone(),
        repo: args.repo.clone(),
        header: args.header.clone(),
    };
    let mut tasks = load(&args.dataset, &options)?;
    let config = run_config(&args, &tasks)?;
    if let Some(limit) = args.limit {
        tasks.truncate(limit);
    }
    if tasks.is_empty() {
        bail!(
            "{} holds no theorems{}",
            args.dataset.display(),
            args.split
                .as_deref()
                .map(|s| format!(" of split `{s}` (check --split)"))
                .unwrap_or_default()
        );
    }
    // Held until this run ends: no other eval appends to --out meanwhile.
    let _claim = RunClaim::take(&args.out, &config, args.adopt_results)?;
    let (results, previous) = ResultsFile::open(&args.out)?;
    let SearchSetup {
        config: search,
        predictor,
        backend,
    } = args.search.setup(&toolchain_anchor(&args))?;
    eprintln!(
        "{} theorems, {} already done in {}; backend {}, {} expansions and {} s per theorem",
        tasks.len(),
        tasks.iter().filter(|t| results.is_done(&t.name)).count(),
        args.out.display(),
        backend.name(),
        search.max_expansions,
        search.time_limit.as_secs_f64()
    );
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} theorems, {msg} [{elapsed} < {eta}]")
            .expect("valid template"),
    );
    progress.enable_steady_tick(Duration::from_millis(250));
    let eval_options = EvalOptions {
        workers: args.workers.max(1),
        search: search.clone(),
        keep_trace: args.trace,
    };
    let counts = evaluate(
        &tasks,
        backend.as_ref(),
        predictor.as_ref(),
        &results,
        &eval_options,
        &progress,
    );
    progress.finish_and_clear();
    let counts = counts?;
    drop(previous);
    drop(results);

    // Summarize every line of this dataset's theorems, from this run and earlier ones.
    let (_, records) = ResultsFile::open(&args.out).context("re-reading the results")?;
    let wanted: std::collections::HashSet<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| wanted.contains(r.name.as_str()))
        .collect();
    let summary = Summary::of(&records, search.max_expansions);
    let decoding = match &search.generate.decoding {
        proofstep::model::Decoding::Beam { width } => format!("beam {width}"),
        proofstep::model::Decoding::Sample {
            temperatures,
            samples,
            top_p,
        } => {
            format!("{samples} samples at temperatures {temperatures:?}, top-p {top_p}")
        }
    };
    let decoding = if search.retry_temperatures.is_empty() {
        decoding
    } else {
        format!(
            "{decoding}; retries at temperatures {:?} when the queue runs dry",
            search.retry_temperatures
        )
    };
    let decoding = if args.search.budget.also_try.tactics.is_empty() {
        decoding
    } else {
        format!(
            "{decoding}; also tries {:?} at every state",
            args.search.budget.also_try.tactics
        )
    };
    let about = vec![
        ("dataset".to_string(), args.dataset.display().to_string()),
        (
            "split".to_string(),
            args.split.clone().unwrap_or_else(|| "all".into()),
        ),
        ("model".to_string(), config.model.clone()),
        ("backend".to_string(), backend.name().to_string()),
        ("expansions".to_string(), search.max_expansions.to_string()),
        (
            "time limit (s)".to_string(),
            search.time_limit.as_secs_f64().to_string(),
        ),
        (
            "tactic timeout (s)".to_string(),
            args.search.backend.tactic_timeout.to_string(),
        ),
        ("decoding".to_string(), decoding),
    ];
    let paths = write_report(&args.out, &summary, &about)?;
    print!("{}", summary.text());
    println!(
        "this run: {} searched ({} proved), {} resumed from earlier runs",
        counts.searched, counts.proved, counts.skipped
    );
    println!(
        "results {}, summary {}, report {} (plot {})",
        args.out.display(),
        paths.summary.display(),
        paths.report.display(),
        paths.plot.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The configuration this run records beside its results: the model's and the theorems'
/// fingerprints (all of `tasks`, before `--limit`), the backend and the search settings.
fn run_config(args: &EvalArgs, tasks: &[proofstep::eval::Task]) -> anyhow::Result<RunConfig> {
    let search = args.search.budget.config(args.search.backend.workers())?;
    let model = args.search.remote.identity(&args.search.model)?;
    let backend = clap::ValueEnum::to_possible_value(&args.search.backend.backend)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    Ok(RunConfig::new(
        &model.label,
        model.fingerprint,
        &backend,
        args.search.backend.tactic_timeout,
        &search,
        &args.search.budget.also_try.tactics,
        &args.dataset.display().to_string(),
        args.split.clone(),
        tasks,
    ))
}

/// Where Lean is looked for: `--repo`; else the working folder when it is inside a Lake project
/// (a Mathlib project evaluating a dataset kept elsewhere); else the dataset's folder.
fn toolchain_anchor(args: &EvalArgs) -> PathBuf {
    if let Some(repo) = &args.repo {
        return repo.clone();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if LakeProject::find(&cwd).is_some() {
        return cwd;
    }
    if args.dataset.is_dir() {
        return args.dataset.clone();
    }
    args.dataset
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or(cwd)
}
