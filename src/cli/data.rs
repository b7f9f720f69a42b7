//! `proofstep data leandojo`: format LeanDojo Benchmark 4 as the seed's proof-step JSONL splits;
//! `proofstep data whole-proofs`: (statement → whole proof) pairs for a local refine model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use proofstep::data::{convert_leandojo, download, SplitKind};
use proofstep::refine::pairs::{whole_proof_pairs, PairOptions};
use proofstep::refine::PromptTemplates;

/// Arguments of `proofstep data`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The data sources `proofstep data` can format.
#[derive(clap::Subcommand, Debug)]
pub enum DataCommand {
    /// LeanDojo Benchmark 4 → proofstep-{train,val,test}.jsonl (`{"input", "output"}` per line,
    /// byte for byte as the seed's data.py writes them).
    Leandojo(LeandojoArgs),
    /// Lean files → (prompt → whole tactic proof) JSONL for `train`: refine's first prompt per
    /// theorem and, with --states, synthesized repairs (a wrong step, the goals before it).
    WholeProofs(WholeProofsArgs),
}

/// Arguments of `proofstep data whole-proofs`.
#[derive(clap::Args, Debug)]
pub struct WholeProofsArgs {
    /// A Lean file, or a folder of them (searched recursively), whose tactic proofs to learn.
    #[arg(long)]
    pub input: PathBuf,
    /// The JSONL file to write (`{"input", "output"}` per line, as `train` reads).
    #[arg(long)]
    pub out: PathBuf,
    /// The split file `proofstep extract` wrote for these theorems (e.g.
    /// extracted/random/train.json): the goals before each step, for --repairs.
    #[arg(long, value_name = "FILE")]
    pub states: Option<PathBuf>,
    /// Synthesized repairs per theorem: the repair prompt for the real proof cut at a random
    /// step and followed by a wrong one, with the goals before it; the real proof as answer.
    #[arg(long, default_value_t = 0)]
    pub repairs: usize,
    /// The first request's template, as refine will be given it (default: refine's).
    #[arg(long, value_name = "FILE")]
    pub prompt_first: Option<PathBuf>,
    /// The repair template, as refine will be given it (default: refine's, which wants
    /// {{errors}}, so synthesized repairs need one of your own).
    #[arg(long, value_name = "FILE")]
    pub prompt_repair: Option<PathBuf>,
    /// What {{lean_version}} becomes: the line `lean --version` prints where refine will run.
    #[arg(long, value_name = "TEXT")]
    pub lean_version: Option<String>,
    /// Seed of the synthesized repairs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `proofstep data leandojo`.
#[derive(clap::Args, Debug)]
pub struct LeandojoArgs {
    /// The unpacked `leandojo_benchmark_4` folder (holding random/ and novel_premises/), or the
    /// folder that holds it.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write proofstep-{train,val,test}.jsonl (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Which split of the benchmark to format.
    #[arg(long, value_enum, default_value = "random")]
    pub split: SplitKind,
    /// Print the per-split counts as one JSON object instead of the seed's `split<TAB>count` lines.
    #[arg(long)]
    pub json: bool,
    /// First download the benchmark tarball into --input and unpack it there.
    #[arg(long)]
    pub download: bool,
    /// The tarball to download (default: the seed's, LeanDojo Benchmark 4 v1 on Zenodo).
    #[arg(long, requires = "download", default_value = download::DEFAULT_URL)]
    pub url: String,
    /// Expected SHA-256 of the tarball (Zenodo's published MD5 is checked when reachable).
    #[arg(long, requires = "download")]
    pub sha256: Option<String>,
}

/// Runs `proofstep data`.
pub fn run(args: DataArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DataCommand::Leandojo(a) => leandojo(a),
        DataCommand::WholeProofs(a) => whole_proofs(a),
    }
}

fn whole_proofs(args: WholeProofsArgs) -> anyhow::Result<ExitCode> {
    let templates =
        PromptTemplates::load(args.prompt_first.as_deref(), args.prompt_repair.as_deref())?;
    let wants_version = templates.first.uses("lean_version")
        || (args.repairs > 0 && templates.repair.uses("lean_version"));
    // As refine has it: the first line `lean --version` prints, trimmed.
    let given = args.lean_version.as_deref().and_then(|v| {
        v.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    });
    let lean_version = match given {
        Some(v) => v,
        None if wants_version => anyhow::bail!(
            "the prompt template uses {{{{lean_version}}}}: pass --lean-version \"$(lean --version)\" \
             as refine will see it, so the pairs match its prompts"
        ),
        None => String::new(),
    };
    let options = PairOptions {
        templates,
        lean_version,
        repairs: args.repairs,
        seed: args.seed,
    };
    let (pairs, counts) = whole_proof_pairs(&args.input, args.states.as_deref(), &options)?;
    let mut text = String::new();
    for pair in &pairs {
        text.push_str(&pair.to_seed_json());
        text.push('\n');
    }
    proofstep::fsutil::write_atomic(&args.out, text.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&counts)?);
    } else {
        println!(
            "{} pairs ({} first requests, {} repairs) from {} theorems; {} without a tactic proof, {} without traced steps",
            pairs.len(),
            counts.first,
            counts.repairs,
            counts.theorems,
            counts.without_tactic_proof,
            counts.untraced
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn fetch(args: &LeandojoArgs) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "download [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let got = download::download(
        &args.url,
        &args.input,
        args.sha256.as_deref(),
        |done, total| {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    eprintln!(
        "downloaded {} (sha256 {}, md5 {}{})",
        got.archive.display(),
        got.sha256,
        got.md5,
        if got.verified {
            ", checksum verified"
        } else {
            ", no published checksum to compare"
        }
    );
    download::unpack(&got.archive, &args.input)?;
    Ok(())
}

fn leandojo(args: LeandojoArgs) -> anyhow::Result<ExitCode> {
    if args.download {
        fetch(&args)?;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>5} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let counts = convert_leandojo(&args.input, &args.out, args.split, |split, read, total| {
        bar.set_prefix(split.to_string());
        bar.set_length(total);
        bar.set_position(read);
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&counts)?);
    } else {
        for c in &counts {
            println!("{}\t{}", c.split, c.examples);
        }
    }
    Ok(ExitCode::SUCCESS)
}
