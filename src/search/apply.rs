//! Applies a node's candidates on the backend concurrently (scoped threads over the candidates;
//! backends are `Sync`), stopping early only for the wall-time budget.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::lean::{LeanError, Outcome, ProofBackend, ProofState};

/// The backend's answer on one candidate, with the seconds it took.
pub enum Applied {
    /// The backend answered (or failed) after this many seconds.
    Done(Result<Outcome, LeanError>, f64),
    /// Not started: the deadline had passed.
    Skipped,
}

/// Applies every tactic to `state`, at most `threads` at a time, and returns the answers in the
/// order of `tactics`. Candidates not yet started when `deadline` passes are `Skipped`; one
/// that Lean itself failed on (`LeanError::is_transient`) is applied once more.
pub fn apply_all(
    backend: &dyn ProofBackend,
    state: &ProofState,
    tactics: &[String],
    threads: usize,
    deadline: Instant,
) -> Vec<Applied> {
    let slots: Vec<Mutex<Option<Applied>>> = tactics.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = threads.max(1).min(tactics.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tactics.len() {
                    break;
                }
                let answer = if Instant::now() >= deadline {
                    Applied::Skipped
                } else {
                    let started = Instant::now();
                    let mut result = backend.apply(state, &tactics[i]);
                    // Lean itself failed (died, outgrew its memory, ...): once more on the
                    // restarted process before the failure counts against the tactic.
                    if matches!(&result, Err(e) if e.is_transient()) && Instant::now() < deadline {
                        result = backend.apply(state, &tactics[i]);
                    }
                    Applied::Done(result, started.elapsed().as_secs_f64())
                };
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or(Applied::Skipped)
        })
        .collect()
}
