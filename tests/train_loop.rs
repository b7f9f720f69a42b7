//! Training on real Mathlib proof states (the llmstep search traces in ../shared/data/traces):
//! the loss falls, a resumed run continues with exactly the losses of the uninterrupted one,
//! checkpoint rotation keeps the best, and the seed's own command line runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use proofstep::data::traces::read_trace_examples;
use proofstep::data::Example;
use proofstep::model::generate::Generator;
use proofstep::model::{DeviceChoice, GenerateOptions, Predictor};
use proofstep::train::bpe::{save_tokenizer, train_tokenizer};
use proofstep::train::checkpoint::{list_checkpoints, read_state};
use proofstep::train::metrics::read_records;
use proofstep::train::{
    train, MixedPrecision, ModelSource, SchedulerKind, ScratchConfig, Strategy, TrainOptions,
};

/// Writes the traces' (state_before → tactic) pairs as proof-step JSONL and trains a tokenizer
/// on them; returns (jsonl, tokenizer dir, examples).
fn trace_data(test: &str, dir: &Path) -> Option<(PathBuf, PathBuf, Vec<Example>)> {
    let shared = common::shared_dir(test)?;
    let traces = shared.join("data/traces/llmstep-pythia2.8b-minif2f-test");
    let mut examples = Vec::new();
    for i in 0..4 {
        examples.extend(read_trace_examples(&traces.join(format!("results_{i}.json"))).unwrap());
    }
    assert!(examples.len() >= 90, "{} trace steps", examples.len());
    let jsonl = dir.join("train.jsonl");
    let text: String = examples.iter().map(|e| e.to_seed_json() + "\n").collect();
    std::fs::write(&jsonl, text).unwrap();
    let tok_dir = dir.join("tokenizer");
    save_tokenizer(&train_tokenizer(&examples, 600).unwrap(), &tok_dir, 256).unwrap();
    Some((jsonl, tok_dir, examples))
}

fn options(data: &Path, tok: &Path, out: &Path) -> TrainOptions {
    TrainOptions {
        model: ModelSource::Scratch {
            config: ScratchConfig::Preset("llama-tiny".into()),
            tokenizer: tok.to_path_buf(),
        },
        train_data_path: data.to_path_buf(),
        valid_data_path: None,
        output_dir: out.to_path_buf(),
        logging_dir: None,
        report_to: Vec::new(),
        num_train_epochs: 1.0,
        max_steps: None,
        per_device_train_batch_size: 8,
        per_device_eval_batch_size: 16,
        gradient_accumulation_steps: 1,
        evaluation_strategy: Strategy::No,
        eval_steps: 10,
        max_eval_samples: None,
        save_strategy: Strategy::No,
        save_steps: 10,
        save_total_limit: None,
        learning_rate: 3e-3,
        load_best_model_at_end: false,
        weight_decay: 0.01,
        warmup_ratio: 0.05,
        warmup_steps: None,
        lr_scheduler_type: SchedulerKind::Cosine,
        max_grad_norm: 1.0,
        logging_steps: 1,
        seed: 7,
        model_max_length: 256,
        resume_from_checkpoint: None,
        device: DeviceChoice::Cpu,
        mixed_precision: MixedPrecision::No,
    }
}

fn losses(dir: &Path) -> Vec<(u64, f64)> {
    read_records(&dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["step"].as_u64()?, r.get("loss")?.as_f64()?)))
        .collect()
}

#[test]
fn training_on_mathlib_states_halves_the_loss_and_the_folder_generates() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok, examples)) =
        trace_data("training_on_mathlib_states_halves_the_loss", dir.path())
    else {
        return;
    };
    let out = dir.path().join("run");
    let opts = TrainOptions {
        max_steps: Some(200),
        logging_steps: 10,
        ..options(&data, &tok, &out)
    };
    let report = train(&opts, &AtomicBool::new(false)).unwrap();
    assert_eq!(report.global_step, 200);
    let l = losses(&out);
    let (first, last) = (l.first().unwrap().1, l.last().unwrap().1);
    eprintln!("training loss {first:.3} → {last:.3} in 200 steps");
    assert!(
        last <= first / 2.0,
        "loss {first:.3} → {last:.3} (records {l:?})"
    );
    assert!(out.join("loss_curve.svg").is_file());
    // The output folder is a model folder the generator loads.
    let generator = Generator::load(&out).unwrap();
    let options = GenerateOptions {
        max_new_tokens: 24,
        ..Default::default()
    };
    let got = generator
        .generate(&[examples[0].input.clone()], &options)
        .unwrap();
    assert!(!got[0].is_empty() && got[0].iter().all(|c| c.score <= 0.0));
}

#[test]
fn resuming_gives_the_same_next_losses_as_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok, _)) = trace_data("resuming_gives_the_same_next_losses", dir.path()) else {
        return;
    };
    let full = dir.path().join("full");
    // 94 examples / batch 8 = 12 batches, accumulation 2 → 6 updates per epoch: the resume point
    // (step 10) is mid-epoch, so the batch order must be recovered too.
    let base = TrainOptions {
        max_steps: Some(16),
        gradient_accumulation_steps: 2,
        save_strategy: Strategy::Steps,
        save_steps: 5,
        ..options(&data, &tok, &full)
    };
    train(&base, &AtomicBool::new(false)).unwrap();
    let resumed_dir = dir.path().join("resumed");
    let resumed = TrainOptions {
        output_dir: resumed_dir.clone(),
        resume_from_checkpoint: Some(full.join("checkpoint-10")),
        ..base.clone()
    };
    train(&resumed, &AtomicBool::new(false)).unwrap();
    let a: Vec<(u64, f64)> = losses(&full).into_iter().filter(|(s, _)| *s > 10).collect();
    let b = losses(&resumed_dir);
    assert_eq!(a.len(), 6);
    assert_eq!(
        a.iter().map(|x| x.0).collect::<Vec<_>>(),
        b.iter().map(|x| x.0).collect::<Vec<_>>()
    );
    eprintln!("uninterrupted {a:?}\nresumed       {b:?}");
    for ((step, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            (x - y).abs() <= 1e-6 * x.abs().max(1.0),
            "step {step}: uninterrupted {x} vs resumed {y}"
        );
    }
    let sa = std::fs::read(full.join("model.safetensors")).unwrap();
    let sb = std::fs::read(resumed_dir.join("model.safetensors")).unwrap();
    assert!(sa == sb, "the resumed run ends with the same weights");
}

