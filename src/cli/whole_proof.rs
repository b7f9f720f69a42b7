//! The flags of a whole-proof model and the refine loop, shared by `refine` and
//! `eval --mode refine`: where the model is served (`--api-*`), its prompts, attempts and
//! rounds, and `--then-search`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use proofstep::eval::run_config::RefineSettings;
use proofstep::model::Predictor;
use proofstep::openai::RemoteError;
use proofstep::refine::{ApiKind, ApiModel, ApiOptions, PromptTemplates, RefineConfig};
use proofstep::search::SearchConfig;

use crate::cli::args::{seconds, SearchArgs};

/// Where the whole-proof model is and how the refine loop spends it.
#[derive(clap::Args, Debug, Clone)]
pub struct WholeProofArgs {
    /// Independent attempts per theorem, each starting from a fresh request.
    #[arg(long, default_value_t = 4)]
    pub attempts: usize,
    /// Repairs per attempt: requests carrying the failed proof and Lean's messages.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Attempts run at once (at most this many requests in flight per theorem). The result is
    /// the same as one after another; attempts beside the one that proves it cost calls.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub api_parallel: usize,
    /// The OpenAI-compatible server of the whole-proof model, e.g.
    /// https://api.openai.com/v1 or http://localhost:8080 (llama.cpp).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
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
    #[arg(long, value_name = "SECS", default_value_t = 120.0, value_parser = seconds)]
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
}

impl WholeProofArgs {
    /// Checks the flags and connects to the model (`command` names the command, for the
    /// message when `--api-url` is missing).
    pub fn connect(&self, command: &str) -> anyhow::Result<ApiModel> {
        let Some(url) = &self.api_url else {
            bail!("{command} needs --api-url URL: the OpenAI-compatible server of the whole-proof model (e.g. https://api.openai.com/v1 with --api-key-env OPENAI_API_KEY)");
        };
        if self.attempts == 0 {
            bail!("--attempts must be at least 1");
        }
        if self.api_temperature.is_nan() || self.api_temperature < 0.0 {
            bail!("--api-temperature must be a number ≥ 0 (0: greedy)");
        }
        if self.api_max_tokens == 0 {
            bail!("--api-max-tokens must be at least 1");
        }
        let templates = self.templates()?;
        let api_key = match &self.api_key_env {
            Some(var) => Some(std::env::var(var).ok().filter(|k| !k.is_empty()).with_context(
                || format!("--api-key-env {var}: the variable is not set; export it with the API key (e.g. export {var}=sk-...)"),
            )?),
            None => None,
        };
        ApiModel::connect(
            ApiOptions {
                url: url.clone(),
                kind: self.api_kind,
                model: self.api_model.clone(),
                api_key,
                temperature: self.api_temperature,
                max_tokens: self.api_max_tokens,
                timeout: Duration::from_secs_f64(self.api_timeout),
                retries: self.api_retries,
            },
            templates,
        )
        .map_err(api_flags)
    }

    /// The prompt templates: the defaults, or the files given.
    pub fn templates(&self) -> anyhow::Result<PromptTemplates> {
        Ok(PromptTemplates::load(
            self.prompt_first.as_deref(),
            self.prompt_repair.as_deref(),
        )?)
    }

    /// The loop's budget: attempts and rounds, with the search's time limit and seed.
    pub fn config(&self, search: &SearchConfig) -> RefineConfig {
        RefineConfig {
            attempts: self.attempts,
            rounds: self.rounds,
            parallel: self.api_parallel.max(1),
            time_limit: search.time_limit,
            seed: search.generate.seed,
        }
    }

    /// The step model for `--then-search` (None without it).
    pub fn step_model(&self, search: &SearchArgs) -> anyhow::Result<Option<Box<dyn Predictor>>> {
        if !self.then_search {
            return Ok(None);
        }
        search.remote.refuse_beam(search.budget.beam)?;
        Ok(Some(
            search
                .budget
                .also_try()
                .wrap(search.remote.predictor_or(&search.model)?),
        ))
    }

    /// What an eval run records of these settings (`model` named as the server gave it).
    pub fn settings(&self, model: &ApiModel) -> anyhow::Result<RefineSettings> {
        Ok(RefineSettings {
            attempts: self.attempts,
            rounds: self.rounds,
            model: model.model().unwrap_or("(not named)").to_string(),
            api_kind: clap::ValueEnum::to_possible_value(&self.api_kind)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
            temperature: self.api_temperature,
            max_tokens: self.api_max_tokens,
            prompts: self.templates()?.fingerprint(),
            then_search: self.then_search,
        })
    }
}

/// `lean --version`'s line for the prompts, from the toolchain found at `anchor` ("Lean 4"
/// when it cannot be run: the check that follows will say why).
pub fn lean_version(search: &SearchArgs, anchor: &std::path::Path) -> anyhow::Result<String> {
    let toolchain = search.backend.toolchain.discover_ready(anchor)?;
    Ok(toolchain
        .lean_version(Duration::from_secs(60))
        .unwrap_or_else(|_| "Lean 4".to_string()))
}

/// A remote error names the step model's flags (--predictor-*); the whole-proof model's are
/// --api-*.
fn api_flags(error: RemoteError) -> anyhow::Error {
    anyhow::Error::new(error).context(
        "the whole-proof model could not be reached (its flags: --api-url, --api-model, \
         --api-key-env, --api-timeout, --api-retries)",
    )
}

/// [`api_flags`] for an error that came through the refine loop.
pub fn api_flags_in(error: anyhow::Error) -> anyhow::Error {
    if error.chain().any(|e| e.is::<RemoteError>()) {
        error.context("the whole-proof model failed (its flags: --api-url, --api-model, --api-key-env, --api-timeout, --api-retries)")
    } else {
        error
    }
}
