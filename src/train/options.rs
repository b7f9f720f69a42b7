//! Everything a training run is configured by (the seed's `tune.py` / transformers
//! `TrainingArguments` options that apply here), independent of the command line.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::TrainError;
use super::schedule::SchedulerKind;

/// Where the initial weights come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelSource {
    /// A Hugging Face model folder (config.json, the weights, tokenizer.json) to fine-tune.
    Folder(PathBuf),
    /// A fresh model: a preset name or a config.json text, and the tokenizer.json to use.
    Scratch {
        /// `Preset(name)` or `Json(text)`.
        config: ScratchConfig,
        /// A tokenizer.json (e.g. from `proofstep tokenizer train`), or a folder holding one.
        tokenizer: PathBuf,
    },
}

/// The architecture of a from-scratch model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScratchConfig {
    /// One of `presets::PRESETS`.
    Preset(String),
    /// A config.json's text (vocab_size is replaced by the tokenizer's).
    Json(String),
}

/// When to evaluate or save.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Never.
    No,
    /// Every N optimizer updates.
    Steps,
    /// At the end of every epoch.
    Epoch,
}

/// The seed's `--fp16` / `--bf16`: mixed precision as the HF Trainer means it (products in
/// half precision, f32 master weights and optimizer state; fp16 with dynamic loss scaling).
/// Applies on a GPU; on the CPU training stays f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixedPrecision {
    /// f32 throughout.
    #[default]
    No,
    /// f16 products, loss scaling.
    Fp16,
    /// bf16 products.
    Bf16,
}

/// The options of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Initial weights and tokenizer.
    pub model: ModelSource,
    /// Proof-step JSONL to train on.
    pub train_data_path: PathBuf,
    /// Proof-step JSONL for the validation loss (none: no evaluation).
    pub valid_data_path: Option<PathBuf>,
    /// Where checkpoints, metrics and the final model go.
    pub output_dir: PathBuf,
    /// Where metrics.jsonl, loss_curve.svg and TensorBoard's event files go (default:
    /// output_dir).
    pub logging_dir: Option<PathBuf>,
    /// Where else metrics are reported, as transformers' `report_to`: `tensorboard` (or `all`)
    /// writes TensorBoard event files; `none` or nothing writes only metrics.jsonl.
    #[serde(default)]
    pub report_to: Vec<String>,
    /// Epochs (fractions allowed).
    pub num_train_epochs: f64,
    /// If set, the number of optimizer updates, overriding the epochs.
    pub max_steps: Option<usize>,
    /// Examples per forward pass.
    pub per_device_train_batch_size: usize,
    /// Examples per forward pass during evaluation.
    pub per_device_eval_batch_size: usize,
    /// Forward passes per optimizer update.
    pub gradient_accumulation_steps: usize,
    /// When to compute the validation loss.
    pub evaluation_strategy: Strategy,
    /// Updates between evaluations (strategy `steps`).
    pub eval_steps: usize,
    /// Evaluate on at most this many validation examples (the first ones).
    pub max_eval_samples: Option<usize>,
    /// When to write a checkpoint.
    pub save_strategy: Strategy,
    /// Updates between checkpoints (strategy `steps`).
    pub save_steps: usize,
    /// Keep at most this many checkpoints (the best and the newest are never deleted).
    pub save_total_limit: Option<usize>,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Copy the checkpoint with the lowest validation loss to output_dir at the end.
    pub load_best_model_at_end: bool,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Fraction of the updates spent warming up linearly from 0.
    pub warmup_ratio: f64,
    /// Warmup updates; overrides warmup_ratio when set.
    pub warmup_steps: Option<usize>,
    /// Schedule after warmup.
    pub lr_scheduler_type: SchedulerKind,
    /// Gradient clipping threshold on the global L2 norm (0: none).
    pub max_grad_norm: f64,
    /// Updates between training-loss records.
    pub logging_steps: usize,
    /// Batch order and from-scratch initialisation.
    pub seed: u64,
    /// Longest sequence (prompt + output) in tokens; see `dataset` for the truncation rule.
    pub model_max_length: usize,
    /// A checkpoint folder to continue from.
    pub resume_from_checkpoint: Option<PathBuf>,
    /// Where to train (`--device`).
    #[serde(default)]
    pub device: crate::model::DeviceChoice,
    /// `--fp16` / `--bf16`.
    #[serde(default)]
    pub mixed_precision: MixedPrecision,
}

impl TrainOptions {
    /// Whether `report_to` asks for TensorBoard event files.
    pub fn tensorboard(&self) -> bool {
        self.report_to
            .iter()
            .any(|r| r == "tensorboard" || r == "all")
    }

    /// Checks the combinations transformers rejects too, with what to change.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: &str| Err(TrainError::Config(m.to_string()));
        if self.per_device_train_batch_size == 0 || self.per_device_eval_batch_size == 0 {
            return bad("batch sizes must be at least 1");
        }
        if self.gradient_accumulation_steps == 0 {
            return bad("--gradient_accumulation_steps must be at least 1");
        }
        if self.evaluation_strategy == Strategy::Steps && self.eval_steps == 0
            || self.save_strategy == Strategy::Steps && self.save_steps == 0
        {
            return bad(
                "--eval_steps and --save_steps must be at least 1 with the `steps` strategy",
            );
        }
        if self.evaluation_strategy != Strategy::No && self.valid_data_path.is_none() {
            return bad("evaluation needs --valid_data_path (or pass --evaluation_strategy no)");
        }
        if self.load_best_model_at_end {
            if self.evaluation_strategy == Strategy::No || self.save_strategy == Strategy::No {
                return bad("--load_best_model_at_end needs evaluation and saving: set --evaluation_strategy and --save_strategy");
            }
            if self.evaluation_strategy != self.save_strategy
                || self.save_strategy == Strategy::Steps
                    && !self.save_steps.is_multiple_of(self.eval_steps)
            {
                return bad("--load_best_model_at_end needs the save and evaluation strategies to match, and --save_steps to be a multiple of --eval_steps");
            }
        }
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return bad("--learning_rate must be a positive number");
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return bad("--warmup_ratio must be in [0, 1)");
        }
        if self.model_max_length < 32 {
            return bad("--model_max_length must be at least 32 tokens");
        }
        if self.max_steps.is_none()
            && (self.num_train_epochs.is_nan() || self.num_train_epochs <= 0.0)
        {
            return bad("--num_train_epochs must be positive (or set --max_steps)");
        }
        Ok(())
    }
}
