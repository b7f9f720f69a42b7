//! The training loop: load or create the model, tokenize, then per optimizer update run
//! `gradient_accumulation_steps` forward/backward passes over length-grouped batches, clip, step
//! AdamW at the scheduled rate, log, evaluate, checkpoint; stop cleanly when asked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};

use serde::Serialize;
use serde_json::json;

use crate::data::read_examples;
use crate::model::{device_name, gpu_memory_used, load_model, CausalLm, ProofTokenizer};

use super::checkpoint::{
    checkpoint_name, copy_model_files, copy_tokenizer_files, list_checkpoints, read_state,
    remove_partial, rotate, save_checkpoint, write_json, TrainerState,
};
use super::dataset::{epoch_batches, sequential_batches, tokenize, TokenizedExample};
use super::error::TrainError;
use super::grad_scaler::GradScaler;
use super::loss::{make_batch, summed_nll};
use super::metrics::MetricsLog;
use super::optim::{AdamW, AdamWConfig};
use super::options::{MixedPrecision, ModelSource, ScratchConfig, Strategy, TrainOptions};
use super::presets::{config_from_json, preset_config};
use super::schedule::Schedule;

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// Updates done in total (including those before a resume).
    pub global_step: usize,
    /// The last logged training loss (mean per output token), if any.
    pub train_loss: Option<f64>,
    /// The lowest validation loss at a save.
    pub best_metric: Option<f64>,
    /// The checkpoint that had it.
    pub best_model_checkpoint: Option<PathBuf>,
    /// Where the final model folder is (absent when interrupted).
    pub output_dir: Option<PathBuf>,
    /// The checkpoint written when the run was interrupted.
    pub interrupted_checkpoint: Option<PathBuf>,
    /// Training examples used, truncated and dropped.
    pub examples: usize,
    /// Examples whose state was truncated to fit model_max_length.
    pub truncated: usize,
    /// Examples dropped because their output alone did not fit.
    pub dropped: usize,
    /// Where it trained (`cpu`, `cuda:N`) and in what precision (`f32`, `fp16`, `bf16`).
    pub device: String,
    /// What the products were computed in.
    pub precision: String,
    /// The most GPU memory in use, MiB (a GPU run only): device-wide as the driver reports it
    /// (total − free: the CUDA context and any other process included), sampled after every
    /// backward pass and optimizer step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_gpu_memory_mib: Option<f64>,
}

/// The model, tokenizer and (when resuming) checkpoint a run starts from.
struct Start {
    lm: CausalLm,
    tokenizer: ProofTokenizer,
    /// Folder holding the tokenizer files to copy into checkpoints.
    tokenizer_dir: PathBuf,
    resume: Option<(PathBuf, TrainerState)>,
}

/// Resolves `--resume_from_checkpoint`: a folder, or `true` for the newest in output_dir.
pub fn resolve_resume(output_dir: &Path, value: &Path) -> Result<PathBuf, TrainError> {
    if value.as_os_str() == "true" || value.as_os_str() == "True" || value.as_os_str() == "1" {
        return list_checkpoints(output_dir)
            .pop()
            .map(|(_, p)| p)
            .ok_or_else(|| TrainError::Checkpoint {
                path: output_dir.to_path_buf(),
                reason:
                    "no checkpoint-* folder to resume from; run without --resume_from_checkpoint"
                        .into(),
            });
    }
    Ok(value.to_path_buf())
}

/// A checkpoint whose content does not load, with the way on: a killed run never leaves a
/// damaged checkpoint (they are written as `*.partial` and renamed), so one that fails to load
/// was changed after, and the checkpoint before it still resumes. Errors that say nothing of
/// the content (no checkpoint there, a file that cannot be read, a device) stay as they are.
fn unresumable(dir: &Path, e: TrainError) -> TrainError {
    use crate::model::ModelError;
    let about_content = !matches!(
        e,
        TrainError::Io { .. }
            | TrainError::Model(ModelError::Io { .. } | ModelError::Device(_))
            | TrainError::Candle(_)
    );
    if about_content && dir.join("trainer_state.json").is_file() {
        TrainError::Unresumable {
            path: dir.to_path_buf(),
            source: Box::new(e),
        }
    } else {
        e
    }
}

