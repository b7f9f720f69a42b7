//! The batching thread: requests arriving within a few milliseconds of each other are decoded
//! together in one `Predictor::generate` call, so concurrent clients share the model's work.
//! The model runs on this thread only; callers (the HTTP server's async tasks) queue a prompt
//! without blocking and await its answer on a one-shot channel.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use crate::model::{Candidate, GenerateOptions, Predictor};

/// How requests are grouped into batches.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// How long the first request of a batch waits for others to join it.
    pub window: Duration,
    /// The most prompts decoded in one call.
    pub max_batch: usize,
    /// Requests waiting for the model at most; beyond that new ones are refused (busy).
    pub max_pending: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            window: Duration::from_millis(5),
            max_batch: 16,
            max_pending: 256,
        }
    }
}

/// What one prompt gets back: its candidates, or why the model failed.
pub type Answer = Result<Vec<Candidate>, String>;

struct Job {
    prompt: String,
    reply: oneshot::Sender<Answer>,
}

/// Counters of the batching thread (for logs, tests and benchmarks).
#[derive(Default)]
pub struct BatchStats {
    /// `generate` calls made.
    pub batches: AtomicUsize,
    /// Prompts decoded.
    pub prompts: AtomicUsize,
    /// The largest batch so far.
    pub largest: AtomicUsize,
}

/// A running batching thread; dropping every handle to it ends the thread.
pub struct Batcher {
    tx: SyncSender<Job>,
    stats: Arc<BatchStats>,
    max_pending: usize,
    thread: Option<JoinHandle<()>>,
}

/// The model queue is full.
#[derive(Debug, thiserror::Error)]
#[error("the model already has {0} requests waiting; try again shortly")]
pub struct Busy(pub usize);

impl Batcher {
    /// Starts the thread that decodes with `predictor` under `options`.
    pub fn start(
        predictor: Arc<dyn Predictor>,
        options: GenerateOptions,
        batch: BatchOptions,
    ) -> Batcher {
        let (tx, rx) = mpsc::sync_channel(batch.max_pending.max(1));
        let max_pending = batch.max_pending.max(1);
        let stats = Arc::new(BatchStats::default());
        let thread_stats = stats.clone();
        let thread = std::thread::Builder::new()
            .name("proofstep-batcher".into())
            .spawn(move || run(rx, predictor.as_ref(), &options, &batch, &thread_stats))
            .expect("spawning the batching thread");
        Batcher {
            tx,
            stats,
            max_pending,
            thread: Some(thread),
        }
    }

    /// Queues a prompt without blocking; the receiver gets its answer once its batch is decoded
    /// (await it, or `blocking_recv` outside an async runtime).
    pub fn submit(&self, prompt: String) -> Result<oneshot::Receiver<Answer>, Busy> {
        let (reply, answer) = oneshot::channel();
        match self.tx.try_send(Job { prompt, reply }) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                Err(Busy(self.max_pending))
            }
        }
    }

    /// The thread's counters.
    pub fn stats(&self) -> &BatchStats {
        &self.stats
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the batch in hand.
        let (dead, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.tx, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    rx: Receiver<Job>,
    predictor: &dyn Predictor,
    options: &GenerateOptions,
    batch: &BatchOptions,
    stats: &BatchStats,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + batch.window;
        while jobs.len() < batch.max_batch.max(1) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => jobs.push(job),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let prompts: Vec<String> = jobs.iter().map(|j| j.prompt.clone()).collect();
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.prompts.fetch_add(prompts.len(), Ordering::Relaxed);
        stats.largest.fetch_max(prompts.len(), Ordering::Relaxed);
        let started = Instant::now();
        let answers = match catch_unwind(AssertUnwindSafe(|| predictor.generate(&prompts, options)))
        {
            Ok(Ok(answers)) if answers.len() == prompts.len() => {
                answers.into_iter().map(Ok).collect()
            }
            Ok(Ok(answers)) => fail(
                &jobs,
                format!(
                    "the model answered {} of {} prompts",
                    answers.len(),
                    prompts.len()
                ),
            ),
            Ok(Err(e)) => fail(&jobs, format!("the model failed: {e:#}")),
            Err(_) => fail(&jobs, "the model panicked; see the server log".to_string()),
        };
        tracing::debug!(
            target: "serve",
            prompts = prompts.len(),
            secs = started.elapsed().as_secs_f64(),
            "batch decoded"
        );
        for (job, answer) in jobs.into_iter().zip(answers) {
            // A client that gave up has dropped its receiver; nothing to do then.
            let _ = job.reply.send(answer);
        }
    }
}

fn fail(jobs: &[Job], reason: String) -> Vec<Answer> {
    tracing::error!(target: "serve", "{reason}");
    jobs.iter().map(|_| Err(reason.clone())).collect()
}
