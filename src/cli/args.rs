//! The flag groups several subcommands share, each a `clap::Args` to flatten into a
//! command's arguments: how Lean is found (`ToolchainArgs`), the model (`ModelOrDefault`, or a
//! served one: `RemoteArgs`), the tactics tried besides the model's (`AlsoTryArgs`), how suggestions are decoded
//! (`DecodingArgs`), and a search's backend and budget (`SearchArgs`: `BackendArgs`,
//! `BudgetArgs`). Every subcommand file uses these; none of them uses a subcommand file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use proofstep::lean::axioms::AxiomPolicy;
use proofstep::lean::backend::{self, BackendKind, BackendOptions};
use proofstep::lean::toolchain::{Overrides, Toolchain};
use proofstep::lean::{LeanCommand, ProofBackend};
use proofstep::model::{
    device_name, folder_weights, resolve_model, Decoding, DeviceChoice, GenerateOptions, Generator,
    HubSettings, Predictor, Weights,
};
use proofstep::openai::{RemoteError, RemoteOptions, RemotePredictor};
use proofstep::process::default_memory_limit_mb;
use proofstep::search::{check_candidate, AlsoTry, SearchConfig, DEFAULT_ALSO_TRY};

use crate::cli::default_model::{default_model_dir, given_model_dir};
use crate::cli::exit::Failure;

/// Flags that override toolchain discovery (each falls back to its environment variable, which
/// clap reads: a flag wins over its variable, and an empty variable counts as unset).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ToolchainArgs {
    /// The `lean` executable to use. Default: the Lake project's (`lake env lean`), the test
    /// world's, or `lean` on PATH.
    #[arg(long, value_name = "PATH", env = "PROOFSTEP_LEAN", value_parser = path_or_unset())]
    pub lean: Option<PathBuf>,
    /// The `lake` executable. Default: PATH, then ~/.elan/bin.
    #[arg(long, value_name = "PATH", env = "PROOFSTEP_LAKE", value_parser = path_or_unset())]
    pub lake: Option<PathBuf>,
    /// The repl executable. Default: the Lake project's built repl.
    #[arg(long, value_name = "PATH", env = "PROOFSTEP_REPL", value_parser = path_or_unset())]
    pub repl: Option<PathBuf>,
    /// Folders of compiled Lean libraries for a bare `lean`.
    #[arg(long, value_name = "PATHS", env = "LEAN_PATH")]
    pub lean_path: Option<String>,
}

impl ToolchainArgs {
    /// The paths these flags (or their variables) give explicitly.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            lean: given(&self.lean),
            lake: given(&self.lake),
            repl: given(&self.repl),
            lean_path: self.lean_path.clone().filter(|p| !p.trim().is_empty()),
        }
    }

    /// Discovers the toolchain for work in folder `start`.
    pub fn discover(&self, start: &Path) -> Toolchain {
        Toolchain::discover(start, &self.overrides())
    }

    /// Discovers the toolchain for work in folder `start` and insists it can check files
    /// there: a `lean` was found, and a Lake project's required Mathlib is built. The error says
    /// what is missing and the commands that fix it.
    pub fn discover_ready(&self, start: &Path) -> anyhow::Result<Toolchain> {
        let toolchain = self.discover(start);
        if toolchain.lean.is_none() {
            return Err(Failure::Lean.error(format!(
                "no Lean to check files in {}: {} (`proofstep doctor` shows what was found)",
                start.display(),
                toolchain.lean_fix()
            )));
        }
        if let Some(problem) = toolchain.project_not_built() {
            return Err(Failure::Lean.error(format!(
                "{problem} (`proofstep doctor` shows what was found)"
            )));
        }
        Ok(toolchain)
    }

    /// How to run `lean` on the files at `path` (a file, or a folder; discovery starts from the
    /// folder, so a Lake project or the test world around it decides), for commands that need
    /// only a `lean`. The error says what is missing and the command that fixes it.
    pub fn lean_command_for(&self, path: &Path) -> anyhow::Result<LeanCommand> {
        let folder = if path.is_dir() {
            path
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        };
        Ok(self.discover_ready(folder)?.lean_command()?)
    }
}

