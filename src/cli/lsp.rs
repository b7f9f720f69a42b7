//! `proofstep lsp -- <lean server command>`: the editor proxy that adds Lean-checked next-step
//! code actions to Lean's language server. Configure it as the Lean server command of an
//! editor (see the README); logs go to stderr, the LSP channel is stdin/stdout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use proofstep::lean::LeanCommand;
use proofstep::model::Predictor;
use proofstep::serve::lsp::{run_proxy, EngineOptions, ProxyOptions, Suggester};
use proofstep::serve::ServeError;

use crate::cli::args::{
    seconds, AlsoTryArgs, DecodingArgs, LeanLimitsArgs, ModelOrDefault, RemoteArgs,
};

/// Arguments of `proofstep lsp`.
#[derive(clap::Args, Debug)]
pub struct LspArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Load no model: the proxy only forwards messages (no suggestions).
    #[arg(long, conflicts_with_all = ["model", "predictor_url"])]
    pub no_model: bool,
    /// The `lean` executable that checks suggestions (default: worked out from the server
    /// command: `lean --server` → `lean`, `lake serve` → `lake env lean`).
    #[arg(long)]
    pub lean: Option<PathBuf>,
    /// Milliseconds a code-action answer may wait for suggestions; what is checked by then is
    /// offered, and asking again at the same place shows the rest.
    #[arg(long, default_value_t = 2000)]
    pub budget_ms: u64,
    /// The model's candidate steps checked at most per request (the --also-try tactics are
    /// checked on top of these).
    #[arg(long, default_value_t = 8)]
    pub max_candidates: usize,
    /// Lean servers checking candidates side by side.
    #[arg(long, default_value_t = 2)]
    pub check_workers: usize,
    /// Seconds one check may take before its candidate is dropped.
    #[arg(long, value_name = "SECS", default_value_t = 20.0, value_parser = seconds)]
    pub check_timeout: f64,
    // The checking Lean servers' memory (shared among --check-workers) and the axioms a
    // completed proof may rest on (a step whose proof rests on another is offered as a step,
    // never as completing the proof).
    #[command(flatten)]
    pub limits: LeanLimitsArgs,
    #[command(flatten)]
    pub decoding: DecodingArgs,
    #[command(flatten)]
    pub also_try: AlsoTryArgs,
    /// The Lean language server to run, after `--`: e.g. `lake serve`, or `lean --server`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub server: Vec<String>,
}

/// Runs the proxy until the editor or the server ends; exits with the server's status.
pub fn run(args: LspArgs) -> anyhow::Result<ExitCode> {
    args.also_try.check()?;
    args.remote.refuse_beam(args.decoding.beam)?;
    // Without a model the editor still gets Lean: a missing default model is a warning that
    // says how to get one, not a proxy that fails to start.
    let model = if args.no_model || args.remote.is_remote() {
        None
    } else {
        match args.model.dir() {
            Ok(dir) => Some(dir),
            Err(e) => {
                tracing::warn!(target: "lsp_proxy", "{e:#}; forwarding only, no suggestions (--no-model silences this)");
                None
            }
        }
    };
    // Likewise a served model that cannot be reached.
    let remote = args.remote.connect().unwrap_or_else(|e| {
        tracing::warn!(target: "lsp_proxy", "{e:#}; forwarding only, no suggestions");
        None
    });
    let predictor: Option<Box<dyn Predictor>> = match (remote, model) {
        (Some(remote), _) => Some(Box::new(remote)),
        (None, Some(_)) => Some(args.model.load()?),
        (None, None) => None,
    };
    let suggester = match predictor {
        None => None,
        Some(predictor) => {
            let generate = args.decoding.options()?;
            let checker = checker_command(&args.server, args.lean.as_deref())?;
            Some(Suggester {
                predictor: Arc::from(predictor),
                checker,
                options: EngineOptions {
                    generate,
                    max_candidates: args.max_candidates.max(1),
                    also_try: args.also_try.listed(),
                    check_workers: args.check_workers.max(1),
                    check_timeout: Duration::from_secs_f64(args.check_timeout),
                    policy: args.limits.policy(),
                    memory_limit_mb: args.limits.memory_limit_mb(args.check_workers.max(1)),
                    ..EngineOptions::default()
                },
            })
        }
    };
    let options = ProxyOptions {
        budget: Duration::from_millis(args.budget_ms),
    };
    let code = run_proxy(
        std::io::stdin(),
        std::io::stdout(),
        &args.server,
        suggester,
        options,
    )
    .context("running the LSP proxy")?;
    Ok(match code {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}

/// How to run `lean` for checks, from `--lean` or from the server command.
pub fn checker_command(server: &[String], lean: Option<&Path>) -> Result<LeanCommand, ServeError> {
    if let Some(lean) = lean {
        return Ok(LeanCommand::new(lean));
    }
    let Some((program, rest)) = server.split_first() else {
        return Err(ServeError::NoChecker(String::new()));
    };
    if rest.iter().any(|a| a == "--server") {
        let args: Vec<String> = rest.iter().filter(|a| *a != "--server").cloned().collect();
        return Ok(LeanCommand::new(program).with_args(args));
    }
    let is_lake = Path::new(program)
        .file_name()
        .is_some_and(|n| n == "lake" || n == "lake.exe");
    if is_lake && rest.first().is_some_and(|a| a == "serve") {
        let passed: Vec<String> = rest
            .iter()
            .skip_while(|a| *a != "--")
            .skip(1)
            .cloned()
            .collect();
        return Ok(LeanCommand::new(program)
            .with_args(["env", "lean"])
            .with_args(passed));
    }
    Err(ServeError::NoChecker(server.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn checkers_follow_the_server_command() {
        let c = checker_command(&v(&["/x/lean", "--server", "-Dfoo=1"]), None).unwrap();
        assert_eq!(c.program, PathBuf::from("/x/lean"));
        assert_eq!(c.args, v(&["-Dfoo=1"]));
        let c = checker_command(&v(&["lake", "serve", "--", "-Dbar=2"]), None).unwrap();
        assert_eq!(c.args, v(&["env", "lean", "-Dbar=2"]));
        assert!(checker_command(&v(&["my-server"]), None).is_err());
        let c = checker_command(&v(&["my-server"]), Some(Path::new("/y/lean"))).unwrap();
        assert_eq!(c.program, PathBuf::from("/y/lean"));
    }
}
