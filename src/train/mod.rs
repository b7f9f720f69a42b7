//! Supervised fine-tuning of next-step predictors (the seed's recipe, natively): tokenizer
//! training for from-scratch models, tokenized and length-grouped batches with the loss on the
//! output only, AdamW with warmup and a schedule, checkpoints, validation and metrics.

pub mod alloc;
pub mod bpe;
pub mod checkpoint;
pub mod dataset;
pub mod error;
pub mod grad_scaler;
pub mod loss;
pub mod metrics;
pub mod optim;
pub mod options;
pub mod plot;
pub mod presets;
pub mod schedule;
pub mod tensorboard;
pub mod trainer;

pub use error::TrainError;
pub use options::{MixedPrecision, ModelSource, ScratchConfig, Strategy, TrainOptions};
pub use schedule::SchedulerKind;
pub use trainer::{train, TrainReport};
