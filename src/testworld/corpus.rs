//! The test-world corpus: generated theorems checked by real Lean (`lean --json`, several files
//! at once), the failures dropped and counted, the rest split by theorem into train/val/test and
//! written as Lean files of a fixed size, plus `manifest.json` with the options and the counts.
//! The folder is built beside the target and renamed over it at the end.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use super::{generate, GenOptions, GenTheorem, Kind};
use crate::fsutil::{replace_dir, write_atomic};
use crate::lean::backend::lean_json::run_lean_json;
use crate::lean::canonical::goal_shape;
use crate::lean::LeanCommand;

/// How long Lean may take on one file of the corpus before it counts as hung.
const FILE_TIMEOUT: Duration = Duration::from_secs(600);

/// What can go wrong while building the corpus.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Reading or writing the corpus files.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Lean could not be started or gave output that is not `--json` messages.
    #[error("running Lean on {path}: {reason}; check the toolchain with `proofstep doctor` (test world: `bash lean/mini/setup.sh`)")]
    Lean { path: PathBuf, reason: String },
    /// A file that passed the first check failed the final one.
    #[error("{path} has Lean errors after the failing theorems were dropped: {reason}")]
    FinalCheck { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CorpusError + '_ {
    move |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The splits of the corpus: train, val and test drawn at random by theorem, and `novel`, the
/// theorems whose goal shape (`lean::canonical::goal_shape`) no other split has.
pub const SPLITS: [&str; 4] = ["train", "val", "test", "novel"];

/// Options of `proofstep corpus generate`.
#[derive(Clone, Debug)]
pub struct CorpusOptions {
    /// Theorems to generate (before dropping the ones Lean rejects).
    pub count: usize,
    /// The generator's knobs and seed.
    pub gen: GenOptions,
    /// Theorems per Lean file.
    pub per_file: usize,
    /// Percent of theorems in val and in test (the rest is train).
    pub held_out_percent: u32,
    /// Percent of theorems (about) in the novel-shape split: whole goal shapes held out.
    pub novel_percent: u32,
    /// Write every proof as `sorry` (a pool of statements to prove; the proofs are still
    /// checked, so every statement is true).
    pub statements_only: bool,
    /// The theorem sets `gen.exclude` was read from, as given (recorded in the manifest, so the
    /// corpus can be generated again).
    pub exclude_paths: Vec<String>,
    /// The theorem sets `gen.exclude_shapes` was read from, as given.
    pub exclude_shape_paths: Vec<String>,
    /// Lean processes at once.
    pub workers: usize,
}

/// One theorem Lean rejected.
#[derive(Clone, Debug, Serialize)]
pub struct Dropped {
    /// The theorem's name.
    pub name: String,
    /// Lean's first error message about it.
    pub error: String,
}

/// What was written: counts per split and kind, and the dropped theorems.
#[derive(Clone, Debug, Serialize)]
pub struct CorpusReport {
    /// Theorems generated.
    pub generated: usize,
    /// Draws refused because they repeated an earlier statement up to renaming.
    pub renamed_copies: usize,
    /// Draws refused because they are an excluded (held-out) statement up to renaming.
    pub held_out_copies: usize,
    /// Draws refused because their goal shape is an excluded one (`--exclude-shapes`).
    pub held_out_shapes: usize,
    /// Goal shapes held out in the novel-shape split.
    pub novel_shapes: usize,
    /// Theorems Lean accepted and the corpus holds.
    pub accepted: usize,
    /// Theorems Lean rejected (not in the corpus).
    pub dropped: Vec<Dropped>,
    /// Theorems per split.
    pub splits: BTreeMap<String, usize>,
    /// Theorems per kind (accepted only).
    pub kinds: BTreeMap<String, usize>,
    /// Lean files written.
    pub files: usize,
}

/// The split of a theorem: a hash of its name and the seed, so it never depends on the order.
pub fn split_of(name: &str, seed: u64, held_out_percent: u32) -> &'static str {
    let bucket = (fnv(name, seed) % 100) as u32;
    if bucket < held_out_percent {
        "val"
    } else if bucket < 2 * held_out_percent {
        "test"
    } else {
        "train"
    }
}

/// The text of one corpus file and the line where each of its theorems starts (1-based).
pub fn render_file(theorems: &[&GenTheorem], comment: &str) -> (String, Vec<u32>) {
    let mut text = format!("prelude\nimport Mini\n/-! {comment} -/\n");
    let mut starts = Vec::with_capacity(theorems.len());
    for t in theorems {
        text.push('\n');
        starts.push(text.lines().count() as u32 + 1);
        text.push_str(&t.render());
    }
    (text, starts)
}

