//! Editor suggestions: an HTTP server speaking llmstep's protocol (so llmstep's Lean tactic can
//! use our models) and an LSP proxy that adds Lean-checked "Insert next step" code actions to
//! any editor's Lean language server. Depends on `search` (candidate filter, prompt format),
//! `model` (the `Predictor` seam) and `lean` (the language server client that checks steps).

pub mod batcher;
pub mod error;
mod handler;
pub mod http;
pub mod lsp;
pub mod request;
mod slots;

pub use batcher::{BatchOptions, Batcher};
pub use error::ServeError;
pub use http::{HttpOptions, SuggestServer};
pub use request::{parse_request, SuggestRequest};
