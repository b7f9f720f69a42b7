//! `proofstep data leandojo`: format LeanDojo Benchmark 4 as the seed's proof-step JSONL splits.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use proofstep::data::{convert_leandojo, download, SplitKind};

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
    }
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
