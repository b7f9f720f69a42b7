//! Editor suggestions: an HTTP server speaking llmstep's protocol (so llmstep's Lean tactic can
//! use our models) and the OpenAI completions API (so any OpenAI-style client can), and an LSP
//! proxy that adds Lean-checked "Insert next step" code actions to any editor's Lean language
//! server. Depends on `search` (candidate filter, prompt format), `model` (the `Predictor`
//! seam), `openai` (the completions API's JSON) and `lean` (the language server client that
//! checks steps).

pub mod batcher;
pub mod completions;
pub mod error;
mod handler;
pub mod http;
pub mod lsp;
pub mod request;
mod slots;

pub use batcher::{BatchOptions, Batcher, CompletionOptions};
pub use error::ServeError;
pub use http::{HttpOptions, SuggestServer};
pub use request::{parse_request, SuggestRequest};
