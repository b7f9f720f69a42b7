//! `proofstep eval`: search every theorem of a dataset (or of one shard of it, `--shard I/N`),
//! one JSON line per theorem appended to `--out` as it finishes (a rerun resumes), then a
//! summary (printed, or with `--json` printed as JSON, and written as JSON) and a Markdown
//! report with a plot of pass rate against the expansion budget. `eval merge` (in
//! `eval_merge`) joins the shards of a run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::eval::results_file::read_records;
use proofstep::eval::{
    evaluate, evaluate_refine, load, summary_json, write_report, Checker, DatasetOptions,
    EvalOptions, RefineEvalOptions, ResultsFile, RunClaim, RunConfig, RunCounts, Shard, Summary,
};
use proofstep::lean::toolchain::LakeProject;
use proofstep::refine::ApiModel;

use crate::cli::args::{ModelIdentity, SearchArgs, SearchSetup};
use crate::cli::exit::Failure;
use crate::cli::whole_proof::{api_flags_in, lean_version, WholeProofArgs};

/// Arguments of `proofstep eval`: a run, or `eval merge`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    #[command(flatten)]
    pub run: EvalRunArgs,
}

/// What `eval` does besides a run.
#[derive(clap::Subcommand, Debug)]
pub enum EvalCommand {
    /// Merge the shards of a run (`eval --shard I/N` on several machines) into one run's
    /// results, summary and report; refuses shards of different settings.
    Merge(Box<crate::cli::eval_merge::MergeArgs>),
    /// Count the theorems of one set that another holds, as text or up to renaming (binders
    /// renamed, hypotheses reordered), and those sharing a goal shape: a test split checked
    /// against training data before its pass rate is believed. Exits 1 when any is a copy.
    Overlap(crate::cli::eval_overlap::OverlapArgs),
}

/// Arguments of an evaluation run.
#[derive(clap::Args, Debug)]
pub struct EvalRunArgs {
    /// The theorems: a miniF2F/ProofNet JSONL (`formal_statement` + `header`), a JSONL or JSON file
    /// of LeanDojo records (`full_name` + `statement`, or a LeanDojo Benchmark 4 split file with
    /// `--repo`), a Lean file, or a folder of Lean files.
    #[arg(long, required = true)]
    pub dataset: Option<PathBuf>,
    /// Results, one JSON line per theorem. An existing file is resumed when it was written
    /// with the same settings (recorded beside it in `<stem>.config.json`); a run holds a lock
    /// on `<stem>.lock` while it writes.
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Only theorems of this split (e.g. test, valid), for datasets that record one.
    #[arg(long)]
    pub split: Option<String>,
    /// Only the first N theorems (after the split filter, before --shard).
    #[arg(long, value_parser = at_least_one)]
    pub limit: Option<usize>,
    /// Search only shard I of N (counted from 0): the theorems whose name hashes to I modulo N,
    /// the same on every machine. Run each shard with its own --out, then `eval merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Theorems searched at once.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    #[command(flatten)]
    pub source: DatasetSourceArgs,
    /// Keep every search's full trace in its result line.
    #[arg(long)]
    pub trace: bool,
    /// Resume a results file written before proofstep recorded run settings, taking its
    /// results as this run's (only when they came from these same settings). Each adopted
    /// proof is checked again by the final check first; one that no longer passes stops the run.
    #[arg(long)]
    pub adopt_results: bool,
    /// Print the summary as one JSON object (what `<stem>.summary.json` holds, with this run's
    /// counts and the files written) instead of text.
    #[arg(long)]
    pub json: bool,
    /// `search`: the best-first search with the step model on every theorem; `refine`: whole
    /// proofs from the model at --api-url, repaired with Lean's messages (the --attempts,
    /// --rounds, --api-* and --then-search flags), the summary giving the pass rate by model
    /// calls (pass@k with --rounds 0, refine@k otherwise).
    #[arg(long, value_enum, default_value = "search")]
    pub mode: EvalMode,
    #[command(flatten)]
    pub whole: WholeProofArgs,
    #[command(flatten)]
    pub search: SearchArgs,
}

