//! `eval merge`: the shards of one run (`eval --shard I/N` on several machines) joined into the
//! results of that run, as if one machine had made it. Shards are accepted only when their
//! recorded configurations ([`RunConfig`]) agree on everything but the shard and they
//! partition the dataset the same way; a theorem found in several files (a shard run twice)
//! is kept once; a shard that is missing or unfinished stops the merge unless asked for a
//! partial one.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::eval::record::TheoremRecord;
use crate::eval::report::sidecar;
use crate::eval::results_file::read_records;
use crate::eval::run_config::RunConfig;
use crate::eval::shard::Shard;
use crate::eval::EvalError;

/// The shards of a run, joined.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The run's configuration, for the whole dataset (no shard).
    pub config: RunConfig,
    /// One record per theorem, sorted by name.
    pub records: Vec<TheoremRecord>,
    /// Records dropped because an earlier file held the same theorem.
    pub duplicates: usize,
    /// Of those, how many disagreed with the kept one on whether it was proved (two runs of
    /// one shard can differ where a search hit its wall-time limit).
    pub disagreements: usize,
    /// Theorems of the shards given that have no result yet (only with `partial`).
    pub missing: usize,
    /// Theorems whose only record is one to retry (`TheoremRecord::retry`: Lean or the model
    /// server failed on them): counted, not proved, until a run searches them again.
    pub to_retry: usize,
    /// Shards of the partition that no file holds (only with `partial`).
    pub absent: Vec<Shard>,
    /// Results left out for theorems past the run's `--limit` (a shard run with a larger
    /// one, then resumed with the run's).
    pub past_limit: usize,
}

/// Reads the shards' results files and joins them. `configs` are their recorded
/// configurations, found to be of one run ([`shard_configs`]); `dataset` is the names of the
/// run's dataset, in order (read again from the file they name). Refuses files of different runs (naming the setting that
/// differs), a record outside its file's shard or the dataset, and — unless `partial` —
/// shards that are missing or unfinished, by name. Results past the run's `--limit` are left
/// out.
pub fn merge_shards(
    files: &[PathBuf],
    configs: &[RunConfig],
    partial: bool,
    dataset: &[String],
) -> Result<Merged, EvalError> {
    let reference = &configs[0];
    let count = reference.shard.unwrap_or(Shard::WHOLE).count;

    // The run's theorems: the dataset's first `--limit`. A shard resumed with a smaller
    // `--limit` holds results past it, which its run no longer counts: they are left out.
    let run_len = reference
        .limit
        .map_or(dataset.len(), |l| l.min(dataset.len()));
    let in_dataset: HashSet<&str> = dataset.iter().map(String::as_str).collect();
    let in_run: HashSet<&str> = dataset[..run_len].iter().map(String::as_str).collect();

    // Shards in order (a shard given twice keeps its first file's records), theorems once.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| configs[i].shard.unwrap_or(Shard::WHOLE).index);
    let mut kept: HashMap<String, TheoremRecord> = HashMap::new();
    let (mut duplicates, mut disagreements, mut past_limit) = (0, 0, 0);
    let mut given: BTreeSet<usize> = BTreeSet::new();
    for i in order {
        let shard = configs[i].shard.unwrap_or(Shard::WHOLE);
        given.insert(shard.index);
        for record in read_records(&files[i])? {
            if !shard.holds(&record.name) {
                return Err(EvalError::Mix {
                    file: files[i].clone(),
                    reason: format!(
                        "its settings say shard {shard}, but it holds a result for `{}`, which \
                         is in shard {}/{count}",
                        record.name,
                        Shard::index_of(&record.name, count)
                    ),
                });
            }
            if !in_dataset.contains(record.name.as_str()) {
                return Err(EvalError::Mix {
                    file: files[i].clone(),
                    reason: format!(
                        "it holds a result for `{}`, which the run's dataset does not hold \
                         (another dataset, or a line added by hand): run that shard again",
                        record.name
                    ),
                });
            }
            if !in_run.contains(record.name.as_str()) {
                past_limit += 1;
                continue;
            }
            match kept.get_mut(&record.name) {
                // A verdict replaces a record to retry, as a later line does in one file.
                Some(first) if first.retry && !record.retry => {
                    duplicates += 1;
                    *first = record;
                }
                Some(first) => {
                    duplicates += 1;
                    if first.proved != record.proved && !record.retry {
                        disagreements += 1;
                    }
                }
                None => {
                    kept.insert(record.name.clone(), record);
                }
            }
        }
    }
    let mut records: Vec<TheoremRecord> = kept.into_values().collect();
    records.sort_by(|a, b| a.name.cmp(&b.name));

    // Whether every theorem of the run has a result, shard by shard, by name.
    let mut wanted = vec![0usize; count];
    let mut found = vec![0usize; count];
    let have: HashSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
    for name in &dataset[..run_len] {
        let index = Shard::index_of(name, count);
        wanted[index] += 1;
        found[index] += usize::from(have.contains(name.as_str()));
    }
    let mut gaps = Vec::new();
    let mut missing = 0;
    let mut absent = Vec::new();
    for index in 0..count {
        let shard = Shard { index, count };
        let (got, want) = (found[index], wanted[index]);
        if !given.contains(&index) {
            absent.push(shard);
        } else if got < want {
            missing += want - got;
            gaps.push(format!(
                "shard {shard} has results for {got} of its {want} theorems (still running, \
                 or stopped)"
            ));
        }
    }
    if !absent.is_empty() {
        let names: Vec<String> = absent.iter().map(Shard::to_string).collect();
        gaps.insert(0, format!("no file holds shard {}", names.join(", ")));
    }
    if !gaps.is_empty() && !partial {
        return Err(EvalError::Incomplete(format!(
            "the shards given are not the whole run: {}",
            gaps.join("; ")
        )));
    }
    let to_retry = records.iter().filter(|r| r.retry).count();
    Ok(Merged {
        config: reference.clone().whole(),
        records,
        duplicates,
        disagreements,
        missing,
        to_retry,
        absent,
        past_limit,
    })
}

