//! leanprover-community/repl: its JSON protocol (`protocol`), one REPL process with timeouts,
//! crash and memory detection and restarts (`worker`), and a pool of workers that reuse
//! imported headers (`pool`). The `ProofBackend` on the pool is `backend::repl`.

pub mod pool;
pub mod protocol;
pub mod worker;
