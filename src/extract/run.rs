//! Running the extraction: Lean files found under the inputs are handed to `workers` threads,
//! each with its own Lean language server; a file's theorems come back as soon as the file is
//! done and are appended to the split files (train/val/test), so memory holds a few files at
//! most. Theorems Lean reports errors or `sorry` in, and any `check` does not certify (one
//! resting on `sorry` through a lemma or on the file's own axiom), are skipped and counted,
//! never traced.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::Serialize;

use super::error::ExtractError;
use super::record::{state_text, TracedTactic, TracedTheorem};
use super::steps::tactic_steps;
use super::writer::ArrayWriter;
use crate::lean::axioms::AxiomPolicy;
use crate::lean::check::check_with;
use crate::lean::lsp::server::{LeanServer, ServerOptions};
use crate::lean::source::{Pos, Region, SourceFile};
use crate::lean::{LeanCommand, LeanError};

/// The split files written under `OUT/random/`: a corpus's novel-shape split (`novel/`) gets a
/// file of its own, so no held-out theorem ever lands in train.
pub const SPLITS: [&str; 4] = ["train", "val", "test", "novel"];

/// Options of an extraction.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// Lean servers (and files) at once.
    pub workers: usize,
    /// Percent of theorems in val and again in test when the inputs have no split folders.
    pub held_out_percent: u32,
    /// The servers' timeouts.
    pub server: ServerOptions,
}

/// A Lean file to extract and where its theorems go.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its path as recorded (`file_path`): relative to the folder given, or as given.
    pub rel: String,
    /// The split named by a `train`/`val`/`test`/`novel` folder above it, if any.
    pub split: Option<&'static str>,
    /// The repository's URL and commit, when it is in a git repository.
    pub repo: (String, String),
}

/// A theorem left out, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Its file (as recorded).
    pub file: String,
    /// Its name.
    pub theorem: String,
    /// Why: Lean's error, `sorry`, or a missing tactic state.
    pub reason: String,
}

/// What an extraction did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExtractSummary {
    /// Lean files read.
    pub files: usize,
    /// Theorems written, per split.
    pub theorems: BTreeMap<String, usize>,
    /// Tactic steps written.
    pub steps: usize,
    /// Theorems left out.
    pub skipped: Vec<Skipped>,
    /// Files Lean could not process (`[file, reason]`).
    pub failed_files: Vec<(String, String)>,
}

/// The Lean files under `inputs` (files as given, folders searched recursively, in name order).
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<Input>, ExtractError> {
    let mut out = Vec::new();
    for input in inputs {
        let repo = repo_info(if input.is_dir() {
            input
        } else {
            input.parent().unwrap_or(Path::new("."))
        });
        if input.is_dir() {
            let files = crate::lean::source::lean_files_below(input)
                .map_err(|e| ExtractError::io(&e.path, e.source))?;
            for path in files {
                let rel_path = path.strip_prefix(input).unwrap_or(&path).to_path_buf();
                let split = rel_path
                    .components()
                    .next()
                    .and_then(|c| SPLITS.iter().copied().find(|s| c.as_os_str() == *s));
                let rel = rel_path.to_string_lossy().into_owned();
                out.push(Input {
                    path,
                    rel,
                    split,
                    repo: repo.clone(),
                });
            }
        } else if input.is_file() {
            let rel = input.to_string_lossy().into_owned();
            out.push(Input {
                path: input.clone(),
                rel,
                split: None,
                repo: repo.clone(),
            });
        } else {
            return Err(ExtractError::io(
                input,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            ));
        }
    }
    if out.is_empty() {
        let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        return Err(ExtractError::NoInput(names.join(", ")));
    }
    Ok(out)
}

/// `(url, commit)` of the git repository holding `dir`, empty strings when there is none.
fn repo_info(dir: &Path) -> (String, String) {
    // A git that hangs (a credential prompt, a network filesystem) is given 10 s.
    let git = |args: &[&str]| {
        let mut command = std::process::Command::new("git");
        command
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        crate::process::spawn_group(&mut command)
            .ok()
            .and_then(|child| {
                crate::process::capture_bounded(child, std::time::Duration::from_secs(10), None)
                    .ok()
            })
            .filter(|o| o.status.success())
            .map(|o| o.stdout.trim().to_string())
            .unwrap_or_default()
    };
    (
        git(&["remote", "get-url", "origin"]),
        git(&["rev-parse", "HEAD"]),
    )
}

