//! Runs the search over a dataset's theorems with several workers, appending one result line per
//! theorem as it finishes and skipping theorems the results file already holds.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::ProgressBar;
use tracing::{info, warn};

use crate::eval::dataset::Task;
use crate::eval::record::TheoremRecord;
use crate::eval::results_file::ResultsFile;
use crate::eval::EvalError;
use crate::lean::ProofBackend;
use crate::model::Predictor;
use crate::search::{search, SearchConfig, SearchError};

/// How to run an evaluation.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Theorems searched at once (each search also checks its candidates concurrently).
    pub workers: usize,
    /// The search's budgets and decoding.
    pub search: SearchConfig,
    /// Keep each search's full trace in its result line.
    pub keep_trace: bool,
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Theorems searched in this run.
    pub searched: usize,
    /// Theorems skipped because an earlier run finished them.
    pub skipped: usize,
    /// Theorems proved in this run.
    pub proved: usize,
}

/// Searches every task not yet in `results`, appending each result as it finishes. Stops at the
/// first failure that is not the theorem's own (Lean cannot run, the model fails, the disk is
/// full): what finished stays in the file, so a rerun resumes.
pub fn evaluate(
    tasks: &[Task],
    backend: &dyn ProofBackend,
    predictor: &dyn Predictor,
    results: &ResultsFile,
    options: &EvalOptions,
    progress: &ProgressBar,
) -> Result<RunCounts, EvalError> {
    evaluate_with(tasks, results, options.workers, progress, |task| {
        run_one(task, backend, predictor, options)
    })
}

/// Runs `one` on every task not yet in `results` with `workers` threads, appending each record
/// as it finishes; the first error stops the run (what finished stays in the file). The one
/// worker loop of every evaluation mode.
pub fn evaluate_with(
    tasks: &[Task],
    results: &ResultsFile,
    workers: usize,
    progress: &ProgressBar,
    one: impl Fn(&Task) -> Result<TheoremRecord, EvalError> + Sync,
) -> Result<RunCounts, EvalError> {
    let todo: Vec<&Task> = tasks.iter().filter(|t| !results.is_done(&t.name)).collect();
    let skipped = tasks.len() - todo.len();
    if skipped > 0 {
        info!(skipped, "resuming: these theorems already have results");
    }
    progress.set_length(todo.len() as u64);
    let next = AtomicUsize::new(0);
    let proved = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<EvalError>> = Mutex::new(None);
    let workers = workers.max(1).min(todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = todo.get(i) else { break };
                    let saved = one(task).and_then(|record| {
                        if record.proved {
                            proved.fetch_add(1, Ordering::Relaxed);
                        }
                        results.append(&record)
                    });
                    if let Err(err) = saved {
                        stop.store(true, Ordering::Relaxed);
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(err);
                        break;
                    }
                    progress.inc(1);
                    progress.set_message(format!("{} proved", proved.load(Ordering::Relaxed)));
                }
            });
        }
    });
    if let Some(err) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(err);
    }
    Ok(RunCounts {
        searched: todo.len(),
        skipped,
        proved: proved.into_inner(),
    })
}

/// Searches one theorem. A theorem that cannot start (its statement does not elaborate) gets an
/// error record; a backend or model failure is returned as an error. A start that Lean itself
/// failed (it died, ran out of memory or time) is tried once more, the backend having restarted
/// the process.
fn run_one(
    task: &Task,
    backend: &dyn ProofBackend,
    predictor: &dyn Predictor,
    options: &EvalOptions,
) -> Result<TheoremRecord, EvalError> {
    let began = Instant::now();
    let split = task.split.as_deref();
    let run = || {
        search(
            backend,
            predictor,
            &task.header,
            &task.statement,
            &options.search,
        )
    };
    let searched = match run() {
        Err(SearchError::Start(err)) if is_lean_failure(&err) => {
            warn!(theorem = %task.name, "Lean failed while the statement was elaborated ({err}); trying again");
            run()
        }
        other => other,
    };
    match searched {
        Ok(result) => {
            info!(theorem = %task.name, proved = result.proved, "searched");
            Ok(TheoremRecord::from_result(
                &task.name,
                split,
                result,
                options.keep_trace,
            ))
        }
        Err(SearchError::Start(err)) => {
            start_failure(task, split, err, began, |err| EvalError::Search {
                theorem: task.name.clone(),
                error: SearchError::Start(err),
            })
        }
        Err(SearchError::Model(err)) if cut_after_failure(&err) => {
            Ok(retry_after_model_failure(task, split, &err, began))
        }
        Err(err) => Err(EvalError::Search {
            theorem: task.name.clone(),
            error: err,
        }),
    }
}

