//! The OpenAI-compatible completions API, which vLLM, SGLang, TGI, llama.cpp's server, Ollama
//! and `proofstep serve` all speak. `wire` is its JSON, shared by both sides: `RemotePredictor`
//! (`predictor.rs`) samples candidates from such a server, so search, `serve` and `lsp` can
//! use a model running on a GPU elsewhere; `serve`'s `/v1/completions` route answers in it.
//! `chat` is the chat completions API's JSON, which `refine`'s whole-proof model speaks to
//! hosted chat endpoints. `endpoint` turns a user's URL into the routes, `client` makes the requests (deadlines,
//! retries with backoff), `error` says what failed and what to do. Depends on `model` (the
//! `Predictor` seam) and core's prompt format only.

pub mod chat;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod predictor;
pub mod wire;

pub use endpoint::Endpoint;
pub use error::RemoteError;
pub use predictor::{RemoteOptions, RemotePredictor};