/// The `--model` flag of every command that runs a model, falling back to the default model.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelOrDefault {
    /// A model folder in the Hugging Face layout (config.json, model.safetensors or
    /// pytorch_model.bin, tokenizer.json), as `proofstep train` writes it, or a Hub id
    /// `org/name[@revision]`, downloaded into the Hugging Face cache (HF_HOME, HF_ENDPOINT,
    /// HF_TOKEN); a local folder of that name wins. Default: the repository's
    /// models/testworld-small.
    #[arg(long, env = "PROOFSTEP_MODEL", value_parser = path_or_unset())]
    pub model: Option<PathBuf>,
    /// The weights the model is read in: auto (exact: f32, or a GGUF import's exact Q4_1 /
    /// Q8_0 blocks packed), f32 (exact), or bf16, q8_0, q4_0, q4_k (reduced precision,
    /// converted while loading and held once: 1/2, ~1/4, ~1/7 and ~1/7 of f32's memory;
    /// results are labelled). A folder `proofstep model quantize` wrote is read in its own
    /// weights (auto, or the same name).
    #[arg(
        long,
        default_value = "auto",
        value_name = "auto|f32|bf16|q8_0|q4_0|q4_k"
    )]
    pub weights: Weights,
    /// Where the model runs: cpu, cuda (GPU 0), cuda:N, or auto (a GPU when this build has
    /// CUDA and the machine has one, else the CPU). On a GPU, --weights is f32 (auto) or bf16.
    #[arg(long, default_value = "auto", value_name = "auto|cpu|cuda[:N]")]
    pub device: DeviceChoice,
    /// The folder `model` resolved to, once (a Hub id is looked up only once per run).
    #[arg(skip)]
    resolved: std::sync::OnceLock<PathBuf>,
}

impl ModelOrDefault {
    /// The model folder: `--model` (or `PROOFSTEP_MODEL`; a Hub id is downloaded first) when
    /// it is a complete one, else the default model; an error says how to get one.
    pub fn dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = self.resolved.get() {
            return Ok(dir.clone());
        }
        let dir = match given(&self.model) {
            Some(spec) => {
                let dir = resolve_model(&spec, &HubSettings::from_env())?;
                given_model_dir(&dir)?;
                dir
            }
            None => default_model_dir()?,
        };
        Ok(self.resolved.get_or_init(|| dir).clone())
    }

    /// The weights the folder is read in: `--weights`, or what a quantized folder holds
    /// (`proofstep model quantize`; an error when that is not what `--weights` asks for).
    pub fn weights(&self) -> anyhow::Result<Weights> {
        let dir = self.dir()?;
        folder_weights(&dir, self.weights)
            .with_context(|| format!("reading the model folder {}", dir.display()))
    }

    /// Loads the predictor the folder holds, in the `--weights` asked for.
    pub fn load(&self) -> anyhow::Result<Box<dyn Predictor>> {
        load_model_dir(&self.dir()?, self.weights()?, self.device)
    }
}

/// The `--predictor-url` flags of every command that runs a model: sample from a model served
/// elsewhere (on a GPU, by vLLM, SGLang, TGI, llama.cpp's server, Ollama or `proofstep serve`)
/// through the OpenAI completions API instead of loading one.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// Sample candidates from the OpenAI-compatible completions server at this URL instead of
    /// a local model, e.g. http://localhost:8000/v1 (vLLM), http://localhost:8080 (llama.cpp),
    /// http://localhost:11434/v1 (Ollama). The prompt format is unchanged.
    #[arg(long, value_name = "URL", conflicts_with = "model")]
    pub predictor_url: Option<String>,
    /// The served model's name (default: the one model the server lists at /v1/models).
    #[arg(long, value_name = "NAME", requires = "predictor_url")]
    pub predictor_model: Option<String>,
    /// The environment variable holding the server's API key, sent as `Authorization: Bearer`
    /// (for hosted servers), e.g. --predictor-api-key-env OPENAI_API_KEY. Default: no key.
    #[arg(long, value_name = "VAR", requires = "predictor_url")]
    pub predictor_api_key_env: Option<String>,
    /// Seconds one request may take before it counts as failed (and is retried).
    #[arg(long, value_name = "SECS", default_value_t = 120.0, value_parser = seconds)]
    pub predictor_timeout: f64,
    /// Retries of a request that failed for a reason that may pass (no connection, a timeout,
    /// HTTP 408, 429 or 5xx), with growing pauses between them.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub predictor_retries: usize,
    /// Requests sent at once (one per prompt and temperature).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub predictor_parallel: usize,
    /// Server-specific fields added to every request, as a JSON object; e.g. llama.cpp's
    /// sampler defaults differ from plain temperature sampling:
    /// '{"repeat_penalty": 1.0, "top_k": 0, "min_p": 0}'.
    #[arg(long, value_name = "JSON", requires = "predictor_url")]
    pub predictor_extra: Option<String>,
}

