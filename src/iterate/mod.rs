//! Expert iteration (`proofstep iterate`), the loop the strongest provers train with: each round
//! searches a pool of unproved statements with the current model, keeps the proofs Lean
//! verified, turns their steps into training examples (deduplicated), fine-tunes the current
//! model on everything gathered so far, and evaluates the new model on a validation split.
//!
//! Everything a round makes lives in `OUT/round-K/` (`pool.jsonl`, `examples.jsonl`,
//! `train.jsonl`, `model/`, `val.jsonl`) and one line per finished round in `OUT/rounds.jsonl`;
//! each step is resumable (results files append, writes are atomic, training resumes from its
//! newest checkpoint), so a killed run continues where it stopped.

pub mod pairs;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::data::format::Example;
use crate::eval::{evaluate, EvalError, EvalOptions, ResultsFile, Summary, Task, TheoremRecord};
use crate::fsutil::write_atomic;
use crate::lean::ProofBackend;
use crate::model::Predictor;
use crate::search::SearchConfig;
use crate::train::{train, ModelSource, TrainOptions};

/// How a fine-tune of one round runs.
#[derive(Clone, Debug)]
pub struct FineTune {
    /// Updates per round.
    pub max_steps: usize,
    /// Peak learning rate (linear warmup, then cosine).
    pub learning_rate: f64,
    /// Examples per update.
    pub batch_size: usize,
    /// Warmup updates.
    pub warmup_steps: usize,
    /// Longest example, in tokens.
    pub model_max_length: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Where to fine-tune (`--device`).
    pub device: crate::model::DeviceChoice,
    /// Share of the training data taken by the examples of the proofs found (see
    /// [`found_repeats`]); 0 keeps one copy of each.
    pub found_share: f64,
}

/// What `iterate` runs with.
#[derive(Clone, Debug)]
pub struct IterateOptions {
    /// Rounds after round 0 (the starting model's evaluation).
    pub rounds: usize,
    /// The folder every round writes into.
    pub out: PathBuf,
    /// Theorems searched at once.
    pub workers: usize,
    /// The search's budget, for the pool and for validation alike.
    pub search: SearchConfig,
    /// The fine-tune of each round.
    pub fine_tune: FineTune,
    /// The examples the starting model learned from, mixed into every round's training data
    /// so a round does not forget them (optional).
    pub base_examples: Option<PathBuf>,
}

/// One finished round, as `rounds.jsonl` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// 0 for the starting model.
    pub round: usize,
    /// The round's model folder.
    pub model: PathBuf,
    /// Pool statements searched this round (those no earlier round proved).
    pub pool_searched: usize,
    /// Of those, proved.
    pub pool_proved: usize,
    /// Pool statements proved in this round or an earlier one.
    pub pool_proved_total: usize,
    /// Training examples this round's proofs added (new ones only).
    pub new_examples: usize,
    /// Examples the round's fine-tune learned from (the found ones counted once per copy).
    pub train_examples: usize,
    /// Copies of each found example in the round's training data ([`found_repeats`]; 1 in
    /// rounds recorded before it existed).
    #[serde(default = "one")]
    pub found_repeats: usize,
    /// Validation theorems proved.
    pub val_proved: usize,
    /// Validation theorems.
    pub val_total: usize,
    /// Validation pass rate and its 95 % Wilson interval.
    pub val_rate: f64,
    /// Lower end of the interval.
    pub val_low: f64,
    /// Upper end of the interval.
    pub val_high: f64,
    /// Seconds spent searching the pool, training and validating.
    pub search_secs: f64,
    /// Seconds of the fine-tune.
    pub train_secs: f64,
    /// Seconds of the validation search.
    pub val_secs: f64,
}

