//! `proofstep refine`: whole proofs from a model behind an OpenAI-compatible endpoint,
//! repaired with Lean's feedback; `--then-search` hands the longest accepted prefix of a
//! failed proof to the best-first search with the step model.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use proofstep::lean::backend::proof_text;
use proofstep::openai::RemoteError;
use proofstep::refine::{
    refine, ApiKind, ApiModel, ApiOptions, FoundBy, PromptTemplates, RefineConfig, RefineResult,
    ThenSearch, Theorem,
};

use crate::cli::args::SearchArgs;
use crate::cli::prove::theorem_in_file;

/// Arguments of `proofstep refine`.
#[derive(clap::Args, Debug)]
pub struct RefineArgs {
    /// The theorem to prove: its name in `--file` (full or last component).
    #[arg(long)]
    pub theorem: String,
    /// The Lean file holding the theorem; everything before it is its header.
    #[arg(long)]
    pub file: PathBuf,
    /// Independent attempts, each starting from a fresh request.
    #[arg(long, default_value_t = 4)]
    pub attempts: usize,
    /// Repairs per attempt: requests carrying the failed proof and Lean's messages.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// The OpenAI-compatible server of the whole-proof model, e.g.
    /// https://api.openai.com/v1 or http://localhost:8080 (llama.cpp).
    #[arg(long, value_name = "URL")]
    pub api_url: String,
    /// Which route to ask: `chat` (/v1/chat/completions, hosted chat models) or
    /// `completions` (/v1/completions, base models continuing the prompt).
    #[arg(long, value_enum, default_value = "chat")]
    pub api_kind: ApiKind,
    /// The model's name (default: the one the server lists at /v1/models).
    #[arg(long, value_name = "NAME")]
    pub api_model: Option<String>,
    /// The environment variable holding the API key, sent as `Authorization: Bearer`, e.g.
    /// --api-key-env OPENAI_API_KEY. Default: no key.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Sampling temperature of the whole-proof model.
    #[arg(long, default_value_t = 0.7)]
    pub api_temperature: f32,
    /// The longest answer, in tokens.
    #[arg(long, default_value_t = 1024)]
    pub api_max_tokens: usize,
    /// Seconds one request may take before it counts as failed (and is retried).
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub api_timeout: f64,
    /// Retries of a request that failed for a reason that may pass (no connection, a
    /// timeout, HTTP 408, 429 or 5xx), with growing pauses between them.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub api_retries: usize,
    /// The template of an attempt's first request (default: src/refine/prompts/first.txt;
    /// placeholders {{lean_version}}, {{header}}, {{name}}, {{statement}}).
    #[arg(long, value_name = "FILE")]
    pub prompt_first: Option<PathBuf>,
    /// The template of a repair (default: src/refine/prompts/repair.txt; also
    /// {{failed_proof}}, {{errors}}, {{goals}}).
    #[arg(long, value_name = "FILE")]
    pub prompt_repair: Option<PathBuf>,
    /// When every attempt fails, run the best-first search with the step model (--model or
    /// --predictor-url) from the longest prefix of a failed proof that Lean accepted, within
    /// what is left of --time-limit.
    #[arg(long)]
    pub then_search: bool,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print the whole result (every round's proof and Lean's feedback, tokens) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `proofstep refine`.
pub fn run(args: RefineArgs) -> anyhow::Result<ExitCode> {
    if args.attempts == 0 {
        bail!("--attempts must be at least 1");
    }
    if args.api_timeout.is_nan() || args.api_timeout <= 0.0 {
        bail!("--api-timeout must be a positive number of seconds");
    }
    if args.api_temperature.is_nan() || args.api_temperature < 0.0 {
        bail!("--api-temperature must be a number ≥ 0 (0: greedy)");
    }
    if args.api_max_tokens == 0 {
        bail!("--api-max-tokens must be at least 1");
    }
    let (name, header, statement, anchor) = theorem_in_file(&args.file, &args.theorem)?;
    let templates =
        PromptTemplates::load(args.prompt_first.as_deref(), args.prompt_repair.as_deref())?;
    let api_key = match &args.api_key_env {
        Some(var) => Some(std::env::var(var).ok().filter(|k| !k.is_empty()).with_context(
            || format!("--api-key-env {var}: the variable is not set; export it with the API key (e.g. export {var}=sk-...)"),
        )?),
        None => None,
    };
    let model = ApiModel::connect(
        ApiOptions {
            url: args.api_url.clone(),
            kind: args.api_kind,
            model: args.api_model.clone(),
            api_key,
            temperature: args.api_temperature,
            max_tokens: args.api_max_tokens,
            timeout: Duration::from_secs_f64(args.api_timeout),
            retries: args.api_retries,
        },
        templates,
    )
    .map_err(api_flags)?;
    let search_config = args.search.budget.config(args.search.backend.workers())?;
    let step_model = if args.then_search {
        args.search.remote.refuse_beam(args.search.budget.beam)?;
        Some(
            args.search
                .budget
                .also_try
                .wrap(args.search.remote.predictor_or(&args.search.model)?),
        )
    } else {
        None
    };
    let toolchain = args.search.backend.toolchain.discover_ready(&anchor)?;
    let lean_version = toolchain
        .lean_version(Duration::from_secs(60))
        .unwrap_or_else(|_| "Lean 4".to_string());
    let backend = args.search.backend.open(&anchor)?;
    let theorem = Theorem {
        name: name.clone(),
        header,
        statement: statement.clone(),
    };
    let config = RefineConfig {
        attempts: args.attempts,
        rounds: args.rounds,
        time_limit: search_config.time_limit,
        seed: search_config.generate.seed,
    };
    let then_search = step_model.as_deref().map(|predictor| ThenSearch {
        predictor,
        config: search_config.clone(),
    });
    let began = Instant::now();
    let result = refine(
        backend.as_ref(),
        &model,
        &theorem,
        &lean_version,
        &config,
        then_search,
    )
    .map_err(|e| api_flags_in(e.into()))
    .with_context(|| format!("refining a proof of {name}"))?;
    tracing::info!(secs = began.elapsed().as_secs_f64(), "refine finished");
    report(&args, &statement, &result)?;
    Ok(if result.proved {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::cli::exit::ANSWER_NO)
    })
}

