//! `checkpoint-{step}` folders: the model folder layout (config.json, model.safetensors,
//! generation_config.json, tokenizer files) plus `optimizer.safetensors`, `scheduler.json` and
//! `trainer_state.json`. A folder is written under a temporary name and renamed when complete,
//! so a killed run leaves only whole checkpoints. Rotation keeps `save_total_limit` of them but
//! never deletes the best or the newest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{save_model, CausalLm};

use super::error::TrainError;
use super::optim::AdamW;
use super::schedule::Schedule;
use crate::fsutil::write_atomic;

/// Tokenizer files copied into every checkpoint and the final folder when the source has them.
pub const TOKENIZER_FILES: [&str; 3] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Where a run stands: enough to resume it exactly (the batch order is a function of the seed
/// and the epoch, so the seed and position are the whole random state).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer updates done.
    pub global_step: usize,
    /// Updates of the whole run.
    pub max_steps: usize,
    /// Fractional epochs done (as transformers reports it).
    pub epoch: f64,
    /// The epoch in progress (0-based).
    pub epoch_index: usize,
    /// Updates done within that epoch.
    pub step_in_epoch: usize,
    /// The run's seed (batch order of every epoch, initialisation of from-scratch models).
    pub seed: u64,
    /// Lowest validation loss seen at a save, if any.
    pub best_metric: Option<f64>,
    /// The checkpoint that had it.
    pub best_model_checkpoint: Option<PathBuf>,
    /// Training tokens (prompt and output, no padding) seen so far.
    pub tokens_seen: u64,
    /// The fp16 loss scaler's state (fp16 runs on a GPU only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_scaler: Option<super::grad_scaler::GradScaler>,
}

/// The name of the checkpoint folder of `step`.
pub fn checkpoint_name(step: usize) -> String {
    format!("checkpoint-{step}")
}

/// Writes the model, tokenizer files from `tokenizer_dir`, optimizer, schedule and state into
/// `output_dir/checkpoint-{step}`, atomically; returns its path.
pub fn save_checkpoint(
    output_dir: &Path,
    lm: &CausalLm,
    tokenizer_dir: &Path,
    optimizer: &AdamW,
    schedule: &Schedule,
    state: &TrainerState,
) -> Result<PathBuf, TrainError> {
    let final_dir = output_dir.join(checkpoint_name(state.global_step));
    let partial = output_dir.join(format!(".{}.partial", checkpoint_name(state.global_step)));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| TrainError::io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| TrainError::io(&partial, e))?;
    save_model(lm, &partial, crate::model::io::folder::DEFAULT_SHARD_BYTES)?;
    copy_tokenizer_files(tokenizer_dir, &partial)?;
    optimizer.save(&partial.join("optimizer.safetensors"))?;
    write_json(&partial.join("scheduler.json"), schedule)?;
    let mut state = state.clone();
    if state.best_model_checkpoint.as_deref() == Some(partial.as_path()) {
        state.best_model_checkpoint = Some(final_dir.clone());
    }
    write_json(&partial.join("trainer_state.json"), &state)?;
    crate::fsutil::replace_dir(&partial, &final_dir).map_err(|e| TrainError::io(&final_dir, e))?;
    Ok(final_dir)
}

/// Copies the tokenizer files `from` has into `to` (each atomically).
pub fn copy_tokenizer_files(from: &Path, to: &Path) -> Result<(), TrainError> {
    for name in TOKENIZER_FILES {
        let src = from.join(name);
        if src.is_file() && from != to {
            let bytes = std::fs::read(&src).map_err(|e| TrainError::io(&src, e))?;
            let target = to.join(name);
            write_atomic(&target, &bytes).map_err(|e| TrainError::io(&target, e))?;
        }
    }
    Ok(())
}

