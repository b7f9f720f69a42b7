//! Helpers of the REPL tests: the stand-in REPL's command line and the recorded transcripts.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use proofstep::lean::repl::pool::PoolConfig;
use proofstep::lean::repl::worker::ReplConfig;
use proofstep::lean::LeanCommand;

/// The recorded REPL transcripts in ../shared, or None (the test prints that it skipped).
pub fn transcripts(test: &str) -> Option<PathBuf> {
    crate::common::shared_dir(test).map(|d| d.join("fixtures/repl-transcripts"))
}

/// The stand-in REPL replaying `source` (a folder or one `.in` file), with extra flags.
pub fn standin(source: &Path, flags: &[&str]) -> LeanCommand {
    LeanCommand::new(env!("CARGO_BIN_EXE_standin-repl"))
        .with_args([source.display().to_string()])
        .with_args(flags.iter().map(|s| s.to_string()))
}

/// REPL settings for tests: short timeouts so a hang costs about a second.
pub fn repl_config(command: LeanCommand, timeout: Duration) -> ReplConfig {
    let mut config = ReplConfig::new(command);
    config.timeout = timeout;
    config.header_timeout = timeout;
    config
}

/// A pool of `workers` stand-ins.
pub fn pool_config(command: LeanCommand, workers: usize, timeout: Duration) -> PoolConfig {
    let mut config = PoolConfig::new(command);
    config.workers = workers;
    config.repl = repl_config(config.repl.command.clone(), timeout);
    config
}

/// The requests the stand-in received, one JSON per line (written with `--log`).
pub fn logged(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
