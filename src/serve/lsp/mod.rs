//! The LSP proxy between an editor and Lean's language server, adding Lean-checked next-step
//! code actions: the editor's documents, where a step goes, the shadow check, the
//! suggestion engine, the code actions, and the proxy's threads.

pub mod actions;
pub mod check;
pub mod cursor;
pub mod docs;
pub mod proxy;
pub mod suggest;

pub use proxy::{run_proxy, ProxyOptions, Suggester};
pub use suggest::EngineOptions;
