//! `proofstep model`: model-folder utilities — `import-gguf` converts a GGUF file to a
//! Hugging Face folder, `quantize` writes a folder that holds its matrices converted; the hidden `logits` writes a model's logits for parity checks, `speed`
//! times generation and `agree` compares reduced weights with f32 (benchmarks).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::exit::Failure;
use proofstep::model::{
    agreement, folder_weights, import_gguf, load_model, load_model_with, quantize_model,
    set_threads, Decoding, DeviceChoice, GenerateOptions, Generator, Precision, ProofTokenizer,
    Weights,
};

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
    /// Write a model folder quantized once (bf16, q8_0, q4_0, q4_k) that later loads without
    /// rounding its weights again: a 2.8B model loads in seconds instead of minutes. Load it
    /// with any command's --model (its --weights is auto or the one quantized to).
    Quantize {
        /// The model folder (f32, fp16 or bf16 safetensors, or PyTorch .bin).
        #[arg(long)]
        model: PathBuf,
        /// The weights to hold: bf16, q8_0, q4_0 or q4_k (reduced precision).
        #[arg(long)]
        weights: Weights,
        /// The folder to write; it must not exist yet, or be empty.
        #[arg(long)]
        out: PathBuf,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
        /// Print one JSON object (out, weights, bytes, seconds) instead of a sentence.
        #[arg(long)]
        json: bool,
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
        /// Weights the inference forward reads (as `speed --weights`); prints how many
        /// projections read a copy as JSON.
        #[arg(long, default_value = "f32")]
        weights: Precision,
        /// Where the model runs: cpu, cuda, cuda:N (as every command's --device).
        #[arg(long, default_value = "cpu", value_name = "cpu|cuda[:N]")]
        device: DeviceChoice,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Time generation of exactly `--new-tokens` tokens (end tokens ignored); prints JSON.
    #[command(hide = true)]
    Speed {
        /// Model folder.
        #[arg(long)]
        model: PathBuf,
        /// Prompt token ids as a JSON list.
        #[arg(long)]
        ids: String,
        /// Workload.
        #[arg(long, value_enum)]
        mode: SpeedMode,
        /// New tokens per sequence.
        #[arg(long, default_value_t = 64)]
        new_tokens: usize,
        /// Timed repetitions (after one untimed warm-up).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Weights the model is loaded in, as every command's `--weights` (`packed` is `auto`).
        #[arg(long, default_value = "auto")]
        weights: Weights,
        /// Where the model runs: cpu, cuda, cuda:N (as every command's --device).
        #[arg(long, default_value = "cpu", value_name = "cpu|cuda[:N]")]
        device: DeviceChoice,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Compare reduced weights with f32 on f32's greedy continuations: top-1 agreement and
    /// mean |Δ log-prob| per continuation token; prints one JSON line per weights.
    #[command(hide = true)]
    Agree {
        /// Model folder.
        #[arg(long)]
        model: PathBuf,
        /// Prompts as JSON: a list of lists of token ids.
        #[arg(long, required_unless_present = "prompts", conflicts_with = "prompts")]
        ids: Option<String>,
        /// Prompts as a JSON file holding a list of strings, tokenized with the folder's
        /// tokenizer.json.
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// Weights to compare with f32, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "bf16,q8_0,q4_0,q4_k")]
        weights: Vec<Weights>,
        /// Greedy tokens continued from each prompt.
        #[arg(long, default_value_t = 32)]
        new_tokens: usize,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
    },
}

/// Decoding workloads of the speed benchmark.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SpeedMode {
    /// One greedy sequence.
    Greedy,
    /// 16 samples at temperature 1 (no top-p cut) from one prompt.
    Sample16,
    /// Beam search, width 8, all 8 sequences returned.
    Beam8,
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `proofstep model quantize`: refuses an `--out` that holds anything (a folder is replaced
/// whole), then writes the quantized folder with a spinner on stderr.
fn quantize(model: &Path, weights: Weights, out: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let occupied =
        out.is_file() || std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        return Err(Failure::Io.error(format!(
            "--out {} already exists and is not empty; remove it or choose another folder",
            out.display()
        )));
    }
    let start = Instant::now();
    let spinner = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?)
        .with_message(format!("quantizing {} to {weights}", model.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let bytes = quantize_model(model, weights, out)
        .with_context(|| format!("quantizing {} into {}", model.display(), out.display()))?;
    spinner.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"out": out, "weights": weights.name(), "bytes": bytes, "seconds": seconds})
        );
    } else {
        println!(
            "{}: weights {weights} (reduced precision), {:.1} MiB, {seconds:.1} s",
            out.display(),
            bytes as f64 / (1 << 20) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
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
        ModelCommand::Quantize {
            model,
            weights,
            out,
            threads,
            json,
        } => {
            if let Some(t) = threads {
                set_threads(t);
            }
            quantize(&model, weights, &out, json)
        }
        ModelCommand::Logits {
            model,
            ids,
            out,
            weights,
            device,
            threads,
        } => {
            if let Some(t) = threads {
                set_threads(t);
            }
            let rows: Vec<Vec<u32>> =
                serde_json::from_str(&ids).context("--ids must be a JSON list of lists of ids")?;
            let device = device.open()?;
            let mut lm = load_model(&model, &device)?;
            let report = lm.set_precision(weights)?;
            let (b, t) = (rows.len(), rows.first().map_or(0, Vec::len));
            anyhow::ensure!(
                b > 0 && t > 0 && rows.iter().all(|r| r.len() == t),
                "--ids rows must be non-empty and equally long"
            );
            let x = Tensor::from_vec(rows.concat(), (b, t), &device)?;
            let train = lm.forward_train(&x)?.to_device(&Device::Cpu)?;
            let mut cache = lm.new_cache();
            let infer = lm
                .forward_cached(&x, &vec![0; b], &mut cache, false)?
                .to_device(&Device::Cpu)?;
            let tensors = vec![("train".to_string(), train), ("infer".to_string(), infer)];
            let bytes = safetensors::serialize(tensors, None)?;
            proofstep::fsutil::write_atomic(&out, &bytes)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}",
                serde_json::json!({
                    "weights": format!("{weights:?}").to_lowercase(),
                    "projections_converted": report.converted,
                    "projections": report.total,
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Agree {
            model,
            ids,
            prompts,
            weights,
            new_tokens,
            threads,
        } => {
            if let Some(t) = threads {
                set_threads(t);
            }
            let prompts: Vec<Vec<u32>> = match (ids, prompts) {
                (Some(ids), _) => serde_json::from_str(&ids)
                    .context("--ids must be a JSON list of lists of ids")?,
                (None, Some(file)) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let texts: Vec<String> = serde_json::from_str(&text)
                        .context("--prompts must hold a JSON list of strings")?;
                    let tok = ProofTokenizer::from_file(&model.join("tokenizer.json"), None)?;
                    texts
                        .iter()
                        .map(|t| tok.encode(t))
                        .collect::<Result<_, _>>()?
                }
                (None, None) => anyhow::bail!("give --ids or --prompts"),
            };
            let reference = load_model_with(&model, Weights::F32)?;
            for w in weights {
                let other = load_model_with(&model, w)?;
                let a = agreement(&reference, &other, &prompts, new_tokens)?;
                println!(
                    "{}",
                    serde_json::json!({"weights": w.name(), "agreement": a, "peak_rss_mib": peak_rss_mib()})
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Speed {
            model,
            ids,
            mode,
            new_tokens,
            repeats,
            weights,
            device,
            threads,
        } => {
            if let Some(t) = threads {
                set_threads(t);
            }
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let prompt: Vec<u32> =
                serde_json::from_str(&ids).context("--ids must be a JSON list of ids")?;
            let loading = Instant::now();
            let device = device.open()?;
            let quantized_folder = folder_weights(&model, Weights::Auto)? != Weights::Auto;
            let weights = folder_weights(&model, weights)?;
            let mut generator = Generator::load_on(&model, weights, &device)?;
            let load_s = loading.elapsed().as_secs_f64();
            let load_peak_rss_mib = peak_rss_mib();
            generator.set_stop_ids(Vec::new());
            let (decoding, sequences) = match mode {
                SpeedMode::Greedy => (
                    Decoding::Sample {
                        temperatures: vec![0.0],
                        samples: 1,
                        top_p: 1.0,
                    },
                    1,
                ),
                SpeedMode::Sample16 => (
                    Decoding::Sample {
                        temperatures: vec![1.0],
                        samples: 16,
                        top_p: 1.0,
                    },
                    16,
                ),
                SpeedMode::Beam8 => (Decoding::Beam { width: 8 }, 8),
            };
            let options = GenerateOptions {
                decoding,
                max_new_tokens: new_tokens,
                seed: 0,
            };
            let (mut seconds, mut first_run_s) = (Vec::new(), 0.0);
            for round in 0..=repeats {
                let start = Instant::now();
                let out = generator.generate_ids(std::slice::from_ref(&prompt), &options)?;
                let elapsed = start.elapsed().as_secs_f64();
                if round == 0 {
                    first_run_s = load_s + elapsed;
                }
                let produced: usize = out[0].iter().map(|s| s.tokens.len()).sum();
                anyhow::ensure!(
                    produced == sequences * new_tokens,
                    "generated {produced} tokens, expected {}",
                    sequences * new_tokens
                );
                if round > 0 {
                    seconds.push(elapsed);
                }
            }
            seconds.sort_by(f64::total_cmp);
            let median = seconds[seconds.len() / 2];
            let value = serde_json::json!({
                "impl": "proofstep",
                "mode": format!("{mode:?}").to_lowercase(),
                "weights": weights.name(),
                "reduced_precision": weights.is_reduced(),
                "quantized_folder": quantized_folder,
                "device": proofstep::model::device_name(&device),
                "instruction_set": proofstep::model::kernels::instruction_set(),
                "projections_converted": generator.lm().precision_report().converted,
                "projections": generator.lm().precision_report().total,
                "load_seconds": load_s,
                "load_peak_rss_mib": load_peak_rss_mib,
                "first_run_seconds_incl_load": first_run_s,
                "sequences": sequences,
                "new_tokens": new_tokens,
                "prompt_tokens": prompt.len(),
                "seconds": seconds,
                "tokens_per_s": (sequences * new_tokens) as f64 / median,
                "peak_rss_mib": peak_rss_mib(),
            });
            println!("{value}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