impl RemoteArgs {
    /// Whether a served model was asked for.
    pub fn is_remote(&self) -> bool {
        self.predictor_url.is_some()
    }

    /// Refuses beam search with a served model (the completions API only samples).
    pub fn refuse_beam(&self, beam: Option<usize>) -> anyhow::Result<()> {
        if self.is_remote() && beam.is_some() {
            return Err(RemoteError::Beam.into());
        }
        Ok(())
    }

    /// Connects to the server `--predictor-url` names (None without it).
    pub fn connect(&self) -> anyhow::Result<Option<RemotePredictor>> {
        let Some(url) = &self.predictor_url else {
            return Ok(None);
        };
        let api_key = match &self.predictor_api_key_env {
            Some(var) => Some(
                std::env::var(var)
                    .ok()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| RemoteError::NoApiKey(var.clone()))?,
            ),
            None => None,
        };
        let extra = match &self.predictor_extra {
            Some(json) => match serde_json::from_str(json) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => bail!(
                    "--predictor-extra must be a JSON object, e.g. '{{\"repeat_penalty\": 1.0}}'"
                ),
            },
            None => Default::default(),
        };
        let predictor = RemotePredictor::connect(RemoteOptions {
            url: url.clone(),
            model: self.predictor_model.clone(),
            api_key,
            timeout: Duration::from_secs_f64(self.predictor_timeout),
            retries: self.predictor_retries,
            parallel: self.predictor_parallel.max(1),
            extra,
        })?;
        tracing::info!(
            target: "remote",
            "sampling from {} (model {})",
            predictor.url(),
            predictor.model().unwrap_or("not named")
        );
        Ok(Some(predictor))
    }

    /// The served model, else the local one `model` names.
    pub fn predictor_or(&self, model: &ModelOrDefault) -> anyhow::Result<Box<dyn Predictor>> {
        match self.connect()? {
            Some(remote) => Ok(Box::new(remote)),
            None => model.load(),
        }
    }

    /// How a run's settings name the model: the folder and its fingerprint, or the server and
    /// the model it serves (a different model there is a different run; where it is served
    /// is not compared, as a folder's place is not).
    pub fn identity(&self, model: &ModelOrDefault) -> anyhow::Result<ModelIdentity> {
        if let Some(remote) = self.connect()? {
            let name = remote.model().unwrap_or("(not named)").to_string();
            return Ok(ModelIdentity {
                label: format!("{name} served at {}", remote.url()),
                fingerprint: format!("served model {name}"),
            });
        }
        let dir = model.dir()?;
        let fingerprint = proofstep::model::model_fingerprint(&dir).with_context(|| {
            format!(
                "cannot read the model folder {} (it needs config.json, model.safetensors and \
                 tokenizer.json, as `proofstep train` writes them)",
                dir.display()
            )
        })?;
        // Reduced weights compute other numbers: another run, labelled as such.
        let weights = model.weights()?;
        Ok(match weights.is_reduced() {
            false => ModelIdentity {
                label: dir.display().to_string(),
                fingerprint,
            },
            true => ModelIdentity {
                label: format!("{} (weights {weights}, reduced precision)", dir.display()),
                fingerprint: format!("{fingerprint} weights={weights}"),
            },
        })
    }
}