/// `--limit N`, or "no --limit".
fn limit_text(limit: Option<usize>) -> String {
    limit.map_or("no --limit".to_string(), |l| l.to_string())
}

/// Writes the merged records to `out` (atomically, one line per theorem). `out` must not
/// hold results yet; the caller holds its claim ([`crate::eval::RunClaim`]), which records
/// the merged configuration beside it, so that an `eval` with the run's flags and no
/// `--shard` resumes it.
pub fn write_merged(out: &Path, merged: &Merged) -> Result<(), EvalError> {
    let io = |source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    };
    let mut file = crate::fsutil::AtomicFile::create(out).map_err(io)?;
    for record in &merged.records {
        let line = serde_json::to_string(record).expect("a record always serializes");
        writeln!(file, "{line}").map_err(io)?;
    }
    file.commit().map_err(io)
}

/// The configurations recorded beside `files`, once each is known to be a shard of one run:
/// refuses files of different runs (naming the setting that differs) or partitions.
pub fn shard_configs(files: &[PathBuf]) -> Result<Vec<RunConfig>, EvalError> {
    let Some(first) = files.first() else {
        return Err(no_shard());
    };
    let configs = files
        .iter()
        .map(|f| shard_config(f))
        .collect::<Result<Vec<_>, _>>()?;
    let reference = &configs[0];
    let count = reference.shard.unwrap_or(Shard::WHOLE).count;
    let name = |f: &Path| f.display().to_string();
    for (file, config) in files.iter().zip(&configs).skip(1) {
        let shard = config.shard.unwrap_or(Shard::WHOLE);
        if shard.count != count {
            return Err(EvalError::Mix {
                file: file.clone(),
                reason: format!(
                    "it is shard {shard} and {} is shard {}: the dataset was split into {} \
                     parts in one and {count} in the other",
                    name(first),
                    reference.shard.unwrap_or(Shard::WHOLE),
                    shard.count
                ),
            });
        }
        // `--limit` takes the first theorems of the whole dataset before the shard takes
        // its part: shards of other limits partition other sets.
        if config.limit != reference.limit {
            return Err(EvalError::Mix {
                file: file.clone(),
                reason: format!(
                    "--limit: {} in {}, {} in {}: run every shard with the same --limit",
                    limit_text(reference.limit),
                    name(first),
                    limit_text(config.limit),
                    name(file)
                ),
            });
        }
        let differences = reference.clone().whole().differences_between(
            &config.clone().whole(),
            &format!("in {}", name(first)),
            &format!("in {}", name(file)),
        );
        if !differences.is_empty() {
            return Err(EvalError::Mix {
                file: file.clone(),
                reason: format!(
                    "it comes from a run with other settings: {}",
                    differences.join("; ")
                ),
            });
        }
    }
    Ok(configs)
}

