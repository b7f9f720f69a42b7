//! Errors of the data layer. Each one a user can cause says what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong reading, converting or downloading proof-step data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A LeanDojo split file is not the expected JSON array of theorems.
    #[error("{path}: not a LeanDojo Benchmark 4 split file ({reason}); pass the unpacked `leandojo_benchmark_4` folder (holding random/ and novel_premises/)")]
    BadSplitFile { path: PathBuf, reason: String },
    /// The input folder does not hold the expected split files.
    #[error("{path} is missing; --input must be the unpacked `leandojo_benchmark_4` folder (holding random/ and novel_premises/), e.g. after `tar xzf leandojo_benchmark_4_v1.tar.gz`")]
    MissingSplit { path: PathBuf },
    /// The split files parse but hold no proof step at all: records that are not LeanDojo
    /// theorems (the fields the conversion reads are missing) or term-mode proofs only.
    #[error("{dir}: no proof step in train.json, val.json or test.json: {reason}, so nothing was written. Each split file must be a JSON array of LeanDojo Benchmark 4 theorems like {{\"full_name\": \"Nat.add_zero'\", \"file_path\": \"Mathlib/Foo.lean\", \"traced_tactics\": [{{\"tactic\": \"simp\", \"state_before\": \"n : Nat\\n⊢ n + 0 = n\", \"state_after\": \"no goals\"}}]}}; pass the unpacked `leandojo_benchmark_4` folder to --input")]
    NoExamples { dir: PathBuf, reason: String },
    /// A line of a proof-step JSONL file is not `{"input": ..., "output": ...}`.
    #[error("{path}:{line}: not a proof-step example ({reason}); each line must be {{\"input\": ..., \"output\": ...}} as written by `proofstep data leandojo`")]
    BadExample {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A proof-step JSONL file holds no example at all (empty, or blank lines only).
    #[error("{path} holds no proof-step example: pass a JSONL file with one {{\"input\": ..., \"output\": ...}} per line, as `proofstep data leandojo` writes")]
    NoExample { path: PathBuf },
    /// A search-trace file is not the llmstep results format.
    #[error("{path}: not an llmstep proof-search results file ({reason})")]
    BadTraceFile { path: PathBuf, reason: String },
    /// The download failed (offline, wrong URL, interrupted).
    #[error("could not download {url}: {reason}. Without network access: download {url} by hand, unpack it with `tar xzf`, and pass the unpacked `leandojo_benchmark_4` folder to --input")]
    Download { url: String, reason: String },
    /// The downloaded archive does not have the expected checksum.
    #[error("{url}: checksum mismatch (expected sha256 {expected}, got {actual}); the download is corrupt or a different file: delete it and retry, or check --sha256")]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
