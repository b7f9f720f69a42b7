//! `proofstep doctor`: report the Lean toolchain found and how to fix what is missing.

use std::process::ExitCode;

/// Arguments of `proofstep doctor`.
#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `proofstep doctor`.
pub fn run(_args: DoctorArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("doctor is not available in this build yet")
}
