//! `proofstep data leandojo`: format LeanDojo Benchmark 4 as the seed's proof-step JSONL splits.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use proofstep::data::{convert_leandojo, SplitKind};

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
}

/// Runs `proofstep data`.
pub fn run(args: DataArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DataCommand::Leandojo(a) => leandojo(a),
    }
}

fn leandojo(args: LeandojoArgs) -> anyhow::Result<ExitCode> {
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
