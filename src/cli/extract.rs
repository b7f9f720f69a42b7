//! `proofstep extract`: trace the tactic steps of Lean sources into LeanDojo split files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::extract::{collect_inputs, extract, ExtractOptions};
use proofstep::lean::lsp::server::ServerOptions;

use crate::cli::args::{seconds, workers_or_cores, ToolchainArgs};

/// Arguments of `proofstep extract`.
#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// Lean files, or folders searched for `.lean` files (hidden folders such as .lake are
    /// skipped). A folder with train/val/test/novel subfolders keeps that split.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The output folder: OUT/random/{train,val,test,novel}.json in LeanDojo Benchmark 4's
    /// schema, ready for `proofstep data leandojo --input OUT` (which reads train, val and
    /// test; a corpus's novel-shape split stays held out).
    #[arg(long)]
    pub out: PathBuf,
    /// Lean servers working on different files at once (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Without split folders: percent of theorems (by a hash of the name) in val, and in test.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=33))]
    pub held_out_percent: u32,
    /// Seconds Lean may take to elaborate one file (imports included).
    #[arg(long, value_name = "SECS", default_value_t = 600.0, value_parser = seconds)]
    pub file_timeout: f64,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

/// Runs `proofstep extract`.
pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let inputs = collect_inputs(&args.inputs)?;
    let lean = args.toolchain.lean_command_for(&inputs[0].path)?;
    let workers = workers_or_cores(args.workers);
    let timeout = Duration::from_secs_f64(args.file_timeout);
    let options = ExtractOptions {
        workers,
        held_out_percent: args.held_out_percent,
        server: ServerOptions {
            open_timeout: timeout,
            timeout,
            ..ServerOptions::default()
        },
    };
    let bar = ProgressBar::new(inputs.len() as u64).with_style(
        ProgressStyle::with_template("extracting [{bar:30}] {pos}/{len} files ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let summary = extract(&lean, &inputs, &args.out, &options, &|done, _| {
        bar.set_position(done as u64)
    })
    .with_context(|| format!("extraction into {} failed", args.out.display()))?;
    bar.finish_and_clear();
    for s in &summary.skipped {
        tracing::info!(file = %s.file, theorem = %s.theorem, reason = %s.reason, "skipped");
    }
    let skipped = summary.skipped.len();
    let failed = summary.failed_files.len();
    println!(
        "{}",
        serde_json::json!({
            "files": summary.files,
            "theorems": summary.theorems,
            "steps": summary.steps,
            "skipped_theorems": skipped,
            "failed_files": summary.failed_files,
            "out": args.out.join("random"),
        })
    );
    if skipped > 0 {
        eprintln!(
            "{skipped} theorems skipped (Lean errors, sorry or no tactic state); -v lists them"
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(crate::cli::exit::ANSWER_NO)
    } else {
        ExitCode::SUCCESS
    })
}
