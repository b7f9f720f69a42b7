//! `proofstep check FILE.lean`: classify every theorem of a Lean file.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `proofstep check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The Lean file to check.
    pub file: PathBuf,
}

/// Runs `proofstep check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("checking {} is not available in this build yet", args.file.display())
}
