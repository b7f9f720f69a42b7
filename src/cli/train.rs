//! `proofstep train`: supervised fine-tuning with the seed's options (transformers spellings:
//! `--num_train_epochs` works as well as `--num-train-epochs`), so the seed's `tune.py` command
//! line runs with only the program name changed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use proofstep::model::{resolve_model, DeviceChoice, HubSettings};
use proofstep::train::{
    train, MixedPrecision, ModelSource, SchedulerKind, ScratchConfig, Strategy, TrainOptions,
};

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" => Ok(true),
        "0" | "false" | "no" | "n" => Ok(false),
        _ => Err(format!("`{s}` is not a boolean: use true/false or 1/0")),
    }
}

/// Arguments of `proofstep train` (names as in transformers' TrainingArguments).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The model to fine-tune: a Hugging Face model folder (config.json, model.safetensors or
    /// pytorch_model.bin, tokenizer.json) or a Hub id `org/name[@revision]`, downloaded into
    /// the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN); a local folder of that name wins.
    #[arg(long, alias = "model_name_or_path", required_unless_present_any = ["from_scratch", "config_json"])]
    pub model_name_or_path: Option<PathBuf>,
    /// Train a new model of this preset (llama-tiny, llama-8m, llama-25m) from scratch; needs --tokenizer.
    #[arg(long, alias = "from_scratch", conflicts_with_all = ["model_name_or_path", "config_json"], requires = "tokenizer")]
    pub from_scratch: Option<String>,
    /// Train a new model with this config.json from scratch (vocab_size comes from --tokenizer).
    #[arg(
        long,
        alias = "config_json",
        conflicts_with = "model_name_or_path",
        requires = "tokenizer"
    )]
    pub config_json: Option<PathBuf>,
    /// tokenizer.json (or its folder) for from-scratch training, e.g. from `proofstep tokenizer train`.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Proof-step JSONL to train on (proofstep-train.jsonl).
    #[arg(long, alias = "train_data_path")]
    pub train_data_path: PathBuf,
    /// Proof-step JSONL for the validation loss (proofstep-val.jsonl).
    #[arg(long, alias = "valid_data_path")]
    pub valid_data_path: Option<PathBuf>,
    /// Where checkpoints, metrics and the final model folder go.
    #[arg(long, alias = "output_dir")]
    pub output_dir: PathBuf,
    /// Epochs over the training data.
    #[arg(long, alias = "num_train_epochs", default_value_t = 3.0)]
    pub num_train_epochs: f64,
    /// Stop after this many optimizer updates (overrides the epochs when > 0).
    #[arg(long, alias = "max_steps", default_value_t = -1)]
    pub max_steps: i64,
    /// Examples per forward pass.
    #[arg(long, alias = "per_device_train_batch_size", default_value_t = 8)]
    pub per_device_train_batch_size: usize,
    /// Examples per forward pass when evaluating.
    #[arg(long, alias = "per_device_eval_batch_size", default_value_t = 8)]
    pub per_device_eval_batch_size: usize,
    /// Forward passes per optimizer update (effective batch = batch size × this).
    #[arg(long, alias = "gradient_accumulation_steps", default_value_t = 1)]
    pub gradient_accumulation_steps: usize,
    /// When to compute the validation loss.
    #[arg(
        long,
        alias = "evaluation_strategy",
        visible_alias = "eval-strategy",
        value_enum,
        default_value = "no"
    )]
    pub evaluation_strategy: Strategy,
    /// Updates between evaluations.
    #[arg(long, alias = "eval_steps", default_value_t = 500)]
    pub eval_steps: usize,
    /// Evaluate on at most this many validation examples.
    #[arg(long, alias = "max_eval_samples")]
    pub max_eval_samples: Option<usize>,
    /// When to write checkpoint-{step} folders.
    #[arg(long, alias = "save_strategy", value_enum, default_value = "steps")]
    pub save_strategy: Strategy,
    /// Updates between checkpoints.
    #[arg(long, alias = "save_steps", default_value_t = 500)]
    pub save_steps: usize,
    /// Keep at most this many checkpoints (never deleting the best or the newest).
    #[arg(long, alias = "save_total_limit")]
    pub save_total_limit: Option<usize>,
    /// Peak learning rate.
    #[arg(long, alias = "learning_rate", default_value_t = 5e-5)]
    pub learning_rate: f64,
    /// Copy the checkpoint with the lowest validation loss to output_dir at the end.
    #[arg(long, alias = "load_best_model_at_end", num_args = 0..=1, default_value = "false", default_missing_value = "true", value_parser = parse_bool)]
    pub load_best_model_at_end: bool,
    /// AdamW weight decay (not applied to biases and norm weights).
    #[arg(long, alias = "weight_decay", default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Fraction of updates spent in linear warmup.
    #[arg(long, alias = "warmup_ratio", default_value_t = 0.0)]
    pub warmup_ratio: f64,
    /// Warmup updates (overrides --warmup_ratio).
    #[arg(long, alias = "warmup_steps")]
    pub warmup_steps: Option<usize>,
    /// Learning-rate schedule after warmup.
    #[arg(
        long,
        alias = "lr_scheduler_type",
        value_enum,
        default_value = "linear"
    )]
    pub lr_scheduler_type: SchedulerKind,
    /// Clip gradients to this global L2 norm (0: off).
    #[arg(long, alias = "max_grad_norm", default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Updates between training-loss records in metrics.jsonl.
    #[arg(long, alias = "logging_steps", default_value_t = 10)]
    pub logging_steps: usize,
    /// Where metrics.jsonl, loss_curve.svg and TensorBoard's event files go (default: output_dir).
    #[arg(long, alias = "logging_dir")]
    pub logging_dir: Option<PathBuf>,
    /// Seed of the batch order and of from-scratch initialisation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Longest sequence in tokens (prompt + output); longer states are cut at their start.
    #[arg(long, alias = "model_max_length", default_value_t = 1024)]
    pub model_max_length: usize,
    /// Continue from a checkpoint folder, or `true` for the newest in output_dir (`false`
    /// starts afresh, as leaving the flag out does).
    #[arg(long, alias = "resume_from_checkpoint")]
    pub resume_from_checkpoint: Option<PathBuf>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Mixed precision as in the HF Trainer: f16 products, f32 master weights and optimizer
    /// state, dynamic loss scaling. On a GPU (--device cuda); on the CPU training stays f32
    /// and the flag is noted and ignored.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = parse_bool)]
    pub fp16: Option<bool>,
    /// Mixed precision with bf16 products (no loss scaling needed); on a GPU, as --fp16.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = parse_bool, conflicts_with = "fp16")]
    pub bf16: Option<bool>,
    /// Where to train: cpu, cuda (GPU 0), cuda:N, or auto (a GPU when this build has CUDA
    /// and the machine has one, else the CPU).
    #[arg(long, default_value = "auto", value_name = "auto|cpu|cuda[:N]")]
    pub device: DeviceChoice,
    /// Where else to report metrics (space- or comma-separated, as transformers takes them):
    /// `tensorboard` (or `all`) writes TensorBoard event files to the logging dir; `none` only
    /// metrics.jsonl and loss_curve.svg, which are always written.
    #[arg(long, alias = "report_to", num_args = 1.., value_delimiter = ',')]
    pub report_to: Vec<String>,
}