/// Where a dataset's theorems get what their records do not carry: `eval`'s flags, given again
/// to `eval merge`, which reads the run's dataset to check the shards' proofs.
#[derive(clap::Args, Debug, Clone)]
pub struct DatasetSourceArgs {
    /// The Lake project whose sources LeanDojo records point to (their statements and headers
    /// are read from there).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// A header for every record (e.g. "import Mathlib"): needed by records that carry none,
    /// and put in place of the header a record carries (miniF2F's `header` field).
    #[arg(long)]
    pub header: Option<String>,
}

impl DatasetSourceArgs {
    /// How to read the dataset, keeping only `split`.
    pub fn options(&self, split: Option<String>) -> DatasetOptions {
        DatasetOptions {
            split,
            repo: self.repo.clone(),
            header: self.header.clone(),
        }
    }

    /// Where Lean is looked for: `--repo`; else the working folder when it is inside a Lake
    /// project (a Mathlib project evaluating a dataset kept elsewhere); else the dataset's folder.
    pub fn toolchain_anchor(&self, dataset: &Path) -> PathBuf {
        if let Some(repo) = &self.repo {
            return repo.clone();
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        if LakeProject::find(&cwd).is_some() {
            return cwd;
        }
        if dataset.is_dir() {
            return dataset.to_path_buf();
        }
        dataset
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or(cwd)
    }
}

/// What an evaluation runs on each theorem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalMode {
    /// The best-first search with the step model.
    Search,
    /// Whole proofs from a model, repaired with Lean's feedback.
    Refine,
}

/// Runs `proofstep eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(EvalCommand::Merge(merge)) => return crate::cli::eval_merge::run(*merge),
        Some(EvalCommand::Overlap(overlap)) => return crate::cli::eval_overlap::run(overlap),
        None => {}
    }
    let run = args.run;
    match (&run.dataset, &run.out) {
        (Some(dataset), Some(out)) => run_eval(&run, dataset, out),
        _ => anyhow::bail!("give --dataset and --out to run, or `eval merge` to merge shards"),
    }
}

