//! The suggestion engine: one thread that, for the latest code-action request, asks Lean for
//! the goal at the cursor, asks the model for candidate steps, refuses dishonest ones (the
//! search module's filter), and checks the rest with Lean in shadow copies. Results are
//! published into a slot as they are checked, so the proxy can answer with whatever is ready
//! when its latency budget runs out; the work goes on and the slot is cached for the next
//! request at the same place.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use lsp_types::{Position, Range};

use crate::lean::axioms::AxiomPolicy;
use crate::lean::process::default_memory_limit_mb;
use crate::lean::LeanCommand;
use crate::model::{Candidate, GenerateOptions, Predictor};
use crate::search::state_key::prompt;
use crate::search::{append_listed, check_candidate};
use crate::serve::lsp::check::{ShadowChecker, Verdict};
use crate::serve::lsp::cursor::{plan, shadow};

/// Asks the editor's Lean server for the goals at a position (`$/lean/plainGoal`).
pub trait GoalSource: Send + Sync {
    /// None where there is no tactic state; an empty list where the goals are solved.
    fn goals_at(
        &self,
        uri: &str,
        at: Position,
        timeout: Duration,
    ) -> Result<Option<Vec<String>>, String>;
}

/// Settings of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// How the model decodes candidates.
    pub generate: GenerateOptions,
    /// The model's candidates checked at most per request (best scores first).
    pub max_candidates: usize,
    /// Tactics checked at every request besides the model's candidates (see
    /// `search::AlsoTry`), on top of `max_candidates`.
    pub also_try: Vec<String>,
    /// Shadow language servers checking candidates side by side.
    pub check_workers: usize,
    /// Time one check may take before its server is restarted and the candidate dropped.
    pub check_timeout: Duration,
    /// Time the goal query may take.
    pub goal_timeout: Duration,
    /// Results kept for re-requests at the same place.
    pub cache_entries: usize,
    /// The axioms a completed proof may rest on.
    pub policy: AxiomPolicy,
    /// Private memory (MB) a checking server may use before it is killed and restarted.
    pub memory_limit_mb: Option<u64>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            generate: GenerateOptions::default(),
            max_candidates: 8,
            also_try: Vec::new(),
            check_workers: 2,
            check_timeout: Duration::from_secs(20),
            goal_timeout: Duration::from_secs(20),
            cache_entries: 32,
            policy: AxiomPolicy::default(),
            memory_limit_mb: Some(default_memory_limit_mb(2)),
        }
    }
}

/// Where a request was made: document, version and cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobKey {
    /// The document URI.
    pub uri: String,
    /// The editor's version of its text.
    pub version: i64,
    /// The cursor.
    pub line: u32,
    /// The cursor (UTF-16 character).
    pub character: u32,
}

/// One checked step ready to offer.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    /// The tactic as the model wrote it (trimmed).
    pub tactic: String,
    /// The model's score (mean log-probability).
    pub score: f64,
    /// Whether it completes the proof.
    pub completes: bool,
    /// The range to replace in the editor's document.
    pub range: Range,
    /// The text to put there.
    pub new_text: String,
}

/// The suggestions for one request, filled in as candidates are checked.
#[derive(Debug, Default)]
pub struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    items: Vec<Suggestion>,
    done: bool,
    note: Option<String>,
}

impl Slot {
    /// The suggestions so far: completing ones first, then valid ones, best score first in each.
    pub fn suggestions(&self) -> Vec<Suggestion> {
        self.lock().items.clone()
    }

    /// Whether every candidate has been checked (or the request was given up).
    pub fn is_done(&self) -> bool {
        self.lock().done
    }

    /// Why there is nothing to suggest, when the engine knows (not a tactic block, no model
    /// candidates, every candidate failed, ...).
    pub fn note(&self) -> Option<String> {
        self.lock().note.clone()
    }

    fn push(&self, s: Suggestion) {
        let mut st = self.lock();
        let at = st
            .items
            .iter()
            .position(|o| (s.completes, s.score) > (o.completes, o.score))
            .unwrap_or(st.items.len());
        st.items.insert(at, s);
    }