impl TrainArgs {
    fn options(&self) -> anyhow::Result<TrainOptions> {
        let model = match (&self.model_name_or_path, &self.from_scratch, &self.config_json) {
            (Some(spec), _, _) => {
                let dir = resolve_model(spec, &HubSettings::from_env())?;
                if !dir.join("config.json").is_file() {
                    anyhow::bail!(
                        "{} is not a model folder (no config.json) nor a Hub id (org/name[@revision]); \
                         pass a local folder (e.g. one saved by transformers' save_pretrained, or `proofstep model import-gguf`), \
                         a Hub id such as EleutherAI/pythia-160m, or train from scratch with --from_scratch llama-8m --tokenizer DIR",
                        spec.display()
                    );
                }
                ModelSource::Folder(dir)
            }
            (None, Some(preset), _) => ModelSource::Scratch {
                config: ScratchConfig::Preset(preset.clone()),
                tokenizer: self.tokenizer.clone().expect("clap requires --tokenizer"),
            },
            (None, None, Some(path)) => ModelSource::Scratch {
                config: ScratchConfig::Json(
                    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                ),
                tokenizer: self.tokenizer.clone().expect("clap requires --tokenizer"),
            },
            (None, None, None) => anyhow::bail!("pass --model_name_or_path DIR, or --from_scratch PRESET / --config_json FILE with --tokenizer"),
        };
        Ok(TrainOptions {
            model,
            train_data_path: self.train_data_path.clone(),
            valid_data_path: self.valid_data_path.clone(),
            output_dir: self.output_dir.clone(),
            logging_dir: self.logging_dir.clone(),
            report_to: self.report_to.clone(),
            num_train_epochs: self.num_train_epochs,
            max_steps: (self.max_steps > 0).then_some(self.max_steps as usize),
            per_device_train_batch_size: self.per_device_train_batch_size,
            per_device_eval_batch_size: self.per_device_eval_batch_size,
            gradient_accumulation_steps: self.gradient_accumulation_steps,
            evaluation_strategy: self.evaluation_strategy,
            eval_steps: self.eval_steps,
            max_eval_samples: self.max_eval_samples,
            save_strategy: self.save_strategy,
            save_steps: self.save_steps,
            save_total_limit: self.save_total_limit,
            learning_rate: self.learning_rate,
            load_best_model_at_end: self.load_best_model_at_end,
            weight_decay: self.weight_decay,
            warmup_ratio: self.warmup_ratio,
            warmup_steps: self.warmup_steps,
            lr_scheduler_type: self.lr_scheduler_type,
            max_grad_norm: self.max_grad_norm,
            logging_steps: self.logging_steps,
            seed: self.seed,
            model_max_length: self.model_max_length,
            // A boolean as train's other flags read it: false starts afresh, true is the
            // newest checkpoint (`resolve_resume`); anything else is a folder.
            resume_from_checkpoint: match self.resume_from_checkpoint.as_deref() {
                Some(p) => match p.to_str().map(parse_bool) {
                    Some(Ok(false)) => None,
                    Some(Ok(true)) => Some(PathBuf::from("true")),
                    _ => Some(p.to_path_buf()),
                },
                None => None,
            },
            device: self.device,
            mixed_precision: match (self.fp16, self.bf16) {
                (Some(true), _) => MixedPrecision::Fp16,
                (_, Some(true)) => MixedPrecision::Bf16,
                _ => MixedPrecision::No,
            },
        })
    }
}