/// What a run records of its model.
pub struct ModelIdentity {
    /// For people: the folder, or the served model and its server.
    pub label: String,
    /// Compared between runs: the folder's contents, or the served model's name.
    pub fingerprint: String,
}

/// The `--also-try` flag of the commands whose model proposes next steps.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AlsoTryArgs {
    /// A tactic to try at every state besides the model's candidates; repeat the flag for
    /// several (e.g. --also-try simp_all --also-try omega). Each is ranked after the model's
    /// candidates, at the score of its least likely one.
    #[arg(long = "also-try", value_name = "TACTIC")]
    pub tactics: Vec<String>,
}

impl AlsoTryArgs {
    /// Refuses an entry Lean would never be asked to check (empty, `sorry`), naming the fix.
    pub fn check(&self) -> anyhow::Result<()> {
        for tactic in &self.tactics {
            if let Err(reason) = check_candidate(tactic.trim()) {
                bail!("--also-try {tactic:?}: {reason}, which is never checked; give a tactic, e.g. --also-try simp_all");
            }
        }
        Ok(())
    }

    /// The listed tactics, trimmed (for the suggestion engines, which insert them as given).
    pub fn listed(&self) -> Vec<String> {
        self.tactics.iter().map(|t| t.trim().to_string()).collect()
    }

    /// `predictor`, followed at every state by the listed tactics when there are any.
    pub fn wrap(&self, predictor: Box<dyn Predictor>) -> Box<dyn Predictor> {
        if self.tactics.is_empty() {
            predictor
        } else {
            Box::new(AlsoTry::new(predictor, &self.tactics))
        }
    }
}

/// How suggestions are decoded (shared by `serve` and `lsp`).
#[derive(clap::Args, Debug, Clone)]
pub struct DecodingArgs {
    /// Candidates sampled per request.
    #[arg(short = 'n', long, default_value_t = 8)]
    pub samples: usize,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.5)]
    pub temperature: f32,
    /// Use beam search of this width instead of sampling.
    #[arg(long)]
    pub beam: Option<usize>,
    /// Longest suggestion, in tokens.
    #[arg(long, default_value_t = 64)]
    pub max_new_tokens: usize,
    /// Sampling seed (the same seed and request give the same suggestions).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The decoding a command's flags ask for — a beam of `beam`'s width, or `samples` at each of
/// `temperatures` (the flag `temperature_flag`) — refused with the flag to fix when no
/// candidate could come of it.
pub fn decoding(
    beam: Option<usize>,
    samples: usize,
    temperatures: &[f32],
    temperature_flag: &str,
    top_p: f32,
) -> anyhow::Result<Decoding> {
    Ok(match beam {
        Some(0) => bail!("--beam needs a width of at least 1"),
        Some(width) => Decoding::Beam { width },
        None => {
            if samples == 0 || temperatures.is_empty() {
                bail!("--samples and {temperature_flag} must ask for at least one candidate");
            }
            if let Some(t) = temperatures.iter().find(|t| !t.is_finite() || **t < 0.0) {
                bail!("{temperature_flag}: {t} is not a temperature (use numbers ≥ 0, e.g. 0.5)");
            }
            Decoding::Sample {
                temperatures: temperatures.to_vec(),
                samples,
                top_p,
            }
        }
    })
}

/// `options`, unless they ask for more sequences at once than decoding holds
/// (`GenerateOptions::check_size`).
pub fn checked(options: GenerateOptions) -> anyhow::Result<GenerateOptions> {
    options
        .check_size()
        .map_err(|e| anyhow::anyhow!("--samples / --beam: {e}"))?;
    Ok(options)
}

impl DecodingArgs {
    /// The generation options these flags describe.
    pub fn options(&self) -> anyhow::Result<GenerateOptions> {
        let temperatures = [self.temperature];
        let decoding = decoding(
            self.beam,
            self.samples,
            &temperatures,
            "--temperature",
            0.95,
        )?;
        if self.max_new_tokens == 0 {
            bail!("--max-new-tokens must be at least 1");
        }
        checked(GenerateOptions {
            decoding,
            max_new_tokens: self.max_new_tokens,
            seed: self.seed,
        })
    }
}

