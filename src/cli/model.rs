//! `proofstep model`: model-folder utilities — `import-gguf` converts a GGUF file to a
//! Hugging Face folder; the hidden `logits` writes a model's logits for parity checks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use proofstep::model::{import_gguf, load_model, set_threads};

/// Arguments of `proofstep model`.
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// The `model` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ModelCommand {
    /// Convert a llama GGUF (F32/F16/Q8_0/Q4_0/Q4_1/... tensors) to a Hugging Face model folder.
    ImportGguf {
        /// The .gguf file.
        input: PathBuf,
        /// Output folder (created; existing files of the same name are replaced).
        out_dir: PathBuf,
    },
    /// Write the logits of both forwards for token ids (parity checks against transformers).
    #[command(hide = true)]
    Logits {
        /// Model folder.
        #[arg(long)]
        model: PathBuf,
        /// Token ids as JSON: a list of equally long lists.
        #[arg(long)]
        ids: String,
        /// Output safetensors file with `train` and `infer` logits [b, t, vocab].
        #[arg(long)]
        out: PathBuf,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
    },
}

/// Runs `proofstep model ...`.
pub fn run(args: ModelArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ModelCommand::ImportGguf { input, out_dir } => {
            let spinner = ProgressBar::new_spinner()
                .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?)
                .with_message(format!("converting {}", input.display()));
            spinner.enable_steady_tick(std::time::Duration::from_millis(200));
            let summary = import_gguf(&input, &out_dir).with_context(|| {
                format!("importing {} into {}", input.display(), out_dir.display())
            })?;
            spinner.finish_and_clear();
            let dtypes: Vec<String> = summary
                .dtypes
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            println!(
                "{}: {} tensors ({}), {:.1}M parameters, vocabulary {}",
                out_dir.display(),
                summary.tensors,
                dtypes.join(", "),
                summary.params as f64 / 1e6,
                summary.vocab
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Logits {
            model,
            ids,
            out,
            threads,
        } => {
            if let Some(t) = threads {
                set_threads(t);
            }
            let rows: Vec<Vec<u32>> =
                serde_json::from_str(&ids).context("--ids must be a JSON list of lists of ids")?;
            let lm = load_model(&model, &Device::Cpu)?;
            let (b, t) = (rows.len(), rows.first().map_or(0, Vec::len));
            anyhow::ensure!(
                b > 0 && t > 0 && rows.iter().all(|r| r.len() == t),
                "--ids rows must be non-empty and equally long"
            );
            let x = Tensor::from_vec(rows.concat(), (b, t), &Device::Cpu)?;
            let train = lm.forward_train(&x)?;
            let mut cache = lm.new_cache();
            let infer = lm.forward_cached(&x, &vec![0; b], &mut cache, false)?;
            let tmp = out.with_extension("partial");
            let tensors = std::collections::HashMap::from([
                ("train".to_string(), train),
                ("infer".to_string(), infer),
            ]);
            candle_core::safetensors::save(&tensors, &tmp)?;
            std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