/// Copies a checkpoint's model folder files (not the optimizer or state) into `to`.
pub fn copy_model_files(checkpoint: &Path, to: &Path) -> Result<(), TrainError> {
    std::fs::create_dir_all(to).map_err(|e| TrainError::io(to, e))?;
    let entries = std::fs::read_dir(checkpoint).map_err(|e| TrainError::io(checkpoint, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TrainError::io(checkpoint, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let model_file = name == "config.json"
            || name == "generation_config.json"
            || name.ends_with(".safetensors") && name != "optimizer.safetensors"
            || name == "model.safetensors.index.json"
            || TOKENIZER_FILES.contains(&name.as_str());
        if model_file {
            let bytes = std::fs::read(entry.path()).map_err(|e| TrainError::io(entry.path(), e))?;
            let target = to.join(&name);
            write_atomic(&target, &bytes).map_err(|e| TrainError::io(&target, e))?;
        }
    }
    Ok(())
}

/// Reads a checkpoint's trainer state.
pub fn read_state(checkpoint: &Path) -> Result<TrainerState, TrainError> {
    let path = checkpoint.join("trainer_state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Checkpoint {
        path: checkpoint.to_path_buf(),
        reason: format!(
            "no trainer_state.json ({e}): not a checkpoint folder written by `proofstep train`"
        ),
    })?;
    serde_json::from_str(&text).map_err(|e| TrainError::Checkpoint {
        path: checkpoint.to_path_buf(),
        reason: format!("trainer_state.json: {e}"),
    })
}

/// The complete `checkpoint-{step}` folders of `output_dir`, oldest step first.
pub fn list_checkpoints(output_dir: &Path) -> Vec<(usize, PathBuf)> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(output_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("checkpoint-")?.parse().ok()?;
            e.path()
                .join("trainer_state.json")
                .is_file()
                .then(|| (step, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// Deletes the oldest checkpoints until at most `limit` remain, never the best (`keep`) nor the
/// newest; so with a limit of 1 the best and the newest may both stay, as in transformers.
/// Returns the deleted folders.
pub fn rotate(
    output_dir: &Path,
    limit: usize,
    keep: Option<&Path>,
) -> Result<Vec<PathBuf>, TrainError> {
    let all = list_checkpoints(output_dir);
    let mut excess = all.len().saturating_sub(limit.max(1));
    let newest = all.last().map(|(_, p)| p.clone());
    let mut deleted = Vec::new();
    for (_, path) in &all {
        if excess == 0 {
            break;
        }
        let protected = Some(path) == newest.as_ref() || keep.is_some_and(|k| same_dir(k, path));
        if !protected {
            std::fs::remove_dir_all(path).map_err(|e| TrainError::io(path, e))?;
            deleted.push(path.clone());
            excess -= 1;
        }
    }
    Ok(deleted)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Removes the leftovers of checkpoints a killed run was writing.
pub fn remove_partial(output_dir: &Path) {
    for entry in std::fs::read_dir(output_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(".checkpoint-") && name.ends_with(".partial") {
            tracing::info!(path = %entry.path().display(), "removing an incomplete checkpoint");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).expect("serializable");
    write_atomic(path, text.as_bytes()).map_err(|e| TrainError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_never_deletes_the_best_or_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for step in [10, 20, 30, 40, 50] {
            let d = dir.path().join(checkpoint_name(step));
            std::fs::create_dir_all(&d).unwrap();
            write_json(
                &d.join("trainer_state.json"),
                &TrainerState {
                    global_step: step,
                    ..Default::default()
                },
            )
            .unwrap();
        }
        std::fs::create_dir_all(dir.path().join("checkpoint-60")).unwrap(); // torn: no state
        let best = dir.path().join("checkpoint-20");
        let gone = rotate(dir.path(), 2, Some(&best)).unwrap();
        assert_eq!(gone.len(), 3);
        let kept: Vec<usize> = list_checkpoints(dir.path())
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(kept, vec![20, 50]);
        let gone = rotate(dir.path(), 1, Some(&best)).unwrap();
        assert!(
            gone.is_empty(),
            "limit 1 still keeps the best and the newest"
        );
        rotate(dir.path(), 1, None).unwrap();
        assert_eq!(list_checkpoints(dir.path()).len(), 1);
    }
}