/// The model, Lean backend and budget of a search: the flags `prove` and `eval` share.
#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub budget: BudgetArgs,
}

/// What a search runs with.
pub struct SearchSetup {
    /// Budgets and decoding.
    pub config: SearchConfig,
    /// The model proposing steps.
    pub predictor: Box<dyn Predictor>,
    /// Lean, checking them.
    pub backend: Box<dyn ProofBackend>,
}

impl SearchArgs {
    /// Checks the budget flags, loads the model and starts the backend, with Lean found from
    /// `anchor` (the folder of the files being proved).
    pub fn setup(&self, anchor: &Path) -> anyhow::Result<SearchSetup> {
        let config = self.budget.config(self.backend.workers())?;
        self.remote.refuse_beam(self.budget.beam)?;
        let predictor = self
            .budget
            .also_try()
            .wrap(self.remote.predictor_or(&self.model)?);
        let backend = self.backend.open(anchor)?;
        Ok(SearchSetup {
            config,
            predictor,
            backend,
        })
    }
}

/// How to reach Lean.
#[derive(clap::Args, Debug, Clone)]
pub struct BackendArgs {
    /// Which Lean backend checks the steps.
    #[arg(long, value_enum, default_value = "server")]
    pub backend: BackendKind,
    /// Seconds one tactic may take before Lean is stopped and the step counts as failed.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = seconds)]
    pub tactic_timeout: f64,
    /// Lean processes to run (default: the number of cores).
    #[arg(long)]
    pub lean_workers: Option<usize>,
    #[command(flatten)]
    pub limits: LeanLimitsArgs,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

/// What every command that runs Lean holds it to: its memory, and the axioms a proof may rest
/// on (`check`, the search commands, `lsp`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LeanLimitsArgs {
    /// Private memory (MB) one Lean process may use before it is killed (and restarted; the step
    /// or candidate it was checking counts as failed). Default: three quarters of the machine's
    /// memory shared among the Lean processes; 0: no limit.
    #[arg(long, value_name = "MB")]
    pub lean_memory_mb: Option<u64>,
    /// An axiom a proof may rest on besides `propext`, `Classical.choice` and `Quot.sound`
    /// (repeatable), e.g. `--allow-axiom Lean.ofReduceBool` to accept `native_decide`: the
    /// axiom of that name the imported libraries declare (a text that declares one of that name
    /// itself proves nothing). A proof resting on any other axiom (a file's own `axiom`,
    /// `sorryAx`) is never counted as proved.
    #[arg(long = "allow-axiom", value_name = "NAME")]
    pub allow_axioms: Vec<String>,
}

impl LeanLimitsArgs {
    /// The memory limit of each of `processes` Lean processes.
    pub fn memory_limit_mb(&self, processes: usize) -> Option<u64> {
        match self.lean_memory_mb {
            Some(0) => None,
            Some(mb) => Some(mb),
            None => Some(default_memory_limit_mb(processes)),
        }
    }

    /// The axioms a verified proof may rest on.
    pub fn policy(&self) -> AxiomPolicy {
        AxiomPolicy::allowing(self.allow_axioms.iter().cloned())
    }
}

impl BackendArgs {
    /// The number of Lean workers to run.
    pub fn workers(&self) -> usize {
        workers_or_cores(self.lean_workers)
    }

    /// The memory limit of each Lean process.
    pub fn memory_limit_mb(&self) -> Option<u64> {
        self.limits.memory_limit_mb(self.workers())
    }

    /// The axioms a verified proof may rest on.
    pub fn policy(&self) -> AxiomPolicy {
        self.limits.policy()
    }

    /// Starts the backend `--backend` names (`lean::backend::open`), with the toolchain
    /// discovered from `anchor` (a Lake project above it, the test world, or the flags and
    /// environment).
    pub fn open(&self, anchor: &Path) -> anyhow::Result<Box<dyn ProofBackend>> {
        let toolchain = self.toolchain.discover_ready(anchor)?;
        let options = BackendOptions {
            workers: self.workers(),
            tactic_timeout: Duration::from_secs_f64(self.tactic_timeout),
            memory_limit_mb: self.memory_limit_mb(),
            policy: self.policy(),
        };
        let opened = backend::open(self.backend, &toolchain, options);
        if self.backend == BackendKind::Server {
            return opened.context(
                "cannot start Lean's language server; run `proofstep doctor` to see what is missing",
            );
        }
        Ok(opened?)
    }
}