/// The finished rounds of a run in `out` (none for a new run): round 0, 1, ... in order, each
/// once. A last line cut short by a killed run is not a round (it is cut off the file when the
/// next round is appended).
pub fn finished_rounds(out: &Path) -> anyhow::Result<Vec<RoundRecord>> {
    let path = out.join("rounds.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    let rounds: Vec<RoundRecord> = complete
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!("{}: line {} is not a round record", path.display(), i + 1)
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some((k, r)) = rounds.iter().enumerate().find(|(k, r)| r.round != *k) {
        anyhow::bail!(
            "{}: line {} records round {} where round {k} belongs: the file holds rounds of two runs; give a new --out",
            path.display(),
            k + 1,
            r.round
        );
    }
    Ok(rounds)
}

/// Runs the rounds not finished yet. `load` loads a model folder as a predictor; `backend`
/// checks every step. The starting model is copied into `round-0/model`.
pub fn run_iterate(
    start_model: &Path,
    pool: &[Task],
    val: &[Task],
    backend: &dyn ProofBackend,
    load: &dyn Fn(&Path) -> anyhow::Result<Box<dyn Predictor>>,
    options: &IterateOptions,
) -> anyhow::Result<Vec<RoundRecord>> {
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let mut rounds = finished_rounds(&options.out)?;
    for round in rounds.len()..=options.rounds {
        let dir = options.out.join(format!("round-{round}"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let model_dir = dir.join("model");
        let mut record = RoundRecord {
            round,
            model: model_dir.clone(),
            pool_searched: 0,
            pool_proved: 0,
            pool_proved_total: 0,
            new_examples: 0,
            train_examples: 0,
            found_repeats: 1,
            val_proved: 0,
            val_total: val.len(),
            val_rate: 0.0,
            val_low: 0.0,
            val_high: 0.0,
            search_secs: 0.0,
            train_secs: 0.0,
            val_secs: 0.0,
        };
        if round == 0 {
            copy_model(start_model, &model_dir)?;
        } else {
            let previous = options
                .out
                .join(format!("round-{}", round - 1))
                .join("model");
            let proved_before = proved_names(&options.out, round)?;
            let todo: Vec<Task> = pool
                .iter()
                .filter(|t| !proved_before.contains(&t.name))
                .cloned()
                .collect();
            eprintln!(
                "round {round}: searching {} pool statements with {}",
                todo.len(),
                previous.display()
            );
            let started = Instant::now();
            let predictor = load(&previous)?;
            let records = search(
                &todo,
                backend,
                predictor.as_ref(),
                &dir.join("pool.jsonl"),
                options,
                true,
            )?;
            record.search_secs = started.elapsed().as_secs_f64();
            record.pool_searched = todo.len();
            record.pool_proved = records.iter().filter(|r| r.proved).count();
            record.pool_proved_total = proved_before.len() + record.pool_proved;

            let gathered = gather_examples(&options.out, round, &records, options)?;
            record.new_examples = gathered.new;
            record.train_examples = gathered.total;
            record.found_repeats = gathered.repeats;
            let train_path = gathered.path;
            let started = Instant::now();
            fine_tune(&previous, &train_path, &model_dir, &options.fine_tune)?;
            record.train_secs = started.elapsed().as_secs_f64();
        }
        eprintln!(
            "round {round}: validating {} on {} theorems",
            model_dir.display(),
            val.len()
        );
        let started = Instant::now();
        let predictor = load(&model_dir)?;
        let records = search(
            val,
            backend,
            predictor.as_ref(),
            &dir.join("val.jsonl"),
            options,
            false,
        )?;
        record.val_secs = started.elapsed().as_secs_f64();
        let summary = Summary::of(&records, options.search.max_expansions);
        record.val_proved = summary.proved;
        record.val_rate = summary.pass_rate;
        (record.val_low, record.val_high) = summary.ci95;
        append_round(&options.out, &record)?;
        eprintln!(
            "round {round}: val {}/{} ({:.1} %)",
            record.val_proved,
            record.val_total,
            100.0 * record.val_rate
        );
        rounds.push(record);
    }
    write_atomic(
        &options.out.join("rounds.svg"),
        rounds_svg(&rounds).as_bytes(),
    )
    .context("writing rounds.svg")?;
    Ok(rounds)
}

/// How many times a round searches a theorem Lean failed on before it stops.
const SEARCHES_OF_A_LEAN_FAILURE: usize = 3;

/// Searches `tasks` into the resumable results file `out`; returns every record of the file.
/// A theorem Lean failed on (a record to retry) is searched again; if Lean fails on it every
/// time, the round stops (`EvalError::LeanFailed`) rather than count it as not proved in a
/// figure that is recorded for good.
fn search(
    tasks: &[Task],
    backend: &dyn ProofBackend,
    predictor: &dyn Predictor,
    out: &Path,
    options: &IterateOptions,
    keep_trace: bool,
) -> anyhow::Result<Vec<TheoremRecord>> {
    let eval_options = EvalOptions {
        workers: options.workers.max(1),
        search: options.search.clone(),
        keep_trace,
    };
    let wanted: HashSet<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    let mut failed = Vec::new();
    for _ in 0..SEARCHES_OF_A_LEAN_FAILURE {
        let (results, _) = ResultsFile::open(out)?;
        let progress = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} theorems [{elapsed} < {eta}]")
                .expect("valid template"),
        );
        evaluate(
            tasks,
            backend,
            predictor,
            &results,
            &eval_options,
            &progress,
        )?;
        progress.finish_and_clear();
        drop(results);
        let (_, records) = ResultsFile::open(out)?;
        let records: Vec<TheoremRecord> = records
            .into_iter()
            .filter(|r| wanted.contains(r.name.as_str()))
            .collect();
        failed = records.iter().filter(|r| r.retry).cloned().collect();
        if failed.is_empty() {
            return Ok(records);
        }
        tracing::warn!(
            count = failed.len(),
            "Lean failed on some theorems of {}; searching them again",
            out.display()
        );
    }
    Err(EvalError::LeanFailed {
        out: out.to_path_buf(),
        count: failed.len(),
        first: failed[0].name.clone(),
        error: failed[0].error.clone().unwrap_or_default(),
    }
    .into())
}

/// Pool statements proved in the rounds before `round`.
fn proved_names(out: &Path, round: usize) -> anyhow::Result<HashSet<String>> {
    let mut names = HashSet::new();
    for k in 1..round {
        let (_, records) = ResultsFile::open(&out.join(format!("round-{k}")).join("pool.jsonl"))?;
        names.extend(records.into_iter().filter(|r| r.proved).map(|r| r.name));
    }
    Ok(names)
}

/// What [`gather_examples`] wrote.
struct Gathered {
    /// Examples this round's proofs added.
    new: usize,
    /// The round's training data.
    path: PathBuf,
    /// Its examples, each copy counted.
    total: usize,
    /// Copies of each found example in it.
    repeats: usize,
}

/// Copies of each found example that make the found examples `share` (at most 0.9, so at most
/// nine times `base` in all) of the training data beside `base` replayed ones, to the nearest
/// whole copy: at least one, one when there is nothing to replay (the found examples are then
/// all of it). Without these copies a round's few hundred found examples
/// are lost among tens of thousands replayed (a fine-tune of 9,600 draws sees each about
/// once in six).
pub fn found_repeats(found: usize, base: usize, share: f64) -> usize {
    if found == 0 || base == 0 || share <= 0.0 || !share.is_finite() {
        return 1;
    }
    let share = share.min(0.9);
    let repeats = (share / (1.0 - share) * base as f64 / found as f64).round();
    (repeats as usize).max(1)
}

/// What makes two example lines the same example: the seed's line of their (input, output),
/// however the file spelled the JSON (another tool's key order, spacing or escapes), so a
/// replayed example is never taken for a found one and repeated; a line that is not an
/// example is its own key.
fn example_key(line: &str) -> String {
    serde_json::from_str::<Example>(line)
        .map(|e| e.to_seed_json())
        .unwrap_or_else(|_| line.to_string())
}

/// Writes this round's new examples (`examples.jsonl`) and its training data (`train.jsonl`:
/// the base examples, then every round's found ones, repeated [`found_repeats`] times).
fn gather_examples(
    out: &Path,
    round: usize,
    records: &[TheoremRecord],
    options: &IterateOptions,
) -> anyhow::Result<Gathered> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut base: Vec<String> = Vec::new();
    if let Some(path) = &options.base_examples {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the base examples {}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if seen.insert(example_key(line)) {
                base.push(line.to_string());
            }
        }
    }
    let mut found: Vec<String> = Vec::new();
    for k in 1..round {
        let path = out.join(format!("round-{k}")).join("examples.jsonl");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if seen.insert(example_key(line)) {
                found.push(line.to_string());
            }
        }
    }
    let mut new_lines = Vec::new();
    for record in records {
        for example in pairs::proof_examples(record) {
            let line = example.to_seed_json();
            if seen.insert(line.clone()) {
                new_lines.push(line);
            }
        }
    }
    found.extend(new_lines.iter().cloned());
    let repeats = found_repeats(found.len(), base.len(), options.fine_tune.found_share);
    let dir = out.join(format!("round-{round}"));
    let join = |ls: &[String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    write_atomic(&dir.join("examples.jsonl"), join(&new_lines).as_bytes())?;
    let found_text = join(&found);
    let mut train = join(&base);
    train.reserve(found_text.len() * repeats);
    for _ in 0..repeats {
        train.push_str(&found_text);
    }
    let path = dir.join("train.jsonl");
    write_atomic(&path, train.as_bytes())?;
    Ok(Gathered {
        new: new_lines.len(),
        path,
        total: base.len() + found.len() * repeats,
        repeats,
    })
}

