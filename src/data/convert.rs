//! `proofstep data leandojo`: LeanDojo split files → `proofstep-{train,val,test}.jsonl`, as the
//! seed's `data.py` does it (every traced tactic, in file order, nothing skipped), streaming and
//! writing each output atomically.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::DataError;
use super::format::Example;
use super::leandojo::for_each_theorem;

/// The three splits of the benchmark, in the order the seed processes them.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

/// Which way the benchmark splits theorems: `random` (the seed's) or `novel_premises`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitKind {
    /// Theorems assigned to train/val/test at random (the seed's choice).
    Random,
    /// Test theorems use premises never used in training.
    #[value(name = "novel_premises", alias = "novel-premises")]
    NovelPremises,
}

impl SplitKind {
    /// The folder name inside `leandojo_benchmark_4`.
    pub fn dir_name(self) -> &'static str {
        match self {
            SplitKind::Random => "random",
            SplitKind::NovelPremises => "novel_premises",
        }
    }
}

/// What one converted split holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SplitCounts {
    /// `train`, `val` or `test`.
    pub split: String,
    /// Theorems in the split file.
    pub theorems: usize,
    /// Theorems with at least one traced tactic.
    pub theorems_with_tactics: usize,
    /// Proof-step examples written (one per traced tactic).
    pub examples: usize,
    /// Where they were written.
    pub path: PathBuf,
}

/// The benchmark folder to read: `input` itself when it holds `random/`, or
/// `input/leandojo_benchmark_4` (the seed's data dir) when that does.
pub fn benchmark_root(input: &Path) -> PathBuf {
    let nested = input.join("leandojo_benchmark_4");
    if !input.join("random").is_dir() && nested.join("random").is_dir() {
        nested
    } else {
        input.to_path_buf()
    }
}

/// Converts the three splits of `input` (see [`benchmark_root`]) into `out`, calling `progress`
/// with (split, bytes read so far, file size) as it goes. Returns the counts per split.
pub fn convert_leandojo(
    input: &Path,
    out: &Path,
    kind: SplitKind,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<Vec<SplitCounts>, DataError> {
    let root = benchmark_root(input).join(kind.dir_name());
    let sources: Vec<PathBuf> = SPLITS
        .iter()
        .map(|s| root.join(format!("{s}.json")))
        .collect();
    if let Some(missing) = sources.iter().find(|p| !p.is_file()) {
        return Err(DataError::MissingSplit {
            path: missing.clone(),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| DataError::io(out, e))?;
    let mut all = Vec::new();
    for (split, source) in SPLITS.iter().zip(&sources) {
        let target = out.join(format!("proofstep-{split}.jsonl"));
        let counts = convert_split(source, &target, &mut |read, total| {
            progress(split, read, total)
        })?;
        tracing::info!(
            split,
            examples = counts.examples,
            theorems = counts.theorems,
            "converted"
        );
        all.push(SplitCounts {
            split: split.to_string(),
            ..counts
        });
    }
    Ok(all)
}

/// Converts one split file into one JSONL file (written to a temporary file beside it, then
/// renamed, so a crash never leaves a half-written file under the final name).
pub fn convert_split(
    source: &Path,
    target: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SplitCounts, DataError> {
    let file = File::open(source).map_err(|e| DataError::io(source, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = CountingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        read: 0,
        total,
        progress,
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| DataError::io(dir, e))?;
    let mut writer = BufWriter::with_capacity(1 << 20, tmp);
    let mut counts = SplitCounts {
        path: target.to_path_buf(),
        ..Default::default()
    };
    let mut write_err = None;
    for_each_theorem(reader, source, |theorem| {
        counts.theorems += 1;
        if !theorem.traced_tactics.is_empty() {
            counts.theorems_with_tactics += 1;
        }
        for step in &theorem.traced_tactics {
            let line = Example::proofstep(&step.state_before, &step.tactic).to_seed_json();
            if write_err.is_none() {
                if let Err(e) = writer
                    .write_all(line.as_bytes())
                    .and_then(|_| writer.write_all(b"\n"))
                {
                    write_err = Some(e);
                }
            }
            counts.examples += 1;
        }
    })?;
    if let Some(e) = write_err {
        return Err(DataError::io(target, e));
    }
    let tmp = writer
        .into_inner()
        .map_err(|e| DataError::io(target, e.into_error()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| DataError::io(target, e))?;
    tmp.persist(target)
        .map_err(|e| DataError::io(target, e.error))?;
    Ok(counts)
}

/// Counts bytes as they are read, to drive a progress bar.
struct CountingReader<'a, R> {
    inner: R,
    read: u64,
    total: u64,
    progress: &'a mut dyn FnMut(u64, u64),
}

impl<R: std::io::Read> std::io::Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.read >> 20;
        self.read += n as u64;
        if self.read >> 20 != before || n == 0 {
            (self.progress)(self.read, self.total);
        }
        Ok(n)
    }
}
