//! `proofstep data leandojo`: LeanDojo split files → `proofstep-{train,val,test}.jsonl`, as the
//! seed's `data.py` does it (every traced tactic, in file order, nothing skipped), streaming and
//! writing the three outputs atomically as a set.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::DataError;
use super::format::Example;
use super::leandojo::{for_each_theorem, FieldCounts};
use crate::fsutil::{commit_all, AtomicFile};

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
///
/// The three files are a set: each is written under a temporary name in `out`, and only when
/// all three are complete are they renamed into place, so a failure on any split (a malformed
/// `val.json`, a full disk) leaves the files already in `out` as they were. Input with no proof
/// step at all (records that are not LeanDojo theorems) is an error naming the missing fields.
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
    let mut files = Vec::new();
    let mut fields = FieldCounts::default();
    for (split, source) in SPLITS.iter().zip(&sources) {
        let target = out.join(format!("proofstep-{split}.jsonl"));
        let mut file = AtomicFile::create(&target).map_err(|e| DataError::io(&target, e))?;
        let (counts, split_fields) = convert_split(source, &mut file, &mut |read, total| {
            progress(split, read, total)
        })
        .map_err(|e| e.for_target(&target))?;
        tracing::info!(
            split,
            examples = counts.examples,
            theorems = counts.theorems,
            "converted"
        );
        fields.add(&split_fields);
        all.push(SplitCounts {
            split: split.to_string(),
            path: target,
            ..counts
        });
        files.push(file);
    }
    if all.iter().all(|c| c.examples == 0) {
        return Err(DataError::NoExamples {
            dir: root,
            reason: no_examples_reason(&fields),
        });
    }
    commit_all(files).map_err(|e| DataError::io(out, e))?;
    Ok(all)
}

/// Why three split files gave no proof step, in the words of [`DataError::NoExamples`].
fn no_examples_reason(fields: &FieldCounts) -> String {
    let missing = fields.missing_from_every_record();
    if fields.records == 0 {
        "they hold no records".to_string()
    } else if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|f| format!("`{f}`")).collect();
        format!(
            "none of their {} records has the field{} {}",
            fields.records,
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )
    } else {
        format!(
            "every one of their {} records has an empty `traced_tactics`",
            fields.records
        )
    }
}

/// Converts one split file into proof-step JSONL lines written to `out`; returns its counts
/// (`split` and `path` left for the caller) and how many records lacked each field.
pub fn convert_split(
    source: &Path,
    out: &mut impl Write,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(SplitCounts, FieldCounts), ConvertError> {
    let file = File::open(source).map_err(|e| ConvertError::Read(DataError::io(source, e)))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = CountingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        read: 0,
        total,
        progress,
    };
    let mut counts = SplitCounts::default();
    let mut write_err = None;
    let fields = for_each_theorem(reader, source, |theorem| {
        counts.theorems += 1;
        if !theorem.traced_tactics.is_empty() {
            counts.theorems_with_tactics += 1;
        }
        for step in &theorem.traced_tactics {
            let line = Example::proofstep(&step.state_before, &step.tactic).to_seed_json();
            if write_err.is_none() {
                if let Err(e) = out
                    .write_all(line.as_bytes())
                    .and_then(|_| out.write_all(b"\n"))
                {
                    write_err = Some(e);
                }
            }
            counts.examples += 1;
        }
    })
    .map_err(ConvertError::Read)?;
    if let Some(e) = write_err {
        return Err(ConvertError::Write(e));
    }
    Ok((counts, fields))
}

/// Why [`convert_split`] failed: its input (an error naming the split file) or its output (an
/// I/O error the caller names the output file in).
#[derive(Debug)]
pub enum ConvertError {
    /// The split file could not be read or parsed.
    Read(DataError),
    /// Writing the output failed.
    Write(std::io::Error),
}

impl ConvertError {
    /// The error as a [`DataError`], a write error naming `target`.
    pub fn for_target(self, target: &Path) -> DataError {
        match self {
            ConvertError::Read(e) => e,
            ConvertError::Write(e) => DataError::io(target, e),
        }
    }
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
