//! Next-step accuracy without Lean: for each held-out (state, tactic) pair, beam search of
//! width K with the model; top-1 = the best candidate is the recorded tactic, top-K = one of
//! the K is (exact match after trimming). Prints one JSON object per input file.
//! Usage: pipeline-accuracy MODEL K LIMIT FILE... (FILE: proof-step JSONL, or a results_*.json
//! trace file of ../shared/data/traces); LIMIT caps the pairs per file (0 = all).

use std::path::Path;

use proofstep::data::examples::read_examples;
use proofstep::data::traces::read_trace_examples;
use proofstep::model::{Decoding, GenerateOptions, Generator, Predictor};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        args.len() >= 4,
        "usage: pipeline-accuracy MODEL K LIMIT FILE..."
    );
    let generator = Generator::load(Path::new(&args[0]))?;
    let k: usize = args[1].parse()?;
    let limit: usize = args[2].parse()?;
    let options = GenerateOptions {
        decoding: Decoding::Beam { width: k },
        max_new_tokens: 48,
        seed: 0,
    };
    for file in &args[3..] {
        let path = Path::new(file);
        let mut examples = if file.ends_with(".jsonl") {
            read_examples(path)?
        } else {
            read_trace_examples(path)?
        };
        if limit > 0 {
            examples.truncate(limit);
        }
        let (mut top1, mut topk) = (0usize, 0usize);
        for chunk in examples.chunks(16) {
            let prompts: Vec<String> = chunk.iter().map(|e| e.input.clone()).collect();
            let answers = generator.generate(&prompts, &options)?;
            for (e, cands) in chunk.iter().zip(answers) {
                let gold = e.output.trim_end_matches("<|endoftext|>").trim();
                if cands.first().is_some_and(|c| c.text.trim() == gold) {
                    top1 += 1;
                }
                if cands.iter().take(k).any(|c| c.text.trim() == gold) {
                    topk += 1;
                }
            }
        }
        let n = examples.len().max(1) as f64;
        println!(
            "{}",
            serde_json::json!({
                "file": file, "pairs": examples.len(), "k": k,
                "top1": top1 as f64 / n, "topk": topk as f64 / n,
                "top1_hits": top1, "topk_hits": topk,
            })
        );
    }
    Ok(())
}