/// The split of a theorem of a file without a split folder: a hash of its name.
pub fn hashed_split(name: &str, held_out_percent: u32) -> &'static str {
    crate::testworld::corpus::split_of(name, 0, held_out_percent)
}

/// A file's theorems with their steps, and those left out.
#[derive(Debug, Default)]
pub struct FileResult {
    /// Traced theorems, in file order.
    pub theorems: Vec<TracedTheorem>,
    /// Theorems left out.
    pub skipped: Vec<Skipped>,
}

/// The UTF-16 column of character column `column` of `line` (LSP positions count UTF-16).
fn utf16_column(line: &str, column: u32) -> u32 {
    line.chars()
        .take(column as usize)
        .map(|c| c.len_utf16() as u32)
        .sum()
}

/// The character column of UTF-16 column `column` of `line`.
fn char_column(line: &str, column: u32) -> u32 {
    let mut units = 0;
    for (i, c) in line.chars().enumerate() {
        if units >= column {
            return i as u32;
        }
        units += c.len_utf16() as u32;
    }
    line.chars().count() as u32
}

/// Traces every theorem of one file with an open server.
pub fn extract_file(server: &mut LeanServer, input: &Input) -> Result<FileResult, ExtractError> {
    let path = input
        .path
        .canonicalize()
        .unwrap_or_else(|_| input.path.clone());
    let text = std::fs::read_to_string(&path).map_err(|e| ExtractError::io(&path, e))?;
    let lean = |source: LeanError| ExtractError::Lean {
        path: path.clone(),
        source,
    };
    let diagnostics = server.open(&path, &text).map_err(lean)?;
    let file = SourceFile::parse(&text);
    // What `check` says of each theorem: only a proof it certifies (no `sorry` reached through
    // a lemma, no axiom of the file's own, a reading of the file Lean shares) is traced.
    let probe_path = path.with_file_name(format!(
        ".proofstep-check-{}",
        path.file_name()
            .map_or("Doc.lean".into(), |n| n.to_string_lossy())
    ));
    let checked = check_with(&file, &AxiomPolicy::default(), |probe| {
        server.elaborate_once(&probe_path, probe)
    })
    .map_err(lean)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut bad: HashMap<usize, String> = HashMap::new();
    for d in &diagnostics {
        if !(d.is_error() || d.is_sorry_warning()) {
            continue;
        }
        let at = d.start();
        let line = lines.get(at.line as usize).copied().unwrap_or("");
        let pos = Pos::new(at.line + 1, char_column(line, at.character));
        if let Region::Theorem(i) = file.region(pos) {
            bad.entry(i)
                .or_insert_with(|| d.lsp.message.lines().next().unwrap_or("").to_string());
        }
    }
    let mut result = FileResult::default();
    let goals = |server: &mut LeanServer, pos: Pos| -> Result<Option<Vec<String>>, ExtractError> {
        let line = lines.get(pos.line as usize - 1).copied().unwrap_or("");
        server
            .goals_at(&path, pos.line - 1, utf16_column(line, pos.column))
            .map_err(lean)
    };
    // The goals between tactics, or at the tactic itself where Lean reports none there.
    let goals_between =
        |server: &mut LeanServer, between: Pos, at: Pos| match goals(server, between)? {
            Some(g) => Ok(Some(g)),
            None => goals(server, at),
        };
    for (i, verdict) in checked.verdicts.iter().enumerate() {
        if !verdict.is_proved() && !bad.contains_key(&i) {
            let why = verdict.errors.first().cloned().unwrap_or_default();
            bad.insert(i, format!("`check` does not certify it: {why}"));
        }
    }
    'theorems: for (i, theorem) in file.theorems.iter().enumerate() {
        let name = theorem.display_name();
        if let Some(reason) = bad.get(&i) {
            result.skipped.push(Skipped {
                file: input.rel.clone(),
                theorem: name,
                reason: reason.clone(),
            });
            continue;
        }
        let mut traced = Vec::new();
        for step in tactic_steps(&text, theorem) {
            let before = goals_between(server, step.before_at, step.start)?;
            let after = goals_between(server, step.after_at, step.end)?;
            let (Some(before), Some(after)) = (before, after) else {
                let reason = format!(
                    "Lean gives no tactic state around `{}` at {}",
                    step.text, step.start
                );
                result.skipped.push(Skipped {
                    file: input.rel.clone(),
                    theorem: name,
                    reason,
                });
                continue 'theorems;
            };
            traced.push(TracedTactic {
                annotated_tactic: (step.text.clone(), Vec::new()),
                tactic: step.text,
                state_before: state_text(&before),
                state_after: state_text(&after),
            });
        }
        result.theorems.push(TracedTheorem {
            url: input.repo.0.clone(),
            commit: input.repo.1.clone(),
            file_path: input.rel.clone(),
            full_name: name,
            start: [theorem.start.line, theorem.start.column + 1],
            end: [theorem.end.line, theorem.end.column + 1],
            traced_tactics: traced,
        });
    }
    server.close(&path).map_err(lean)?;
    Ok(result)
}

