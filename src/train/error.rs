//! Errors of training. Each one a user can cause says what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong preparing or running training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The options do not make a valid run.
    #[error("{0}")]
    Config(String),
    /// The tokenizer could not be trained, read or used.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The training data could not be read.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The model layer failed (loading, saving, shapes).
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A checkpoint folder is incomplete or from another run.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    /// A checkpoint whose files are there but do not load (changed after it was written: a
    /// killed run leaves only whole ones); the exit code is its cause's.
    #[error("cannot resume from checkpoint {path}: {source}. If it was changed after it was written (a killed run leaves only whole checkpoints), delete it: `--resume_from_checkpoint true` then resumes from the checkpoint before it")]
    Unresumable {
        path: PathBuf,
        #[source]
        source: Box<TrainError>,
    },
    /// The loss became NaN or infinite.
    #[error("the loss became {0} at step {1}: lower --learning_rate or check the data")]
    Diverged(f32, usize),
}

impl TrainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }
}
