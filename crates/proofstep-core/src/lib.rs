//! What both sides of proofstep share, with nothing of Lean or of models in it: the prompt
//! format training and search must agree on (`prompt`), atomic file writes (`fsutil`), and
//! running a child process within a deadline and a memory limit (`process`). A leaf: it
//! depends on no other crate of the workspace. See ARCHITECTURE.md.

pub mod fsutil;
pub mod process;
pub mod prompt;