/// Fine-tunes `from` on `data` into `into`, resuming from the newest checkpoint a killed run
/// left; a finished model folder is kept as it is.
fn fine_tune(from: &Path, data: &Path, into: &Path, ft: &FineTune) -> anyhow::Result<()> {
    let saved = crate::model::io::weights::weight_files(into)
        .is_ok_and(|files| files.iter().all(|f| f.is_file()));
    if saved && into.join("trainer_state.json").is_file() {
        return Ok(());
    }
    let has_checkpoint = std::fs::read_dir(into)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
        })
        .unwrap_or(false);
    let options = TrainOptions {
        model: ModelSource::Folder(from.to_path_buf()),
        train_data_path: data.to_path_buf(),
        valid_data_path: None,
        output_dir: into.to_path_buf(),
        logging_dir: None,
        report_to: Vec::new(),
        num_train_epochs: 1.0,
        max_steps: Some(ft.max_steps.max(1)),
        per_device_train_batch_size: ft.batch_size.max(1),
        per_device_eval_batch_size: ft.batch_size.max(1),
        gradient_accumulation_steps: 1,
        evaluation_strategy: crate::train::Strategy::No,
        eval_steps: ft.max_steps.max(1),
        max_eval_samples: None,
        save_strategy: crate::train::Strategy::Steps,
        save_steps: (ft.max_steps / 4).max(1),
        save_total_limit: Some(1),
        learning_rate: ft.learning_rate,
        load_best_model_at_end: false,
        weight_decay: 0.0,
        warmup_ratio: 0.0,
        warmup_steps: Some(ft.warmup_steps),
        lr_scheduler_type: crate::train::SchedulerKind::Cosine,
        max_grad_norm: 1.0,
        logging_steps: (ft.max_steps / 10).max(1),
        seed: ft.seed,
        model_max_length: ft.model_max_length,
        resume_from_checkpoint: has_checkpoint.then(|| PathBuf::from("true")),
        device: ft.device,
        mixed_precision: crate::train::MixedPrecision::No,
    };
    let stop = AtomicBool::new(false);
    let report = train(&options, &stop).with_context(|| {
        format!(
            "fine-tuning {} on {} into {}",
            from.display(),
            data.display(),
            into.display()
        )
    })?;
    anyhow::ensure!(
        report.output_dir.is_some(),
        "the fine-tune into {} stopped before it finished; run iterate again to resume it",
        into.display()
    );
    Ok(())
}

