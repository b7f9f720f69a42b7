//! Best-first proof search, as in the seed (wellecks/ntptutorial `best_first_search`).
//!
//! A node is (cost, steps so far, goal state); its cost is the sum over its steps of the negative
//! normalized log-probability the predictor gave each step, and the cheapest node is expanded
//! first. Expanding a node asks the predictor for candidates, drops those the filter refuses,
//! checks the rest concurrently on the backend, drops failures and states already seen, and
//! queues the new states. The search stops at the first proof that `verify` accepts, or when the
//! queue empties, the expansions run out, or the wall time does. With retry temperatures, an
//! empty queue first sends expanded nodes back for fresh samples at those temperatures, each
//! retry asking about the node under another of the names it was reached with, while it has
//! one (`state_key` makes one state of goals that differ only in local names).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use priority_queue::PriorityQueue;
use tracing::{debug, info, warn};

use crate::lean::backend::proof_text;
use crate::lean::message::local_names;
use crate::lean::source::name_occurrences;
use crate::lean::{LeanError, Outcome, ProofBackend, ProofState};
use crate::model::{Candidate, Decoding, GenerateOptions, Predictor};
use crate::prompt::prompt;
use crate::search::apply::{apply_all, Applied};
use crate::search::filter::check_candidate;
use crate::search::name_repair::{repair_order, repairs};
use crate::search::result::{
    CandidateOutcome, CandidateTrace, ExpansionTrace, SearchCounts, SearchResult, SearchTimes,
    StopReason,
};
use crate::search::state_key::{printed_key, stable_hash, state_key};
use crate::search::SearchConfig;

/// Why a search could not run at all (as opposed to running and finding no proof).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The theorem could not be started: its header or statement does not elaborate, or Lean is
    /// missing.
    #[error("cannot start the theorem: {0}")]
    Start(LeanError),
    /// The backend cannot run Lean at all (it could not be started, or a file could not be written).
    #[error("the Lean backend failed: {0}")]
    Lean(LeanError),
    /// The predictor failed to generate candidates.
    #[error("the model failed to generate candidates: {0:#}")]
    Model(anyhow::Error),
}

/// Queue priority: lower cost first, then earlier insertion (so ties break the same way on
/// every run).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Priority {
    cost: f64,
    seq: u64,
}

impl Eq for Priority {}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One node of the search tree.
struct Node {
    state: ProofState,
    cost: f64,
    parent: Option<usize>,
    /// Times this node has been expanded (0: not yet; more than once only with retry
    /// temperatures).
    rounds: usize,
    /// Tactics already checked at this node (a retry does not check them again).
    tried: HashSet<String>,
    /// The same state reached under other local names (`state_key`), with the cost and parent
    /// of the path that reached it: a retry expands the next of them in the node's place, so
    /// the model, which answers a state differently under other names, is asked about it
    /// afresh.
    spares: Vec<Spare>,
    /// Every printed form of the state this node has held or kept (`printed_key`), so none is
    /// kept or asked about twice.
    forms: HashSet<String>,
}

/// A node's state under other names, and the path that reached it.
struct Spare {
    state: ProofState,
    cost: f64,
    parent: usize,
}

/// Everything one search keeps between expansions.
struct Search<'a> {
    backend: &'a dyn ProofBackend,
    predictor: &'a dyn Predictor,
    config: &'a SearchConfig,
    header: &'a str,
    statement: &'a str,
    nodes: Vec<Node>,
    by_key: HashMap<String, usize>,
    queue: PriorityQueue<usize, Priority>,
    /// Expanded nodes that may be expanded again at a retry temperature, cheapest first.
    retry: PriorityQueue<usize, Priority>,
    seq: u64,
    prefetched: HashMap<usize, (Vec<Candidate>, f64)>,
    counts: SearchCounts,
    times: SearchTimes,
    trace: Vec<ExpansionTrace>,
    deadline: Instant,
}

