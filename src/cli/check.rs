//! `proofstep check FILE.lean`: classify every theorem of a Lean file as proved, open, error,
//! sorry or axiom. Every backend checks the whole file in one Lean run, each theorem followed
//! by a `#print axioms` probe (`proofstep::lean::check`), so a theorem resting on an earlier
//! lemma whose proof is `sorry` or failed, or on a file's own `axiom`, is never proved.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use proofstep::lean::check::check_file;
use proofstep::lean::source::{SourceFile, Theorem};
use proofstep::lean::{LeanError, Status, Verdict};

use proofstep::lean::backend::BackendKind;

use crate::cli::args::{seconds, BackendArgs, LeanLimitsArgs, ToolchainArgs};

/// Arguments of `proofstep check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The Lean file to check.
    pub file: PathBuf,
    /// Which Lean runs the file: `file` (`lean --json`, needs only `lean`), `server` (Lean's
    /// language server) or `repl` (needs a built repl); each checks the whole file in one run.
    #[arg(long, value_enum, default_value = "file", hide_possible_values = true)]
    pub backend: BackendKind,
    /// Print one JSON object per theorem: {"name", "status", "goals"?, "errors"?, "axioms"?}.
    #[arg(long)]
    pub json: bool,
    /// Seconds Lean may take for the whole file.
    #[arg(long, default_value_t = 300.0, value_name = "SECS", value_parser = seconds)]
    pub timeout: f64,
    #[command(flatten)]
    pub limits: LeanLimitsArgs,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

/// One output line of `check --json`.
#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

/// Runs `proofstep check`: exit 0 when every theorem is proved, 1 otherwise.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let text = proofstep::fsutil::read_utf8(&args.file).with_context(|| {
        format!(
            "cannot read {}: give the path of a readable .lean file",
            args.file.display()
        )
    })?;
    let source = SourceFile::parse(&text);
    drop(text);
    let folder = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if source.theorems.is_empty() {
        tracing::warn!(
            "{} declares no theorem, lemma or example",
            args.file.display()
        );
    }
    let backend_args = BackendArgs {
        backend: args.backend,
        tactic_timeout: args.timeout,
        lean_workers: Some(1),
        limits: args.limits.clone(),
        toolchain: args.toolchain.clone(),
    };
    let backend = backend_args.open(folder)?;
    let spinner = ProgressBar::new_spinner()
        .with_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        )
        .with_message(format!(
            "checking {} ({})",
            args.file.display(),
            backend.name()
        ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = check_file(backend.as_ref(), &source);
    spinner.finish_and_clear();
    let verdicts = match result {
        Err(LeanError::Timeout(t)) => {
            return Err(crate::cli::exit::Failure::Lean.error(format!(
                "Lean did not finish checking {} within {t:?}; raise --timeout",
                args.file.display()
            )))
        }
        other => other.with_context(|| format!("checking {}", args.file.display()))?,
    };
    let mut printer = Printer::new(args.json);
    for (theorem, verdict) in source.theorems.iter().zip(&verdicts.verdicts) {
        printer.theorem(theorem, verdict);
    }
    printer.summary(&args.file, &verdicts.header_errors);
    let all_proved = printer.counts[0] == printer.total && verdicts.header_errors.is_empty();
    Ok(if all_proved {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::cli::exit::ANSWER_NO)
    })
}

/// Writes results as they come (JSON lines or text) and counts them.
struct Printer {
    json: bool,
    /// How many theorems of each status, in `Status::ALL`'s order.
    counts: [usize; 5],
    total: usize,
}

impl Printer {
    fn new(json: bool) -> Self {
        Printer {
            json,
            counts: [0; 5],
            total: 0,
        }
    }

    fn theorem(&mut self, theorem: &Theorem, verdict: &Verdict) {
        let name = theorem.display_name();
        let index = Status::ALL
            .iter()
            .position(|s| *s == verdict.status)
            .expect("every status is listed");
        self.counts[index] += 1;
        self.total += 1;
        let mut out = std::io::stdout().lock();
        if self.json {
            let line = serde_json::to_string(&Line {
                name: &name,
                verdict,
            })
            .expect("serializable");
            let _ = writeln!(out, "{line}");
        } else {
            let status = verdict.status.as_str();
            let mut line = format!("{status:<7} {name} (line {})", theorem.keyword.line);
            match verdict.status {
                Status::Open => {
                    let n = verdict.goals.len();
                    line.push_str(&format!(": {n} goal{} left", if n == 1 { "" } else { "s" }));
                }
                Status::Error | Status::Sorry | Status::Axiom => {
                    if let Some(first) = verdict.errors.first() {
                        line.push_str(": ");
                        line.push_str(first.lines().next().unwrap_or(""));
                    }
                }
                _ => {}
            }
            let _ = writeln!(out, "{line}");
            if verdict.status == Status::Open {
                for goal in &verdict.goals {
                    for l in goal.lines() {
                        let _ = writeln!(out, "        {l}");
                    }
                }
            }
        }
        let _ = out.flush();
    }

    fn summary(&self, file: &Path, header_errors: &[String]) {
        for e in header_errors {
            eprintln!(
                "error before the first theorem: {}",
                e.lines().next().unwrap_or("")
            );
        }
        if !header_errors.is_empty() {
            eprintln!("(so every theorem counts as an error; if an import is missing, run `proofstep doctor`)");
        }
        if self.json {
            return;
        }
        let [proved, open, error, sorry, axiom] = self.counts;
        println!(
            "{}: {} theorem{}: {proved} proved, {open} open, {error} error, {sorry} sorry, {axiom} axiom",
            file.display(),
            self.total,
            if self.total == 1 { "" } else { "s" }
        );
    }
}
