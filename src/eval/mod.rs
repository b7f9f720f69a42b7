//! Batch evaluation: load a dataset's theorems, search each one (or one shard of them), append
//! one JSON line per theorem (resumable), and summarize with a pass rate, its 95% interval,
//! timings, and a Markdown report with a plot of pass rate against budget; the shards of a run
//! made on several machines merge into the results, summary and report of one run. With
//! `--mode refine` each theorem gets the refine loop instead of the search (`refine_run`).

pub mod claim;
pub mod dataset;
pub mod lean_file;
pub mod merge;
pub mod overlap;
pub mod record;
pub mod refine_run;
pub mod report;
pub mod results_file;
pub mod run;
pub mod run_config;
pub mod shard;
pub mod stats;
pub mod summary;

use std::path::PathBuf;

pub use claim::RunClaim;
pub use dataset::{load, DatasetOptions, Task};
pub use merge::{merge_shards, shard_configs, write_merged, Merged};
pub use record::TheoremRecord;
pub use refine_run::{evaluate_refine, RefineEvalOptions};
pub use report::{summary_json, write_report, ReportPaths};
pub use results_file::ResultsFile;
pub use run::{evaluate, evaluate_with, EvalOptions, RunCounts};
pub use run_config::{Checker, IterateSettings, RunConfig};
pub use shard::Shard;
pub use summary::Summary;

/// What can go wrong in an evaluation; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The dataset could not be read as theorems.
    #[error("{path}: {reason}")]
    Dataset { path: PathBuf, reason: String },
    /// A complete line of the results file is not a result (not a half-written last line, which
    /// is repaired silently).
    #[error("{path}, line {line}: not a result line ({reason}); move the file aside or delete that line to resume")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// Another run is writing the same results file.
    #[error("{out} is being written by another `proofstep eval` (it holds {lock}): wait for that run to finish, or give this one another --out")]
    Busy { out: PathBuf, lock: PathBuf },
    /// The results file holds results of a run with other settings.
    #[error("{out} holds {results} results of a run with other settings (recorded in {config}): {differences}. Resuming would mix the two runs under one label: give this run another --out, or the recorded run's flags to resume it")]
    OtherRun {
        out: PathBuf,
        config: PathBuf,
        results: usize,
        differences: String,
    },
    /// The results file holds results but no record of their settings (written before runs
    /// recorded them).
    #[error("{out} holds {results} results but no record of the settings they were found with (written before proofstep recorded them, or its .config.json was deleted or not copied along), so resuming it could mix two runs under one label: give this run another --out, or, if those results came from these same settings, pass --adopt-results to resume them as this run's")]
    Unrecorded { out: PathBuf, results: usize },
    /// Two results files whose sidecars (settings, lock, summary) are one, since their names
    /// differ only in the extension, and the other one holds results.
    #[error("{out} would share its settings record {config} with {other}, which holds results (the files beside a results file are named from its name without the extension): give this run an --out of another name")]
    SharedSettings {
        out: PathBuf,
        config: PathBuf,
        other: PathBuf,
    },
    /// A results file named like one of the files written beside it (`r.lock`, `r.written`).
    #[error("{out}: a name ending in .{suffix} is kept for the files written beside a results file (its own, or another's): give --out another name (results.jsonl, say)")]
    SidecarName { out: PathBuf, suffix: &'static str },
    /// Results files given to `eval merge` that are not shards of one run.
    #[error("{file} cannot be merged with the others: {reason}. Merge only the shards of one run (the same flags, and --shard I/N with the same N)")]
    Mix { file: PathBuf, reason: String },
    /// `eval merge` was given fewer theorems than the run has: shards missing or unfinished.
    #[error("{0}; run what is missing (the shard's own command: a rerun resumes it), or pass --partial to merge what there is")]
    Incomplete(String),
    /// The record of a results file's settings cannot be read.
    #[error("{path}: not a record of run settings ({reason}); it says which settings the results beside it were found with: restore it, or move the results and it aside to start a new run")]
    BadConfig { path: PathBuf, reason: String },
    /// A theorem's header does not elaborate: the toolchain lacks its imports.
    #[error(
        "{theorem}: {error}. Run from inside a Lake project that builds these imports (for Mathlib: \
         `lake exe cache get && lake build`), or give it with --repo; `proofstep doctor` shows which \
         toolchain is found. Results so far are saved; rerun the same command to resume"
    )]
    Header {
        theorem: String,
        error: crate::lean::LeanError,
    },
    /// The search could not run (Lean cannot be started, the model failed); what finished is saved.
    #[error(
        "searching {theorem}: {error}; results so far are saved, rerun the same command to resume"
    )]
    Search {
        theorem: String,
        error: crate::search::SearchError,
    },
    /// The refine loop could not run (Lean cannot be started, the whole-proof model failed);
    /// what finished is saved.
    #[error(
        "refining {theorem}: {error}; results so far are saved, rerun the same command to resume"
    )]
    Refine {
        theorem: String,
        error: crate::refine::RefineError,
    },
    /// Lean failed on some theorems every time they were searched (their records are to
    /// retry): a figure counting them as not proved would be wrong, so the caller stops.
    #[error(
        "Lean failed on {count} theorems of {} (`{first}`: {error}) each time they were searched; results so far are saved, rerun the same command to search them again", out.display()
    )]
    LeanFailed {
        out: PathBuf,
        count: usize,
        first: String,
        error: String,
    },
}