/// Lean's error messages of one file: (1-based line, message).
pub fn lean_errors(lean: &LeanCommand, path: &Path) -> Result<Vec<(u32, String)>, CorpusError> {
    let failed = |reason: String| CorpusError::Lean {
        path: path.to_path_buf(),
        reason,
    };
    let run = run_lean_json(lean, path, FILE_TIMEOUT, None).map_err(|e| failed(e.to_string()))?;
    if let Some(line) = run.output.other.first() {
        return Err(failed(format!("unexpected output line {line:?}")));
    }
    let errors: Vec<(u32, String)> = run
        .output
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.pos.line, d.data.clone()))
        .collect();
    if !run.status.success() && errors.is_empty() {
        return Err(failed(format!(
            "lean exited with {} and no error message: {}",
            run.status,
            run.stderr.trim()
        )));
    }
    Ok(errors)
}

/// Checks every theorem with Lean, `per_file` to a file and `workers` files at once; returns
/// the first error of each rejected theorem, by index. `tick` is called per checked theorem.
pub fn check_all(
    lean: &LeanCommand,
    theorems: &[GenTheorem],
    scratch: &Path,
    per_file: usize,
    workers: usize,
    tick: &(dyn Fn(usize) + Sync),
) -> Result<HashMap<usize, String>, CorpusError> {
    let chunks: Vec<(usize, &[GenTheorem])> = theorems
        .chunks(per_file.max(1))
        .enumerate()
        .map(|(i, c)| (i * per_file.max(1), c))
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(HashMap::new());
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(offset, chunk)) = chunks.get(i) else {
                    break;
                };
                if first_error.lock().expect("lock").is_some() {
                    break;
                }
                let refs: Vec<&GenTheorem> = chunk.iter().collect();
                let (text, starts) = render_file(&refs, "proofstep corpus: check");
                let path = scratch.join(format!("Check{i:05}.lean"));
                let result = std::fs::write(&path, &text)
                    .map_err(io(&path))
                    .and_then(|()| lean_errors(lean, &path));
                match result {
                    Ok(errors) => {
                        let mut failed = failures.lock().expect("lock");
                        for (line, message) in errors {
                            let at = starts.partition_point(|&s| s <= line);
                            if let Some(j) = at.checked_sub(1) {
                                failed.entry(offset + j).or_insert(message);
                            }
                        }
                        tick(chunk.len());
                    }
                    Err(e) => {
                        first_error.lock().expect("lock").get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("lock") {
        return Err(e);
    }
    Ok(failures.into_inner().expect("lock"))
}

/// Generates, checks and writes the corpus to `out` (replacing it). `progress(done, total)`
/// follows the checking.
pub fn build_corpus(
    lean: &LeanCommand,
    out: &Path,
    options: &CorpusOptions,
    command_line: &str,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CorpusReport, CorpusError> {
    let generated = generate(options.count, &options.gen);
    let theorems = generated.theorems;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".corpus-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let tracked = crate::interrupt::track_folder(staging.path().to_path_buf());
    let scratch = staging.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(io(&scratch))?;

    let total = theorems.len() * 2;
    let done = AtomicUsize::new(0);
    let tick = |n: usize| progress(done.fetch_add(n, Ordering::SeqCst) + n, total);
    let failures = check_all(
        lean,
        &theorems,
        &scratch,
        options.per_file,
        options.workers,
        &tick,
    )?;
    let mut dropped: Vec<Dropped> = failures
        .iter()
        .map(|(&i, e)| Dropped {
            name: theorems[i].name.clone(),
            error: e.clone(),
        })
        .collect();
    dropped.sort_by(|a, b| a.name.cmp(&b.name));
    for d in &dropped {
        tracing::info!(theorem = %d.name, error = %d.error, "dropped: Lean rejects the generated proof");
    }

    let tree = staging.path().join("corpus");
    let accepted: Vec<&GenTheorem> = theorems
        .iter()
        .enumerate()
        .filter(|(i, _)| !failures.contains_key(i))
        .map(|(_, t)| t)
        .collect();
    let novel = novel_shapes(&accepted, options.gen.seed, options.novel_percent);
    let mut by_split: BTreeMap<&str, Vec<&GenTheorem>> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for t in &accepted {
        let split = if novel.contains(&goal_shape(&t.statement())) {
            "novel"
        } else {
            split_of(&t.name, options.gen.seed, options.held_out_percent)
        };
        by_split.entry(split).or_default().push(t);
        *kinds.entry(kind_name(t.kind).to_string()).or_default() += 1;
    }
    let sorried: Vec<GenTheorem>;
    if options.statements_only {
        sorried = accepted
            .iter()
            .map(|t| GenTheorem {
                proof: vec!["sorry".to_string()],
                ..(*t).clone()
            })
            .collect();
        let by_name: HashMap<&str, &GenTheorem> =
            sorried.iter().map(|t| (t.name.as_str(), t)).collect();
        for list in by_split.values_mut() {
            for t in list.iter_mut() {
                *t = by_name[t.name.as_str()];
            }
        }
    }
    let mut files = Vec::new();
    for split in SPLITS {
        let dir = tree.join(split);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let list = by_split.get(split).map(Vec::as_slice).unwrap_or(&[]);
        for (part, chunk) in list.chunks(options.per_file.max(1)).enumerate() {
            let comment = format!("Test-world corpus, {split} split, part {part}. Generated by `{command_line}`; every proof is checked by Lean.");
            let (text, _) = render_file(chunk, &comment);
            let path = dir.join(format!("{}{part:03}.lean", capitalized(split)));
            write_atomic(&path, text.as_bytes()).map_err(io(&path))?;
            files.push((path, chunk.len()));
        }
    }
    // The final word: every written file is clean.
    for (path, n) in &files {
        let errors = lean_errors(lean, path)?;
        if let Some((line, message)) = errors.first() {
            return Err(CorpusError::FinalCheck {
                path: path.clone(),
                reason: format!("line {line}: {message}"),
            });
        }
        tick(*n);
    }
    let failed_count = dropped.len();
    let report = CorpusReport {
        generated: theorems.len(),
        renamed_copies: generated.renamed_copies,
        held_out_copies: generated.held_out_copies,
        held_out_shapes: generated.held_out_shapes,
        novel_shapes: novel.len(),
        accepted: theorems.len() - failed_count,
        dropped,
        splits: SPLITS
            .iter()
            .map(|s| (s.to_string(), by_split.get(s).map_or(0, Vec::len)))
            .collect(),
        kinds,
        files: files.len(),
    };
    let manifest = serde_json::json!({
        "command": command_line,
        "seed": options.gen.seed,
        "count": options.count,
        "depth": options.gen.depth,
        "hypotheses": options.gen.hypotheses,
        "distractors": options.gen.distractors,
        "beyond_automation": options.gen.beyond_automation_percent,
        "beyond_lists": options.gen.beyond_lists_percent,
        "per_file": options.per_file,
        "held_out_percent": options.held_out_percent,
        "novel_percent": options.novel_percent,
        "statements_only": options.statements_only,
        "exclude": options.exclude_paths,
        "excluded_statements": options.gen.exclude.len(),
        "exclude_shapes": options.exclude_shape_paths,
        "excluded_shapes": options.gen.exclude_shapes.len(),
        "report": report,
    });
    let manifest_path = tree.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
    write_atomic(&manifest_path, format!("{text}\n").as_bytes()).map_err(io(&manifest_path))?;
    tracked
        .finish(|| replace_dir(&tree, out))
        .map_err(io(out))?;
    Ok(report)
}

/// The goal shapes held out whole in the novel-shape split: shapes taken in the order of a hash
/// of the shape and the seed (so the choice depends on neither the theorems' order nor their
/// names) until about `percent` of the theorems are covered; a shape holding more than a fifth
/// of that share is skipped, so no single common shape empties the training set of its kind.
pub fn novel_shapes(theorems: &[&GenTheorem], seed: u64, percent: u32) -> HashSet<String> {
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for t in theorems {
        *sizes.entry(goal_shape(&t.statement())).or_default() += 1;
    }
    let target = theorems.len() * percent as usize / 100;
    let cap = (target / 5).max(1);
    let mut order: Vec<(u64, &String, usize)> = sizes
        .iter()
        .map(|(shape, &n)| (fnv(shape, seed), shape, n))
        .collect();
    order.sort();
    let mut chosen = HashSet::new();
    let mut covered = 0;
    for (_, shape, n) in order {
        if covered >= target {
            break;
        }
        if n <= cap {
            chosen.insert(shape.clone());
            covered += n;
        }
    }
    chosen
}

/// FNV-1a of `text` seeded with `seed`: stable across Rust versions, unlike `DefaultHasher`.
fn fnv(text: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325 ^ seed.wrapping_mul(0x9e3779b97f4a7c15);
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
