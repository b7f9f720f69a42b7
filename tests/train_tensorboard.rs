//! `train --report_to tensorboard --logging_dir DIR`, the seed's flags, writes TensorBoard event
//! files there: each record of the TFRecord stream is read back here with its length and data
//! checksums (masked CRC-32C) checked, decoded as `Event` protobufs, and holds the same train
//! and eval numbers as metrics.jsonl under transformers' tag names; the loss curve beside them
//! is an SVG naming its axes and both series. (`benchmarks/tensorboard_check/run.py` reads the
//! same files with TensorBoard's own reader.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proofstep::train::metrics::read_records;
use proofstep::train::tensorboard::{masked_crc32c, Event, What, SESSION_START};
use prost::Message;

/// A few proof steps in the seed's JSONL format.
fn steps(dir: &Path) -> PathBuf {
    let path = dir.join("steps.jsonl");
    let steps = [
        ("m n : Nat\nh : m = n\n⊢ n + 0 = m", "rw [Nat.add_zero]"),
        ("p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "constructor"),
        ("p : Prop\nhp : p\n⊢ p ∨ False", "left"),
        ("a b : Nat\n⊢ a + b = b + a", "omega"),
    ];
    let text: String = steps
        .iter()
        .map(|(s, t)| {
            format!(
                "{}\n",
                serde_json::json!({"input": format!("[GOAL]{s}[PROOFSTEP]"), "output": format!("{t}<|endoftext|>")})
            )
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn train(dir: &Path, logs: &Path, extra: &[&str]) -> std::process::Output {
    let data = steps(dir);
    let tokenizer = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/testworld-small");
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["train", "--from_scratch", "llama-tiny", "--tokenizer"])
        .arg(&tokenizer)
        .arg("--train_data_path")
        .arg(&data)
        .arg("--valid_data_path")
        .arg(&data)
        .arg("--output_dir")
        .arg(dir.join("out"))
        .arg("--logging_dir")
        .arg(logs)
        .args(["--max_steps", "4", "--per_device_train_batch_size", "2"])
        .args([
            "--logging_steps",
            "1",
            "--evaluation_strategy",
            "steps",
            "--eval_steps",
            "2",
        ])
        .args(["--model_max_length", "128", "--threads", "1"])
        .args(extra)
        .output()
        .unwrap()
}

/// The records of a TFRecord file, each checked against its two masked CRCs.
fn read_tfrecords(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut at = 0;
    let mut out = Vec::new();
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    while at < bytes.len() {
        let len_bytes = &bytes[at..at + 8];
        assert_eq!(
            u32_at(at + 8),
            masked_crc32c(len_bytes),
            "length CRC at {at}"
        );
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        let data = &bytes[at + 12..at + 12 + len];
        assert_eq!(
            u32_at(at + 12 + len),
            masked_crc32c(data),
            "data CRC at {at}"
        );
        out.push(data.to_vec());
        at += 12 + len + 4;
    }
    assert_eq!(at, bytes.len(), "a torn record at the end");
    out
}

fn event_files(logs: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .collect();
    files.sort();
    files
}

/// tag → [(step, value)] of every scalar in the events.
fn scalars(events: &[Event]) -> BTreeMap<String, Vec<(i64, f32)>> {
    let mut out: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    for e in events {
        if let Some(What::Summary(s)) = &e.what {
            for v in &s.value {
                out.entry(v.tag.clone())
                    .or_default()
                    .push((e.step, v.simple_value.expect("a scalar")));
            }
        }
    }
    out
}

#[test]
fn report_to_tensorboard_writes_checksummed_events_with_the_metrics_of_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("runs");
    let out = train(tmp.path(), &logs, &["--report_to", "tensorboard"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = event_files(&logs);
    assert_eq!(files.len(), 1, "{files:?}");
    let events: Vec<Event> = read_tfrecords(&files[0])
        .iter()
        .map(|r| Event::decode(r.as_slice()).unwrap())
        .collect();
    assert_eq!(
        events[0].what,
        Some(What::FileVersion("brain.Event:2".into()))
    );
    assert!(events.iter().all(|e| e.wall_time > 1.6e9));
    let got = scalars(&events);
    for tag in [
        "train/loss",
        "train/learning_rate",
        "train/grad_norm",
        "train/tokens_per_second",
        "eval/loss",
    ] {
        assert!(got.contains_key(tag), "{tag} missing from {:?}", got.keys());
    }
    let records = read_records(&logs.join("metrics.jsonl")).unwrap();
    let expect = |key: &str| -> Vec<(i64, f32)> {
        records
            .iter()
            .filter_map(|r| Some((r["step"].as_i64()?, r.get(key)?.as_f64()? as f32)))
            .collect()
    };
    assert_eq!(got["train/loss"], expect("loss"));
    assert_eq!(got["train/loss"].len(), 4);
    assert_eq!(got["train/learning_rate"], expect("learning_rate"));
    assert_eq!(got["train/grad_norm"], expect("grad_norm"));
    assert_eq!(got["eval/loss"], expect("eval_loss"));
    assert_eq!(
        got["eval/loss"].iter().map(|p| p.0).collect::<Vec<_>>(),
        [2, 4]
    );
    let svg = std::fs::read_to_string(logs.join("loss_curve.svg")).unwrap();
    let shown: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
        .collect();
    for text in ["optimizer step", "train loss", "eval loss"] {
        assert!(
            shown.contains(&text),
            "{text} missing from the plot's {shown:?}"
        );
    }
}

#[test]
fn without_report_to_no_event_file_is_written_and_other_integrations_are_named_as_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("runs");
    let out = train(tmp.path(), &logs, &["--report_to", "wandb"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(event_files(&logs).is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--report_to wandb is not supported"));
    assert!(logs.join("loss_curve.svg").is_file());
}

#[test]
fn a_resumed_run_starts_a_new_event_file_that_tells_tensorboard_to_drop_the_orphaned_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("runs");
    let args = [
        "--report_to",
        "tensorboard",
        "--save_strategy",
        "steps",
        "--save_steps",
        "2",
    ];
    let first = train(tmp.path(), &logs, &args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let checkpoint = tmp.path().join("out/checkpoint-2");
    assert!(checkpoint.is_dir());
    let mut resumed_args = args.to_vec();
    resumed_args.extend(["--resume_from_checkpoint", checkpoint.to_str().unwrap()]);
    // Event files are named by the second they start in.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = train(tmp.path(), &logs, &resumed_args);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let files = event_files(&logs);
    assert_eq!(files.len(), 2, "{files:?}");
    let events: Vec<Event> = files
        .iter()
        .flat_map(|f| read_tfrecords(f))
        .map(|r| Event::decode(r.as_slice()).unwrap())
        .collect();
    let start = events
        .iter()
        .find(|e| matches!(&e.what, Some(What::SessionLog(s)) if s.status == SESSION_START))
        .expect("a START session log in the resumed run's file");
    assert_eq!(start.step, 3);
}