fn load_start(opts: &TrainOptions, device: &Device) -> Result<Start, TrainError> {
    if let Some(dir) = &opts.resume_from_checkpoint {
        let dir = resolve_resume(&opts.output_dir, dir)?;
        let (state, lm, tokenizer) = (|| {
            let state = read_state(&dir)?;
            let lm = load_model(&dir, device)?;
            let tokenizer = ProofTokenizer::from_file(
                &dir.join("tokenizer.json"),
                lm.config().eos_ids().first().copied(),
            )?;
            Ok((state, lm, tokenizer))
        })()
        .map_err(|e| unresumable(&dir, e))?;
        tracing::info!(checkpoint = %dir.display(), step = state.global_step, "resuming");
        return Ok(Start {
            lm,
            tokenizer,
            tokenizer_dir: dir.clone(),
            resume: Some((dir, state)),
        });
    }
    match &opts.model {
        ModelSource::Folder(dir) => {
            let lm = load_model(dir, device)?;
            let tokenizer = ProofTokenizer::from_file(
                &dir.join("tokenizer.json"),
                lm.config().eos_ids().first().copied(),
            )?;
            Ok(Start {
                lm,
                tokenizer,
                tokenizer_dir: dir.clone(),
                resume: None,
            })
        }
        ModelSource::Scratch { config, tokenizer } => {
            let file = if tokenizer.is_dir() {
                tokenizer.join("tokenizer.json")
            } else {
                tokenizer.clone()
            };
            let tok = ProofTokenizer::from_file(&file, None)?;
            let eos = tok.eos_id().ok_or_else(|| {
                TrainError::Tokenizer(format!(
                    "{} has no <|endoftext|> token: train one with `proofstep tokenizer train`",
                    file.display()
                ))
            })?;
            let vocab = tok.inner().get_vocab_size(true);
            let config = match config {
                ScratchConfig::Preset(name) => {
                    preset_config(name, vocab, eos, opts.model_max_length)?
                }
                ScratchConfig::Json(text) => config_from_json(text, vocab, eos)?,
            };
            let lm = CausalLm::random_seeded(config, device, opts.seed)?;
            let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
            Ok(Start {
                lm,
                tokenizer: tok,
                tokenizer_dir: dir,
                resume: None,
            })
        }
    }
}

/// Mean loss per output token over `examples`, in batches of `batch_size`.
fn evaluate(
    lm: &CausalLm,
    examples: &[TokenizedExample],
    batch_size: usize,
    pad: u32,
) -> Result<(f64, usize), TrainError> {
    let mut nll = 0f64;
    let mut count = 0;
    for idx in sequential_batches(examples.len(), batch_size) {
        let refs: Vec<&TokenizedExample> = idx.iter().map(|&i| &examples[i]).collect();
        let batch = make_batch(&refs, pad, lm.device())?;
        if batch.label_tokens == 0 {
            continue;
        }
        nll += summed_nll(lm, &batch)?.detach().to_scalar::<f32>()? as f64;
        count += batch.label_tokens;
    }
    Ok((nll / count.max(1) as f64, count))
}

