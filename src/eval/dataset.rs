//! Loading the theorems to evaluate: miniF2F / ProofNet JSONL (`formal_statement` + `header`),
//! LeanDojo-style records (`full_name` + `statement`, or a LeanDojo Benchmark 4 split file whose
//! statements are read from the sources of a Lake project with `--repo`), a Lean file, or a
//! folder of Lean files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::eval::lean_file::{lean_file_theorems, theorem_named, Lookup};
use crate::eval::EvalError;
use crate::lean::source::{statement_part, HeaderText, Pos};

/// One theorem to prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// A unique id within the dataset (the theorem name; `file:name` in a folder).
    pub name: String,
    /// Everything the theorem needs before it: imports, opens, earlier declarations (shared
    /// with the other theorems of its file, never copied per theorem).
    pub header: HeaderText,
    /// The statement without its proof (`theorem name … : type`).
    pub statement: String,
    /// The dataset's split, when it records one.
    pub split: Option<String>,
}

/// Where statements and headers come from when the dataset does not carry them.
#[derive(Clone, Debug, Default)]
pub struct DatasetOptions {
    /// Keep only records of this split (records with no split are kept).
    pub split: Option<String>,
    /// A Lake project whose sources hold the files LeanDojo records point to.
    pub repo: Option<PathBuf>,
    /// A header for every record: needed by records that carry none, and put in place of a
    /// record's own header or of the one read from `repo`.
    pub header: Option<String>,
}

/// Loads the theorems of a dataset file or folder, in dataset order.
pub fn load(path: &Path, options: &DatasetOptions) -> Result<Vec<Task>, EvalError> {
    let tasks = if path.is_dir() {
        load_folder(path)?
    } else {
        let text = read(path)?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("lean") => lean_file_theorems(path, &text, None)?,
            Some("jsonl") => {
                let mut sources = Sources::default();
                let mut tasks = Vec::new();
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let value: Value = serde_json::from_str(line)
                        .map_err(|e| bad(path, format!("line {}: not JSON: {e}", i + 1)))?;
                    if let Some(task) = record(path, &value, options, &mut sources)? {
                        tasks.push(task);
                    }
                }
                tasks
            }
            Some("json") => {
                let value: Value =
                    serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
                let Value::Array(items) = value else {
                    return Err(bad(
                        path,
                        "expected a JSON array of theorems (a LeanDojo split file)".into(),
                    ));
                };
                let mut sources = Sources::default();
                let mut tasks = Vec::new();
                for item in &items {
                    if let Some(task) = record(path, item, options, &mut sources)? {
                        tasks.push(task);
                    }
                }
                tasks
            }
            _ => return Err(bad(
                path,
                "unknown dataset kind; give a .jsonl (miniF2F/ProofNet/LeanDojo records), a .json \
                     LeanDojo split file, a .lean file, or a folder of .lean files"
                    .into(),
            )),
        }
    };
    // Names are told apart before a split is chosen, so a theorem has one id in every run.
    Ok(unique_names(tasks)
        .into_iter()
        .filter(|t| match (&options.split, &t.split) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        })
        .collect())
}

/// The tasks with every name told apart: results are kept by name, so a second theorem of one
/// name (ProofNet names exercises of different books alike: `exercise_3_3` twice) would be
/// dropped from the run and its denominator. The second of a name becomes `NAME@2`, the
/// third `NAME@3` (skipping ids the dataset already uses), in dataset order.
fn unique_names(mut tasks: Vec<Task>) -> Vec<Task> {
    let mut used: std::collections::HashSet<String> =
        tasks.iter().map(|t| t.name.clone()).collect();
    let mut seen = std::collections::HashMap::<String, usize>::with_capacity(tasks.len());
    let mut renamed = 0;
    for task in &mut tasks {
        let count = seen.entry(task.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            let mut k = *count;
            while used.contains(&format!("{}@{k}", task.name)) {
                k += 1;
            }
            task.name = format!("{}@{k}", task.name);
            used.insert(task.name.clone());
            renamed += 1;
        }
    }
    if renamed > 0 {
        tracing::warn!(
            renamed,
            "theorems share a name with an earlier one; they are told apart as NAME@2, NAME@3, ..."
        );
    }
    tasks
}

/// Every theorem of every `.lean` file under `dir` (sorted by path), named `relative/path.lean:name`.
fn load_folder(dir: &Path) -> Result<Vec<Task>, EvalError> {
    let files = crate::lean::source::lean_files_below(dir).map_err(|e| EvalError::Io {
        path: e.path,
        source: e.source,
    })?;
    if files.is_empty() {
        return Err(bad(dir, "the folder holds no .lean files".into()));
    }
    let mut tasks = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = read(&file)?;
        tasks.extend(lean_file_theorems(&file, &text, Some(&rel))?);
    }
    Ok(tasks)
}

/// One dataset record, in any of the supported shapes.
/// The source files records point to, read once each and shared by their records' headers.
#[derive(Default)]
struct Sources {
    texts: HashMap<PathBuf, Arc<str>>,
}

impl Sources {
    fn text(&mut self, path: &Path) -> Result<Arc<str>, EvalError> {
        if let Some(text) = self.texts.get(path) {
            return Ok(text.clone());
        }
        let text: Arc<str> = Arc::from(read(path)?);
        self.texts.insert(path.to_path_buf(), text.clone());
        Ok(text)
    }
}

