//! Lean's language server, driven as a library (`server::LeanServer`), and the LSP pieces it is
//! built from: framing (the one copy, used by the editor proxy too) and JSON-RPC's message
//! rules, the connection to the server process, Lean's diagnostics as the server publishes
//! them, and positions in a text. The `ProofBackend` on the server is `backend::server`.

pub mod connection;
pub mod diagnostic;
pub mod framing;
pub mod jsonrpc;
pub mod server;
pub mod text;
