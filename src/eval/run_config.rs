//! What an evaluation run is: the model, the Lean backend, the search settings, the dataset
//! and the shard of it that together decide its results. Recorded beside the results file
//! (`<out>.config.json`) when a run starts, so a later run on the same `--out` resumes only a
//! run of the same configuration, and `eval merge` joins only shards of one run.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::eval::dataset::Task;
use crate::eval::shard::Shard;
use crate::model::Decoding;
use crate::search::SearchConfig;

/// The configuration of an evaluation run. Two configurations are equal (`==`) when they give
/// the same results: the same model contents, backend, search settings and theorems; where the
/// model or dataset lies, settings that only change the speed (workers, Lean processes, check
/// threads, pipelining), `--limit` (a larger one extends the same run) and `--trace` (what each
/// line keeps, not what it finds) are recorded or left out but never compared.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    /// The model folder as given, or the served model and its server (for the messages; not
    /// compared).
    pub model: String,
    /// [`crate::model::model_fingerprint`] of the model folder, or `served model NAME`.
    pub model_fingerprint: String,
    /// The Lean backend (`server`, `file`, `repl`).
    pub backend: String,
    /// Seconds one tactic may take.
    pub tactic_timeout: f64,
    /// Nodes expanded at most per theorem.
    pub expansions: usize,
    /// Wall-time limit per theorem, in seconds.
    pub time_limit: f64,
    /// Candidates per temperature (sampling).
    pub samples: Option<usize>,
    /// Sampling temperatures.
    pub temperatures: Option<Vec<f32>>,
    /// Nucleus mass kept when sampling.
    pub top_p: Option<f32>,
    /// Beam width (beam search instead of sampling).
    pub beam: Option<usize>,
    /// Longest tactic, in tokens.
    pub max_tokens: usize,
    /// Sampling seed.
    pub seed: u64,
    /// Retry temperatures when the queue runs dry.
    pub retry_temperatures: Vec<f32>,
    /// Tactics also tried at every state.
    pub also_try: Vec<String>,
    /// Name repairs checked per expansion at most (0: none; runs before name repair read as 0).
    pub name_repairs: usize,
    /// `search::SEARCH_RULES` of the proofstep that searched (runs before it was recorded read
    /// as empty).
    pub search_rules: String,
    /// The dataset, as given (for the messages; not compared).
    pub dataset: String,
    /// The dataset split evaluated, if one was chosen.
    pub split: Option<String>,
    /// [`tasks_fingerprint`] of the dataset's theorems (after the split filter, before
    /// `--limit`, so a larger `--limit` extends the same run).
    pub dataset_fingerprint: String,
    /// How many theorems that is (for the messages; not compared).
    pub theorems: usize,
    /// The part of the dataset this run searches (`--shard I/N`); none for the whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// How many theorems of that part the run searches (within `--limit`): what `eval merge`
    /// expects of the shard (not compared, like `--limit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_theorems: Option<usize>,
    /// The whole-proof settings of `eval --mode refine`; none for a search run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineSettings>,
    /// `--limit`: the first theorems of the dataset the run takes (not compared when resuming,
    /// where a larger one extends the same run; shards merged must agree on it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// What checks the proofs: Lean, its libraries, the axioms allowed, the check's rules.
    pub checker: Checker,
    /// The settings of an expert-iteration run (`iterate`); none for an evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterate: Option<IterateSettings>,
}

/// What decides an `iterate` run's rounds besides the search's settings and the validation
/// theorems: the pool it learns from and each round's fine-tune (`--rounds` is not compared:
/// more rounds extend the same run).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IterateSettings {
    /// [`tasks_fingerprint`] of the pool's statements (after validation copies are dropped).
    pub pool: String,
    /// SHA-256 of `--base-examples`' contents, or empty without them.
    pub base_examples: String,
    /// Updates, peak learning rate, batch size, warmup, longest example and shuffle seed of
    /// each fine-tune.
    pub fine_tune: (usize, f64, usize, usize, usize, u64),
    /// `--found-share`: the share of each fine-tune's examples taken by the proofs found (0 in
    /// runs recorded before it existed, which learned each found example once, as 0 does).
    pub found_share: f64,
}