    fn finish(&self, note: Option<String>) {
        let mut st = self.lock();
        st.done = true;
        if st.note.is_none() {
            st.note = note;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Job {
    key: JobKey,
    text: String,
    slot: Arc<Slot>,
    seq: u64,
}

struct Shared {
    queue: Mutex<Option<Job>>,
    wake: Condvar,
    latest: AtomicU64,
    cache: Mutex<VecDeque<(JobKey, Arc<Slot>)>>,
    stop: Mutex<bool>,
    checked: AtomicUsize,
}

/// The engine: a handle to its thread.
pub struct Engine {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine thread. `checker` runs `lean` (its `--server` checks the candidates);
    /// the shadow servers start right away in the background.
    pub fn start(
        predictor: Arc<dyn Predictor>,
        goals: Arc<dyn GoalSource>,
        checker: LeanCommand,
        options: EngineOptions,
    ) -> Engine {
        let shared = Arc::new(Shared {
            queue: Mutex::new(None),
            wake: Condvar::new(),
            latest: AtomicU64::new(0),
            cache: Mutex::new(VecDeque::new()),
            stop: Mutex::new(false),
            checked: AtomicUsize::new(0),
        });
        let inner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("proofstep-suggest".into())
            .spawn(move || {
                let checkers: Vec<Mutex<ShadowChecker>> = (0..options.check_workers.max(1))
                    .map(|i| {
                        Mutex::new(ShadowChecker::new(
                            checker.clone(),
                            options.check_timeout,
                            options.memory_limit_mb,
                            i,
                            options.policy.clone(),
                        ))
                    })
                    .collect();
                std::thread::scope(|scope| {
                    for c in &checkers {
                        scope.spawn(move || {
                            if let Err(e) = lock(c).warm() {
                                tracing::warn!(target: "lsp_proxy", "cannot start a Lean server to check suggestions: {e}");
                            }
                        });
                    }
                });
                while let Some(job) = next_job(&inner) {
                    work(&inner, job, predictor.as_ref(), goals.as_ref(), &checkers, &options);
                }
            })
            .expect("spawning the suggestion thread");
        Engine {
            shared,
            thread: Some(thread),
        }
    }

    /// The slot for a request at `key` on `text`: the cached one when the same place was asked
    /// for before, else a new one queued for the engine (replacing any request not yet begun;
    /// the one being worked on stops at its next candidate).
    pub fn request(&self, key: JobKey, text: String, cache_entries: usize) -> Arc<Slot> {
        {
            let cache = lock(&self.shared.cache);
            if let Some((_, slot)) = cache.iter().find(|(k, _)| *k == key) {
                return slot.clone();
            }
        }
        let slot = Arc::new(Slot::default());
        let seq = self.shared.latest.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut cache = lock(&self.shared.cache);
            cache.push_back((key.clone(), slot.clone()));
            while cache.len() > cache_entries.max(1) {
                cache.pop_front();
            }
        }
        let replaced = lock(&self.shared.queue).replace(Job {
            key,
            text,
            slot: slot.clone(),
            seq,
        });
        if let Some(old) = replaced {
            abandon(&self.shared, &old);
        }
        self.shared.wake.notify_all();
        slot
    }

    /// Candidates checked by Lean so far (for logs and benchmarks).
    pub fn checked(&self) -> usize {
        self.shared.checked.load(Ordering::Relaxed)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        *lock(&self.shared.stop) = true;
        self.shared.latest.fetch_add(1, Ordering::SeqCst);
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn next_job(shared: &Shared) -> Option<Job> {
    let mut queue = lock(&shared.queue);
    loop {
        if *lock(&shared.stop) {
            return None;
        }
        if let Some(job) = queue.take() {
            return Some(job);
        }
        queue = shared
            .wake
            .wait_timeout(queue, Duration::from_millis(200))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// A request given up before it finished: it leaves the cache (asking again recomputes it).
fn abandon(shared: &Shared, job: &Job) {
    job.slot
        .finish(Some("a newer request replaced this one".into()));
    lock(&shared.cache).retain(|(k, s)| !(k == &job.key && Arc::ptr_eq(s, &job.slot)));
}

fn work(
    shared: &Shared,
    job: Job,
    predictor: &dyn Predictor,
    goals: &dyn GoalSource,
    checkers: &[Mutex<ShadowChecker>],
    options: &EngineOptions,
) {
    let started = Instant::now();
    let stale = || shared.latest.load(Ordering::SeqCst) != job.seq;
    let note = |text: &str| {
        tracing::info!(
            target: "lsp_proxy",
            uri = job.key.uri,
            line = job.key.line,
            total_secs = started.elapsed().as_secs_f64(),
            "no suggestions: {text}"
        );
        job.slot.finish(Some(text.to_string()));
    };
    let cursor = Position {
        line: job.key.line,
        character: job.key.character,
    };
    let Some(ins) = plan(&job.text, cursor) else {
        return note("the cursor is not on a blank line or at the end of a line");
    };
    let state = match goals.goals_at(&job.key.uri, ins.goal_at, options.goal_timeout) {
        Ok(Some(g)) if !g.is_empty() => g,
        Ok(Some(_)) => return note("no goals at the cursor"),
        Ok(None) => return note("the cursor is not in a tactic block"),
        Err(e) => return note(&format!("could not get the goal at the cursor: {e}")),
    };
    if stale() {
        return abandon(shared, &job);
    }
    let generated = match predictor.generate(&[prompt(&state.join("\n\n"))], &options.generate) {
        Ok(mut lists) if !lists.is_empty() => lists.swap_remove(0),
        Ok(_) => Vec::new(),
        Err(e) => return note(&format!("the model failed: {e:#}")),
    };
    let model_secs = started.elapsed().as_secs_f64();
    let mut candidates: Vec<Candidate> = Vec::new();
    for c in generated {
        let tactic = c.text.trim().to_string();
        if let Err(why) = check_candidate(&tactic) {
            tracing::debug!(target: "lsp_proxy", tactic, "refused: {why}");
            continue;
        }
        if !candidates.iter().any(|k| k.text == tactic) {
            candidates.push(Candidate {
                text: tactic,
                score: c.score,
            });
        }
        if candidates.len() >= options.max_candidates.max(1) {
            break;
        }
    }
    append_listed(&mut candidates, &options.also_try);
    if candidates.is_empty() {
        return note("the model proposed no usable step");
    }
    let document = document_path(&job.key.uri);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for checker in checkers.iter().take(candidates.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= candidates.len() || stale() {
                    break;
                }
                let Candidate {
                    text: tactic,
                    score,
                } = &candidates[i];
                let Some(sh) = shadow(&job.text, &ins, tactic) else {
                    continue;
                };
                let verdict = lock(checker).check(&document, &sh, ins.declaration_line);
                shared.checked.fetch_add(1, Ordering::Relaxed);
                match verdict {
                    Ok(Verdict::Fails(why)) => {
                        tracing::debug!(target: "lsp_proxy", tactic, "fails: {why}")
                    }
                    Ok(v) => job.slot.push(Suggestion {
                        tactic: tactic.clone(),
                        score: *score,
                        completes: v == Verdict::Completes,
                        range: ins.range,
                        new_text: ins.new_text(tactic),
                    }),
                    Err(e) => {
                        tracing::warn!(target: "lsp_proxy", tactic, "could not check: {e}")
                    }
                }
            });
        }
    });
    if stale() {
        // Partly checked: keep what was found for this answer, but let a re-request redo it.
        abandon(shared, &job);
        return;
    }
    let found = job.slot.suggestions().len();
    tracing::info!(
        target: "lsp_proxy",
        uri = job.key.uri,
        line = job.key.line,
        candidates = candidates.len(),
        offered = found,
        model_secs,
        total_secs = started.elapsed().as_secs_f64(),
        "suggestions ready"
    );
    job.slot
        .finish((found == 0).then(|| "no candidate step passed Lean's check".to_string()));
}

/// The file path of a `file://` URI (others get a name in the temporary folder).
fn document_path(uri: &str) -> PathBuf {
    url::Url::parse(uri)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .unwrap_or_else(|| std::env::temp_dir().join("proofstep-untitled.lean"))
}