/// Budgets and decoding of the search.
#[derive(clap::Args, Debug, Clone)]
pub struct BudgetArgs {
    /// Nodes to expand at most (the seed's max_iters).
    #[arg(long, default_value_t = 100)]
    pub expansions: usize,
    /// Wall-time limit per theorem, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600.0, value_parser = seconds)]
    pub time_limit: f64,
    /// Candidates sampled per temperature at each expansion (the default was chosen on the
    /// val splits: benchmarks/README.md, defaults).
    #[arg(long, default_value_t = 16)]
    pub samples: usize,
    /// Sampling temperatures, comma-separated; each gets `--samples` candidates.
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    pub temperatures: Vec<f32>,
    /// Use beam search of this width instead of sampling (the seed's temperature 0).
    #[arg(long, conflicts_with = "temperatures")]
    pub beam: Option<usize>,
    /// Nucleus (top-p) filtering when sampling.
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    /// Longest tactic, in tokens.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Sampling seed (the same seed gives the same search).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Candidates checked by Lean at once (default: the number of Lean workers).
    #[arg(long)]
    pub check_threads: Option<usize>,
    /// Do not generate the next node's candidates while the current ones are checked.
    #[arg(long)]
    pub no_pipeline: bool,
    /// When the queue runs dry before the budget, expand the nodes already expanded again,
    /// cheapest first, sampling fresh candidates once per temperature listed here
    /// (comma-separated; a temperature listed twice samples afresh); each retry counts as an
    /// expansion. The default was chosen on the val splits (benchmarks/README.md, defaults).
    #[arg(long, value_delimiter = ',', default_value = "0.8,1.2,1.2,1.5")]
    pub retry_temperatures: Vec<f32>,
    /// No retries: the search stops when the queue empties, as the seed's does.
    #[arg(long)]
    pub no_retries: bool,
    /// A candidate Lean rejects for an unknown identifier that is not a hypothesis of the goal
    /// (`exact h₁` where the goal has `h`) is checked again with each of the goal's hypothesis
    /// names in its place, at most this many such repairs per expansion; 0 turns it off. The
    /// default was chosen on the val split (benchmarks/README.md, defaults, "name repair").
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub name_repairs: usize,
    /// `--also-try` as given; without any, the default list (see [`BudgetArgs::also_try`]).
    #[command(flatten)]
    pub also_try_given: AlsoTryArgs,
    /// The model's candidates only: not even the default list (assumption, rfl, trivial,
    /// constructor, intro h, contradiction, decide, simp_all and eight `Nat` rewrites:
    /// add_comm, mul_comm, add_assoc and mul_assoc both ways, left_distrib, right_distrib)
    /// that the search tries at every state when no --also-try is given. Each listed tactic is one more Lean call
    /// per state: on a large project, give a list of your own (--also-try) or this flag.
    #[arg(long, conflicts_with = "tactics")]
    pub no_also_try: bool,
}

impl BudgetArgs {
    /// The tactics tried at every state beside the model: `--also-try` as given, none with
    /// `--no-also-try`, else the default list (`DEFAULT_ALSO_TRY`, chosen on val).
    pub fn also_try(&self) -> AlsoTryArgs {
        if self.no_also_try {
            AlsoTryArgs::default()
        } else if self.also_try_given.tactics.is_empty() {
            AlsoTryArgs {
                tactics: DEFAULT_ALSO_TRY.iter().map(|t| t.to_string()).collect(),
            }
        } else {
            self.also_try_given.clone()
        }
    }

