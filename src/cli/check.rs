//! `proofstep check FILE.lean`: classify every theorem of a Lean file as proved, open, error or
//! sorry. The default `file` backend checks the whole file once with `lean --json` and
//! attributes the diagnostics by position; `server` and `repl` check theorem by theorem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use proofstep::lean::file::check_source;
use proofstep::lean::repl_backend::ReplBackend;
use proofstep::lean::server::{ServerBackend, ServerBackendOptions, ServerOptions};
use proofstep::lean::source::{mentions_sorry_ax, SourceFile, Theorem};
use proofstep::lean::toolchain::Toolchain;
use proofstep::lean::{LeanError, ProofBackend, Status, Verdict};

use super::doctor::ToolchainArgs;

/// Which checker to use.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One `lean --json` run over the whole file (needs only `lean`).
    File,
    /// Lean's language server, one theorem at a time.
    Server,
    /// The Lean repl, one theorem at a time (needs a built repl).
    Repl,
}

/// Arguments of `proofstep check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The Lean file to check.
    pub file: PathBuf,
    /// How to check it.
    #[arg(long, value_enum, default_value_t = Backend::File)]
    pub backend: Backend,
    /// Print one JSON object per theorem: {"name", "status", "goals"?, "errors"?}.
    #[arg(long)]
    pub json: bool,
    /// Seconds Lean may take: for the whole file (file backend) or per theorem (others).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
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
    let text = std::fs::read_to_string(&args.file).with_context(|| {
        format!(
            "cannot read {}: give the path of a readable .lean file",
            args.file.display()
        )
    })?;
    let source = SourceFile::parse(&text);
    let folder = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let toolchain = args.toolchain.discover(folder);
    let timeout = Duration::from_secs(args.timeout.max(1));
    if source.theorems.is_empty() {
        tracing::warn!(
            "{} declares no theorem, lemma or example",
            args.file.display()
        );
    }

    let mut printer = Printer::new(args.json);
    let header_errors = match args.backend {
        Backend::File => check_whole_file(&toolchain, &source, timeout, &args.file, &mut printer)?,
        Backend::Server => {
            let cmd = toolchain.server_command()?;
            let options = ServerBackendOptions {
                server: ServerOptions {
                    timeout,
                    ..ServerOptions::default()
                },
                ..ServerBackendOptions::default()
            };
            let backend = ServerBackend::start(&cmd, options)?;
            check_each(&backend, &source, &mut printer)?;
            Vec::new()
        }
        Backend::Repl => {
            let backend = ReplBackend::from_command(toolchain.repl_command()?);
            check_each(&backend, &source, &mut printer)?;
            Vec::new()
        }
    };
    printer.summary(&args.file, &header_errors);
    let all_proved = printer.counts[0] == printer.total && header_errors.is_empty();
    Ok(if all_proved {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The file backend: one Lean run; returns the header's errors.
fn check_whole_file(
    toolchain: &Toolchain,
    source: &SourceFile,
    timeout: Duration,
    file: &Path,
    printer: &mut Printer,
) -> anyhow::Result<Vec<String>> {
    let cmd = toolchain.lean_command()?;
    let spinner = ProgressBar::new_spinner()
        .with_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        )
        .with_message(format!("lean --json {}", file.display()));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = check_source(&cmd, source, timeout);
    spinner.finish_and_clear();
    let verdicts = match result {
        Err(LeanError::Timeout(t)) => anyhow::bail!(
            "Lean did not finish checking {} within {t:?}; raise --timeout",
            file.display()
        ),
        other => other.with_context(|| format!("checking {}", file.display()))?,
    };
    for (theorem, verdict) in source.theorems.iter().zip(&verdicts.verdicts) {
        printer.theorem(theorem, verdict);
    }
    Ok(verdicts.header_errors)
}

/// The server and repl backends: each theorem verified alone after the text before it (earlier
/// proofs replaced by `sorry`).
fn check_each(
    backend: &dyn ProofBackend,
    source: &SourceFile,
    printer: &mut Printer,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(source.theorems.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"),
    );
    for (i, theorem) in source.theorems.iter().enumerate() {
        bar.set_message(theorem.display_name());
        let header = source.standalone_header(i);
        let verdict = match backend.verify(&header, &theorem.statement, &theorem.tactic_block()) {
            Ok(mut v) => {
                if v.status == Status::Proved && mentions_sorry_ax(&theorem.proof) {
                    v.status = Status::Sorry;
                }
                v
            }
            Err(LeanError::Statement(m)) => error_verdict(m),
            Err(LeanError::Header(m)) => error_verdict(format!(
                "the text before this theorem does not elaborate: {m}"
            )),
            Err(e @ LeanError::Timeout(_)) => error_verdict(e.to_string()),
            Err(e) => {
                bar.abandon();
                return Err(
                    anyhow::Error::new(e).context(format!("checking {}", theorem.display_name()))
                );
            }
        };
        bar.inc(1);
        bar.suspend(|| printer.theorem(theorem, &verdict));
    }
    bar.finish_and_clear();
    Ok(())
}

fn error_verdict(message: String) -> Verdict {
    Verdict {
        status: Status::Error,
        goals: Vec::new(),
        errors: vec![message],
    }
}

/// Writes results as they come (JSON lines or text) and counts them.
struct Printer {
    json: bool,
    /// proved, open, error, sorry.
    counts: [usize; 4],
    total: usize,
}

impl Printer {
    fn new(json: bool) -> Self {
        Printer {
            json,
            counts: [0; 4],
            total: 0,
        }
    }

    fn theorem(&mut self, theorem: &Theorem, verdict: &Verdict) {
        let name = theorem.display_name();
        let index = match verdict.status {
            Status::Proved => 0,
            Status::Open => 1,
            Status::Error => 2,
            Status::Sorry => 3,
        };
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
            let status = ["proved", "open", "error", "sorry"][index];
            let mut line = format!("{status:<7} {name} (line {})", theorem.keyword.line);
            match verdict.status {
                Status::Open => {
                    let n = verdict.goals.len();
                    line.push_str(&format!(": {n} goal{} left", if n == 1 { "" } else { "s" }));
                }
                Status::Error => {
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
        let [proved, open, error, sorry] = self.counts;
        println!(
            "{}: {} theorem{}: {proved} proved, {open} open, {error} error, {sorry} sorry",
            file.display(),
            self.total,
            if self.total == 1 { "" } else { "s" }
        );
    }
}