/// Runs an evaluation.
fn run_eval(args: &EvalRunArgs, dataset: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let mut tasks = load(dataset, &args.source.options(args.split.clone()))?;
    // Adopted or resumed results are checked against every theorem of the dataset, not only
    // this run's part: a later run with a larger --limit resumes them too.
    let every_task = tasks.clone();
    let whole = match args.mode {
        EvalMode::Refine => Some(args.whole.connect("eval --mode refine")?),
        EvalMode::Search => None,
    };
    let anchor = args.source.toolchain_anchor(dataset);
    let mut config = run_config(args, dataset, &tasks, whole.as_ref())?
        .limited(args.limit)
        .checked_by(checker(&args.search, &anchor, &tasks)?);
    if let Some(limit) = args.limit {
        tasks.truncate(limit);
    }
    if tasks.is_empty() {
        return Err(Failure::Data.error(format!(
            "{} holds no theorems{}",
            dataset.display(),
            args.split
                .as_deref()
                .map(|s| format!(" of split `{s}` (check --split)"))
                .unwrap_or_default()
        )));
    }
    // A shard may hold no theorem of a small dataset: it then completes with none.
    if let Some(shard) = args.shard {
        config = config.sharded(shard, &tasks);
        tasks.retain(|t| shard.holds(&t.name));
    }
    // The proved records `--adopt-results` checks (by name), not to be checked twice.
    let mut adopted = std::collections::HashSet::new();
    if args.adopt_results {
        // Checked before this run's settings are recorded beside them: results that fail are
        // never resumed, by this command or a later one.
        let previous = read_records(out)?;
        recheck_file(args, &anchor, out, &previous, &every_task, ADOPT)?;
        adopted.extend(previous.into_iter().filter(|r| r.proved).map(|r| r.name));
    }
    // Held until this run ends: no other eval appends to --out meanwhile.
    let _claim = RunClaim::take(out, &config, args.adopt_results)?;
    let (results, previous) = ResultsFile::open(out)?;
    let unvouched: Vec<_> = previous
        .iter()
        .filter(|r| r.proved && results.is_unvouched(&r.name) && !adopted.contains(&r.name))
        .cloned()
        .collect();
    if !unvouched.is_empty() {
        // Lines proofstep's record of what it wrote does not cover: written by hand or by
        // another program, or the file changed since. Each proof is checked again first.
        eprintln!(
            "checking again {} proofs in {} that proofstep's record of what it wrote does not cover",
            unvouched.len(),
            out.display()
        );
        recheck_file(args, &anchor, out, &unvouched, &every_task, RESUME)?;
    }
    results.vouch()?;
    if let Some(model) = &whole {
        return run_refine_eval(args, out, &tasks, &config, model, results, &anchor);
    }
    let SearchSetup {
        config: search,
        predictor,
        backend,
    } = args.search.setup(&anchor)?;
    eprintln!(
        "{} theorems{}, {} already done in {}; backend {}, {} expansions and {} s per theorem",
        tasks.len(),
        args.shard
            .map(|s| format!(" in shard {s}"))
            .unwrap_or_default(),
        tasks.iter().filter(|t| results.is_done(&t.name)).count(),
        out.display(),
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

    summarize(
        out,
        &tasks,
        &config,
        search.max_expansions,
        args.json,
        counts,
    )
}

/// `recheck_proved` of `records`, read from `out`, on a backend of this run's.
fn recheck_file(
    args: &EvalRunArgs,
    anchor: &Path,
    out: &Path,
    records: &[proofstep::eval::TheoremRecord],
    tasks: &[proofstep::eval::Task],
    how: (&str, &str),
) -> anyhow::Result<()> {
    let backend = args.search.backend.open(anchor)?;
    recheck_proved(
        records,
        tasks,
        backend.as_ref(),
        &out.display().to_string(),
        how,
    )
}

/// `--limit N`: a count of at least one (`--limit 0` would run nothing and say the dataset
/// holds no theorems).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}`: give a number of theorems, at least 1")),
    }
}

/// How `--adopt-results` takes results, and what to do when one fails (`recheck_proved`).
const ADOPT: (&str, &str) = ("adopted", "give this run another --out");

/// How a resumed run takes results proofstep did not write (or that changed since), and what to
/// do when one fails (`recheck_proved`).
const RESUME: (&str, &str) = (
    "resumed",
    "its line is not as this proofstep wrote it (edited, added or copied in, or written before results files were fingerprinted): restore the file, or delete that theorem's line to search it again",
);

/// How `eval merge` takes results, and what to do when one fails (`recheck_proved`).
pub(crate) const MERGE: (&str, &str) = (
    "merged",
    "run that theorem's shard again (or merge without that shard, with --partial)",
);

/// Results taken from a file rather than found by this run (`--adopt-results`: recorded without
/// their settings, on the user's word; `eval merge`: shards, files anyone can write): every
/// proved one of `tasks` is checked again by the final check before it counts, so such a file
/// cannot count a proof Lean does not accept under today's rules. `source` names where the
/// records come from, `how` the taking and what to do instead (`ADOPT`, `MERGE`).
pub(crate) fn recheck_proved(
    previous: &[proofstep::eval::TheoremRecord],
    tasks: &[proofstep::eval::Task],
    backend: &dyn proofstep::lean::ProofBackend,
    source: &str,
    (how, fix): (&str, &str),
) -> anyhow::Result<()> {
    let by_name: std::collections::HashMap<&str, &proofstep::eval::Task> =
        tasks.iter().map(|t| (t.name.as_str(), t)).collect();
    for record in previous.iter().filter(|r| r.proved) {
        let Some(task) = by_name.get(record.name.as_str()) else {
            continue;
        };
        let steps = record.proof.clone().unwrap_or_default();
        let proof = proofstep::lean::backend::proof_text(&steps);
        let verdict = backend
            .verify(task.header.as_str(), &task.statement, &proof)
            .with_context(|| format!("checking the {how} proof of `{}` again", record.name))?;
        if !verdict.is_proved() {
            return Err(Failure::Conflict.error(format!(
                "{source} records `{}` as proved, but its proof does not pass the final check now ({}): these results cannot be {how}; {fix}",
                record.name,
                verdict.errors.first().cloned().unwrap_or_else(|| match verdict.status {
                    proofstep::lean::Status::Sorry => "it rests on `sorry`".to_string(),
                    proofstep::lean::Status::Axiom =>
                        format!("it rests on the axioms {}", verdict.axioms.join(", ")),
                    proofstep::lean::Status::Open =>
                        format!("{} goals are left open", verdict.goals.len().max(1)),
                    _ => "not proved".to_string(),
                })
            )));
        }
    }
    Ok(())
}

