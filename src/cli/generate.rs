//! `proofstep generate`: next-step candidates for one prompt, with their scores.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use proofstep::model::{
    rank_candidates, set_threads, Candidate, GenerateOptions, Generator, Predictor,
};
use proofstep::openai::RemotePredictor;
use proofstep::prompt::prompt;

use crate::cli::args::{checked, decoding, ModelOrDefault, RemoteArgs};

/// Arguments of `proofstep generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Full prompt, e.g. "[GOAL]n : ℕ\n⊢ n + 0 = n[PROOFSTEP]".
    #[arg(long, conflicts_with = "goal", required_unless_present = "goal")]
    pub prompt: Option<String>,
    /// A proof state; the prompt becomes "[GOAL]{state}[PROOFSTEP]".
    #[arg(long)]
    pub goal: Option<String>,
    /// Only suggestions that start with this text (it is appended to the prompt).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Samples per temperature.
    #[arg(short = 'n', long, default_value_t = 8)]
    pub samples: usize,
    /// Sampling temperature; repeat for several (0 = greedy).
    #[arg(long = "temperature", default_values_t = vec![0.5f32])]
    pub temperatures: Vec<f32>,
    /// Nucleus sampling: keep the most likely tokens up to this probability mass.
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    /// Beam search with this width instead of sampling.
    #[arg(long, conflicts_with_all = ["temperatures", "samples"])]
    pub beam: Option<usize>,
    /// Stop after this many new tokens.
    #[arg(long, default_value_t = 64)]
    pub max_new_tokens: usize,
    /// Seed of the sampler (same seed, same candidates).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where candidates come from: a model folder, or a server.
enum Source {
    Local(Box<Generator>),
    Remote(Box<RemotePredictor>),
}

/// Runs `proofstep generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if let Some(t) = args.threads {
        set_threads(t);
    }
    let prompt = match (&args.prompt, &args.goal) {
        (Some(p), _) => p.clone(),
        (None, Some(g)) => prompt(g),
        (None, None) => anyhow::bail!("give --prompt or --goal"),
    };
    args.remote.refuse_beam(args.beam)?;
    let start = Instant::now();
    let mut weights = args.model.weights;
    let source = match args.remote.connect()? {
        Some(remote) => Source::Remote(Box::new(remote)),
        None => {
            let dir = args.model.dir()?;
            weights = args.model.weights()?;
            if weights.is_reduced() {
                eprintln!(
                    "model {}: weights {weights} (reduced precision)",
                    dir.display()
                );
            }
            Source::Local(Box::new(
                Generator::load_on(&dir, weights, &args.model.device.open()?)
                    .with_context(|| format!("loading the model folder {}", dir.display()))?,
            ))
        }
    };
    let load_s = start.elapsed().as_secs_f64();
    let options = options(&args)?;
    let start = Instant::now();
    let mut out = match &source {
        Source::Local(generator) => generator.generate_with_prefixes(
            std::slice::from_ref(&prompt),
            std::slice::from_ref(&args.prefix),
            &options,
        )?,
        Source::Remote(remote) => {
            // The prefix continues the prompt; candidates carry it, as a local model's do.
            let asked = format!("{prompt}{}", args.prefix);
            remote
                .generate(&[asked], &options)?
                .into_iter()
                .map(|cands| {
                    rank_candidates(cands.into_iter().map(|c| Candidate {
                        text: format!("{}{}", args.prefix, c.text),
                        score: c.score,
                    }))
                })
                .collect()
        }
    };
    let gen_s = start.elapsed().as_secs_f64();
    let candidates = out.pop().unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "prompt": prompt,
            "candidates": candidates.iter().map(|c| serde_json::json!({"text": c.text, "score": c.score})).collect::<Vec<_>>(),
            "load_seconds": load_s,
            "generate_seconds": gen_s,
            "weights": weights.name(),
            "reduced_precision": weights.is_reduced(),
        });
        writeln!(stdout, "{value}")?;
    } else {
        for c in &candidates {
            writeln!(stdout, "{:>9.4}  {}", c.score, c.text)?;
        }
        tracing::info!(load_s, gen_s, n = candidates.len(), "generated");
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The generation options the flags ask for, refused with the flag to fix when no candidate
/// or no memory could come of them.
fn options(args: &GenerateArgs) -> anyhow::Result<GenerateOptions> {
    let decoding = decoding(
        args.beam,
        args.samples,
        &args.temperatures,
        "--temperature",
        args.top_p,
    )?;
    if args.max_new_tokens == 0 {
        bail!("--max-new-tokens must be at least 1");
    }
    checked(GenerateOptions {
        decoding,
        max_new_tokens: args.max_new_tokens,
        seed: args.seed,
    })
}