/// Copies the model folder's files (not its checkpoints) into `into`, atomically per file.
fn copy_model(from: &Path, into: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(into)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let bytes = std::fs::read(entry.path())?;
            write_atomic(&into.join(entry.file_name()), &bytes)?;
        }
    }
    Ok(())
}

/// Appends one round's record to `rounds.jsonl` and flushes it.
fn append_round(out: &Path, record: &RoundRecord) -> anyhow::Result<()> {
    let path = out.join("rounds.jsonl");
    // A half-written last line (a killed run) is cut off first.
    if let Ok(text) = std::fs::read(&path) {
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.set_len(complete as u64)?;
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot append to {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(record)?)?;
    file.sync_data()?;
    Ok(())
}

/// The validation pass rate per round, with its interval, as an SVG plot.
pub fn rounds_svg(rounds: &[RoundRecord]) -> String {
    use std::fmt::Write as _;
    let (w, h, left, right, top, bottom) = (520.0, 320.0, 60.0, 20.0, 30.0, 50.0);
    let n = rounds.len().max(2) as f64 - 1.0;
    let x = |r: f64| left + (w - left - right) * r / n;
    let y = |rate: f64| top + (h - top - bottom) * (1.0 - rate);
    let mut svg = crate::eval::report::svg_canvas(w, h);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="18" text-anchor="middle">Validation pass rate per round of expert iteration</text>"#,
        w / 2.0
    );
    for tick in 0..=5 {
        let rate = tick as f64 / 5.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y0}" y2="{y0}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}%</text>"##,
            w - right,
            left - 6.0,
            y(rate) + 4.0,
            (rate * 100.0) as u32,
            y0 = y(rate)
        );
    }
    for r in rounds {
        let cx = x(r.round as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{cx}" x2="{cx}" y1="{}" y2="{}" stroke="#888"/><circle cx="{cx}" cy="{}" r="4" fill="#1f77b4"/><text x="{cx}" y="{}" text-anchor="middle">{}</text>"##,
            y(r.val_low),
            y(r.val_high),
            y(r.val_rate),
            h - bottom + 16.0,
            r.round
        );
    }
    let points: Vec<String> = rounds
        .iter()
        .map(|r| format!("{},{}", x(r.round as f64), y(r.val_rate)))
        .collect();
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4"/>"##,
        points.join(" ")
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">round (0: the starting model; bars: 95 % interval)</text>"#,
        w / 2.0,
        h - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">val theorems proved</text>"#,
        h / 2.0,
        h / 2.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// The default of [`RoundRecord::found_repeats`] for rounds recorded before it existed.
