//! `metrics.jsonl`: one JSON object per logging or evaluation event, appended and flushed line
//! by line so a killed run loses nothing, plus the loss curve (`loss_curve.svg`) beside it and,
//! with `--report_to tensorboard`, the same numbers as TensorBoard scalars.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::TrainError;
use super::plot::{plot_losses, Series};
use super::tensorboard::EventFile;
use crate::fsutil::write_atomic;

/// The metrics file of a run.
pub struct MetricsLog {
    path: PathBuf,
    file: File,
    tensorboard: Option<EventFile>,
}

/// The TensorBoard scalars of a record, named as transformers' TensorBoard callback names them
/// (`eval_loss` → `eval/loss`, `loss` → `train/loss`): every number but the step.
pub fn scalars(record: &Value) -> Vec<(String, f32)> {
    let Some(fields) = record.as_object() else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|(key, _)| key.as_str() != "step")
        .filter_map(|(key, v)| {
            let v = v.as_f64()? as f32;
            let tag = match key.strip_prefix("eval_") {
                Some(rest) => format!("eval/{rest}"),
                None => format!("train/{key}"),
            };
            Some((tag, v))
        })
        .collect()
}

impl MetricsLog {
    /// Opens `dir/metrics.jsonl` for appending. When resuming at `resume_step`, records of later
    /// steps (written after that checkpoint by the interrupted run) are dropped first, so the
    /// file describes one consistent run; a fresh run (`None`) starts an empty file. With
    /// `tensorboard`, a new event file in `dir` receives every record too.
    pub fn open(
        dir: &Path,
        resume_step: Option<usize>,
        tensorboard: bool,
    ) -> Result<Self, TrainError> {
        let path = dir.join("metrics.jsonl");
        let kept = match resume_step {
            Some(step) => read_records(&path)?
                .into_iter()
                .filter(|r| {
                    r.get("step")
                        .and_then(Value::as_u64)
                        .is_some_and(|s| s as usize <= step)
                })
                .map(|r| format!("{r}\n"))
                .collect::<String>(),
            None => String::new(),
        };
        write_atomic(&path, kept.as_bytes()).map_err(|e| TrainError::io(&path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| TrainError::io(&path, e))?;
        let tensorboard = if tensorboard {
            let events = EventFile::create(dir, resume_step).map_err(|e| TrainError::io(dir, e))?;
            tracing::info!(file = %events.path().display(), "writing TensorBoard events");
            Some(events)
        } else {
            None
        };
        Ok(MetricsLog {
            path,
            file,
            tensorboard,
        })
    }

    /// Appends one record and flushes it to the file (and to TensorBoard's, when asked).
    pub fn append(&mut self, record: &Value) -> Result<(), TrainError> {
        let line = format!("{record}\n");
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| TrainError::io(&self.path, e))?;
        if let Some(events) = &mut self.tensorboard {
            let step = record.get("step").and_then(Value::as_u64).unwrap_or(0);
            events
                .scalars(step as usize, &scalars(record))
                .map_err(|e| TrainError::io(events.path(), e))?;
        }
        Ok(())
    }

    /// Redraws `loss_curve.svg` beside the metrics from all records so far: training loss and
    /// validation loss against the optimizer step.
    pub fn plot(&self) -> Result<PathBuf, TrainError> {
        let records = read_records(&self.path)?;
        let series = |key: &str| -> Vec<(f64, f64)> {
            records
                .iter()
                .filter_map(|r| Some((r.get("step")?.as_f64()?, r.get(key)?.as_f64()?)))
                .collect()
        };
        let out = self.path.with_file_name("loss_curve.svg");
        let svg = plot_losses(&[
            Series {
                name: "train loss",
                color: [31, 119, 180],
                markers: false,
                points: series("loss"),
            },
            Series {
                name: "eval loss",
                color: [214, 39, 40],
                markers: true,
                points: series("eval_loss"),
            },
        ]);
        write_atomic(&out, svg.as_bytes()).map_err(|e| TrainError::io(&out, e))?;
        Ok(out)
    }
}

/// Every record of a metrics file (a missing file has none; a torn last line is skipped).
pub fn read_records(path: &Path) -> Result<Vec<Value>, TrainError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TrainError::io(path, e)),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| TrainError::io(path, e))?;
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            out.push(v);
        }
    }
    Ok(out)
}
