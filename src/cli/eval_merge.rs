//! `proofstep eval merge --out OUT SHARD...`: the shards of one run, made by `eval --shard I/N`
//! on several machines, joined into the results file, summary, report and plot a single run
//! would have written (`eval::merge`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use proofstep::eval::results_file::{read_records, vouch_written};
use proofstep::eval::run_config::tasks_fingerprint;
use proofstep::eval::{
    load, merge_shards, shard_configs, write_merged, Merged, RunClaim, RunConfig, Summary, Task,
};

use crate::cli::args::BackendArgs;
use crate::cli::eval::{finish, recheck_proved, DatasetSourceArgs, MERGE};
use crate::cli::exit::Failure;

/// Arguments of `proofstep eval merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The merged results file (new), with its summary, report, plot and settings beside it
    /// as a single run writes them; `eval` with the run's flags and no --shard resumes it.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' results files: the --out of each `eval --shard I/N`, their settings
    /// recorded beside them.
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Merge even when shards are missing or unfinished; the summary then counts only the
    /// theorems merged.
    #[arg(long)]
    pub partial: bool,
    /// Print the summary as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The run's --repo and --header, if it had them: the dataset is read again to check the
    /// shards' proofs.
    #[command(flatten)]
    pub source: DatasetSourceArgs,
    /// How to reach Lean for checking the shards' proofs again (as for `eval`; the axioms
    /// allowed are the run's, whatever --allow-axiom says here).
    #[command(flatten)]
    pub lean: BackendArgs,
}

/// Runs `proofstep eval merge`.
pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    if let Some(shard) = args.shards.iter().find(|s| same_file(s, &args.out)) {
        anyhow::bail!(
            "--out {} is one of the shards ({}): give the merge a new results file",
            args.out.display(),
            shard.display()
        );
    }
    let configs = shard_configs(&args.shards)?;
    let tasks = run_dataset(&args, &configs[0].clone().whole())?;
    let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    let merged = merge_shards(&args.shards, &configs, args.partial, &names)?;
    recheck_merged(&args, &merged, &tasks)?;
    let held = read_records(&args.out)?.len();
    if held > 0 {
        return Err(Failure::Conflict.error(format!(
            "{} already holds {held} results; a merge writes a new results file: give another \
             --out, or delete that one (and its .config.json) to merge again",
            args.out.display()
        )));
    }
    // Held while the merged file is written; records the run's settings beside it.
    let _claim = RunClaim::take(&args.out, &merged.config, false)?;
    write_merged(&args.out, &merged)?;
    // Every proof in it was checked again above: resuming it checks none again.
    vouch_written(&args.out)?;
    let summary = Summary::of(&merged.records, merged.config.expansions);
    let info = serde_json::json!({
        "shards": args.shards.len(),
        "duplicates_dropped": merged.duplicates,
        "duplicates_disagreeing": merged.disagreements,
        "missing": merged.missing,
        "to_retry": merged.to_retry,
        "past_limit": merged.past_limit,
        "absent_shards": merged.absent.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    });
    let mut line = format!(
        "merged {} files: {} theorems, {} duplicate results dropped",
        args.shards.len(),
        merged.records.len(),
        merged.duplicates
    );
    if merged.disagreements > 0 {
        line.push_str(&format!(
            " ({} of them disagreed on whether the theorem was proved; the first file's result \
             was kept)",
            merged.disagreements
        ));
    }
    if merged.missing > 0 {
        line.push_str(&format!(
            "; {} theorems of these shards have no result yet (--partial)",
            merged.missing
        ));
    }
    if merged.past_limit > 0 {
        line.push_str(&format!(
            "; {} results past the run's --limit {} left out",
            merged.past_limit,
            merged.config.limit.unwrap_or_default()
        ));
    }
    if merged.to_retry > 0 {
        line.push_str(&format!(
            "; {} theorems are still to search (Lean or the model server failed on them, and \
             no shard given has their verdict): `eval` with the run's flags, no --shard and \
             --out {} searches them, or rerun their shards and merge again",
            merged.to_retry,
            args.out.display()
        ));
    }
    if !merged.absent.is_empty() {
        let absent: Vec<String> = merged.absent.iter().map(|s| s.to_string()).collect();
        line.push_str(&format!(
            "; shard {} not merged (--partial)",
            absent.join(", ")
        ));
    }
    // A partial merge says so wherever its figures are read.
    let notes = if merged.missing > 0 || !merged.absent.is_empty() {
        vec![(
            "partial".to_string(),
            format!(
                "merged with --partial: {} theorems of the merged shards have no result{}; the figures count only the {} theorems merged, of the dataset's {}",
                merged.missing,
                if merged.absent.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", and shard {} is not merged",
                        merged.absent.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
                    )
                },
                merged.records.len(),
                merged.config.limit.map_or(merged.config.theorems, |l| l.min(merged.config.theorems))
            ),
        )]
    } else {
        Vec::new()
    };
    finish(
        &args.out,
        &summary,
        &merged.config,
        &notes,
        args.json,
        ("merge", info),
        &line,
    )?;
    Ok(crate::cli::eval::complete_or_not(&summary))
}

/// Whether two paths name the same file (both exist and resolve to one path).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The theorems of the shards' run, read again from its dataset, which must be the file the
/// shards were run on (its fingerprint is theirs).
fn run_dataset(args: &MergeArgs, config: &RunConfig) -> anyhow::Result<Vec<Task>> {
    let dataset = PathBuf::from(&config.dataset);
    let tasks = load(&dataset, &args.source.options(config.split.clone())).with_context(|| {
        format!(
            "reading the dataset the shards were run on, {} (as their settings name it: run the \
             merge from the folder the shards were run in, or where that path leads)",
            dataset.display()
        )
    })?;
    if tasks_fingerprint(&tasks) != config.dataset_fingerprint {
        return Err(Failure::Conflict.error(format!(
            "{} does not hold the theorems the shards were run on (another file now, or --repo/--header \
             other than the run's): merge where the run's dataset is, with its --repo and --header",
            dataset.display()
        )));
    }
    Ok(tasks)
}

/// Checks every proved record of `merged` again with the final check: a shard is a file anyone
/// can write, and the merged file is resumed by `eval` as a finished run. Under the run's
/// axioms.
fn recheck_merged(args: &MergeArgs, merged: &Merged, tasks: &[Task]) -> anyhow::Result<()> {
    let config = &merged.config;
    let dataset = PathBuf::from(&config.dataset);
    let mut lean = args.lean.clone();
    lean.limits.allow_axioms = config.checker.allowed_axioms.clone();
    let backend = lean.open(&args.source.toolchain_anchor(&dataset))?;
    recheck_proved(&merged.records, tasks, backend.as_ref(), "a shard", MERGE)
}
