//! `proofstep doctor`: report the Lean toolchain found and the exact fix for each missing part.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use proofstep::lean::toolchain::{Part, Report};

use crate::cli::args::{seconds, ToolchainArgs};

/// Arguments of `proofstep doctor`.
#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Look for a Lake project and the test world from this folder (default: the working folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Check this model folder (Hugging Face layout: config.json with `model_type` llama or
    /// gpt_neox, model.safetensors or pytorch_model.bin, single or sharded, tokenizer.json);
    /// default: the default model that `prove`,
    /// `eval`, `generate`, `serve` and `lsp` use without `--model`.
    #[arg(long, value_name = "DIR", env = "PROOFSTEP_MODEL", value_parser = crate::cli::args::path_or_unset())]
    pub model: Option<PathBuf>,
    /// Seconds `lean --version` may take (`lake env` may build on first use).
    #[arg(long, default_value_t = 120.0, value_name = "SECS", value_parser = seconds)]
    pub timeout: f64,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

/// Runs `proofstep doctor`: exit 0 when a usable Lean was found, 1 otherwise.
pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()?,
    };
    let toolchain = args.toolchain.discover(&dir);
    let mut report = toolchain.report(Duration::from_secs_f64(args.timeout));
    report
        .parts
        .push(match &crate::cli::args::given(&args.model) {
            Some(model) => model_part(model),
            None => match crate::cli::default_model::default_model_dir() {
                Ok(model) => model_part(&model),
                Err(e) => Part {
                    name: "model".into(),
                    found: false,
                    detail: "no default model".into(),
                    fix: Some(e.to_string()),
                    required: false,
                },
            },
        });
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.usable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::cli::exit::ANSWER_NO)
    })
}

/// Whether `dir` holds a model folder `prove` can load (files present, architecture known).
fn model_part(dir: &Path) -> Part {
    let missing = crate::cli::default_model::missing_file(dir);
    let model_type = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["model_type"].as_str().map(str::to_string));
    let (found, detail, fix) = match (missing, model_type.as_deref()) {
        (None, Some(kind @ ("llama" | "gpt_neox"))) => {
            (true, format!("{} ({kind})", dir.display()), None)
        }
        (None, other) => (
            false,
            format!("{}: config.json has model_type {other:?}", dir.display()),
            Some(
                "use a Llama or GPT-NeoX model folder (what `proofstep train` writes)".to_string(),
            ),
        ),
        (Some(missing), _) => (
            false,
            format!("{}: {missing}", dir.display()),
            Some(
                "point --model at a folder written by `proofstep train` or a Hugging Face download"
                    .to_string(),
            ),
        ),
    };
    Part {
        name: "model".into(),
        found,
        detail,
        fix,
        required: false,
    }
}

/// The report for people: one line per part, its fix below it when missing.
fn render(report: &Report) -> String {
    let mut out = String::new();
    for part in &report.parts {
        let state = if part.found { "ok" } else { "missing" };
        out.push_str(&format!("{:<13} {:<8} {}\n", part.name, state, part.detail));
        if let Some(fix) = &part.fix {
            out.push_str(&format!("{:<13} {:<8} fix: {}\n", "", "", fix));
        }
    }
    if let Some(cmd) = &report.lean_command {
        out.push_str(&format!("\nLean runs as: {cmd}\n"));
    }
    if let Some(cmd) = &report.repl_command {
        out.push_str(&format!("repl runs as: {cmd}\n"));
    }
    out.push_str(if report.usable {
        "\nusable: yes (`proofstep check` and the file and server backends work)\n"
    } else {
        "\nusable: no (follow the fix for `lean` above)\n"
    });
    out
}