/// Runs training as `opts` says, until done or until `stop` is set (then a checkpoint is saved
/// and the report names it).
pub fn train(opts: &TrainOptions, stop: &AtomicBool) -> Result<TrainReport, TrainError> {
    opts.validate()?;
    super::alloc::tune_for_training();
    let device = opts.device.open()?;
    // Mixed precision applies on a GPU; on the CPU training stays f32 (as the CLI says).
    let autocast = match (opts.mixed_precision, device.is_cpu()) {
        (MixedPrecision::Fp16, false) => Some(DType::F16),
        (MixedPrecision::Bf16, false) => Some(DType::BF16),
        _ => None,
    };
    let precision = match autocast {
        Some(DType::F16) => "fp16",
        Some(_) => "bf16",
        None => "f32",
    };
    tracing::info!(device = device_name(&device), precision, "training");
    // Said once here, where the device is opened (the trainer's callers do not open it).
    match (opts.mixed_precision, device.is_cpu()) {
        (MixedPrecision::No, true) => {}
        (half, true) => eprintln!(
            "note: --{} is ignored on the CPU: proofstep trains in f32 there (mixed precision \
             applies with --device cuda)",
            if half == MixedPrecision::Fp16 {
                "fp16"
            } else {
                "bf16"
            }
        ),
        (_, false) => eprintln!("training on {} ({precision})", device_name(&device)),
    }
    std::fs::create_dir_all(&opts.output_dir).map_err(|e| TrainError::io(&opts.output_dir, e))?;
    remove_partial(&opts.output_dir);
    // The data is read before the model loads: bad data fails in a moment, not after a load
    // of minutes.
    let train_examples = read_examples(&opts.train_data_path)?;
    if train_examples.is_empty() {
        return Err(crate::data::DataError::NoExample {
            path: opts.train_data_path.clone(),
        }
        .into());
    }
    let valid_examples = match &opts.valid_data_path {
        Some(path) if opts.evaluation_strategy != Strategy::No => {
            let mut examples = read_examples(path)?;
            if let Some(n) = opts.max_eval_samples {
                examples.truncate(n);
            }
            examples
        }
        _ => Vec::new(),
    };
    let Start {
        mut lm,
        tokenizer,
        tokenizer_dir,
        resume,
    } = load_start(opts, &device)?;
    tracing::info!(params = lm.num_params(), "model ready");
    lm.set_autocast(autocast);
    // Tokenizer files travel with every checkpoint and the final folder.
    if tokenizer_dir != opts.output_dir {
        copy_tokenizer_files(&tokenizer_dir, &opts.output_dir)?;
        if !opts.output_dir.join("tokenizer.json").exists() {
            tokenizer.save(&opts.output_dir.join("tokenizer.json"))?;
        }
    }
    let pad = tokenizer
        .inner()
        .token_to_id(crate::prompt::PAD)
        .or(tokenizer.eos_id())
        .unwrap_or(0);

    let bar = ProgressBar::new_spinner();
    bar.set_message("tokenizing");
    let train_set = tokenize(&tokenizer, &train_examples, opts.model_max_length, |_| {
        bar.tick()
    })?;
    drop(train_examples);
    if train_set.examples.is_empty() {
        return Err(TrainError::Config(format!(
            "{}: no training example fits --model_max_length {}",
            opts.train_data_path.display(),
            opts.model_max_length
        )));
    }
    let valid_set = tokenize(&tokenizer, &valid_examples, opts.model_max_length, |_| {
        bar.tick()
    })?
    .examples;
    drop(valid_examples);
    bar.finish_and_clear();
    tracing::info!(
        train = train_set.examples.len(),
        truncated = train_set.truncated,
        dropped = train_set.dropped,
        valid = valid_set.len(),
        "tokenized"
    );

    let lengths: Vec<usize> = train_set.examples.iter().map(|e| e.ids.len()).collect();
    let batches_per_epoch = lengths.len().div_ceil(opts.per_device_train_batch_size);
    let steps_per_epoch = batches_per_epoch.div_ceil(opts.gradient_accumulation_steps);
    let max_steps = opts.max_steps.unwrap_or_else(|| {
        ((opts.num_train_epochs * steps_per_epoch as f64).ceil() as usize).max(1)
    });
    let mut schedule = Schedule::new(
        opts.lr_scheduler_type,
        opts.learning_rate,
        opts.warmup_ratio,
        max_steps,
    );
    if let Some(w) = opts.warmup_steps {
        schedule.warmup_steps = w;
    }

    let vars: HashMap<String, candle_core::Var> =
        lm.varmap().data().lock().expect("var map lock").clone();
    let mut optimizer = AdamW::new(
        &vars,
        AdamWConfig {
            weight_decay: opts.weight_decay,
            max_grad_norm: opts.max_grad_norm,
            ..Default::default()
        },
    )?;
    let mut state = TrainerState {
        max_steps,
        seed: opts.seed,
        ..Default::default()
    };
    if let Some((dir, saved)) = &resume {
        optimizer
            .load(&dir.join("optimizer.safetensors"))
            .map_err(|e| unresumable(dir, e))?;
        if saved.seed != opts.seed {
            tracing::warn!(checkpoint_seed = saved.seed, "--seed differs from the checkpoint's; using the checkpoint's so the run continues exactly");
        }
        state = TrainerState {
            max_steps,
            ..saved.clone()
        };
    }
    // The loss scaler belongs to fp16 runs only: a checkpoint of one resumed in another
    // precision (or on the CPU) drops it.
    if autocast != Some(DType::F16) {
        state.grad_scaler = None;
    } else if state.grad_scaler.is_none() {
        state.grad_scaler = Some(GradScaler::default());
    }
    let mut peak_gpu_memory = gpu_memory_used(&device);
    let log_dir = opts
        .logging_dir
        .clone()
        .unwrap_or_else(|| opts.output_dir.clone());
    std::fs::create_dir_all(&log_dir).map_err(|e| TrainError::io(&log_dir, e))?;
    let mut metrics = MetricsLog::open(
        &log_dir,
        resume.as_ref().map(|(_, s)| s.global_step),
        opts.tensorboard(),
    )?;
    write_json(&opts.output_dir.join("training_args.json"), opts)?;

    let bar = ProgressBar::new(max_steps as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_position(state.global_step as u64);

    let mut window = (0f64, 0usize, 0usize); // (summed nll, label tokens, tokens) since the last log
    let mut window_start = Instant::now();
    let mut last_eval: Option<(usize, f64)> = None;
    let mut last_saved: Option<usize> = None;
    let mut last_train_loss = None;
    let mut interrupted_checkpoint = None;

    let do_eval = |lm: &CausalLm,
                   state: &TrainerState,
                   metrics: &mut MetricsLog|
     -> Result<(usize, f64), TrainError> {
        let started = Instant::now();
        let (loss, tokens) = evaluate(lm, &valid_set, opts.per_device_eval_batch_size, pad)?;
        metrics.append(&json!({
            "step": state.global_step, "epoch": state.epoch, "eval_loss": loss,
            "eval_tokens": tokens, "eval_seconds": started.elapsed().as_secs_f64(),
        }))?;
        tracing::info!(step = state.global_step, eval_loss = loss, "evaluated");
        Ok((state.global_step, loss))
    };
    let do_save = |lm: &CausalLm,
                   optimizer: &AdamW,
                   state: &mut TrainerState,
                   last_eval: Option<(usize, f64)>|
     -> Result<PathBuf, TrainError> {
        let target = opts.output_dir.join(checkpoint_name(state.global_step));
        if let Some((step, loss)) = last_eval.filter(|(s, _)| *s == state.global_step) {
            debug_assert_eq!(step, state.global_step);
            if state.best_metric.is_none_or(|b| loss < b) {
                state.best_metric = Some(loss);
                state.best_model_checkpoint = Some(target.clone());
            }
        }
        let dir = save_checkpoint(
            &opts.output_dir,
            lm,
            &opts.output_dir,
            optimizer,
            &schedule,
            state,
        )?;
        if let Some(limit) = opts.save_total_limit {
            for gone in rotate(
                &opts.output_dir,
                limit,
                state.best_model_checkpoint.as_deref(),
            )? {
                tracing::info!(checkpoint = %gone.display(), "deleted (save_total_limit)");
            }
        }
        Ok(dir)
    };

    'epochs: while state.global_step < max_steps {
        let batches = epoch_batches(
            &lengths,
            opts.per_device_train_batch_size,
            state.seed,
            state.epoch_index,
        );
        let groups: Vec<&[Vec<usize>]> = batches.chunks(opts.gradient_accumulation_steps).collect();
        for group in groups.iter().skip(state.step_in_epoch) {
            if state.global_step >= max_steps {
                break 'epochs;
            }
            let label_tokens: usize = group
                .iter()
                .flat_map(|b| b.iter())
                .map(|&i| train_set.examples[i].output_len())
                .sum();
            let mut grads: HashMap<String, Tensor> = HashMap::new();
            let mut nll_sum = 0f64;
            let mut tokens = 0;
            for idx in group.iter() {
                let refs: Vec<&TokenizedExample> =
                    idx.iter().map(|&i| &train_set.examples[i]).collect();
                let batch = make_batch(&refs, pad, &device)?;
                tokens += batch.tokens;
                if batch.label_tokens == 0 {
                    continue;
                }
                let nll = summed_nll(&lm, &batch)?;
                nll_sum += nll.to_scalar::<f32>()? as f64;
                let store = match &state.grad_scaler {
                    Some(scaler) => (nll * (scaler.scale / label_tokens as f64))?.backward()?,
                    None => (nll / label_tokens as f64)?.backward()?,
                };
                // Sampled while the gradients and this micro-batch's activations are held.
                peak_gpu_memory = peak_gpu_memory.max(gpu_memory_used(&device));
                for name in optimizer.names() {
                    let var = optimizer.var(name).expect("named var");
                    if let Some(g) = store.get(var.as_tensor()) {
                        let sum = match grads.remove(name) {
                            Some(acc) => (acc + g)?,
                            None => g.clone(),
                        };
                        grads.insert(name.clone(), sum);
                    }
                }
            }
            let loss = nll_sum / label_tokens.max(1) as f64;
            if !loss.is_finite() && state.grad_scaler.is_none() {
                return Err(TrainError::Diverged(loss as f32, state.global_step + 1));
            }
            // fp16: the step is skipped (and counted, as the HF Trainer counts it) when the
            // loss or the scaled gradients overflowed; the schedule does not advance on it.
            let skipped = state.grad_scaler.as_ref().map_or(0, |s| s.skipped_steps);
            let lr = schedule.lr(state.global_step.saturating_sub(skipped));
            let grad_norm = match state.grad_scaler.as_mut() {
                None => optimizer.step(&grads, lr)?,
                Some(scaler) => {
                    // The unscaled gradients' norm is what clipping needs, and is not finite
                    // exactly when some gradient overflowed.
                    let norm = if loss.is_finite() {
                        scaler.unscale(&mut grads)?;
                        optimizer.grad_norm(&grads)?
                    } else {
                        f64::NAN
                    };
                    if norm.is_finite() {
                        scaler.clean();
                        optimizer.step_with_norm(&grads, lr, norm)?
                    } else {
                        scaler.overflowed();
                        tracing::warn!(
                            step = state.global_step + 1,
                            "fp16 loss or gradients overflowed: step skipped, loss scale halved"
                        );
                        f64::NAN
                    }
                }
            };
            peak_gpu_memory = peak_gpu_memory.max(gpu_memory_used(&device));
            state.global_step += 1;
            state.step_in_epoch += 1;
            state.epoch =
                state.epoch_index as f64 + state.step_in_epoch as f64 / groups.len() as f64;
            state.tokens_seen += tokens as u64;
            window.0 += nll_sum;
            window.1 += label_tokens;
            window.2 += tokens;
            let rate = window.2 as f64 / window_start.elapsed().as_secs_f64().max(1e-9);
            bar.set_position(state.global_step as u64);
            bar.set_message(format!("loss {loss:.4} lr {lr:.2e} {rate:.0} tok/s"));
            if state.global_step.is_multiple_of(opts.logging_steps.max(1))
                || state.global_step == max_steps
            {
                let mean = window.0 / window.1.max(1) as f64;
                let mut record = json!({
                    "step": state.global_step, "epoch": state.epoch, "loss": mean, "learning_rate": lr,
                    "grad_norm": grad_norm, "tokens_per_second": rate, "tokens_seen": state.tokens_seen,
                });
                if let Some(bytes) = peak_gpu_memory {
                    record["peak_gpu_memory_mib"] = json!(mib(bytes));
                }
                if let Some(scaler) = &state.grad_scaler {
                    record["loss_scale"] = json!(scaler.scale);
                }
                metrics.append(&record)?;
                last_train_loss = Some(mean);
                window = (0.0, 0, 0);
                window_start = Instant::now();
            }
            let at_end = state.global_step == max_steps;
            if opts.evaluation_strategy == Strategy::Steps
                && (state.global_step.is_multiple_of(opts.eval_steps) || at_end)
            {
                last_eval = Some(do_eval(&lm, &state, &mut metrics)?);
            }
            if opts.save_strategy == Strategy::Steps
                && (state.global_step.is_multiple_of(opts.save_steps) || at_end)
            {
                do_save(&lm, &optimizer, &mut state, last_eval)?;
                last_saved = Some(state.global_step);
            }
            if stop.load(Ordering::SeqCst) {
                bar.abandon_with_message("interrupted");
                let dir = if last_saved == Some(state.global_step) {
                    opts.output_dir.join(checkpoint_name(state.global_step))
                } else {
                    do_save(&lm, &optimizer, &mut state, last_eval)?
                };
                let _ = metrics.plot();
                interrupted_checkpoint = Some(dir);
                break 'epochs;
            }
        }
        if interrupted_checkpoint.is_some()
            || state.global_step >= max_steps && state.step_in_epoch < groups.len()
        {
            break;
        }
        state.epoch_index += 1;
        state.step_in_epoch = 0;
        state.epoch = state.epoch_index as f64;
        if opts.evaluation_strategy == Strategy::Epoch {
            last_eval = Some(do_eval(&lm, &state, &mut metrics)?);
        }
        if opts.save_strategy == Strategy::Epoch {
            do_save(&lm, &optimizer, &mut state, last_eval)?;
            last_saved = Some(state.global_step);
        }
        let _ = metrics.plot();
    }
    if let Err(e) = metrics.plot() {
        tracing::warn!("could not draw the loss curve: {e}");
    }
    if interrupted_checkpoint.is_none() {
        bar.finish_and_clear();
        // The final model folder: the best checkpoint's weights, or the last weights.
        match (&state.best_model_checkpoint, opts.load_best_model_at_end) {
            (Some(best), true) if best.is_dir() => {
                tracing::info!(checkpoint = %best.display(), "loading the best model at the end");
                copy_model_files(best, &opts.output_dir)?;
            }
            _ => {
                crate::model::save_model(
                    &lm,
                    &opts.output_dir,
                    crate::model::io::folder::DEFAULT_SHARD_BYTES,
                )?;
            }
        }
        write_json(&opts.output_dir.join("trainer_state.json"), &state)?;
    }
    Ok(TrainReport {
        global_step: state.global_step,
        train_loss: last_train_loss,
        best_metric: state.best_metric,
        best_model_checkpoint: state.best_model_checkpoint,
        output_dir: interrupted_checkpoint
            .is_none()
            .then(|| opts.output_dir.clone()),
        interrupted_checkpoint,
        examples: train_set.examples.len(),
        truncated: train_set.truncated,
        dropped: train_set.dropped,
        device: device_name(&device),
        precision: precision.into(),
        peak_gpu_memory_mib: peak_gpu_memory.map(mib),
    })
}

/// Bytes as MiB.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
