//! Errors of the model layer; each says what the user can do about it.

use std::path::PathBuf;

/// Everything that can go wrong loading, running or converting a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// config.json (or GGUF metadata) is missing a field or names something unsupported.
    #[error("bad model configuration: {0}")]
    Config(String),
    /// A file of the model folder could not be read or written.
    #[error("{path}: {source} (check that the path exists and is readable/writable)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The weights cannot be read, or do not match the configuration (the message says which).
    #[error("weights: {0}")]
    Weights(String),
    /// A folder of quantized matrices (`proofstep model quantize`) cannot be written, read or
    /// read as asked.
    #[error("quantized folder: {0}")]
    Quantized(String),
    /// tokenizer.json is missing or invalid.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A GGUF file could not be converted.
    #[error("GGUF import: {0}")]
    Gguf(String),
    /// A model could not be fetched from the Hugging Face Hub (the message names the fix).
    #[error("Hugging Face Hub: {0}")]
    Hub(String),
    /// The device asked for cannot be used (a build without CUDA, a GPU that does not answer,
    /// a weight format the device has no kernel for).
    #[error("device: {0}")]
    Device(String),
    /// Bad generation options.
    #[error("generation: {0}")]
    Generate(String),
    /// A tensor operation failed (a bug or an inconsistent model).
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

impl ModelError {
    /// An I/O error tagged with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result of the model layer.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