/// Prints the result: JSON, or the proof ready to paste and a line on how it was found.
fn report(args: &RefineArgs, statement: &str, result: &RefineResult) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let tokens = format!(
        "{} model calls, {} prompt + {} completion tokens{}",
        result.model_calls,
        result.tokens.prompt,
        result.tokens.completion,
        if result.tokens.unreported > 0 {
            format!(" ({} answers gave no counts)", result.tokens.unreported)
        } else {
            String::new()
        }
    );
    if args.json {
        let mut json = serde_json::to_value(result)?;
        json["statement"] = statement.into();
        if let Some(proof) = &result.proof {
            json["proof_text"] = lean_text(statement, proof).into();
        }
        writeln!(out, "{json}")?;
    } else if let Some(proof) = &result.proof {
        write!(out, "{}", lean_text(statement, proof))?;
        let how = match (result.found_by, result.attempt, result.round) {
            (Some(FoundBy::Model), Some(a), Some(r)) => format!("attempt {a}, round {r}"),
            (Some(FoundBy::PrefixSearch), Some(a), Some(r)) => {
                format!("the search after the accepted prefix of attempt {a}, round {r}")
            }
            _ => "the search from the theorem's start".to_string(),
        };
        eprintln!("proved by {how} in {:.1} s; {tokens}", result.secs);
    } else {
        eprintln!(
            "no proof of {} found: {:?} after {} rounds in {:.1} s; {tokens}; raise --attempts or \
             --rounds, try --then-search, or use a stronger model (--json shows Lean's messages)",
            result.theorem,
            result.stop,
            result.rounds.len(),
            result.secs
        );
    }
    out.flush()?;
    Ok(())
}

/// The proof as Lean text ready to paste.
fn lean_text(statement: &str, proof: &str) -> String {
    format!(
        "{} := by\n{}",
        statement.trim_end(),
        proof_text(&[proof.to_string()])
    )
}

/// A remote error names the step model's flags (--predictor-*); here they are --api-*.
fn api_flags(error: RemoteError) -> anyhow::Error {
    anyhow::Error::new(error).context(
        "the whole-proof model could not be reached (its flags here: --api-url, --api-model, \
         --api-key-env, --api-timeout, --api-retries)",
    )
}

/// [`api_flags`] for an error that came through the refine loop.
fn api_flags_in(error: anyhow::Error) -> anyhow::Error {
    if error.chain().any(|e| e.is::<RemoteError>()) {
        error.context("the whole-proof model failed (its flags here: --api-url, --api-model, --api-key-env, --api-timeout, --api-retries)")
    } else {
        error
    }
}
