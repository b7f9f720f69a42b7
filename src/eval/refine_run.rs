//! `eval --mode refine`: the refine loop (`crate::refine`) over a dataset's theorems, one result
//! line each through the same workers, results file and resumption as the search.

use std::time::Instant;

use indicatif::ProgressBar;
use tracing::info;

use crate::eval::dataset::Task;
use crate::eval::record::TheoremRecord;
use crate::eval::results_file::ResultsFile;
use crate::eval::run::{
    cut_after_failure, evaluate_with, retry_after_lean_failure, retry_after_model_failure,
    start_failure, RunCounts,
};
use crate::eval::EvalError;
use crate::lean::ProofBackend;
use crate::model::Predictor;
use crate::refine::{refine, RefineConfig, RefineError, ThenSearch, Theorem, WholeProofModel};
use crate::search::SearchConfig;

/// How to run a refine evaluation.
pub struct RefineEvalOptions<'a> {
    /// Theorems refined at once.
    pub workers: usize,
    /// Attempts, rounds, time limit and seed per theorem.
    pub refine: RefineConfig,
    /// `--then-search`: the step model and the search's settings.
    pub then_search: Option<(&'a dyn Predictor, SearchConfig)>,
    /// `lean --version`'s line, for the prompts.
    pub lean_version: String,
    /// Keep every round's proof and feedback in the result line.
    pub keep_trace: bool,
}

/// Refines every task not yet in `results`, appending each result as it finishes; stops at
/// the first failure that is not the theorem's own (Lean cannot run, the model keeps failing).
pub fn evaluate_refine(
    tasks: &[Task],
    backend: &dyn ProofBackend,
    model: &dyn WholeProofModel,
    results: &ResultsFile,
    options: &RefineEvalOptions<'_>,
    progress: &ProgressBar,
) -> Result<RunCounts, EvalError> {
    evaluate_with(tasks, results, options.workers, progress, |task| {
        refine_one(task, backend, model, options)
    })
}

fn refine_one(
    task: &Task,
    backend: &dyn ProofBackend,
    model: &dyn WholeProofModel,
    options: &RefineEvalOptions<'_>,
) -> Result<TheoremRecord, EvalError> {
    let began = Instant::now();
    let split = task.split.as_deref();
    let theorem = Theorem {
        name: task.name.clone(),
        header: task.header.to_string(),
        statement: task.statement.clone(),
    };
    let then_search = options
        .then_search
        .as_ref()
        .map(|(predictor, config)| ThenSearch {
            predictor: *predictor,
            config: config.clone(),
        });
    match refine(
        backend,
        model,
        &theorem,
        &options.lean_version,
        &options.refine,
        then_search,
    ) {
        Ok(result) => {
            info!(theorem = %task.name, proved = result.proved, calls = result.outcome.model_calls, "refined");
            Ok(TheoremRecord::from_refine(
                &task.name,
                split,
                result,
                options.keep_trace,
            ))
        }
        Err(RefineError::Start(err)) => {
            start_failure(task, split, err, began, |err| EvalError::Refine {
                theorem: task.name.clone(),
                error: RefineError::Start(err),
            })
        }
        Err(
            RefineError::Model(err) | RefineError::Search(crate::search::SearchError::Model(err)),
        ) if cut_after_failure(&err) => Ok(retry_after_model_failure(task, split, &err, began)),
        Err(
            RefineError::Lean(err) | RefineError::Search(crate::search::SearchError::Lean(err)),
        ) if err.is_transient() => Ok(retry_after_lean_failure(task, split, &err, began)),
        Err(error) => Err(EvalError::Refine {
            theorem: task.name.clone(),
            error,
        }),
    }
}