/// Runs `proofstep train`.
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.threads {
        // Read by candle's CPU kernels when their thread pool starts (nothing has run yet).
        std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
    }
    for to in &args.report_to {
        if !matches!(to.as_str(), "tensorboard" | "all" | "none") {
            eprintln!("note: --report_to {to} is not supported and ignored: proofstep reports to tensorboard (and always writes metrics.jsonl and loss_curve.svg in the logging dir)");
        }
    }
    let options = args.options()?;
    let stop = Arc::new(AtomicBool::new(false));
    let presses = Arc::new(AtomicUsize::new(0));
    {
        let (stop, presses) = (stop.clone(), presses.clone());
        // SIGINT, SIGTERM (a scheduler's preemption) or SIGHUP; one started ignored stays so.
        // Nothing here may panic: a closed terminal makes stderr fail.
        proofstep::interrupt::set_handler(move || {
            if presses.fetch_add(1, Ordering::SeqCst) > 0 {
                let _ = writeln!(
                    std::io::stderr(),
                    "\nsecond interrupt: exiting without saving"
                );
                std::process::exit(proofstep::interrupt::EXIT_CODE);
            }
            stop.store(true, Ordering::SeqCst);
            let _ = writeln!(std::io::stderr(), "\ninterrupted: saving a checkpoint after this step (press Ctrl-C again to quit at once)");
        })?;
    }
    let report = train(&options, &stop)?;
    println!("{}", serde_json::to_string(&report)?);
    if let Some(dir) = &report.interrupted_checkpoint {
        eprintln!(
            "saved {}; continue with the same command plus --resume_from_checkpoint {}",
            dir.display(),
            dir.display()
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}
