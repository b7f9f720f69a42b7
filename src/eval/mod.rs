//! Batch evaluation: load a dataset's theorems, search each one, append one JSON line per
//! theorem (resumable), and summarize with a pass rate, its 95% interval, timings, and a
//! Markdown report with a plot of pass rate against budget.

pub mod dataset;
pub mod lean_file;
pub mod record;
pub mod report;
pub mod results_file;
pub mod run;
pub mod statement;
pub mod stats;
pub mod summary;

use std::path::PathBuf;

pub use dataset::{load, DatasetOptions, Task};
pub use record::TheoremRecord;
pub use report::{write_report, ReportPaths};
pub use results_file::ResultsFile;
pub use run::{evaluate, EvalOptions, RunCounts};
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
}
