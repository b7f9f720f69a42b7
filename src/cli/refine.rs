//! `proofstep refine`: whole proofs from a model behind an OpenAI-compatible endpoint,
//! repaired with Lean's feedback; `--then-search` hands the longest accepted prefix of a
//! failed proof to the best-first search with the step model.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use proofstep::lean::backend::proof_text;
use proofstep::refine::{refine, FoundBy, RefineResult, RefineStop, ThenSearch, Theorem};

use crate::cli::args::SearchArgs;
use crate::cli::prove::theorem_in_file;
use crate::cli::whole_proof::{api_flags_in, lean_version, WholeProofArgs};

/// Arguments of `proofstep refine`.
#[derive(clap::Args, Debug)]
pub struct RefineArgs {
    /// The theorem to prove: its name in `--file` (full or last component).
    #[arg(long)]
    pub theorem: String,
    /// The Lean file holding the theorem; everything before it is its header.
    #[arg(long)]
    pub file: PathBuf,
    #[command(flatten)]
    pub whole: WholeProofArgs,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print the whole result (every round's proof and Lean's feedback, tokens) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `proofstep refine`.
pub fn run(args: RefineArgs) -> anyhow::Result<ExitCode> {
    let (name, header, statement, anchor) = theorem_in_file(&args.file, &args.theorem)?;
    let model = args.whole.connect("refine")?;
    let search_config = args.search.budget.config(args.search.backend.workers())?;
    let step_model = args.whole.step_model(&args.search)?;
    let lean_version = lean_version(&args.search, &anchor)?;
    let backend = args.search.backend.open(&anchor)?;
    let theorem = Theorem {
        name: name.clone(),
        header,
        statement: statement.clone(),
    };
    let config = args.whole.config(&search_config);
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
    if let (Some(note), false) = (
        crate::cli::prove::context_note(&name, &result.context),
        args.json,
    ) {
        eprintln!("{note}");
    }
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
        result.outcome.model_calls,
        result.outcome.tokens.prompt,
        result.outcome.tokens.completion,
        if result.outcome.tokens.unreported > 0 {
            format!(
                " ({} answers gave no counts)",
                result.outcome.tokens.unreported
            )
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
        let how = match (
            result.outcome.found_by,
            result.outcome.attempt,
            result.outcome.round,
        ) {
            (Some(FoundBy::Model), Some(a), Some(r)) => format!("attempt {a}, round {r}"),
            (Some(FoundBy::PrefixSearch), Some(a), Some(r)) => {
                format!("the search after the accepted prefix of attempt {a}, round {r}")
            }
            _ => "the search from the theorem's start".to_string(),
        };
        eprintln!("proved by {how} in {:.1} s; {tokens}", result.secs);
    } else {
        let advice = match result.stop {
            RefineStop::TimeLimit => "raise --time-limit",
            _ => "raise --attempts or --rounds, try --then-search, or use a stronger model",
        };
        eprintln!(
            "no proof of {} found: {:?} after {} rounds in {:.1} s; {tokens}; {advice} (--json \
             shows Lean's messages)",
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