/// Extracts every file of `inputs` into `out/random/{train,val,test}.json`. `progress(done,
/// total)` is called after each file.
pub fn extract(
    lean: &LeanCommand,
    inputs: &[Input],
    out: &Path,
    options: &ExtractOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ExtractSummary, ExtractError> {
    let dir = out.join("random");
    std::fs::create_dir_all(&dir).map_err(|e| ExtractError::io(&dir, e))?;
    let mut writers = Vec::new();
    for split in SPLITS {
        writers.push(ArrayWriter::create(&dir.join(format!("{split}.json")))?);
    }
    let workers = options.workers.clamp(1, inputs.len().max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<FileResult, ExtractError>)>(workers * 2);
    let mut summary = ExtractSummary {
        files: inputs.len(),
        ..ExtractSummary::default()
    };
    let mut fatal = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                let mut server: Option<LeanServer> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(input) = inputs.get(i) else { break };
                    let result = with_server(&mut server, lean, options, input);
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
                if let Some(s) = server {
                    s.shutdown();
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            let input = &inputs[i];
            progress(done.fetch_add(1, Ordering::SeqCst) + 1, inputs.len());
            let file = match result {
                Ok(file) => file,
                Err(ExtractError::Lean { source, .. }) => {
                    tracing::warn!(file = %input.rel, error = %source, "Lean failed on this file; skipped");
                    summary
                        .failed_files
                        .push((input.rel.clone(), source.to_string()));
                    continue;
                }
                Err(e) => {
                    fatal.get_or_insert(e);
                    next.store(inputs.len(), Ordering::SeqCst);
                    continue;
                }
            };
            summary.skipped.extend(file.skipped);
            for theorem in file.theorems {
                let split = input
                    .split
                    .unwrap_or_else(|| hashed_split(&theorem.full_name, options.held_out_percent));
                let k = SPLITS.iter().position(|s| *s == split).unwrap_or(0);
                if let Err(e) = writers[k].push(&theorem) {
                    fatal.get_or_insert(e);
                    next.store(inputs.len(), Ordering::SeqCst);
                }
                summary.steps += theorem.traced_tactics.len();
                *summary.theorems.entry(split.to_string()).or_default() += 1;
            }
        }
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    for (split, writer) in SPLITS.iter().zip(writers) {
        let n = writer.finish()?;
        summary.theorems.entry(split.to_string()).or_insert(n);
    }
    Ok(summary)
}

/// Runs one file on this worker's server, starting it when needed and restarting it once
/// when it fails on the file.
fn with_server(
    server: &mut Option<LeanServer>,
    lean: &LeanCommand,
    options: &ExtractOptions,
    input: &Input,
) -> Result<FileResult, ExtractError> {
    let start = || {
        LeanServer::start_with(lean, options.server.clone()).map_err(|source| ExtractError::Lean {
            path: input.path.clone(),
            source,
        })
    };
    if server.is_none() {
        *server = Some(start()?);
    }
    let first = extract_file(server.as_mut().expect("started above"), input);
    let Err(ExtractError::Lean { source, .. }) = first else {
        return first;
    };
    tracing::info!(file = %input.rel, error = %source, "restarting the Lean server and retrying the file");
    if let Some(old) = server.take() {
        old.shutdown();
    }
    *server = Some(start()?);
    extract_file(server.as_mut().expect("started above"), input)
}
