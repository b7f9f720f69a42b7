//! The batching thread: requests arriving within a few milliseconds of each other are decoded
//! together, so concurrent clients share the model's work. llmstep requests (candidates under
//! the server's decoding options) go to the model in one `Predictor::generate` call; OpenAI
//! completion requests (samples with their tokens, under each request's own options) in one
//! `Predictor::complete` call per set of equal options. The model runs on this thread only;
//! callers (the HTTP server's async tasks) queue a prompt without blocking and await its answer
//! on a one-shot channel.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use crate::model::{Candidate, GenerateOptions, Predictor, PromptCompletions};

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

/// What one completion prompt gets back: its samples, or why the model failed.
pub type CompletionAnswer = Result<PromptCompletions, String>;

/// How a completion prompt is sampled: the request's own options.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionOptions {
    /// Temperature, samples, nucleus, length and seed.
    pub generate: GenerateOptions,
    /// Alternatives reported per token.
    pub top_logprobs: usize,
}

/// Completion prompts sampled together: their shared options, each prompt with its reply.
type CompletionGroup = (
    CompletionOptions,
    Vec<(String, oneshot::Sender<CompletionAnswer>)>,
);

enum Reply {
    /// Candidates under the server's options (llmstep).
    Candidates(oneshot::Sender<Answer>),
    /// Samples under their own options (OpenAI completions).
    Completions(CompletionOptions, oneshot::Sender<CompletionAnswer>),
}

struct Job {
    prompt: String,
    reply: Reply,
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
        self.queue(Job {
            prompt,
            reply: Reply::Candidates(reply),
        })?;
        Ok(answer)
    }

    /// Queues a prompt to be sampled under its own options, like `submit`.
    pub fn submit_completion(
        &self,
        prompt: String,
        options: CompletionOptions,
    ) -> Result<oneshot::Receiver<CompletionAnswer>, Busy> {
        let (reply, answer) = oneshot::channel();
        self.queue(Job {
            prompt,
            reply: Reply::Completions(options, reply),
        })?;
        Ok(answer)
    }

    fn queue(&self, job: Job) -> Result<(), Busy> {
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
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

impl Reply {
    /// Whether the client stopped waiting for the answer.
    fn is_closed(&self) -> bool {
        match self {
            Reply::Candidates(reply) => reply.is_closed(),
            Reply::Completions(_, reply) => reply.is_closed(),
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
        // A client that gave up (timed out, or hung up) has dropped its receiver: its prompt is
        // not decoded, so abandoned work never holds up the clients still waiting.
        jobs.retain(|job| !job.reply.is_closed());
        let mut suggest: Vec<(String, oneshot::Sender<Answer>)> = Vec::new();
        let mut complete: Vec<CompletionGroup> = Vec::new();
        for job in jobs {
            match job.reply {
                Reply::Candidates(reply) => suggest.push((job.prompt, reply)),
                Reply::Completions(options, reply) => {
                    match complete.iter_mut().find(|(o, _)| *o == options) {
                        Some((_, group)) => group.push((job.prompt, reply)),
                        None => complete.push((options, vec![(job.prompt, reply)])),
                    }
                }
            }
        }
        if !suggest.is_empty() {
            let (prompts, replies): (Vec<String>, Vec<_>) = suggest.into_iter().unzip();
            let answers = decode(stats, &prompts, || predictor.generate(&prompts, options));
            for (reply, answer) in replies.into_iter().zip(answers) {
                // A client that gave up has dropped its receiver; nothing to do then.
                let _ = reply.send(answer);
            }
        }
        for (options, group) in complete {
            let (prompts, replies): (Vec<String>, Vec<_>) = group.into_iter().unzip();
            let answers = decode(stats, &prompts, || {
                predictor.complete(&prompts, &options.generate, options.top_logprobs)
            });
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        }
    }
}

/// One model call for `prompts`, counted, timed and kept from taking the thread down: one
/// answer per prompt, or the same failure for each.
fn decode<T>(
    stats: &BatchStats,
    prompts: &[String],
    call: impl FnOnce() -> anyhow::Result<Vec<T>>,
) -> Vec<Result<T, String>> {
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.prompts.fetch_add(prompts.len(), Ordering::Relaxed);
    stats.largest.fetch_max(prompts.len(), Ordering::Relaxed);
    let started = Instant::now();
    let answers = match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(answers)) if answers.len() == prompts.len() => answers.into_iter().map(Ok).collect(),
        Ok(Ok(answers)) => fail(
            prompts.len(),
            format!(
                "the model answered {} of {} prompts",
                answers.len(),
                prompts.len()
            ),
        ),
        Ok(Err(e)) => fail(prompts.len(), format!("the model failed: {e:#}")),
        Err(_) => fail(
            prompts.len(),
            "the model panicked; see the server log".to_string(),
        ),
    };
    tracing::debug!(
        target: "serve",
        prompts = prompts.len(),
        secs = started.elapsed().as_secs_f64(),
        "batch decoded"
    );
    answers
}

fn fail<T>(count: usize, reason: String) -> Vec<Result<T, String>> {
    tracing::error!(target: "serve", "{reason}");
    (0..count).map(|_| Err(reason.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::ScriptedPredictor;

    #[test]
    fn a_prompt_whose_client_stopped_waiting_is_not_decoded() {
        let predictor = Arc::new(ScriptedPredictor::new().on("wanted", &[("rfl", -0.1)]));
        let batch = BatchOptions {
            window: Duration::from_millis(300),
            ..BatchOptions::default()
        };
        let batcher = Batcher::start(predictor.clone(), GenerateOptions::default(), batch);
        drop(batcher.submit("[GOAL]abandoned[PROOFSTEP]".into()).unwrap());
        let answer = batcher.submit("[GOAL]wanted[PROOFSTEP]".into()).unwrap();
        let candidates = answer.blocking_recv().unwrap().unwrap();
        assert_eq!(candidates[0].text, "rfl");
        let calls = predictor.calls();
        assert_eq!(calls.get("wanted"), Some(&1));
        assert!(!calls.contains_key("abandoned"), "{calls:?}");
    }
}