/// What decides whether a proof found is counted: which Lean checks it against which compiled
/// libraries, which axioms it may rest on, and the rules of proofstep's final check. A run
/// resumed or merged under another checker would count proofs by two standards.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checker {
    /// Lean's `--version` line.
    pub lean: String,
    /// `Toolchain::library_fingerprint` of the theorems' imports.
    pub libraries: String,
    /// Axioms a proof may rest on besides the default ones (`--allow-axiom`), sorted.
    pub allowed_axioms: Vec<String>,
    /// `lean::CHECK_RULES` of the proofstep that checked.
    pub check_rules: String,
    /// The memory limit of each Lean process, MB (recorded for the report, not compared: a
    /// process that outgrows it is restarted, and a theorem it stopped is searched again).
    pub lean_memory_mb: Option<u64>,
    /// The version of the proofstep that ran (recorded, not compared).
    pub proofstep: String,
}

/// What decides a refine run's results besides the search's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefineSettings {
    /// Independent attempts per theorem.
    pub attempts: usize,
    /// Repairs per attempt.
    pub rounds: usize,
    /// The whole-proof model's name (where it is served is not compared).
    pub model: String,
    /// `chat` or `completions`.
    pub api_kind: String,
    /// Its sampling temperature.
    pub temperature: f32,
    /// Its longest answer, in tokens.
    pub max_tokens: usize,
    /// SHA-256 of the two prompt templates.
    pub prompts: String,
    /// Whether the search runs after the attempts fail.
    pub then_search: bool,
}