/// The error of a merge given no file.
fn no_shard() -> EvalError {
    EvalError::Incomplete(
        "no shard to merge: give the shards' results files (the --out of each `eval --shard`)"
            .into(),
    )
}

/// The configuration recorded beside a shard's results.
fn shard_config(file: &Path) -> Result<RunConfig, EvalError> {
    let path = sidecar(file, "config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let what = if file.exists() {
                "it has"
            } else {
                "there is no such results file, and"
            };
            return Err(EvalError::Mix {
                file: file.to_path_buf(),
                reason: format!(
                    "{what} no record of its run's settings ({} is missing), so nothing says \
                     which run and shard it is (give the --out of an `eval --shard` run)",
                    path.display()
                ),
            });
        }
        Err(source) => return Err(EvalError::Io { path, source }),
    };
    let config: RunConfig = serde_json::from_str(&text).map_err(|e| EvalError::BadConfig {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if let Some(shard) = config.shard {
        if shard.count == 0 || shard.index >= shard.count {
            return Err(EvalError::BadConfig {
                path,
                reason: format!(
                    "its shard is {}/{}, not one of the parts of a dataset (I/N with I < N)",
                    shard.index, shard.count
                ),
            });
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::dataset::Task;

    fn tasks(n: usize) -> Vec<Task> {
        (0..n)
            .map(|i| Task {
                name: format!("t{i}"),
                header: String::new().into(),
                statement: format!("theorem t{i} : True"),
                split: None,
            })
            .collect()
    }

    /// `merge_shards` of `files` with their recorded configurations.
    fn merge(files: &[PathBuf], partial: bool, dataset: &[String]) -> Result<Merged, EvalError> {
        merge_shards(files, &shard_configs(files)?, partial, dataset)
    }

    /// The dataset's names, as `eval merge` reads them again.
    fn names(tasks: &[Task]) -> Vec<String> {
        tasks.iter().map(|t| t.name.clone()).collect()
    }

    fn config(expansions: usize, tasks: &[Task]) -> RunConfig {
        crate::eval::run_config::test_config(expansions, tasks)
    }

    /// A shard's results (a record per theorem of `tasks` in the shard, proved when `proved`)
    /// and its configuration, as `eval --shard` leaves them in `dir/name.jsonl`.
    fn shard_files(
        dir: &Path,
        name: &str,
        config: &RunConfig,
        shard: Shard,
        tasks: &[Task],
        proved: bool,
    ) -> PathBuf {
        let out = dir.join(format!("{name}.jsonl"));
        let config = config.clone().sharded(shard, tasks);
        std::fs::write(
            sidecar(&out, "config.json"),
            serde_json::to_string(&config).unwrap(),
        )
        .unwrap();
        let mut text = String::new();
        for t in tasks.iter().filter(|t| shard.holds(&t.name)) {
            let mut r = TheoremRecord::from_error(&t.name, None, "x".into(), 0.1);
            r.proved = proved;
            text.push_str(&serde_json::to_string(&r).unwrap());
            text.push('\n');
        }
        std::fs::write(&out, text).unwrap();
        out
    }

    #[test]
    fn shards_of_other_limits_or_with_foreign_lines_do_not_merge() {
        let dir = tempfile::tempdir().unwrap();
        let all = tasks(40);
        let (zero, one) = (Shard { index: 0, count: 2 }, Shard { index: 1, count: 2 });
        let small = config(4, &all).limited(Some(6));
        let a = shard_files(dir.path(), "a", &small, zero, &all[..6], false);
        let b = shard_files(dir.path(), "b", &config(4, &all), one, &all, false);
        let err = merge(&[a.clone(), b], false, &names(&all))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--limit: 6 in") && err.contains("no --limit in"),
            "{err}"
        );
        // A line for a theorem the shard's run never searched (hand-added).
        let c = shard_files(dir.path(), "c", &small, one, &all[..6], false);
        let mut text = std::fs::read_to_string(&c).unwrap();
        let stranger = (100..)
            .map(|i| format!("x{i}"))
            .find(|n| one.holds(n))
            .unwrap();
        text.push_str(
            &serde_json::to_string(&TheoremRecord::from_error(&stranger, None, "x".into(), 0.1))
                .unwrap(),
        );
        text.push('\n');
        std::fs::write(&c, text).unwrap();
        let err = merge(&[a.clone(), c], false, &names(&all))
            .unwrap_err()
            .to_string();
        assert!(err.contains("the run's dataset does not hold"), "{err}");
        // A line for a theorem of the dataset past the run's --limit, in place of one of the
        // run's: left out, and the theorem it displaced is missing (by name, not by count).
        let d = shard_files(dir.path(), "d", &small, one, &all[..6], false);
        let past = all[6..].iter().find(|t| one.holds(&t.name)).unwrap();
        let text = std::fs::read_to_string(&d).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[0] = serde_json::to_string(&TheoremRecord::from_error(
            &past.name,
            None,
            "x".into(),
            0.1,
        ))
        .unwrap();
        std::fs::write(&d, lines.join("\n") + "\n").unwrap();
        let err = merge(&[a.clone(), d.clone()], false, &names(&all))
            .unwrap_err()
            .to_string();
        assert!(err.contains("has results for"), "{err}");
        let merged = merge(&[a, d], true, &names(&all)).unwrap();
        assert_eq!((merged.past_limit, merged.missing), (1, 1));
        assert!(merged.records.iter().all(|r| r.name != past.name));
    }

    #[test]
    fn shards_of_one_run_merge_into_every_theorem_once() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(40);
        let c = config(4, &tasks);
        let files: Vec<PathBuf> = (0..3)
            .rev()
            .map(|index| {
                let shard = Shard { index, count: 3 };
                shard_files(dir.path(), &format!("s{index}"), &c, shard, &tasks, false)
            })
            .collect();
        let merged = merge(&files, false, &names(&tasks)).unwrap();
        let names: Vec<&str> = merged.records.iter().map(|r| r.name.as_str()).collect();
        let mut want: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
        want.sort();
        assert_eq!(names, want);
        assert_eq!((merged.duplicates, merged.missing), (0, 0));
        assert_eq!(merged.config.shard, None);
        assert_eq!(merged.config, c);
    }

    #[test]
    fn a_shard_given_twice_counts_once_and_disagreements_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(30);
        let c = config(4, &tasks);
        let s = |index| Shard { index, count: 2 };
        let a = shard_files(dir.path(), "a", &c, s(0), &tasks, false);
        let again = shard_files(dir.path(), "again", &c, s(0), &tasks, true);
        let b = shard_files(dir.path(), "b", &c, s(1), &tasks, false);
        let merged = merge(&[a, b, again], false, &names(&tasks)).unwrap();
        let in_zero = tasks.iter().filter(|t| s(0).holds(&t.name)).count();
        assert_eq!(merged.records.len(), 30);
        assert_eq!(merged.duplicates, in_zero);
        assert_eq!(merged.disagreements, in_zero);
        assert!(
            merged.records.iter().all(|r| !r.proved),
            "the first file's records are kept"
        );
    }

    #[test]
    fn a_verdict_in_any_file_replaces_a_record_to_retry() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(30);
        let c = config(4, &tasks);
        let s = |index| Shard { index, count: 2 };
        // Shard 0 run against a failing server (every record to retry), then again.
        let failed = shard_files(dir.path(), "failed", &c, s(0), &tasks, false);
        let text: String = std::fs::read_to_string(&failed)
            .unwrap()
            .lines()
            .map(|line| {
                let r: TheoremRecord = serde_json::from_str(line).unwrap();
                let retry = TheoremRecord::from_failure_to_retry(&r.name, None, "503".into(), 0.1);
                serde_json::to_string(&retry).unwrap() + "\n"
            })
            .collect();
        std::fs::write(&failed, text).unwrap();
        let again = shard_files(dir.path(), "again", &c, s(0), &tasks, true);
        let b = shard_files(dir.path(), "b", &c, s(1), &tasks, false);
        let in_zero = tasks.iter().filter(|t| s(0).holds(&t.name)).count();

        let alone = merge(&[failed.clone(), b.clone()], false, &names(&tasks)).unwrap();
        assert_eq!(alone.to_retry, in_zero, "records to retry are counted");
        for files in [
            [failed.clone(), b.clone(), again.clone()],
            [again, b, failed],
        ] {
            let merged = merge(&files, false, &names(&tasks)).unwrap();
            assert_eq!(merged.records.len(), 30);
            assert_eq!(merged.to_retry, 0, "{files:?}");
            assert_eq!(merged.disagreements, 0, "{files:?}");
            assert_eq!(merged.duplicates, in_zero);
            assert_eq!(merged.records.iter().filter(|r| r.proved).count(), in_zero);
        }
    }

    #[test]
    fn shards_of_other_settings_or_partitions_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(20);
        let a = shard_files(
            dir.path(),
            "a",
            &config(4, &tasks),
            Shard { index: 0, count: 2 },
            &tasks,
            false,
        );
        let b = shard_files(
            dir.path(),
            "b",
            &config(8, &tasks),
            Shard { index: 1, count: 2 },
            &tasks,
            false,
        );
        let err = merge(&[a.clone(), b.clone()], false, &names(&tasks)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, EvalError::Mix { .. }), "{text}");
        assert!(
            text.contains("--expansions: 4 in")
                && text.contains("a.jsonl, 8 in")
                && text.contains("b.jsonl"),
            "{text}"
        );
        let c = shard_files(
            dir.path(),
            "c",
            &config(4, &tasks),
            Shard { index: 1, count: 3 },
            &tasks,
            false,
        );
        let text = merge(&[a.clone(), c], false, &names(&tasks))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("shard 1/3") && text.contains("3 parts"),
            "{text}"
        );
        // Results without a recorded configuration belong to no known run.
        let bare = dir.path().join("bare.jsonl");
        std::fs::write(&bare, "").unwrap();
        let text = merge(&[a, bare], false, &names(&tasks))
            .unwrap_err()
            .to_string();
        assert!(text.contains("bare.config.json is missing"), "{text}");
    }

    #[test]
    fn a_record_outside_its_files_shard_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(20);
        let c = config(4, &tasks);
        let zero = Shard { index: 0, count: 2 };
        let a = shard_files(dir.path(), "a", &c, zero, &tasks, false);
        let b = shard_files(
            dir.path(),
            "b",
            &c,
            Shard { index: 1, count: 2 },
            &tasks,
            false,
        );
        // b's records relabelled as shard 0.
        std::fs::write(
            sidecar(&b, "config.json"),
            serde_json::to_string(&c.clone().sharded(zero, &tasks)).unwrap(),
        )
        .unwrap();
        let text = merge(&[a, b], false, &names(&tasks))
            .unwrap_err()
            .to_string();
        assert!(text.contains("which is in shard 1/2"), "{text}");
    }

    #[test]
    fn a_recorded_shard_that_is_no_part_is_a_bad_record_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(4);
        let a = shard_files(
            dir.path(),
            "a",
            &config(4, &tasks),
            Shard { index: 0, count: 1 },
            &tasks,
            false,
        );
        let path = sidecar(&a, "config.json");
        for (index, count) in [(0, 0), (3, 2)] {
            let mut value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            value["shard"] = serde_json::json!({"index": index, "count": count});
            std::fs::write(&path, value.to_string()).unwrap();
            let err = merge(std::slice::from_ref(&a), false, &names(&tasks)).unwrap_err();
            assert!(matches!(err, EvalError::BadConfig { .. }), "{err}");
        }
    }

    #[test]
    fn missing_or_unfinished_shards_stop_the_merge_unless_partial() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks(30);
        let c = config(4, &tasks);
        let s = |index| Shard { index, count: 3 };
        let a = shard_files(dir.path(), "a", &c, s(0), &tasks, false);
        let b = shard_files(dir.path(), "b", &c, s(1), &tasks, false);
        let err = merge(&[a.clone(), b.clone()], false, &names(&tasks)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, EvalError::Incomplete(_)), "{text}");
        let in_two = tasks.iter().filter(|t| s(2).holds(&t.name)).count();
        assert!(
            text.contains("no file holds shard 2/3") && text.contains("--partial"),
            "{text}"
        );
        let merged = merge(&[a.clone(), b.clone()], true, &names(&tasks)).unwrap();
        assert_eq!(merged.records.len(), 30 - in_two);
        assert_eq!((merged.missing, merged.absent.clone()), (0, vec![s(2)]));

        // A shard stopped half way: its last line gone.
        let full = std::fs::read_to_string(&b).unwrap();
        let cut: Vec<&str> = full.lines().collect();
        std::fs::write(&b, format!("{}\n", cut[..cut.len() - 1].join("\n"))).unwrap();
        let c2 = shard_files(dir.path(), "c", &c, s(2), &tasks, false);
        let text = merge(&[a, b, c2], false, &names(&tasks))
            .unwrap_err()
            .to_string();
        let want = cut.len();
        assert!(
            text.contains(&format!(
                "shard 1/3 has results for {} of its {want}",
                want - 1
            )),
            "{text}"
        );
    }
}
