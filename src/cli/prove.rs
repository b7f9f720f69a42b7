//! `proofstep prove`: best-first search for one theorem, from a Lean file or a statement.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::eval::lean_file::{lean_file_theorems, theorem_named, Lookup};
use proofstep::lean::source::{statement_part, SourceFile};
use proofstep::search::{search, SearchResult};

use crate::cli::args::{SearchArgs, SearchSetup};

/// Arguments of `proofstep prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// The theorem to prove: its name in `--file` (full or last component), or a label for
    /// `--statement`.
    #[arg(long)]
    pub theorem: Option<String>,
    /// A Lean file holding the theorem; everything before it is its header.
    #[arg(
        long,
        conflicts_with = "statement",
        required_unless_present = "statement"
    )]
    pub file: Option<PathBuf>,
    /// The theorem's statement, e.g. "theorem t (p : Prop) (hp : p) : p" (a trailing `:= by …`
    /// is ignored).
    #[arg(long)]
    pub statement: Option<String>,
    /// The header for `--statement` (imports, opens), e.g. "import Mathlib".
    #[arg(long, requires = "statement")]
    pub header: Option<String>,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print the whole search result (proof, counts, timings, trace) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `proofstep prove`.
pub fn run(args: ProveArgs) -> anyhow::Result<ExitCode> {
    let (name, header, statement, anchor) = target(&args)?;
    let SearchSetup {
        config,
        predictor,
        backend,
    } = args.search.setup(&anchor)?;
    let spinner = ProgressBar::new_spinner()
        .with_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        )
        .with_message(format!(
            "searching for a proof of {name} ({})",
            backend.name()
        ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = search(
        backend.as_ref(),
        predictor.as_ref(),
        &header,
        &statement,
        &config,
    );
    spinner.finish_and_clear();
    let result = result.with_context(|| format!("searching for a proof of {name}"))?;
    if let (Some(note), false) = (context_note(&name, &result.context), args.json) {
        eprintln!("{note}");
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut json = serde_json::to_value(&result)?;
        json["theorem"] = name.clone().into();
        json["statement"] = statement.clone().into();
        json["backend"] = backend.name().into();
        if let Some(text) = lean_text(&statement, &result) {
            json["proof_text"] = text.into();
        }
        writeln!(out, "{json}")?;
    } else if let Some(text) = lean_text(&statement, &result) {
        write!(out, "{text}")?;
    } else {
        eprintln!(
            "no proof of {name} found: {:?} after {} expansions in {:.1} s ({} candidates checked, {} failed, \
             {} refused); raise --expansions or --time-limit, or use a stronger model",
            result.stop,
            result.counts.expansions,
            result.times.total_secs,
            result.counts.checked,
            result.counts.failed,
            result.counts.rejected,
        );
    }
    out.flush()?;
    Ok(if result.proved {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::cli::exit::ANSWER_NO)
    })
}

/// The note on a theorem that assumes more than its statement writes (`SearchResult::context`),
/// None when it does not: the proof found is of the theorem with those hypotheses.
pub fn context_note(name: &str, context: &[String]) -> Option<String> {
    (!context.is_empty()).then(|| {
        format!(
            "note: in its file, {name} also assumes {}, which its statement does not write (a \
             `variable` of the file, or a name bound automatically): Lean proves it with them",
            context.join(", ")
        )
    })
}

/// The proof as Lean text ready to paste: `statement := by` and the steps.
pub fn lean_text(statement: &str, result: &SearchResult) -> Option<String> {
    result
        .proof_text()
        .map(|body| format!("{} := by\n{body}", statement.trim_end()))
}

/// The theorem's name, header, statement, and the folder to look for Lean from.
fn target(args: &ProveArgs) -> anyhow::Result<(String, String, String, PathBuf)> {
    if let Some(file) = &args.file {
        let Some(wanted) = &args.theorem else {
            bail!("--file needs --theorem NAME: which theorem to prove")
        };
        theorem_in_file(file, wanted)
    } else {
        let given = args.statement.as_deref().unwrap_or_default();
        let statement = statement_part(given).unwrap_or(given).trim().to_string();
        if statement.is_empty() {
            bail!("--statement is empty; give e.g. \"theorem t (p : Prop) (hp : p) : p\"");
        }
        let name = args.theorem.clone().unwrap_or_else(|| {
            SourceFile::parse(&statement)
                .theorems
                .into_iter()
                .find_map(|t| t.name)
                .unwrap_or_else(|| "theorem".to_string())
        });
        Ok((
            name,
            args.header.clone().unwrap_or_default(),
            statement,
            std::env::current_dir()?,
        ))
    }
}

/// The theorem `wanted` (its full name, or its last component when that is unique) of the Lean
/// file `file`: its name, header, statement, and the folder to look for Lean from.
pub fn theorem_in_file(
    file: &Path,
    wanted: &str,
) -> anyhow::Result<(String, String, String, PathBuf)> {
    let text = proofstep::fsutil::read_utf8(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let tasks = lean_file_theorems(file, &text, None)?;
    match theorem_named(&tasks, wanted) {
        Ok(task) => {
            let anchor = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            Ok((
                task.name.clone(),
                task.header.to_string(),
                task.statement.clone(),
                anchor,
            ))
        }
        Err(Lookup::Missing(names)) => {
            if names.is_empty() {
                bail!("{} declares no theorem or lemma", file.display());
            }
            bail!(
                "no theorem `{wanted}` in {}; it declares: {}",
                file.display(),
                names.join(", ")
            )
        }
        Err(Lookup::Ambiguous(names)) => bail!(
            "`{wanted}` is ambiguous in {}: give the full name, one of {}",
            file.display(),
            names.join(", ")
        ),
    }
}