#[test]
fn save_total_limit_keeps_the_best_and_load_best_copies_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok, _)) = trace_data("save_total_limit_keeps_the_best", dir.path()) else {
        return;
    };
    // Validate on a few examples; a high constant rate makes the validation loss move both ways.
    let valid = dir.path().join("valid.jsonl");
    let text = std::fs::read_to_string(&data).unwrap();
    std::fs::write(
        &valid,
        text.lines()
            .take(12)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let out = dir.path().join("run");
    let opts = TrainOptions {
        max_steps: Some(30),
        valid_data_path: Some(valid),
        evaluation_strategy: Strategy::Steps,
        save_strategy: Strategy::Steps,
        eval_steps: 5,
        save_steps: 5,
        save_total_limit: Some(1),
        load_best_model_at_end: true,
        lr_scheduler_type: SchedulerKind::Constant,
        learning_rate: 2e-2,
        ..options(&data, &tok, &out)
    };
    let report = train(&opts, &AtomicBool::new(false)).unwrap();
    let evals: Vec<(u64, f64)> = read_records(&out.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["step"].as_u64()?, r.get("eval_loss")?.as_f64()?)))
        .collect();
    assert_eq!(
        evals.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![5, 10, 15, 20, 25, 30]
    );
    let (best_step, best_loss) =
        evals
            .iter()
            .copied()
            .fold((0, f64::MAX), |a, e| if e.1 < a.1 { e } else { a });
    assert_eq!(report.best_metric, Some(best_loss));
    let best_dir = out.join(format!("checkpoint-{best_step}"));
    assert_eq!(
        report.best_model_checkpoint.as_deref(),
        Some(best_dir.as_path())
    );
    eprintln!("validation losses {evals:?}, best at step {best_step}");
    let kept: Vec<usize> = list_checkpoints(&out).into_iter().map(|(s, _)| s).collect();
    let mut want = vec![best_step as usize, 30];
    want.dedup();
    assert_eq!(kept, want, "limit 1 keeps only the best and the newest");
    assert_eq!(read_state(&best_dir).unwrap().best_metric, Some(best_loss));
    // load_best_model_at_end: the output folder holds the best checkpoint's weights.
    assert_eq!(
        std::fs::read(out.join("model.safetensors")).unwrap(),
        std::fs::read(best_dir.join("model.safetensors")).unwrap()
    );
}

#[test]
fn the_seeds_command_line_runs_with_only_the_program_name_changed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((data, tok, _)) = trace_data("the_seeds_command_line_runs", dir.path()) else {
        return;
    };
    // A small base model folder to fine-tune (the seed fine-tunes pythia; none is reachable here).
    let base = dir.path().join("base");
    train(
        &TrainOptions {
            max_steps: Some(1),
            ..options(&data, &tok, &base)
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    let outdir = dir.path().join("model");
    let run = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .arg("train")
        .args(["--model_name_or_path"])
        .arg(&base)
        .args(["--train_data_path"])
        .arg(&data)
        .args(["--valid_data_path"])
        .arg(&data)
        .arg("--fp16")
        .args(["--output_dir"])
        .arg(&outdir)
        .args(["--num_train_epochs", "10"])
        .args(["--per_device_train_batch_size", "4"])
        .args(["--per_device_eval_batch_size", "4"])
        .args(["--gradient_accumulation_steps", "16"])
        .args(["--evaluation_strategy", "steps"])
        .args(["--eval_steps", "500"])
        .args(["--save_strategy", "steps"])
        .args(["--save_steps", "500"])
        .args(["--save_total_limit", "1"])
        .args(["--learning_rate", "1e-5"])
        .args(["--load_best_model_at_end", "1"])
        .args(["--weight_decay", "0."])
        .args(["--warmup_ratio", "0.03"])
        .args(["--lr_scheduler_type", "cosine"])
        .args(["--logging_steps", "10"])
        .args(["--logging_dir"])
        .arg(&outdir)
        .arg("--report_to=tensorboard")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("--fp16 is ignored"), "{stderr}");
    let event_files = std::fs::read_dir(&outdir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .count();
    assert!(
        event_files >= 1,
        "--report_to tensorboard wrote no event file"
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    // 94 examples / 4 = 24 batches; / 16 = 2 updates per epoch; 10 epochs.
    assert_eq!(report["global_step"], 20);
    assert!(outdir.join("checkpoint-20/optimizer.safetensors").is_file());
    assert!(outdir.join("config.json").is_file() && outdir.join("tokenizer.json").is_file());
    let records = read_records(&outdir.join("metrics.jsonl")).unwrap();
    assert!(records
        .iter()
        .any(|r| r["step"] == 20 && r.get("eval_loss").is_some()));
}
