//! The parts of the LSP client behind `crate::lean::server`: framing (shared with the editor
//! proxy) and JSON-RPC's message rules, the connection to the server process, Lean's
//! diagnostics, positions in a text, and the `ProofBackend` built on them.

pub mod backend;
pub mod connection;
pub mod diagnostic;
pub mod framing;
pub mod jsonrpc;
pub mod text;