/// Refines every theorem with the whole-proof `model` (`eval --mode refine`), then summarizes.
fn run_refine_eval(
    args: &EvalRunArgs,
    out: &Path,
    tasks: &[proofstep::eval::Task],
    config: &RunConfig,
    model: &ApiModel,
    results: ResultsFile,
    anchor: &Path,
) -> anyhow::Result<ExitCode> {
    let search = args.search.budget.config(args.search.backend.workers())?;
    let step_model = args.whole.step_model(&args.search)?;
    let lean_version = lean_version(&args.search, anchor)?;
    let backend = args.search.backend.open(anchor)?;
    eprintln!(
        "{} theorems, {} already done in {}; backend {}, {} attempts × (1 + {} repairs) and {} s per theorem",
        tasks.len(),
        tasks.iter().filter(|t| results.is_done(&t.name)).count(),
        out.display(),
        backend.name(),
        args.whole.attempts,
        args.whole.rounds,
        search.time_limit.as_secs_f64()
    );
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} theorems, {msg} [{elapsed} < {eta}]")
            .expect("valid template"),
    );
    progress.enable_steady_tick(Duration::from_millis(250));
    let options = RefineEvalOptions {
        workers: args.workers.max(1),
        refine: args.whole.config(&search),
        then_search: step_model.as_deref().map(|p| (p, search.clone())),
        lean_version,
        keep_trace: args.trace,
    };
    let counts = evaluate_refine(
        tasks,
        backend.as_ref(),
        model,
        &results,
        &options,
        &progress,
    );
    progress.finish_and_clear();
    let counts = counts.map_err(|e| api_flags_in(e.into()))?;
    drop(results);
    summarize(out, tasks, config, search.max_expansions, args.json, counts)
}

/// Summarizes every line of `tasks` in `out`, from this run and earlier ones, and writes the
/// summary and report.
fn summarize(
    out: &Path,
    tasks: &[proofstep::eval::Task],
    config: &RunConfig,
    max_expansions: usize,
    json: bool,
    counts: RunCounts,
) -> anyhow::Result<ExitCode> {
    let (_, records) = ResultsFile::open(out).context("re-reading the results")?;
    let wanted: std::collections::HashSet<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| wanted.contains(r.name.as_str()))
        .collect();
    let summary = Summary::of(&records, max_expansions);
    let this_run = serde_json::json!({
        "searched": counts.searched,
        "proved": counts.proved,
        "resumed": counts.skipped,
    });
    let line = format!(
        "this run: {} searched ({} proved), {} resumed from earlier runs",
        counts.searched, counts.proved, counts.skipped
    );
    finish(
        out,
        &summary,
        config,
        &[],
        json,
        ("this_run", this_run),
        &line,
    )?;
    Ok(complete_or_not(&summary))
}