/// Searches for a proof of `statement` (without `:= by`) under `header`.
///
/// Returns `Err` only when the search cannot run (the theorem does not start, Lean cannot be
/// launched, the model fails); "no proof found" is an `Ok` result with `proved == false`.
pub fn search(
    backend: &dyn ProofBackend,
    predictor: &dyn Predictor,
    header: &str,
    statement: &str,
    config: &SearchConfig,
) -> Result<SearchResult, SearchError> {
    let began = Instant::now();
    let root = backend
        .start(header, statement)
        .map_err(SearchError::Start)?;
    let context = unwritten_context(statement, &root);
    let mut result = search_from(backend, predictor, root, config, began)?;
    result.context = context;
    Ok(result)
}

/// `lean::context::unwritten_hypotheses` of a theorem's first state.
pub fn unwritten_context(statement: &str, root: &ProofState) -> Vec<String> {
    root.goals
        .first()
        .map(|goal| crate::lean::context::unwritten_hypotheses(statement, goal))
        .unwrap_or_default()
}

/// Searches on from `root`, a state of a theorem reached by the steps it holds (a prefix of a
/// proof that Lean accepted: `refine --then-search`); the proof found starts with those
/// steps. `began` is when the budget started (`config.time_limit` counts from it).
pub fn search_from(
    backend: &dyn ProofBackend,
    predictor: &dyn Predictor,
    root: ProofState,
    config: &SearchConfig,
    began: Instant,
) -> Result<SearchResult, SearchError> {
    let deadline = began + config.time_limit;
    let (header, statement) = (root.header.clone(), root.statement.clone());
    let mut search = Search {
        backend,
        predictor,
        config,
        header: &header,
        statement: &statement,
        nodes: Vec::new(),
        by_key: HashMap::new(),
        queue: PriorityQueue::new(),
        retry: PriorityQueue::new(),
        seq: 0,
        prefetched: HashMap::new(),
        counts: SearchCounts::default(),
        times: SearchTimes {
            lean_secs: began.elapsed().as_secs_f64(),
            ..SearchTimes::default()
        },
        trace: Vec::new(),
        deadline,
    };
    search.add_node(root, 0.0, None);
    let (stop, proof) = search.run()?;
    search.times.total_secs = began.elapsed().as_secs_f64();
    info!(
        proved = proof.is_some(),
        ?stop,
        expansions = search.counts.expansions,
        secs = search.times.total_secs,
        "search finished"
    );
    Ok(SearchResult {
        proved: proof.is_some(),
        stop,
        score: proof.as_ref().map(|(_, cost)| *cost),
        proof: proof.map(|(steps, _)| steps),
        counts: search.counts,
        times: search.times,
        trace: search.trace,
        context: Vec::new(),
    })
}

