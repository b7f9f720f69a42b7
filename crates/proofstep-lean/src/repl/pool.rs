//! N REPL workers shared by many threads: requests go to a worker that already imported their
//! header, workers are recycled by age and memory, and each worker has its own lock, so one
//! worker importing, hanging or restarting never stops the others from serving.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::repl::worker::{Repl, ReplConfig};
use crate::{LeanCommand, LeanError};

/// How many workers and when to recycle them.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Number of REPL processes (default: the number of cores).
    pub workers: usize,
    /// How each process is run and policed.
    pub repl: ReplConfig,
    /// Recycle a worker after this many requests (its memory only grows, upstream #77).
    pub max_requests: Option<u64>,
    /// Recycle a worker whose process is older than this.
    pub max_age: Option<Duration>,
    /// Recycle a worker (between requests) once its memory passes this many MB.
    pub recycle_memory_mb: Option<u64>,
}

impl PoolConfig {
    /// One worker per core, no recycling, the REPL defaults of `ReplConfig::new`.
    pub fn new(command: LeanCommand) -> Self {
        PoolConfig {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            repl: ReplConfig::new(command),
            max_requests: None,
            max_age: None,
            recycle_memory_mb: None,
        }
    }
}

/// What a worker is doing, for logs, `doctor` and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerStats {
    /// Position in the pool.
    pub index: usize,
    /// Process replacements so far.
    pub generation: u64,
    /// Requests answered by the current process.
    pub served: u64,
    /// Memory after its last request, MB.
    pub rss_mb: Option<u64>,
    /// Headers imported in the current process.
    pub headers: Vec<String>,
}

struct Worker {
    repl: Mutex<Repl>,
    /// Requests running or waiting on this worker.
    load: AtomicUsize,
    /// Mirrors of the worker's state readable without its lock.
    generation: AtomicU64,
    headers: Mutex<Vec<String>>,
}

/// A pool of REPL workers. Send + Sync: share it (e.g. in an `Arc`) between threads.
pub struct Pool {
    config: PoolConfig,
    workers: Vec<Worker>,
}

impl Pool {
    /// A pool whose processes start on first use.
    pub fn new(config: PoolConfig) -> Self {
        let count = config.workers.max(1);
        let workers = (0..count)
            .map(|_| Worker {
                repl: Mutex::new(Repl::new(config.repl.clone())),
                load: AtomicUsize::new(0),
                generation: AtomicU64::new(0),
                headers: Mutex::new(Vec::new()),
            })
            .collect();
        Pool { config, workers }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Always false: a pool has at least one worker.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The current generation of worker `index` (read without waiting for the worker).
    pub fn generation(&self, index: usize) -> Option<u64> {
        self.workers
            .get(index)
            .map(|w| w.generation.load(Ordering::SeqCst))
    }

    /// Runs `f` on the worker best placed for `header`: one that already imported it (least
    /// loaded first), else an idle fresh one, else the least loaded. `f` gets the worker's index.
    pub fn with_header<R>(
        &self,
        header: &str,
        f: impl FnOnce(usize, &mut Repl) -> Result<R, LeanError>,
    ) -> Result<R, LeanError> {
        let index = self.choose(header);
        self.run(index, f)
    }

    /// Runs `f` on worker `index` (where a proof state lives).
    pub fn with_worker<R>(
        &self,
        index: usize,
        f: impl FnOnce(usize, &mut Repl) -> Result<R, LeanError>,
    ) -> Result<R, LeanError> {
        if index >= self.workers.len() {
            return Err(LeanError::Repl(format!(
                "worker {index} does not exist (the pool has {}); start the theorem again",
                self.workers.len()
            )));
        }
        self.run(index, f)
    }

    /// What each worker is doing (waits for busy workers).
    pub fn stats(&self) -> Vec<WorkerStats> {
        self.workers
            .iter()
            .enumerate()
            .map(|(index, w)| {
                let repl = lock(&w.repl);
                let mut headers: Vec<String> = repl.headers().map(str::to_string).collect();
                headers.sort();
                WorkerStats {
                    index,
                    generation: repl.generation(),
                    served: repl.served(),
                    rss_mb: repl.last_rss_mb(),
                    headers,
                }
            })
            .collect()
    }

    fn choose(&self, header: &str) -> usize {
        let empty = header.trim().is_empty();
        let view: Vec<Candidate> = self
            .workers
            .iter()
            .enumerate()
            .map(|(index, w)| {
                let headers = lock(&w.headers);
                Candidate {
                    index,
                    load: w.load.load(Ordering::SeqCst),
                    has_header: empty || headers.iter().any(|h| h == header),
                    fresh: headers.is_empty(),
                }
            })
            .collect();
        let least = |pred: &dyn Fn(&Candidate) -> bool| {
            view.iter().filter(|c| pred(c)).min_by_key(|c| c.load)
        };
        let with_header = least(&|c| c.has_header);
        if let Some(c) = with_header.filter(|c| c.load == 0) {
            return c.index;
        }
        if let Some(c) = least(&|c| c.fresh).filter(|c| c.load == 0) {
            return c.index;
        }
        with_header
            .or_else(|| least(&|_| true))
            .map(|c| c.index)
            .unwrap_or(0)
    }

    fn run<R>(
        &self,
        index: usize,
        f: impl FnOnce(usize, &mut Repl) -> Result<R, LeanError>,
    ) -> Result<R, LeanError> {
        let worker = &self.workers[index];
        worker.load.fetch_add(1, Ordering::SeqCst);
        let _load = LoadGuard(&worker.load);
        let mut repl = lock(&worker.repl);
        if let Some(why) = self.recycle_reason(&repl) {
            repl.restart(&why);
        }
        let result = f(index, &mut repl);
        worker.generation.store(repl.generation(), Ordering::SeqCst);
        *lock(&worker.headers) = repl.headers().map(str::to_string).collect();
        result
    }

    fn recycle_reason(&self, repl: &Repl) -> Option<String> {
        repl.pid()?;
        if let Some(max) = self.config.max_requests {
            if repl.served() >= max {
                return Some(format!("recycling after {} requests", repl.served()));
            }
        }
        if let Some(max) = self.config.max_age {
            if repl.age() >= max {
                return Some(format!("recycling after {:?}", repl.age()));
            }
        }
        if let (Some(max), Some(used)) = (self.config.recycle_memory_mb, repl.last_rss_mb()) {
            if used >= max {
                return Some(format!("recycling at {used} MB (limit {max} MB)"));
            }
        }
        None
    }
}

/// A worker as `choose` sees it.
struct Candidate {
    index: usize,
    load: usize,
    has_header: bool,
    fresh: bool,
}

struct LoadGuard<'a>(&'a AtomicUsize);

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