/// How an evaluation that wrote its results ends: 0 when every theorem has a verdict,
/// [`crate::cli::exit::UNFINISHED`] when some are still to search (Lean or the model server
/// failed on them), so that a script or scheduler does not take the run as done.
pub fn complete_or_not(summary: &Summary) -> ExitCode {
    if summary.lean_failures > 0 {
        ExitCode::from(crate::cli::exit::UNFINISHED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes the summary, report and plot beside `out` and prints the summary: as text with
/// `line` (what this command did) and the files written, or with `json` as the summary's JSON
/// with `extra` (the same under its key) and the files.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    out: &Path,
    summary: &Summary,
    config: &RunConfig,
    notes: &[(String, String)],
    json: bool,
    extra: (&str, serde_json::Value),
    line: &str,
) -> anyhow::Result<()> {
    let mut about = config.about();
    about.extend(notes.iter().cloned());
    let paths = write_report(out, summary, &about)?;
    if json {
        let mut value = summary_json(summary, &about);
        value[extra.0] = extra.1;
        value["files"] = serde_json::json!({
            "results": out,
            "summary": paths.summary,
            "report": paths.report,
            "plot": paths.plot,
        });
        println!("{value}");
    } else {
        print!("{}", summary.text());
        println!("{line}");
        println!(
            "results {}, summary {}, report {} (plot {})",
            out.display(),
            paths.summary.display(),
            paths.report.display(),
            paths.plot.display()
        );
    }
    Ok(())
}

/// The configuration this run records beside its results: the model's and the theorems'
/// fingerprints (all of `tasks`, before `--limit`), the backend and the search settings.
fn run_config(
    args: &EvalRunArgs,
    dataset: &Path,
    tasks: &[proofstep::eval::Task],
    whole: Option<&ApiModel>,
) -> anyhow::Result<RunConfig> {
    let search = args.search.budget.config(args.search.backend.workers())?;
    let model = match whole {
        // Without --then-search a refine run uses no step model.
        Some(_) if !args.whole.then_search => ModelIdentity {
            label: "none (refine without --then-search)".to_string(),
            fingerprint: "none".to_string(),
        },
        _ => args.search.remote.identity(&args.search.model)?,
    };
    let backend = clap::ValueEnum::to_possible_value(&args.search.backend.backend)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    // The tactics tried beside the step model; none when no search runs.
    let also_try = match whole {
        Some(_) if !args.whole.then_search => Vec::new(),
        _ => args.search.budget.also_try().tactics,
    };
    let config = RunConfig::new(
        &model.label,
        model.fingerprint,
        &backend,
        args.search.backend.tactic_timeout,
        &search,
        &also_try,
        &dataset.display().to_string(),
        args.split.clone(),
        tasks,
    );
    Ok(match whole {
        Some(model) => config.refined(args.whole.settings(model)?),
        None => config,
    })
}

/// What checks the run's proofs (`RunConfig::checker`): the Lean found from `anchor`, the
/// compiled libraries the theorems import, the axioms allowed and the final check's rules.
pub fn checker(
    search: &SearchArgs,
    anchor: &Path,
    tasks: &[proofstep::eval::Task],
) -> anyhow::Result<Checker> {
    let toolchain = search.backend.toolchain.discover_ready(anchor)?;
    let lean = toolchain
        .lean_version(Duration::from_secs(60))
        .context("cannot run `lean --version` to record which Lean checks this run")?;
    // Every theorem of one file shares that file's text: its imports are read once.
    let mut files = std::collections::HashSet::new();
    let headers = tasks
        .iter()
        .map(|t| -> &str { t.header.backing().0 })
        .filter(|text| files.insert(text.as_ptr()));
    let libraries = toolchain.library_fingerprint(headers);
    let mut allowed_axioms = search.backend.limits.allow_axioms.clone();
    allowed_axioms.sort();
    allowed_axioms.dedup();
    Ok(Checker {
        lean,
        libraries,
        allowed_axioms,
        check_rules: proofstep::lean::CHECK_RULES.to_string(),
        lean_memory_mb: search.backend.memory_limit_mb(),
        proofstep: env!("CARGO_PKG_VERSION").to_string(),
    })
}
