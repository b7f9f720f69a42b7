//! How to run a Lean tool: program, leading arguments, environment and working folder.
//! `lean` on the test world, or `lake env lean` / `lake serve` inside a Lake project.

use std::path::PathBuf;
use std::process::Command;

use crate::error::LeanError;

/// A command line that runs Lean (or the repl) the way the toolchain requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeanCommand {
    /// The executable (`lean`, `lake`, `repl`, ...).
    pub program: PathBuf,
    /// Arguments that always come first (e.g. `env lean` for `lake env lean`).
    pub args: Vec<String>,
    /// Extra environment variables (e.g. `LEAN_PATH`).
    pub env: Vec<(String, String)>,
    /// Working folder (the Lake project root), if any.
    pub cwd: Option<PathBuf>,
    /// The folders Lean looks up compiled modules in (`Toolchain::library_dirs`), for telling
    /// when a library is rebuilt under a running process (`library_stamp`); empty when unknown.
    pub libraries: Vec<PathBuf>,
}

impl LeanCommand {
    /// A bare program with no leading arguments.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        LeanCommand {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            libraries: Vec::new(),
        }
    }

    /// The same command with more leading arguments.
    pub fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// A cheap identity of the compiled modules `header` imports as this command's Lean would
    /// load them now (`toolchain::library_stamp`): it changes when one of them is rebuilt.
    pub fn library_stamp(&self, header: &str) -> String {
        crate::toolchain::library_stamp(&self.libraries, header)
    }

    /// The error for this command failing to start.
    pub fn spawn_error(&self, err: std::io::Error) -> LeanError {
        LeanError::Spawn {
            program: self.program.clone(),
            reason: err.to_string(),
        }
    }

    /// A `std::process::Command` ready for extra arguments.
    pub fn to_command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// The command line as a person would type it (environment first, folder last).
    pub fn describe(&self) -> String {
        let mut words: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        words.push(self.program.display().to_string());
        words.extend(self.args.iter().cloned());
        let mut text = words.join(" ");
        if let Some(dir) = &self.cwd {
            text.push_str(&format!("  (in {})", dir.display()));
        }
        text
    }
}
