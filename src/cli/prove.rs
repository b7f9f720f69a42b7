//! `proofstep prove`: best-first search for one theorem, from a Lean file or a statement.
//! Also home of what `prove` and `eval` share: the budget and decoding flags, the `--model`
//! loader, and the small factory that turns `--backend` into a `ProofBackend`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::eval::lean_file::lean_file_theorems;
use proofstep::lean::axioms::AxiomPolicy;
use proofstep::lean::file::FileBackend;
use proofstep::lean::pool::PoolConfig;
use proofstep::lean::process::default_memory_limit_mb;
use proofstep::lean::repl::ReplConfig;
use proofstep::lean::repl_backend::ReplBackend;
use proofstep::lean::server::{ServerBackend, ServerBackendOptions, ServerOptions};
use proofstep::lean::ProofBackend;

use crate::cli::also_try::AlsoTryArgs;
use crate::cli::default_model::ModelOrDefault;
use crate::cli::doctor::ToolchainArgs;
use proofstep::model::{Decoding, GenerateOptions, Generator, Predictor};
use proofstep::search::{search, SearchConfig, SearchResult};

/// Arguments of `proofstep prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// The theorem to prove: its name in `--file` (full or last component), or a label for
    /// `--statement`.
    #[arg(long)]
    pub theorem: Option<String>,
    /// A Lean file holding the theorem; everything before it is its header.
    #[arg(
        long,
        conflicts_with = "statement",
        required_unless_present = "statement"
    )]
    pub file: Option<PathBuf>,
    /// The theorem's statement, e.g. "theorem t (p : Prop) (hp : p) : p" (a trailing `:= by …`
    /// is ignored).
    #[arg(long)]
    pub statement: Option<String>,
    /// The header for `--statement` (imports, opens), e.g. "import Mathlib".
    #[arg(long, requires = "statement")]
    pub header: Option<String>,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print the whole search result (proof, counts, timings, trace) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The model, Lean backend and budget of a search: the flags `prove` and `eval` share.
#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
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
        let config = self.budget.config(lean_workers(&self.backend))?;
        let predictor = self.budget.also_try.wrap(self.model.load()?);
        let backend = make_backend(&self.backend, anchor)?;
        Ok(SearchSetup {
            config,
            predictor,
            backend,
        })
    }
}

/// The Lean backends `--backend` can name.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The leanprover-community REPL (fastest; needs the repl built in your Lake project).
    Repl,
    /// Lean's language server (`lean --server`), editing the proof in place.
    Server,
    /// `lean --json` on the whole theorem at every step (needs only `lean`; slowest).
    File,
}

/// How to reach Lean.
#[derive(clap::Args, Debug, Clone)]
pub struct BackendArgs {
    /// Which Lean backend checks the steps.
    #[arg(long, value_enum, default_value = "server")]
    pub backend: BackendKind,
    /// Seconds one tactic may take before Lean is stopped and the step counts as failed.
    #[arg(long, default_value_t = 60.0)]
    pub tactic_timeout: f64,
    /// Lean processes to run (default: the number of cores).
    #[arg(long)]
    pub lean_workers: Option<usize>,
    /// Private memory (MB) one Lean process may use before it is killed and restarted, the
    /// step it was checking counted as failed (default: three quarters of the machine's memory
    /// shared among the Lean workers; 0: no limit).
    #[arg(long, value_name = "MB")]
    pub lean_memory_mb: Option<u64>,
    /// An axiom a proof may rest on besides `propext`, `Classical.choice` and `Quot.sound`
    /// (repeatable), e.g. `--allow-axiom Lean.ofReduceBool` to accept `native_decide`. A proof
    /// resting on any other axiom (a file's own `axiom`, `sorryAx`) is never counted as proved.
    #[arg(long = "allow-axiom", value_name = "NAME")]
    pub allow_axioms: Vec<String>,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

impl BackendArgs {
    /// The memory limit of each Lean process.
    pub fn memory_limit_mb(&self) -> Option<u64> {
        match self.lean_memory_mb {
            Some(0) => None,
            Some(mb) => Some(mb),
            None => Some(default_memory_limit_mb(lean_workers(self))),
        }
    }