fn one() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::found_repeats;

    #[test]
    fn found_examples_make_up_their_share() {
        // 156 found beside 57,828 replayed, half and half: 371 copies of each.
        let r = found_repeats(156, 57_828, 0.5);
        assert_eq!(r, 371);
        let share = (156 * r) as f64 / (156 * r + 57_828) as f64;
        assert!((share - 0.5).abs() < 0.01, "{share}");
        let r = found_repeats(100, 900, 0.25);
        assert_eq!(r, 3);
    }

    #[test]
    fn rounds_and_settings_recorded_before_the_share_read_as_one_copy() {
        let old = r#"{"round":1,"model":"run/round-1/model","pool_searched":120,"pool_proved":86,"pool_proved_total":86,"new_examples":156,"train_examples":57976,"val_proved":140,"val_total":146,"val_rate":0.95,"val_low":0.91,"val_high":0.98,"search_secs":972.7,"train_secs":646.0,"val_secs":316.7}"#;
        let record: super::RoundRecord = serde_json::from_str(old).unwrap();
        assert_eq!(record.found_repeats, 1);
        let old = r#"{"pool":"d6","base_examples":"2e","fine_tune":[300,0.0005,32,20,512,0]}"#;
        let settings: crate::eval::IterateSettings = serde_json::from_str(old).unwrap();
        assert_eq!(settings.found_share, 0.0);
    }

    #[test]
    fn an_example_is_the_same_however_its_line_spells_it() {
        use super::example_key;
        let seed = r#"{"input": "[GOAL]\u22a2 True[PROOFSTEP]", "output": "trivial<|endoftext|>"}"#;
        let other = r#"{"output":"trivial<|endoftext|>","input":"[GOAL]⊢ True[PROOFSTEP]"}"#;
        assert_eq!(example_key(seed), example_key(other));
        assert_eq!(example_key(seed), seed);
        assert_ne!(example_key(seed), example_key("not json"));
    }

    #[test]
    fn one_copy_without_replay_or_share() {
        assert_eq!(found_repeats(156, 0, 0.5), 1);
        assert_eq!(found_repeats(156, 57_828, 0.0), 1);
        assert_eq!(found_repeats(0, 57_828, 0.5), 1);
        assert_eq!(found_repeats(57_828, 10, 0.5), 1);
        assert_eq!(found_repeats(1, 1_000, 0.9), 9_000);
    }
}
