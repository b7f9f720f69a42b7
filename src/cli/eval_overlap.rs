//! `proofstep eval overlap CHECKED REFERENCE`: how many theorems of one set another already
//! holds — as text, up to renaming, and by goal shape (`eval::overlap`) — so a user can check a
//! test split (miniF2F, their own) against their training data before believing a pass rate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use proofstep::eval::overlap::overlap;
use proofstep::eval::{load, DatasetOptions};

use crate::cli::exit::ANSWER_NO;

/// Arguments of `proofstep eval overlap`.
#[derive(clap::Args, Debug)]
pub struct OverlapArgs {
    /// The theorems checked for copies (a test split): a Lean file or folder, a miniF2F/ProofNet
    /// JSONL, or LeanDojo JSON.
    pub checked: PathBuf,
    /// The theorems they must not copy (training data), in any of the same forms.
    pub reference: PathBuf,
    /// Print the counts and every copy as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Copies listed in the text output (all of them with --json).
    #[arg(long, default_value_t = 20)]
    pub show: usize,
}

/// Runs `proofstep eval overlap`: exit 0 when no checked theorem is a copy, 1 when some are.
pub fn run(args: OverlapArgs) -> anyhow::Result<ExitCode> {
    let read = |path: &PathBuf| {
        load(path, &DatasetOptions::default())
            .with_context(|| format!("cannot read the theorems of {}", path.display()))
    };
    let checked = read(&args.checked)?;
    let reference = read(&args.reference)?;
    let found = overlap(&checked, &reference);
    if args.json {
        println!("{}", serde_json::to_string(&found)?);
    } else {
        let percent = |n: usize| 100.0 * n as f64 / found.checked.max(1) as f64;
        println!(
            "{} of {} theorems of {} are in {} ({} theorems): {} as text ({:.1} %), {} up to renaming ({:.1} %); {} share a goal shape with it ({:.1} %)",
            found.up_to_renaming,
            found.checked,
            args.checked.display(),
            args.reference.display(),
            found.reference,
            found.exact,
            percent(found.exact),
            found.up_to_renaming,
            percent(found.up_to_renaming),
            found.same_goal_shape,
            percent(found.same_goal_shape),
        );
        for copy in found.copies.iter().take(args.show) {
            let how = if copy.exact { "as text" } else { "renamed" };
            println!("{} copies {} ({how})", copy.name, copy.copy_of);
        }
        if found.copies.len() > args.show {
            println!(
                "… {} more (--show N, or --json)",
                found.copies.len() - args.show
            );
        }
    }
    Ok(if found.up_to_renaming == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ANSWER_NO)
    })
}
