//! What both sides of proofstep share, with nothing of Lean or of models in it: the prompt
//! format training and search must agree on (`prompt`), atomic file writes (`fsutil`),
//! running a child process within a deadline and a memory limit (`process`), and what an
//! interrupted run cleans up (`interrupt`). A leaf: it
//! depends on no other crate of the workspace. See ARCHITECTURE.md.

pub mod fsutil;
pub mod interrupt;
pub mod process;
pub mod prompt;