fn record(
    path: &Path,
    value: &Value,
    options: &DatasetOptions,
    sources: &mut Sources,
) -> Result<Option<Task>, EvalError> {
    let field = |k: &str| value.get(k).and_then(Value::as_str);
    let name = field("name")
        .or_else(|| field("full_name"))
        .or_else(|| field("id"));
    let Some(name) = name else {
        return Err(bad(
            path,
            format!("a record has no `name` or `full_name`: {}", short(value)),
        ));
    };
    let split = field("split").map(str::to_string);
    if let (Some(want), Some(have)) = (&options.split, &split) {
        if want != have {
            return Ok(None);
        }
    }
    // miniF2F / ProofNet (DeepSeek shape): the statement with `:= by` attached, and a header.
    if let Some(formal) = field("formal_statement") {
        let statement = statement_part(formal).ok_or_else(|| {
            bad(
                path,
                format!("{name}: cannot find `:=` in its formal_statement"),
            )
        })?;
        let header = options
            .header
            .clone()
            .or_else(|| field("header").map(str::to_string))
            .unwrap_or_default();
        return Ok(Some(Task {
            name: name.to_string(),
            header: header.into(),
            statement: statement.to_string(),
            split,
        }));
    }
    let file_path = field("file_path");
    // LeanDojo-style record with its statement (llmstep's miniF2F file).
    if let Some(statement) = field("statement") {
        let statement = statement_part(statement)
            .unwrap_or(statement)
            .trim_end()
            .to_string();
        let header = match (&options.header, &options.repo, file_path) {
            (Some(h), _, _) => HeaderText::from(h.as_str()),
            (None, Some(repo), Some(file)) => {
                header_before_name(path, &repo.join(file), name, sources)?
            }
            _ => {
                return Err(bad(
                    path,
                    format!(
                        "{name} has a statement but no header: pass --header TEXT (e.g. \"import Mathlib\") \
                         or --repo DIR (the Lake project holding {})",
                        file_path.unwrap_or("its file")
                    ),
                ))
            }
        };
        return Ok(Some(Task {
            name: name.to_string(),
            header,
            statement,
            split,
        }));
    }
    // LeanDojo Benchmark 4: only a file and a position; the Lake project has the text.
    if let (Some(file), Some(start)) = (file_path, value.get("start")) {
        let Some(repo) = &options.repo else {
            return Err(bad(
                path,
                format!(
                    "LeanDojo records carry no statement: pass --repo DIR, the Lake project (e.g. a mathlib4 \
                     checkout at the benchmark's commit) that holds {file}"
                ),
            ));
        };
        let (line, column) = position(start).ok_or_else(|| {
            bad(
                path,
                format!("{name}: `start` is not [line, column]: {start}"),
            )
        })?;
        let source_path = repo.join(file);
        let text = sources.text(&source_path)?;
        // LeanDojo counts columns from 1.
        let pos = Pos::new(line, column.saturating_sub(1));
        let offset = pos.offset_in(&text).ok_or_else(|| {
            bad(
                &source_path,
                format!("{name}: line {line} is past the end of the file"),
            )
        })?;
        let statement = statement_part(&text[offset..]).ok_or_else(|| {
            bad(
                &source_path,
                format!("{name}: no `:=` after line {line} (a pattern-matching declaration?)"),
            )
        })?;
        let header = match &options.header {
            Some(h) => HeaderText::from(h.as_str()),
            None => HeaderText::prefix(text.clone(), offset),
        };
        return Ok(Some(Task {
            name: name.to_string(),
            header,
            statement: statement.to_string(),
            split,
        }));
    }
    Err(bad(
        path,
        format!(
            "{name}: unknown record shape (expected `formal_statement` + `header`, `full_name` + `statement`, \
             or LeanDojo's `full_name` + `file_path` + `start`): {}",
            short(value)
        ),
    ))
}

/// The header of the theorem called `name` in a source file (`theorem_named`: its full name,
/// or its last component when that is unique in the file): everything before its declaration.
fn header_before_name(
    dataset: &Path,
    source: &Path,
    name: &str,
    sources: &mut Sources,
) -> Result<HeaderText, EvalError> {
    let text = sources.text(source)?;
    let tasks = lean_file_theorems(source, &text, None)?;
    match theorem_named(&tasks, name) {
        Ok(task) => Ok(task.header.clone()),
        Err(Lookup::Missing(_)) => Err(bad(
            dataset,
            format!("{name} is not declared in {}", source.display()),
        )),
        Err(Lookup::Ambiguous(names)) => Err(bad(
            dataset,
            format!(
                "{name} is not declared in {} under that full name, and its last component names several theorems there ({}): give the record its full name",
                source.display(),
                names.join(", ")
            ),
        )),
    }
}

fn position(value: &Value) -> Option<(u32, u32)> {
    let items = value.as_array()?;
    let part = |i: usize| u32::try_from(items.get(i)?.as_u64()?).ok();
    Some((part(0)?, part(1)?))
}

/// The text of a dataset or source file; text that is not UTF-8 is bad input named by its line.
fn read(path: &Path) -> Result<String, EvalError> {
    crate::fsutil::read_utf8(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::InvalidData => bad(path, source.to_string()),
        _ => EvalError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

fn bad(path: &Path, reason: String) -> EvalError {
    EvalError::Dataset {
        path: path.to_path_buf(),
        reason,
    }
}

/// A record, shortened for an error message.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}