    /// The axioms a verified proof may rest on.
    pub fn policy(&self) -> AxiomPolicy {
        AxiomPolicy::allowing(self.allow_axioms.iter().cloned())
    }
}

/// Budgets and decoding of the search.
#[derive(clap::Args, Debug, Clone)]
pub struct BudgetArgs {
    /// Nodes to expand at most (the seed's max_iters).
    #[arg(long, default_value_t = 100)]
    pub expansions: usize,
    /// Wall-time limit per theorem, in seconds.
    #[arg(long, default_value_t = 600.0)]
    pub time_limit: f64,
    /// Candidates sampled per temperature at each expansion.
    #[arg(long, default_value_t = 8)]
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
    /// (comma-separated, e.g. 0.8,1.2); each retry counts as an expansion. Default: none, the
    /// search stops when the queue empties (as the seed's does).
    #[arg(long, value_delimiter = ',')]
    pub retry_temperatures: Vec<f32>,
    #[command(flatten)]
    pub also_try: AlsoTryArgs,
}

impl BudgetArgs {
    /// The search configuration these flags describe.
    pub fn config(&self, lean_workers: usize) -> anyhow::Result<SearchConfig> {
        if self.time_limit.is_nan() || self.time_limit <= 0.0 {
            bail!("--time-limit must be a positive number of seconds");
        }
        if let Some(t) = self
            .retry_temperatures
            .iter()
            .find(|t| t.is_nan() || **t <= 0.0)
        {
            bail!("--retry-temperatures: {t} is not a sampling temperature (use numbers > 0, e.g. 0.8,1.2)");
        }
        self.also_try.check()?;
        let decoding = match self.beam {
            Some(0) => bail!("--beam needs a width of at least 1"),
            Some(width) => Decoding::Beam { width },
            None => {
                if self.samples == 0 || self.temperatures.is_empty() {
                    bail!("--samples and --temperatures must ask for at least one candidate");
                }
                if let Some(t) = self.temperatures.iter().find(|t| t.is_nan() || **t < 0.0) {
                    bail!(
                        "--temperatures: {t} is not a temperature (use numbers ≥ 0, e.g. 0.0,0.5)"
                    );
                }
                Decoding::Sample {
                    temperatures: self.temperatures.clone(),
                    samples: self.samples,
                    top_p: self.top_p,
                }
            }
        };
        Ok(SearchConfig {
            max_expansions: self.expansions,
            time_limit: Duration::from_secs_f64(self.time_limit),
            generate: GenerateOptions {
                decoding,
                max_new_tokens: self.max_tokens,
                seed: self.seed,
            },
            check_threads: self.check_threads.unwrap_or(lean_workers).max(1),
            pipeline: !self.no_pipeline,
            retry_temperatures: self.retry_temperatures.clone(),
        })
    }
}

/// Loads the predictor in a model folder, saying what a model folder needs when it fails.
pub fn load_model_dir(dir: &Path) -> anyhow::Result<Box<dyn Predictor>> {
    let generator = Generator::load(dir).with_context(|| {
        format!(
            "cannot load the model folder {} (it needs config.json, model.safetensors and tokenizer.json, \
             as `proofstep train` writes them)",
            dir.display()
        )
    })?;
    Ok(Box::new(generator))
}

/// The number of Lean workers to run.
pub fn lean_workers(args: &BackendArgs) -> usize {
    workers_or_cores(args.lean_workers)
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

/// The backend factory: starts the backend `--backend` names, with the toolchain discovered
/// from `anchor` (a Lake project above it, the test world, or the flags and environment).
pub fn make_backend(args: &BackendArgs, anchor: &Path) -> anyhow::Result<Box<dyn ProofBackend>> {
    let toolchain = args.toolchain.discover_ready(anchor)?;
    let timeout = Duration::from_secs_f64(args.tactic_timeout.max(0.001));
    let workers = lean_workers(args);
    let policy = args.policy();
    let memory_limit_mb = args.memory_limit_mb();
    match args.backend {
        BackendKind::Server => {
            let options = ServerBackendOptions {
                workers,
                server: ServerOptions {
                    timeout,
                    memory_limit_mb,
                    ..ServerOptions::default()
                },
                policy,
                ..ServerBackendOptions::default()
            };
            let backend = ServerBackend::start(&toolchain.server_command()?, options)
                .context("cannot start Lean's language server; run `proofstep doctor` to see what is missing")?;
            Ok(Box::new(backend))
        }
        BackendKind::File => Ok(Box::new(
            FileBackend::new(toolchain.lean_command()?)
                .with_timeout(timeout)
                .with_memory_limit(memory_limit_mb)
                .with_policy(policy),
        )),
        BackendKind::Repl => {
            let mut config = PoolConfig::new(toolchain.repl_command()?);
            config.workers = workers;
            config.repl = ReplConfig {
                timeout,
                memory_limit_mb,
                ..config.repl
            };
            Ok(Box::new(ReplBackend::new(config).with_policy(policy)))
        }
    }
}

/// Runs `proofstep prove`.
pub fn run(args: ProveArgs) -> anyhow::Result<ExitCode> {
    let (name, header, statement, anchor) = target(&args)?;
    let SearchSetup {
        config,
        predictor,
        backend,
    } = args.search.setup(&anchor)?;
    let spinner = ProgressBar::new_spinner()
        .with_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        )
        .with_message(format!(
            "searching for a proof of {name} ({})",
            backend.name()
        ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = search(
        backend.as_ref(),
        predictor.as_ref(),
        &header,
        &statement,
        &config,
    );
    spinner.finish_and_clear();
    let result = result.with_context(|| format!("searching for a proof of {name}"))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut json = serde_json::to_value(&result)?;
        json["theorem"] = name.clone().into();
        json["statement"] = statement.clone().into();
        json["backend"] = backend.name().into();
        if let Some(text) = lean_text(&statement, &result) {
            json["proof_text"] = text.into();
        }
        writeln!(out, "{json}")?;
    } else if let Some(text) = lean_text(&statement, &result) {
        write!(out, "{text}")?;
    } else {
        eprintln!(
            "no proof of {name} found: {:?} after {} expansions in {:.1} s ({} candidates checked, {} failed, \
             {} refused); raise --expansions or --time-limit, or use a stronger model",
            result.stop,
            result.counts.expansions,
            result.times.total_secs,
            result.counts.checked,
            result.counts.failed,
            result.counts.rejected,
        );
    }
    out.flush()?;
    Ok(if result.proved {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The proof as Lean text ready to paste: `statement := by` and the steps.
pub fn lean_text(statement: &str, result: &SearchResult) -> Option<String> {
    result
        .proof_text()
        .map(|body| format!("{} := by\n{body}", statement.trim_end()))
}

/// The theorem's name, header, statement, and the folder to look for Lean from.
fn target(args: &ProveArgs) -> anyhow::Result<(String, String, String, PathBuf)> {
    if let Some(file) = &args.file {
        let Some(wanted) = &args.theorem else {
            bail!("--file needs --theorem NAME: which theorem to prove")
        };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let tasks = lean_file_theorems(file, &text, None)?;
        let short = |n: &str| n.rsplit('.').next().unwrap_or(n).to_string();
        let exact: Vec<_> = tasks.iter().filter(|t| &t.name == wanted).collect();
        let matches = if exact.is_empty() {
            tasks.iter().filter(|t| short(&t.name) == *wanted).collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [task] => {
                let anchor = file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                Ok((
                    task.name.clone(),
                    task.header.to_string(),
                    task.statement.clone(),
                    anchor,
                ))
            }
            [] => {
                let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
                if names.is_empty() {
                    bail!("{} declares no theorem or lemma", file.display());
                }
                bail!(
                    "no theorem `{wanted}` in {}; it declares: {}",
                    file.display(),
                    names.join(", ")
                )
            }
            many => {
                let names: Vec<&str> = many.iter().map(|t| t.name.as_str()).collect();
                bail!(
                    "`{wanted}` is ambiguous in {}: give the full name, one of {}",
                    file.display(),
                    names.join(", ")
                )
            }
        }
    } else {
        let given = args.statement.as_deref().unwrap_or_default();
        let statement = proofstep::eval::statement::statement_part(given)
            .unwrap_or(given)
            .trim()
            .to_string();
        if statement.is_empty() {
            bail!("--statement is empty; give e.g. \"theorem t (p : Prop) (hp : p) : p\"");
        }
        let name = args.theorem.clone().unwrap_or_else(|| {
            statement
                .split_whitespace()
                .nth(1)
                .unwrap_or("theorem")
                .to_string()
        });
        Ok((
            name,
            args.header.clone().unwrap_or_default(),
            statement,
            std::env::current_dir()?,
        ))
    }
}