impl RunConfig {
    /// The configuration of a run of `search` with `also_try` on `tasks`. `model`, `dataset`
    /// and their fingerprints identify the inputs; `backend` and `tactic_timeout` the checker.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &str,
        model_fingerprint: String,
        backend: &str,
        tactic_timeout: f64,
        search: &SearchConfig,
        also_try: &[String],
        dataset: &str,
        split: Option<String>,
        tasks: &[Task],
    ) -> RunConfig {
        let (samples, temperatures, top_p, beam) = match &search.generate.decoding {
            Decoding::Sample {
                temperatures,
                samples,
                top_p,
            } => (
                Some(*samples),
                Some(temperatures.clone()),
                Some(*top_p),
                None,
            ),
            Decoding::Beam { width } => (None, None, None, Some(*width)),
        };
        RunConfig {
            model: model.to_string(),
            model_fingerprint,
            backend: backend.to_string(),
            tactic_timeout,
            expansions: search.max_expansions,
            time_limit: search.time_limit.as_secs_f64(),
            samples,
            temperatures,
            top_p,
            beam,
            max_tokens: search.generate.max_new_tokens,
            seed: search.generate.seed,
            retry_temperatures: search.retry_temperatures.clone(),
            also_try: also_try.to_vec(),
            name_repairs: search.name_repairs,
            search_rules: crate::search::SEARCH_RULES.to_string(),
            dataset: dataset.to_string(),
            split,
            dataset_fingerprint: tasks_fingerprint(tasks),
            theorems: tasks.len(),
            shard: None,
            shard_theorems: None,
            refine: None,
            limit: None,
            checker: Checker::default(),
            iterate: None,
        }
    }

    /// This configuration for an `iterate` run with `settings`.
    pub fn iterated(mut self, settings: IterateSettings) -> RunConfig {
        self.iterate = Some(settings);
        self
    }

    /// This configuration checked by `checker`.
    pub fn checked_by(mut self, checker: Checker) -> RunConfig {
        self.checker = checker;
        self
    }

    /// This configuration taking the first `limit` theorems only.
    pub fn limited(mut self, limit: Option<usize>) -> RunConfig {
        self.limit = limit;
        self
    }

    /// This configuration for `eval --mode refine` with `settings`.
    pub fn refined(mut self, settings: RefineSettings) -> RunConfig {
        self.refine = Some(settings);
        self
    }

    /// This configuration for the part `shard` of `tasks` (the tasks the run searches, within
    /// `--limit`).
    pub fn sharded(mut self, shard: Shard, tasks: &[Task]) -> RunConfig {
        self.shard = Some(shard);
        self.shard_theorems = Some(tasks.iter().filter(|t| shard.holds(&t.name)).count());
        self
    }

    /// The same configuration for the whole dataset: what the merged shards of a run amount to.
    pub fn whole(mut self) -> RunConfig {
        self.shard = None;
        self.shard_theorems = None;
        self
    }

    /// What differs between `self` (a recorded run) and `now`, one line per setting, each
    /// naming the flag that sets it, e.g. "--expansions: 1 in the recorded run, 2 now". Empty
    /// when the two give the same results.
    pub fn differences(&self, now: &RunConfig) -> Vec<String> {
        self.differences_between(now, "in the recorded run", "now")
    }

    /// [`RunConfig::differences`], with the two sides named `mine` and `theirs` (e.g. "in
    /// a.jsonl", "in b.jsonl").
    pub fn differences_between(&self, now: &RunConfig, mine: &str, theirs: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut compare = |flag: &str, then: String, now: String| {
            if then != now {
                out.push(format!("{flag}: {then} {mine}, {now} {theirs}"));
            }
        };
        if self.model_fingerprint != now.model_fingerprint {
            compare(
                "--model",
                format!(
                    "{} (fingerprint {})",
                    self.model,
                    short(&self.model_fingerprint)
                ),
                format!(
                    "{} (fingerprint {})",
                    now.model,
                    short(&now.model_fingerprint)
                ),
            );
        }
        compare("--backend", show(&self.backend), show(&now.backend));
        compare(
            "--tactic-timeout",
            show(&self.tactic_timeout),
            show(&now.tactic_timeout),
        );
        compare(
            "--expansions",
            show(&self.expansions),
            show(&now.expansions),
        );
        compare(
            "--time-limit",
            show(&self.time_limit),
            show(&now.time_limit),
        );
        compare("--samples", show(&self.samples), show(&now.samples));
        compare(
            "--temperatures",
            show(&self.temperatures),
            show(&now.temperatures),
        );
        compare("--top-p", show(&self.top_p), show(&now.top_p));
        compare("--beam", show(&self.beam), show(&now.beam));
        compare(
            "--max-tokens",
            show(&self.max_tokens),
            show(&now.max_tokens),
        );
        compare("--seed", show(&self.seed), show(&now.seed));
        compare(
            "--retry-temperatures",
            show(&self.retry_temperatures),
            show(&now.retry_temperatures),
        );
        compare("--also-try", show(&self.also_try), show(&now.also_try));
        compare(
            "--name-repairs",
            show(&self.name_repairs),
            show(&now.name_repairs),
        );
        // A refine run without `--then-search` ran no search.
        let searched = |c: &RunConfig| c.refine.as_ref().is_none_or(|r| r.then_search);
        if searched(self) || searched(now) {
            compare(
                "proofstep's search (its rules changed: start a new --out)",
                format!("rules of {}", show(&self.search_rules)),
                format!("rules of {}", show(&now.search_rules)),
            );
        }
        let (a, b) = (&self.checker, &now.checker);
        compare(
            "--allow-axiom",
            show(&a.allowed_axioms),
            show(&b.allowed_axioms),
        );
        compare("--lean (Lean's version)", show(&a.lean), show(&b.lean));
        if a.libraries != b.libraries {
            compare(
                "--lean-path / the Lake project (the compiled libraries imported)",
                format!("build {}", short(&a.libraries)),
                format!("build {}", short(&b.libraries)),
            );
        }
        compare(
            "proofstep's final check (its rules changed: start a new --out)",
            format!("rules of {}", show(&a.check_rules)),
            format!("rules of {}", show(&b.check_rules)),
        );
        compare("--split", show(&self.split), show(&now.split));
        let mode = |c: &RunConfig| {
            if c.refine.is_some() {
                "refine"
            } else {
                "search"
            }
        };
        compare("--mode", mode(self).to_string(), mode(now).to_string());
        if let (Some(a), Some(b)) = (&self.refine, &now.refine) {
            compare("--attempts", show(&a.attempts), show(&b.attempts));
            compare("--rounds", show(&a.rounds), show(&b.rounds));
            compare("--api-model", show(&a.model), show(&b.model));
            compare("--api-kind", show(&a.api_kind), show(&b.api_kind));
            compare(
                "--api-temperature",
                show(&a.temperature),
                show(&b.temperature),
            );
            compare("--api-max-tokens", show(&a.max_tokens), show(&b.max_tokens));
            compare(
                "--prompt-first / --prompt-repair",
                format!("templates {}", short(&a.prompts)),
                format!("templates {}", short(&b.prompts)),
            );
            compare("--then-search", show(&a.then_search), show(&b.then_search));
        }
        let (a, b) = (&self.iterate, &now.iterate);
        compare(
            "--statements (the pool)",
            a.as_ref()
                .map_or("none".into(), |s| format!("pool {}", short(&s.pool))),
            b.as_ref()
                .map_or("none".into(), |s| format!("pool {}", short(&s.pool))),
        );
        compare(
            "--base-examples",
            a.as_ref()
                .map_or(String::new(), |s| short(&s.base_examples).to_string()),
            b.as_ref()
                .map_or(String::new(), |s| short(&s.base_examples).to_string()),
        );
        compare(
            "--steps / --learning-rate / --batch-size / --warmup-steps / --model-max-length / --train-seed",
            show(&a.as_ref().map(|s| s.fine_tune)),
            show(&b.as_ref().map(|s| s.fine_tune)),
        );
        compare(
            "--found-share (runs recorded before it existed resume with 0)",
            show(&a.as_ref().map(|s| s.found_share)),
            show(&b.as_ref().map(|s| s.found_share)),
        );
        let shard = |s: &Option<Shard>| s.map_or_else(|| "none".to_string(), |s| s.to_string());
        compare("--shard", shard(&self.shard), shard(&now.shard));
        if self.dataset_fingerprint != now.dataset_fingerprint {
            compare(
                "the theorems (--dataset, --header, --repo)",
                format!(
                    "{} ({} theorems, fingerprint {})",
                    self.dataset,
                    self.theorems,
                    short(&self.dataset_fingerprint)
                ),
                format!(
                    "{} ({} theorems, fingerprint {})",
                    now.dataset,
                    now.theorems,
                    short(&now.dataset_fingerprint)
                ),
            );
        }
        out
    }

    /// What was run, as the report's header and the summary's `about` list it: dataset,
    /// split, model, backend, budgets and decoding (and the shard, for one shard of a run).
    pub fn about(&self) -> Vec<(String, String)> {
        let mut decoding = match (self.beam, self.samples, &self.temperatures, self.top_p) {
            (Some(width), ..) => format!("beam {width}"),
            (None, Some(samples), Some(temperatures), Some(top_p)) => {
                format!("{samples} samples at temperatures {temperatures:?}, top-p {top_p}")
            }
            _ => "unknown".to_string(),
        };
        if !self.retry_temperatures.is_empty() {
            decoding = format!(
                "{decoding}; retries at temperatures {:?} when the queue runs dry",
                self.retry_temperatures
            );
        }
        if !self.also_try.is_empty() {
            decoding = format!("{decoding}; also tries {:?} at every state", self.also_try);
        }
        if self.name_repairs > 0 {
            decoding = format!(
                "{decoding}; up to {} name repairs per expansion",
                self.name_repairs
            );
        }
        let mut about = vec![
            (
                "dataset",
                match self.limit.filter(|l| *l < self.theorems) {
                    Some(limit) => format!(
                        "{} (the first {limit} of its {} theorems: --limit)",
                        self.dataset, self.theorems
                    ),
                    None => self.dataset.clone(),
                },
            ),
            ("split", self.split.clone().unwrap_or_else(|| "all".into())),
            ("model", self.model.clone()),
            ("backend", self.backend.clone()),
            ("expansions", self.expansions.to_string()),
            ("time limit (s)", self.time_limit.to_string()),
            ("tactic timeout (s)", self.tactic_timeout.to_string()),
            ("decoding", decoding),
            ("checked by", self.checker.describe()),
        ];
        if let Some(shard) = self.shard {
            about.push(("shard", shard.to_string()));
        }
        if let Some(r) = &self.refine {
            about.push((
                "mode",
                format!(
                    "refine: {} attempts × (1 + {} repairs) with {} ({}, temperature {}){}",
                    r.attempts,
                    r.rounds,
                    r.model,
                    r.api_kind,
                    r.temperature,
                    if r.then_search {
                        ", then the search from the longest accepted prefix"
                    } else {
                        ""
                    }
                ),
            ));
        }
        about.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

impl Checker {
    /// One line for the report: Lean, the axioms allowed, the check's rules.
    pub fn describe(&self) -> String {
        let axioms = if self.allowed_axioms.is_empty() {
            "no axiom beyond propext, Classical.choice, Quot.sound".to_string()
        } else {
            format!(
                "axioms allowed beyond propext, Classical.choice, Quot.sound: {}",
                self.allowed_axioms.join(", ")
            )
        };
        let lean = if self.lean.is_empty() {
            "Lean (version not recorded)"
        } else {
            &self.lean
        };
        let memory = self
            .lean_memory_mb
            .map_or("no memory limit".to_string(), |mb| {
                format!("{mb} MB per Lean process")
            });
        format!(
            "{lean}, libraries {}; {axioms}; proofstep {} (final-check rules of {}); {memory}",
            short(&self.libraries),
            self.proofstep,
            self.check_rules
        )
    }
}

impl PartialEq for RunConfig {
    /// Same results: no [`RunConfig::differences`].
    fn eq(&self, other: &RunConfig) -> bool {
        self.differences(other).is_empty()
    }
}

/// SHA-256 (hex) over every task's name, header and statement, in order: the theorems a run
/// searches, whatever file format or `--repo` they were read through. Headers that share one
/// file's text are hashed as that text (once) and where each ends, so the time stays linear in
/// the dataset's size, not in the sum of its headers.
pub fn tasks_fingerprint(tasks: &[Task]) -> String {
    let mut hash = Sha256::new();
    let mut texts: HashMap<*const u8, u64> = HashMap::new();
    let part = |hash: &mut Sha256, bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    for task in tasks {
        part(&mut hash, task.name.as_bytes());
        let (text, end) = task.header.backing();
        let next = texts.len() as u64;
        let index = *texts.entry(text.as_ptr()).or_insert_with(|| {
            part(&mut hash, text.as_bytes());
            next
        });
        hash.update(index.to_le_bytes());
        hash.update((end as u64).to_le_bytes());
        part(&mut hash, task.statement.as_bytes());
    }
    format!("{:x}", hash.finalize())
}

/// A value as JSON (`null` for none), for the messages.
fn show<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The first 12 hex digits of a fingerprint.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

/// The configuration tests of other modules compare: model "m", the server backend, dataset
/// "d", `expansions` and otherwise default search settings, over `tasks`.
#[cfg(any(test, feature = "testing"))]
pub fn test_config(expansions: usize, tasks: &[Task]) -> RunConfig {
    let search = SearchConfig {
        max_expansions: expansions,
        ..SearchConfig::default()
    };
    RunConfig::new(
        "m",
        "0".repeat(64),
        "server",
        60.0,
        &search,
        &[],
        "d",
        None,
        tasks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str) -> Task {
        Task {
            name: name.into(),
            header: "import Mini".into(),
            statement: format!("theorem {name} : True"),
            split: None,
        }
    }

    fn config(search: &SearchConfig, tasks: &[Task]) -> RunConfig {
        RunConfig::new(
            "models/a",
            "f".repeat(64),
            "server",
            60.0,
            search,
            &[],
            "data/test",
            None,
            tasks,
        )
    }

    #[test]
    fn a_refine_run_differs_from_a_search_run_and_from_one_with_other_rounds() {
        let tasks = [task("a")];
        let search = config(&SearchConfig::default(), &tasks);
        let settings = RefineSettings {
            attempts: 4,
            rounds: 2,
            model: "m".into(),
            api_kind: "chat".into(),
            temperature: 0.7,
            max_tokens: 1024,
            prompts: "a".repeat(64),
            then_search: false,
        };
        let refined = search.clone().refined(settings.clone());
        assert_eq!(
            search.differences(&refined),
            ["--mode: search in the recorded run, refine now"]
        );
        let fewer = search.clone().refined(RefineSettings {
            rounds: 0,
            ..settings.clone()
        });
        assert_eq!(
            refined.differences(&fewer),
            ["--rounds: 2 in the recorded run, 0 now"]
        );
        let read: RunConfig =
            serde_json::from_str(&serde_json::to_string(&refined).unwrap()).unwrap();
        assert_eq!(read, refined);
    }

    #[test]
    fn differences_name_each_flag_that_changed_and_nothing_else() {
        let tasks = [task("a"), task("b")];
        let base = config(&SearchConfig::default(), &tasks);
        assert!(base.differences(&base.clone()).is_empty());
        assert_eq!(base, base.clone());

        let mut search = SearchConfig {
            max_expansions: 7,
            ..SearchConfig::default()
        };
        search.generate.seed = 3;
        let mut other = config(&search, &tasks);
        other.model = "elsewhere/a".into(); // moved, same contents: not a difference
        let diffs = base.differences(&other);
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        assert_eq!(diffs[0], "--expansions: 100 in the recorded run, 7 now");
        assert!(diffs[1].starts_with("--seed: 0"), "{diffs:?}");
        assert_ne!(base, other);

        let more = config(&SearchConfig::default(), &[task("a"), task("c")]);
        let diffs = base.differences(&more);
        assert_eq!(diffs.len(), 1);
        assert!(
            diffs[0]
                .starts_with("the theorems (--dataset, --header, --repo): data/test (2 theorems"),
            "{diffs:?}"
        );
    }

    #[test]
    fn a_recorded_configuration_reads_back_equal() {
        let base = config(&SearchConfig::default(), &[task("a")]);
        let text = serde_json::to_string(&base).unwrap();
        let back: RunConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, base);
        assert_eq!(back.temperatures, base.temperatures);
    }

    /// A run recorded before name repair existed had none: resumed with repairs on, the
    /// difference is named with its flag.
    #[test]
    fn a_run_recorded_before_name_repair_had_none() {
        let base = config(&SearchConfig::default(), &[task("a")]);
        let mut old = serde_json::to_value(&base).unwrap();
        old.as_object_mut().unwrap().remove("name_repairs");
        let old: RunConfig = serde_json::from_value(old).unwrap();
        assert_eq!(old.name_repairs, 0);
        let now = config(
            &SearchConfig {
                name_repairs: 16,
                ..SearchConfig::default()
            },
            &[task("a")],
        );
        assert_eq!(
            old.differences(&now),
            ["--name-repairs: 0 in the recorded run, 16 now"]
        );
    }

    /// A run recorded before the search's rules were recorded searched under older ones: it is
    /// not resumed by a search that merges states or spends repairs otherwise.
    #[test]
    fn a_run_recorded_under_other_search_rules_is_not_resumed() {
        let now = config(&SearchConfig::default(), &[task("a")]);
        let mut old = serde_json::to_value(&now).unwrap();
        old.as_object_mut().unwrap().remove("search_rules");
        let old: RunConfig = serde_json::from_value(old).unwrap();
        assert_eq!(old.search_rules, "");
        let differences = old.differences(&now);
        assert_eq!(differences.len(), 1);
        assert!(
            differences[0].starts_with("proofstep's search (its rules changed: start a new --out)"),
            "{differences:?}"
        );
    }
}