impl Search<'_> {
    /// Queues a new node and returns its id.
    fn add_node(&mut self, state: ProofState, cost: f64, parent: Option<usize>) -> usize {
        let id = self.nodes.len();
        let key = state_key(&state.goals);
        self.by_key.insert(key, id);
        let forms = HashSet::from([printed_key(&state.goals)]);
        self.nodes.push(Node {
            state,
            cost,
            parent,
            rounds: 0,
            tried: HashSet::new(),
            spares: Vec::new(),
            forms,
        });
        self.seq += 1;
        self.queue.push(
            id,
            Priority {
                cost,
                seq: self.seq,
            },
        );
        id
    }

    /// The generation options for a node: the configured ones with a seed derived from its state;
    /// on a retry, sampling at that round's retry temperature with a seed of its own.
    fn options_for(&self, id: usize) -> GenerateOptions {
        let mut options = self.config.generate.clone();
        options.seed ^= stable_hash(&printed_key(&self.nodes[id].state.goals));
        let round = self.nodes[id].rounds;
        if let Some(&temperature) = round
            .checked_sub(1)
            .and_then(|r| self.config.retry_temperatures.get(r))
        {
            let (samples, top_p) = match &options.decoding {
                Decoding::Sample { samples, top_p, .. } => (*samples, *top_p),
                Decoding::Beam { width } => (*width, 0.95),
            };
            options.decoding = Decoding::Sample {
                temperatures: vec![temperature],
                samples,
                top_p,
            };
            options.seed = options.seed.wrapping_add(round as u64);
        }
        options
    }

    /// Candidates for one node, timed.
    fn generate(&self, id: usize) -> Result<(Vec<Candidate>, f64), SearchError> {
        let started = Instant::now();
        let prompts = [prompt(&self.nodes[id].state.pretty())];
        let answer = self
            .predictor
            .generate_until(&prompts, &self.options_for(id), self.deadline);
        let mut out = match answer {
            Ok(out) => out,
            // The budget is spent and the model has answered this search before, or was not
            // asked before the budget was (Lean's start took it all): the search ends out of
            // time, as it would have. A first request that went unanswered or failed is the
            // model's failure (no verdict).
            Err(err)
                if Instant::now() >= self.deadline
                    && (self.counts.generated > 0 || started >= self.deadline) =>
            {
                warn!("the model failed as the time limit came: {err:#}");
                Vec::new()
            }
            Err(err) => return Err(SearchError::Model(err)),
        };
        let secs = started.elapsed().as_secs_f64();
        Ok((out.pop().unwrap_or_default(), secs))
    }

    /// The main loop: returns why it stopped and the verified proof with its cost, if any.
    #[allow(clippy::type_complexity)]
    fn run(&mut self) -> Result<(StopReason, Option<(Vec<String>, f64)>), SearchError> {
        loop {
            if self.counts.expansions >= self.config.max_expansions {
                return Ok((StopReason::MaxExpansions, None));
            }
            if Instant::now() >= self.deadline {
                return Ok((StopReason::TimeLimit, None));
            }
            let Some((id, _)) = self.queue.pop().or_else(|| self.retry.pop()) else {
                return Ok((StopReason::QueueEmpty, None));
            };
            if let Some(proof) = self.expand(id)? {
                return Ok((StopReason::Proved, Some(proof)));
            }
        }
    }

    /// Expands one node; returns the verified proof if one of its candidates completes it.
    fn expand(&mut self, id: usize) -> Result<Option<(Vec<String>, f64)>, SearchError> {
        self.counts.expansions += 1;
        if self.nodes[id].rounds > 0 {
            self.counts.retries += 1;
            if !self.nodes[id].spares.is_empty() {
                let spare = self.nodes[id].spares.remove(0);
                self.take_spare(id, spare);
            }
        }
        let (candidates, model_secs, prefetched) = match self.prefetched.remove(&id) {
            Some((c, secs)) => (c, secs, true),
            None => {
                let (c, secs) = self.generate(id)?;
                self.times.model_secs += secs;
                (c, secs, false)
            }
        };
        debug!(node = id, candidates = candidates.len(), "expanding");
        self.counts.generated += candidates.len();

        // Trim, drop repeats, refuse what cannot be a proof step.
        let mut traces: Vec<CandidateTrace> = Vec::new();
        let mut to_check: Vec<(usize, String)> = Vec::new();
        let mut seen_texts = HashSet::new();
        for candidate in &candidates {
            let tactic = candidate.text.trim().to_string();
            if !seen_texts.insert(tactic.clone()) || self.nodes[id].tried.contains(&tactic) {
                continue;
            }
            let outcome = match check_candidate(&tactic) {
                Ok(()) => {
                    to_check.push((traces.len(), tactic.clone()));
                    CandidateOutcome::Skipped
                }
                Err(reason) => {
                    self.counts.rejected += 1;
                    CandidateOutcome::Rejected {
                        reason: reason.to_string(),
                    }
                }
            };
            traces.push(CandidateTrace {
                tactic,
                score: candidate.score,
                outcome,
                lean_secs: 0.0,
                repair_of: None,
            });
        }

        self.nodes[id]
            .tried
            .extend(to_check.iter().map(|(_, t)| t.clone()));
        self.nodes[id].rounds += 1;
        if self.nodes[id].rounds <= self.config.retry_temperatures.len() {
            self.seq += 1;
            let priority = Priority {
                cost: self.nodes[id].cost,
                seq: self.seq,
            };
            self.retry.push(id, priority);
        }

        // Check concurrently; meanwhile, generate for the next node in line.
        let prefetch = self.prefetch_target(&to_check);
        let tactics: Vec<String> = to_check.iter().map(|(_, t)| t.clone()).collect();
        let check_started = Instant::now();
        let (checked, prefetch_result) = {
            let backend = self.backend;
            let predictor = self.predictor;
            let state = &self.nodes[id].state;
            let threads = self.config.check_threads;
            let deadline = self.deadline;
            std::thread::scope(|scope| {
                let handle = prefetch.map(|(next, prompt, options)| {
                    scope.spawn(move || {
                        let started = Instant::now();
                        let result = predictor.generate_until(&[prompt], &options, deadline);
                        (next, result, started.elapsed().as_secs_f64())
                    })
                });
                let checked = apply_all(backend, state, &tactics, threads, deadline);
                (checked, handle.map(|h| h.join()))
            })
        };
        self.times.lean_secs += check_started.elapsed().as_secs_f64();
        match prefetch_result {
            Some(Ok((next, Ok(mut out), secs))) => {
                self.times.model_secs += secs;
                self.prefetched
                    .insert(next, (out.pop().unwrap_or_default(), secs));
            }
            Some(Ok((_, Err(err), secs))) => {
                self.times.model_secs += secs;
                // Cut by the time limit, it is the search's end, not a failure.
                if Instant::now() < self.deadline {
                    warn!(
                        "generating ahead failed (will retry when the node is expanded): {err:#}"
                    );
                }
            }
            Some(Err(_)) => {
                warn!("the generation thread panicked; will retry when the node is expanded")
            }
            None => {}
        }

        // Process answers in candidate order (best score first): the first verified proof wins.
        let mut found = None;
        self.absorb_all(id, &to_check, checked, &mut traces, &mut found)?;
        self.repair_names(id, &mut seen_texts, &mut traces, &mut found)?;
        let node = &self.nodes[id];
        self.trace.push(ExpansionTrace {
            node: id,
            parent: node.parent,
            cost: node.cost,
            steps: node.state.steps.clone(),
            goals: node.state.goals.clone(),
            model_secs,
            prefetched,
            candidates: traces,
        });
        Ok(found)
    }

    /// Folds the backend's answers on `to_check` (indices into `traces`, in candidate order)
    /// into the search and the traces; the first verified proof sets `found`, and the answers
    /// after it are not used.
    fn absorb_all(
        &mut self,
        id: usize,
        to_check: &[(usize, String)],
        checked: Vec<Applied>,
        traces: &mut [CandidateTrace],
        found: &mut Option<(Vec<String>, f64)>,
    ) -> Result<(), SearchError> {
        for ((index, tactic), answer) in to_check.iter().zip(checked) {
            let score = traces[*index].score;
            let (outcome, secs) = match answer {
                Applied::Skipped => (CandidateOutcome::Skipped, 0.0),
                Applied::Done(result, secs) => {
                    self.counts.checked += 1;
                    let outcome = match found {
                        Some(_) => CandidateOutcome::Skipped,
                        None => self.absorb(id, tactic, score, result, found)?,
                    };
                    (outcome, secs)
                }
            };
            traces[*index].outcome = outcome;
            traces[*index].lean_secs = secs;
        }
        Ok(())
    }

    /// Name repair (`name_repair`): the candidates of this expansion that failed on an unknown
    /// identifier are checked again with each hypothesis name of the goal in its place
    /// (`name_repair::repair_order`), at most `config.name_repairs` of them per
    /// expansion, each with the score of the candidate it repairs; the budget goes round the
    /// failed candidates (each one's first repair, then each one's second, …) so one candidate
    /// cannot spend it all. A repair that fails the same way is repaired once more (a tactic
    /// may name two hypotheses wrongly). Tactics already seen at the node are not checked again.
    fn repair_names(
        &mut self,
        id: usize,
        seen_texts: &mut HashSet<String>,
        traces: &mut Vec<CandidateTrace>,
        found: &mut Option<(Vec<String>, f64)>,
    ) -> Result<(), SearchError> {
        let Some(goal) = self.nodes[id].state.goals.first() else {
            return Ok(());
        };
        let names = repair_order(goal);
        let mut budget = self.config.name_repairs;
        let mut from = 0;
        for _round in 0..2 {
            if found.is_some() || budget == 0 || Instant::now() >= self.deadline {
                return Ok(());
            }
            let mut to_check: Vec<(usize, String)> = Vec::new();
            let failed: Vec<(String, f64, Vec<String>)> = traces[from..]
                .iter()
                .filter_map(|t| match &t.outcome {
                    CandidateOutcome::Failed { error } => {
                        let fixes = repairs(&t.tactic, error, &names);
                        (!fixes.is_empty()).then(|| (t.tactic.clone(), t.score, fixes))
                    }
                    _ => None,
                })
                .collect();
            from = traces.len();
            let longest = failed.iter().map(|(_, _, f)| f.len()).max().unwrap_or(0);
            'turns: for turn in 0..longest {
                for (tactic, score, fixes) in &failed {
                    let Some(repaired) = fixes.get(turn) else {
                        continue;
                    };
                    if budget == 0 {
                        break 'turns;
                    }
                    if self.nodes[id].tried.contains(repaired)
                        || !seen_texts.insert(repaired.clone())
                    {
                        continue;
                    }
                    budget -= 1;
                    to_check.push((traces.len(), repaired.clone()));
                    traces.push(CandidateTrace {
                        tactic: repaired.clone(),
                        score: *score,
                        outcome: CandidateOutcome::Skipped,
                        lean_secs: 0.0,
                        repair_of: Some(tactic.clone()),
                    });
                }
            }
            if to_check.is_empty() {
                return Ok(());
            }
            self.nodes[id]
                .tried
                .extend(to_check.iter().map(|(_, t)| t.clone()));
            let tactics: Vec<String> = to_check.iter().map(|(_, t)| t.clone()).collect();
            let started = Instant::now();
            let checked = apply_all(
                self.backend,
                &self.nodes[id].state,
                &tactics,
                self.config.check_threads,
                self.deadline,
            );
            self.times.lean_secs += started.elapsed().as_secs_f64();
            self.counts.repaired += checked
                .iter()
                .filter(|a| matches!(a, Applied::Done(..)))
                .count();
            self.absorb_all(id, &to_check, checked, traces, found)?;
        }
        Ok(())
    }

    /// The node to generate for while checking, if pipelining is on and it would be useful.
    fn prefetch_target(
        &self,
        to_check: &[(usize, String)],
    ) -> Option<(usize, String, GenerateOptions)> {
        if !self.config.pipeline || to_check.is_empty() {
            return None;
        }
        if self.counts.expansions >= self.config.max_expansions {
            return None;
        }
        let (&next, _) = self.queue.peek()?;
        if self.prefetched.contains_key(&next) {
            return None;
        }
        Some((
            next,
            prompt(&self.nodes[next].state.pretty()),
            self.options_for(next),
        ))
    }

    /// Folds one backend answer into the search; sets `found` when it is a verified proof.
    fn absorb(
        &mut self,
        parent: usize,
        tactic: &str,
        score: f64,
        result: Result<Outcome, LeanError>,
        found: &mut Option<(Vec<String>, f64)>,
    ) -> Result<CandidateOutcome, SearchError> {
        let cost = self.nodes[parent].cost - score;
        match result {
            Ok(Outcome::Failed(error)) => {
                self.counts.failed += 1;
                Ok(CandidateOutcome::Failed { error })
            }
            Ok(Outcome::Proved(_)) => {
                let mut steps = self.nodes[parent].state.steps.clone();
                steps.push(tactic.to_string());
                let started = Instant::now();
                let text = proof_text(&steps);
                let mut verdict = self.backend.verify(self.header, self.statement, &text);
                if matches!(&verdict, Err(e) if e.is_transient()) {
                    warn!("Lean failed while checking a proof found; checking it again");
                    verdict = self.backend.verify(self.header, self.statement, &text);
                }
                self.times.lean_secs += started.elapsed().as_secs_f64();
                match verdict {
                    Ok(v) if v.is_proved() => {
                        *found = Some((steps, cost));
                        Ok(CandidateOutcome::Proved)
                    }
                    Ok(v) => {
                        self.counts.proofs_rejected += 1;
                        Ok(CandidateOutcome::ProofRejected {
                            status: v.status,
                            errors: v.errors,
                        })
                    }
                    // Failed twice, it fails for this proof (a check that outgrows the memory
                    // limit each time, say): an error on the candidate, and the search goes on.
                    Err(err) => self.backend_error(err),
                }
            }
            Ok(Outcome::Open(state)) => {
                let key = state_key(&state.goals);
                let goals = state.goals.len();
                match self.by_key.get(&key).copied() {
                    None => {
                        self.counts.new_states += 1;
                        let node = self.add_node(state, cost, Some(parent));
                        Ok(CandidateOutcome::Open { node, goals })
                    }
                    Some(node) => {
                        self.counts.duplicates += 1;
                        let expanded = self.nodes[node].rounds > 0;
                        let improved = !expanded && cost < self.nodes[node].cost;
                        if !improved {
                            self.keep_spare(node, &state, cost, parent);
                        }
                        if improved {
                            self.seq += 1;
                            self.improve(node, state, cost, parent);
                            self.queue.change_priority(
                                &node,
                                Priority {
                                    cost,
                                    seq: self.seq,
                                },
                            );
                        }
                        Ok(CandidateOutcome::Duplicate {
                            node,
                            expanded,
                            improved,
                        })
                    }
                }
            }
            Err(err) => self.backend_error(err),
        }
    }

    /// Keeps `state`, a duplicate of `node` up to local names reached at `cost` from `parent`,
    /// for the node's retries when no form of it printed so has been held or kept, and a retry
    /// is left to use it.
    fn keep_spare(&mut self, node: usize, state: &ProofState, cost: f64, parent: usize) {
        let retries = self.config.retry_temperatures.len();
        let n = &mut self.nodes[node];
        let left = retries.saturating_sub(n.rounds.saturating_sub(1));
        if n.spares.len() >= left || !n.forms.insert(printed_key(&state.goals)) {
            return;
        }
        n.spares.push(Spare {
            state: state.clone(),
            cost,
            parent,
        });
    }

    /// Puts a cheaper path's `state` in queued node `node`'s place. When it prints otherwise
    /// (other local names), candidates generated ahead for the old names are dropped and the
    /// old state is kept as a spare.
    fn improve(&mut self, node: usize, state: ProofState, cost: f64, parent: usize) {
        let (new_form, old_form) = (
            printed_key(&state.goals),
            printed_key(&self.nodes[node].state.goals),
        );
        let n = &mut self.nodes[node];
        let old = std::mem::replace(&mut n.state, state);
        let (old_cost, old_parent) = (n.cost, n.parent);
        n.cost = cost;
        n.parent = Some(parent);
        if new_form != old_form {
            n.forms.insert(new_form);
            n.forms.remove(&old_form);
            self.prefetched.remove(&node);
            if let Some(old_parent) = old_parent {
                self.keep_spare(node, &old, old_cost, old_parent);
            }
        }
    }

    /// Puts `spare` in node `id`'s place for a retry: its state, cost and parent. Tactics tried
    /// at the node that name one of its locals (under the old names or the new) may mean
    /// something else now and are forgotten; the rest stay tried.
    fn take_spare(&mut self, id: usize, spare: Spare) {
        let node = &mut self.nodes[id];
        let mut locals: Vec<String> = node
            .state
            .goals
            .iter()
            .flat_map(|g| local_names(g))
            .collect();
        locals.extend(spare.state.goals.iter().flat_map(|g| local_names(g)));
        node.tried.retain(|tactic| {
            locals
                .iter()
                .all(|l| name_occurrences(tactic, l).is_empty())
        });
        node.state = spare.state;
        node.cost = spare.cost;
        node.parent = Some(spare.parent);
    }

    /// A backend error on one candidate: fatal when Lean cannot run at all, else recorded.
    fn backend_error(&mut self, err: LeanError) -> Result<CandidateOutcome, SearchError> {
        match err {
            LeanError::Spawn { .. } | LeanError::Io { .. } => Err(SearchError::Lean(err)),
            LeanError::Timeout(_) => {
                self.counts.timeouts += 1;
                Ok(CandidateOutcome::Timeout {
                    error: err.to_string(),
                })
            }
            other => {
                self.counts.errors += 1;
                warn!("backend error on a candidate (the search goes on): {other}");
                Ok(CandidateOutcome::Error {
                    error: other.to_string(),
                })
            }
        }
    }
}
