//! Searches every theorem of a dataset with a predictor that proposes a fixed list of tactics,
//! in order, at every node — or with a model (`--model DIR`: 8 samples at temperature 0.5, the
//! CLI's defaults); writes one JSON line per theorem in `proofstep eval`'s fields (`name`,
//! `proved`, `proof`, `expansions`, `time_secs`).
//! Model candidates holding control characters (an untrained model emits NUL bytes and the
//! like) are dropped before Lean sees them: the server backend mistakes the crash such a text
//! causes for a broken header and stops the whole search.
//! `--retry T1,T2` (before `--model`) sets the search's retry temperatures (see
//! `SearchConfig::retry_temperatures`): expanded nodes are sampled again when the queue runs dry.
//! Tactics after `--model DIR` are tried at every state besides the model's samples (the
//! search's `AlsoTry`, `--also-try` of `proofstep prove`/`eval`).
//! Usage: pipeline-baseline DATASET OUT.jsonl EXPANSIONS [--retry T1,T2] (TACTIC... | --model DIR [TACTIC...])

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use proofstep::eval::dataset::{load, DatasetOptions};
use proofstep::lean::backend::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::LeanCommand;
use proofstep::model::{Candidate, Decoding, GenerateOptions, Generator, Predictor};
use proofstep::search::{search, AlsoTry, SearchConfig};

/// The baseline: the same tactics, best first, for every state.
struct FixedList(Vec<String>);

impl Predictor for FixedList {
    fn generate(
        &self,
        prompts: &[String],
        _: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let list: Vec<Candidate> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, t)| Candidate {
                text: t.clone(),
                score: -(i as f64),
            })
            .collect();
        Ok(prompts.iter().map(|_| list.clone()).collect())
    }
}

/// A model whose candidates with control characters are dropped.
struct Printable(Generator);

impl Predictor for Printable {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let all = self.0.generate(prompts, options)?;
        Ok(all
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .filter(|c| !c.text.chars().any(|ch| ch.is_control() && ch != '\n'))
                    .collect()
            })
            .collect())
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        args.len() >= 4,
        "usage: pipeline-baseline DATASET OUT.jsonl EXPANSIONS TACTIC..."
    );
    let tasks = load(Path::new(&args[0]), &DatasetOptions::default())?;
    let expansions: usize = args[2].parse()?;
    let (retry_temperatures, rest) = match args[3].as_str() {
        "--retry" => {
            let list = args
                .get(4)
                .ok_or_else(|| anyhow::anyhow!("--retry needs a list, e.g. 0.8,1.2"))?;
            let temps = list
                .split(',')
                .map(str::parse)
                .collect::<Result<Vec<f32>, _>>()?;
            (temps, &args[5..])
        }
        _ => (Vec::new(), &args[3..]),
    };
    anyhow::ensure!(!rest.is_empty(), "usage: pipeline-baseline DATASET OUT.jsonl EXPANSIONS [--retry T,..] (TACTIC... | --model DIR [TACTIC...])");
    let predictor: Box<dyn Predictor> = if rest[0] == "--model" {
        let dir = rest
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("--model needs a folder"))?;
        let model: Box<dyn Predictor> = Box::new(Printable(Generator::load(Path::new(dir))?));
        match &rest[2..] {
            [] => model,
            tactics => Box::new(AlsoTry::new(model, tactics)),
        }
    } else {
        Box::new(FixedList(rest.to_vec()))
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../lean/mini");
    let mut lean = LeanCommand::new(root.join(".toolchain/bin/lean"));
    lean.env
        .push(("LEAN_PATH".into(), root.join("build").display().to_string()));
    let options = ServerBackendOptions {
        workers: 2,
        ..ServerBackendOptions::default()
    };
    let backend = ServerBackend::start(&lean, options)?;
    let config = SearchConfig {
        max_expansions: expansions,
        time_limit: Duration::from_secs(120),
        check_threads: 2,
        generate: GenerateOptions {
            decoding: Decoding::Sample {
                temperatures: vec![0.5],
                samples: 8,
                top_p: 0.95,
            },
            max_new_tokens: 48,
            seed: 0,
        },
        retry_temperatures,
        ..SearchConfig::default()
    };
    let mut out = std::fs::File::create(&args[1])?;
    for task in &tasks {
        let result = search(
            &backend,
            predictor.as_ref(),
            &task.header,
            &task.statement,
            &config,
        )?;
        let line = serde_json::json!({
            "name": task.name,
            "proved": result.proved,
            "proof": result.proof,
            "expansions": result.counts.expansions,
            "retries": result.counts.retries,
            "time_secs": result.times.total_secs,
        });
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
