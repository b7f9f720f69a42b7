//! The parts of the LSP client behind `crate::lean::server`: framing, the connection to the
//! server process, Lean's diagnostics, positions in a text, and the `ProofBackend` built on
//! them.

pub mod backend;
pub mod connection;
pub mod diagnostic;
pub mod framing;
pub mod text;