/// Whether the model failed only because the time limit cut the retries of a server's failure
/// (`RemoteError::CutAfterFailure`): a theorem to search again, not a verdict and not a reason
/// to stop the run.
pub(crate) fn cut_after_failure(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<crate::openai::RemoteError>(),
            Some(
                crate::openai::RemoteError::CutAfterFailure { .. }
                    | crate::openai::RemoteError::NoAnswerInTime { .. }
            )
        )
    })
}

/// The record of a theorem whose model failed so (`cut_after_failure`), to search again.
pub(crate) fn retry_after_model_failure(
    task: &Task,
    split: Option<&str>,
    err: &anyhow::Error,
    began: Instant,
) -> TheoremRecord {
    warn!(theorem = %task.name, "the model failed ({err:#}); a resumed run searches it again");
    TheoremRecord::from_failure_to_retry(
        &task.name,
        split,
        format!("{err:#}"),
        began.elapsed().as_secs_f64(),
    )
}

/// The record of a theorem whose proof Lean failed to check (`LeanError::is_transient`,
/// twice), to search again.
pub(crate) fn retry_after_lean_failure(
    task: &Task,
    split: Option<&str>,
    err: &crate::lean::LeanError,
    began: Instant,
) -> TheoremRecord {
    warn!(theorem = %task.name, "Lean failed while checking a proof ({err}); a resumed run searches it again");
    TheoremRecord::from_failure_to_retry(
        &task.name,
        split,
        err.to_string(),
        began.elapsed().as_secs_f64(),
    )
}

/// A theorem whose proof attempt could not start: an error record when the failure is the
/// theorem's own (its statement does not elaborate); `EvalError::Header` when its header does
/// not; otherwise the environment failure, wrapped by `other`, which stops the run.
pub(crate) fn start_failure(
    task: &Task,
    split: Option<&str>,
    err: crate::lean::LeanError,
    began: Instant,
    other: impl FnOnce(crate::lean::LeanError) -> EvalError,
) -> Result<TheoremRecord, EvalError> {
    // Lean itself failed (died, ...): a rerun may well start it. A statement that takes
    // longer than the timeout, twice, is the theorem's own (an error record, as one that
    // does not elaborate), or a rerun would try it for ever.
    if err.is_transient() {
        warn!(theorem = %task.name, "cannot start: {err}; a resumed run tries it again");
        return Ok(TheoremRecord::from_failure_to_retry(
            &task.name,
            split,
            err.to_string(),
            began.elapsed().as_secs_f64(),
        ));
    }
    if !is_environment_failure(&err) {
        warn!(theorem = %task.name, "cannot start: {err}");
        return Ok(TheoremRecord::from_error(
            &task.name,
            split,
            err.to_string(),
            began.elapsed().as_secs_f64(),
        ));
    }
    match err {
        error @ crate::lean::LeanError::Header(_) => Err(EvalError::Header {
            theorem: task.name.clone(),
            error,
        }),
        err => Err(other(err)),
    }
}

/// Start failures of Lean's, not the theorem's: the process died, answered garbage, ran out of
/// memory or time, or lost its state. The theorem gets a record to retry
/// (`TheoremRecord::retry`), not a verdict.
fn is_lean_failure(err: &crate::lean::LeanError) -> bool {
    matches!(err, crate::lean::LeanError::Timeout(_)) || err.is_transient()
}

/// Start failures that are not the theorem's own: Lean is missing or keeps dying, or the header
/// does not elaborate (usually imports the toolchain lacks, e.g. Mathlib not built), which would
/// otherwise fail every theorem that shares it.
fn is_environment_failure(err: &crate::lean::LeanError) -> bool {
    use crate::lean::LeanError::*;
    matches!(err, Spawn { .. } | Io { .. } | Pipe(_) | Header(_))
}