    /// The search configuration these flags describe.
    pub fn config(&self, lean_workers: usize) -> anyhow::Result<SearchConfig> {
        if let Some(t) = self
            .retry_temperatures
            .iter()
            .find(|t| !t.is_finite() || **t <= 0.0)
        {
            bail!("--retry-temperatures: {t} is not a sampling temperature (use numbers > 0, e.g. 0.8,1.2)");
        }
        self.also_try_given.check()?;
        let decoding = decoding(
            self.beam,
            self.samples,
            &self.temperatures,
            "--temperatures",
            self.top_p,
        )?;
        let generate = checked(GenerateOptions {
            decoding,
            max_new_tokens: self.max_tokens,
            seed: self.seed,
        })?;
        Ok(SearchConfig {
            max_expansions: self.expansions,
            time_limit: Duration::from_secs_f64(self.time_limit),
            generate,
            check_threads: self.check_threads.unwrap_or(lean_workers).max(1),
            pipeline: !self.no_pipeline,
            retry_temperatures: if self.no_retries {
                Vec::new()
            } else {
                self.retry_temperatures.clone()
            },
            name_repairs: self.name_repairs,
        })
    }
}

/// Loads the predictor in a model folder in `weights` on `device` (saying so on stderr when
/// the weights are of reduced precision or the device is a GPU), saying what a model folder
/// needs when it fails.
pub fn load_model_dir(
    dir: &Path,
    weights: Weights,
    device: DeviceChoice,
) -> anyhow::Result<Box<dyn Predictor>> {
    let device = device.open()?;
    if weights.is_reduced() {
        eprintln!(
            "model {}: weights {weights} (reduced precision)",
            dir.display()
        );
    }
    if !device.is_cpu() {
        eprintln!("model {}: on {}", dir.display(), device_name(&device));
    }
    let generator = Generator::load_on(dir, weights, &device).with_context(|| {
        format!(
            "cannot load the model folder {} (it needs config.json, model.safetensors or \
             pytorch_model.bin, and tokenizer.json, as `proofstep train` writes them)",
            dir.display()
        )
    })?;
    Ok(Box::new(generator))
}

/// The parser of a path flag backed by an environment variable: any text, an empty one
/// included (clap's path parser refuses those), so that [`given`] can treat a variable left
/// set but empty (`export PROOFSTEP_LEAN=`) as unset rather than as a flag given no value.
pub fn path_or_unset() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser;
    clap::builder::OsStringValueParser::new().map(PathBuf::from)
}

/// A path flag's value, none when it is empty or blank (see [`path_or_unset`]).
pub fn given(path: &Option<PathBuf>) -> Option<PathBuf> {
    path.clone()
        .filter(|p| !p.to_string_lossy().trim().is_empty())
}

/// The longest time a `SECS` flag takes: a century, far inside what `Duration` and a
/// deadline (`Instant` plus it) hold.
const MAX_SECONDS: f64 = 3.2e9;

/// The shortest time a `SECS` flag takes: a millisecond (less rounds to nothing, and every
/// step or request would time out at once).
const MIN_SECONDS: f64 = 1e-3;

/// The parser of every `SECS` flag (timeouts, time limits): a number of seconds from a
/// millisecond to a century, so that every value becomes a usable `Duration` (infinity, NaN or
/// 1e300 panicked there, and 0 timed out everything).
pub fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds (e.g. 60 or 0.5)"))?;
    if (MIN_SECONDS..=MAX_SECONDS).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{text} seconds: give a number from {MIN_SECONDS} to {MAX_SECONDS:e} (e.g. 60 or 0.5)"
        ))
    }
}

/// A `--workers`-style count: the one given, else the number of cores; at least 1.
pub fn workers_or_cores(given: Option<usize>) -> usize {
    given
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(tactics: &[&str]) -> AlsoTryArgs {
        AlsoTryArgs {
            tactics: tactics.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn entries_lean_would_never_check_are_refused_by_name() {
        assert!(args(&[]).check().is_ok());
        assert!(args(&["simp_all", "omega"]).check().is_ok());
        for bad in ["sorry", " ", "admit"] {
            let err = args(&["simp_all", bad]).check().unwrap_err().to_string();
            assert!(
                err.contains(&format!("--also-try {bad:?}")) && err.contains("e.g. --also-try"),
                "{err}"
            );
        }
    }
}
