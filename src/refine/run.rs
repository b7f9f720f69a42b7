//! The refine loop: up to `attempts` independent attempts (`attempt`), up to `parallel` of them
//! at once, each a first request and up to `rounds` repairs. The result is the one a run of
//! the attempts one after another would give — the lowest-numbered attempt that proves the
//! theorem, and how many calls that took — while attempts running beside it stop at their
//! next request and their calls count only in the cost. With a step model, when every attempt
//! fails, the best-first search starts from the longest prefix of a failed proof that Lean
//! accepted, within the time left.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lean::{ProofBackend, ProofState};
use crate::model::Predictor;
use crate::refine::attempt::{run_attempt, AttemptOutcome, Context};
use crate::refine::error::RefineError;
use crate::refine::model::{Theorem, WholeProofModel};
use crate::refine::result::{FoundBy, PrefixSearch, RefineOutcome, RefineResult, RefineStop};
use crate::search::{search_from, unwritten_context, SearchConfig};

/// The budget of a refine run.
#[derive(Clone, Debug)]
pub struct RefineConfig {
    /// Independent attempts.
    pub attempts: usize,
    /// Repairs per attempt after its first request.
    pub rounds: usize,
    /// Attempts run at once (so at most this many requests are in flight).
    pub parallel: usize,
    /// Wall time for the whole run, the search after the prefix included.
    pub time_limit: Duration,
    /// Seed of the requests (each request's is derived from it).
    pub seed: u64,
}

/// The step model and search budget of `--then-search`.
pub struct ThenSearch<'a> {
    /// The step model.
    pub predictor: &'a dyn Predictor,
    /// The search's settings (its time limit is cut to what the run has left).
    pub config: SearchConfig,
}

/// Proves `theorem` with `model`, checking each answer on `backend`.
pub fn refine(
    backend: &dyn ProofBackend,
    model: &dyn WholeProofModel,
    theorem: &Theorem,
    lean_version: &str,
    config: &RefineConfig,
    then_search: Option<ThenSearch<'_>>,
) -> Result<RefineResult, RefineError> {
    let began = Instant::now();
    let deadline = began + config.time_limit;
    let root = backend
        .start(&theorem.header, &theorem.statement)
        .map_err(RefineError::Start)?;
    let cx = Context {
        backend,
        model,
        theorem,
        lean_version,
        config,
        root: &root,
        deadline,
    };
    let outcomes = run_attempts(&cx)?;
    // Whether the model was asked before the limit: then its silence until the limit is the
    // model's failure, not Lean's start taking the time.
    let asked = outcomes
        .iter()
        .filter_map(|o| o.first_ask)
        .any(|at| at < deadline);
    let mut result = RefineResult {
        theorem: theorem.name.clone(),
        proved: false,
        stop: RefineStop::Exhausted,
        proof: None,
        outcome: RefineOutcome::default(),
        rounds: Vec::new(),
        search: None,
        secs: 0.0,
        context: unwritten_context(&theorem.statement, &root),
    };
    // The longest accepted prefix (the root when none), and the attempt and round it came from.
    let mut best: (ProofState, usize, usize) = (root.clone(), 0, 0);
    for outcome in outcomes {
        let calls = outcome.rounds.len();
        if let (Some((round, proof)), false) = (&outcome.proved, result.proved) {
            result.proved = true;
            result.stop = RefineStop::Proved;
            result.proof = Some(proof.clone());
            result.outcome.found_by = Some(FoundBy::Model);
            result.outcome.attempt = Some(outcome.attempt);
            result.outcome.round = Some(*round);
            result.outcome.calls_to_proof = Some(result.outcome.model_calls + round + 1);
        }
        if outcome.timed_out && !result.proved {
            result.stop = RefineStop::TimeLimit;
        }
        if let Some((state, round)) = outcome.reached {
            if state.steps.len() > best.0.steps.len() {
                best = (state, outcome.attempt, round);
            }
        }
        result.outcome.model_calls += calls;
        result.outcome.tokens.prompt += outcome.tokens.prompt;
        result.outcome.tokens.completion += outcome.tokens.completion;
        result.outcome.tokens.unreported += outcome.tokens.unreported;
        result.rounds.extend(outcome.rounds);
    }
    // The limit came before the model answered anything it was asked: no verdict (a hung
    // server looks so until it has been silent for its whole patience).
    if !result.proved
        && result.outcome.model_calls == 0
        && asked
        && matches!(result.stop, RefineStop::TimeLimit)
    {
        return Err(RefineError::Model(model.no_answer_in_time()));
    }
    if let (Some(then), false) = (then_search, result.proved) {
        let left = deadline.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            let (state, attempt, round) = best;
            let mut search_config = then.config;
            search_config.time_limit = left;
            let prefix = state.steps.clone();
            let found = search_from(
                backend,
                then.predictor,
                state,
                &search_config,
                Instant::now(),
            )
            .map_err(RefineError::Search)?;
            if let Some(steps) = &found.proof {
                result.proved = true;
                result.stop = RefineStop::Proved;
                result.proof = Some(steps.join("\n"));
                result.outcome.found_by = Some(FoundBy::PrefixSearch);
                result.outcome.attempt = (attempt > 0).then_some(attempt);
                result.outcome.round = (attempt > 0).then_some(round);
                result.outcome.calls_to_proof = Some(result.outcome.model_calls);
            }
            result.search = Some(PrefixSearch {
                prefix,
                proved: found.proved,
                counts: found.counts,
            });
        }
    }
    result.secs = began.elapsed().as_secs_f64();
    Ok(result)
}

/// Runs the attempts, `parallel` at once, none numbered above one that has proved the
/// theorem; their outcomes in attempt order, or the first failure (by attempt number) of
/// one that could not run, which stops the others numbered above it — unless an attempt
/// proved the theorem: a proof Lean verified stands.
fn run_attempts(cx: &Context<'_>) -> Result<Vec<AttemptOutcome>, RefineError> {
    let proved_by = AtomicUsize::new(usize::MAX);
    let failed = AtomicBool::new(false);
    let next = AtomicUsize::new(1);
    let finished: Mutex<Vec<(usize, Result<AttemptOutcome, RefineError>)>> = Mutex::new(Vec::new());
    let workers = cx.config.parallel.clamp(1, cx.config.attempts.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let attempt = next.fetch_add(1, Ordering::SeqCst);
                if attempt > cx.config.attempts
                    || attempt > proved_by.load(Ordering::SeqCst)
                    || failed.load(Ordering::SeqCst)
                {
                    break;
                }
                let outcome = run_attempt(cx, attempt, &proved_by);
                if outcome.is_err() {
                    failed.store(true, Ordering::SeqCst);
                    // Attempts numbered above it stop at their next request; those below
                    // go on, as they would have run before it one after another.
                    proved_by.fetch_min(attempt - 1, Ordering::SeqCst);
                }
                finished
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((attempt, outcome));
            });
        }
    });
    let mut finished = finished.into_inner().unwrap_or_else(|e| e.into_inner());
    finished.sort_by_key(|(attempt, _)| *attempt);
    // A verified proof stands, whatever failed beside it.
    let proved = finished
        .iter()
        .any(|(_, o)| o.as_ref().is_ok_and(|o| o.proved.is_some()));
    let mut outcomes = Vec::with_capacity(finished.len());
    for (_, outcome) in finished {
        match outcome {
            Ok(outcome) => outcomes.push(outcome),
            Err(_) if proved => {}
            Err(e) => return Err(e),
        }
    }
    Ok(outcomes)
}
