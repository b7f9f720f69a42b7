//! `proofstep corpus generate`: writes the test world's corpus (generated theorems with tactic
//! proofs, each checked by real Lean, split into train/val/test Lean files).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use proofstep::testworld::corpus::{build_corpus, CorpusOptions};
use proofstep::testworld::GenOptions;

use crate::cli::args::{workers_or_cores, ToolchainArgs};

/// Arguments of `proofstep corpus`.
#[derive(clap::Args, Debug)]
pub struct CorpusArgs {
    #[command(subcommand)]
    pub command: CorpusCommand,
}

/// What `proofstep corpus` can do.
#[derive(clap::Subcommand, Debug)]
pub enum CorpusCommand {
    /// Generate test-world theorems (propositional logic, equality, Nat arithmetic, quantifiers,
    /// gcd) with tactic proofs, keep those real Lean accepts, and write them as
    /// {train,val,test,novel}/*.lean, no statement repeated up to renaming.
    Generate(GenerateArgs),
}

/// Arguments of `proofstep corpus generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The corpus folder to write (replaced as a whole when the run succeeds).
    #[arg(long)]
    pub out: PathBuf,
    /// Theorems to generate (those Lean rejects are dropped and counted).
    #[arg(long, default_value_t = 3000)]
    pub count: usize,
    /// Seed of the generator: the same seed and knobs give the same corpus.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Largest goal depth / longest chain.
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    /// Most hypotheses a theorem's proof may need beyond the plain ones.
    #[arg(long, default_value_t = 4)]
    pub hypotheses: usize,
    /// Most irrelevant hypotheses per theorem.
    #[arg(long, default_value_t = 2)]
    pub distractors: usize,
    /// Percent of theorems from families the prelude's automation (`simp_all`, `decide`)
    /// cannot close: Nat rewriting chains and disjunction elimination. At 0 (the committed
    /// corpus) automation closes about 9 in 10 test theorems, so a corpus that should measure
    /// what a model learns beyond automation wants a large share here.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub beyond_automation: u8,
    /// Percent of theorems (drawn before the families above) that the strongest fixed tactic
    /// list cannot close either: a disjunction hypothesis to split, then a nest of `∧`/`∨` to
    /// build from what each branch gives. A corpus that should measure what a model proves
    /// beyond any fixed list wants a large share here.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub beyond_lists: u8,
    /// Theorems per Lean file.
    #[arg(long, default_value_t = 60)]
    pub per_file: usize,
    /// Percent of the theorems in val, and again in test (the rest is train).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=33))]
    pub held_out_percent: u32,
    /// Percent of the theorems (about) in the novel-shape split `novel/`: whole goal shapes no
    /// other split has.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=33))]
    pub novel_percent: u32,
    /// Theorem sets (a Lean file or folder, a miniF2F/LeanDojo JSONL) whose statements the
    /// corpus must not contain, even renamed (repeatable): a hand-written evaluation file,
    /// another corpus's val and test splits.
    #[arg(long, value_name = "PATH")]
    pub exclude: Vec<PathBuf>,
    /// Theorem sets whose goal shapes (the goal with every name and numeral erased) the corpus
    /// must not contain (repeatable): another corpus's novel-shape split, so that a model trained
    /// on this corpus still meets those shapes unseen.
    #[arg(long, value_name = "PATH")]
    pub exclude_shapes: Vec<PathBuf>,
    /// Write every proof as `sorry`: a pool of (true) statements for `proofstep iterate`.
    #[arg(long)]
    pub statements_only: bool,
    /// Lean processes at once (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub toolchain: ToolchainArgs,
}

/// Runs `proofstep corpus`.
pub fn run(args: CorpusArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        CorpusCommand::Generate(a) => generate(a),
    }
}

/// `form` of every statement of the theorem sets `paths` (given with `flag`): the canonical
/// forms or goal shapes a generated corpus must not contain.
fn statement_forms(
    flag: &str,
    paths: &[PathBuf],
    form: fn(&str) -> String,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut forms = std::collections::HashSet::new();
    for path in paths {
        let tasks = proofstep::eval::load(path, &proofstep::eval::DatasetOptions::default())
            .with_context(|| format!("{flag} {}: cannot read its theorems", path.display()))?;
        forms.extend(tasks.iter().map(|t| form(&t.statement)));
    }
    Ok(forms)
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let lean = args.toolchain.lean_command_for(&args.out)?;
    let workers = workers_or_cores(args.workers);
    let exclude = statement_forms(
        "--exclude",
        &args.exclude,
        proofstep::lean::canonical::canonical_statement,
    )?;
    let exclude_shapes = statement_forms(
        "--exclude-shapes",
        &args.exclude_shapes,
        proofstep::lean::canonical::goal_shape,
    )?;
    let options = CorpusOptions {
        count: args.count,
        gen: GenOptions {
            seed: args.seed,
            depth: args.depth.max(1),
            hypotheses: args.hypotheses,
            distractors: args.distractors,
            beyond_automation_percent: args.beyond_automation,
            beyond_lists_percent: args.beyond_lists,
            exclude,
            exclude_shapes,
        },
        per_file: args.per_file.max(1),
        held_out_percent: args.held_out_percent,
        novel_percent: args.novel_percent,
        statements_only: args.statements_only,
        exclude_paths: args
            .exclude
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        exclude_shape_paths: args
            .exclude_shapes
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        workers,
    };
    let mut command_line = format!(
        "proofstep corpus generate --out {} --count {} --seed {} --depth {} --hypotheses {} --distractors {} --per-file {} --held-out-percent {}",
        args.out.display(),
        args.count,
        args.seed,
        options.gen.depth,
        args.hypotheses,
        args.distractors,
        options.per_file,
        args.held_out_percent
    );
    if args.beyond_automation > 0 {
        command_line.push_str(&format!(" --beyond-automation {}", args.beyond_automation));
    }
    if args.beyond_lists > 0 {
        command_line.push_str(&format!(" --beyond-lists {}", args.beyond_lists));
    }
    command_line.push_str(&format!(" --novel-percent {}", args.novel_percent));
    for path in &args.exclude {
        command_line.push_str(&format!(" --exclude {}", path.display()));
    }
    for path in &args.exclude_shapes {
        command_line.push_str(&format!(" --exclude-shapes {}", path.display()));
    }
    if args.statements_only {
        command_line.push_str(" --statements-only");
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("checking with Lean [{bar:30}] {pos}/{len} ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let report = build_corpus(&lean, &args.out, &options, &command_line, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("cannot build the corpus in {}", args.out.display()))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "generated {}, accepted by Lean {}, dropped {}; refused {} renamed copies of earlier statements, {} of excluded ones and {} of excluded goal shapes; {} goal shapes held out in novel/",
            report.generated,
            report.accepted,
            report.dropped.len(),
            report.renamed_copies,
            report.held_out_copies,
            report.held_out_shapes,
            report.novel_shapes
        );
        for (split, n) in &report.splits {
            println!("{split}\t{n}");
        }
        for (kind, n) in &report.kinds {
            println!("{kind}\t{n}");
        }
        for d in report.dropped.iter().take(10) {
            let first = d.error.lines().next().unwrap_or("");
            println!("dropped {}: {first}", d.name);
        }
        println!(
            "wrote {} Lean files and manifest.json to {}",
            report.files,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
