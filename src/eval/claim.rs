//! Taking a results file for one run: an exclusive lock on `<out>.lock`, held for the run's
//! life, so two runs never append to one file; and the run's [`RunConfig`], checked against
//! the one recorded in `<out>.config.json` (or recorded there), so results of other settings
//! are never resumed and summarized under this run's label.
//!
//! A results file written before configurations were recorded holds results whose settings are
//! unknown: resuming it is refused unless the caller adopts them (`--adopt-results`), because a
//! warning in a long run's log is easily missed and the report would then claim settings its
//! results may not have had. Such a file is still read as before; only resuming it asks.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::eval::report::sidecar;
use crate::eval::run_config::RunConfig;
use crate::eval::EvalError;

/// A results file taken for one run; the lock is released when this is dropped (or the
/// process ends, however it ends).
#[derive(Debug)]
pub struct RunClaim {
    _lock: File,
    config_path: PathBuf,
}

impl RunClaim {
    /// Locks `out` for this run and checks `config` against the configuration recorded for the
    /// results already there: the same is resumed (and recorded again, so what is not compared
    /// — where the model lies, how many theorems a shard's `--limit` takes — is this run's),
    /// another is refused naming each difference, none recorded is refused unless `adopt`
    /// (then `config` is recorded for them). With no results yet, `config` is recorded
    /// (replacing any earlier record).
    pub fn take(out: &Path, config: &RunConfig, adopt: bool) -> Result<RunClaim, EvalError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EvalError::Io { path, source }
        };
        let resolved = crate::eval::results_file::the_file(out);
        let out = resolved.as_path();
        if let Some(suffix) = crate::eval::report::named_like_a_sidecar(out) {
            return Err(EvalError::SidecarName {
                out: out.to_path_buf(),
                suffix,
            });
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let lock_path = sidecar(out, "lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(EvalError::Busy {
                    out: out.to_path_buf(),
                    lock: lock_path,
                })
            }
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!(lock = %lock_path.display(), "this filesystem cannot lock files: make sure no other eval writes the same --out");
            }
            Err(TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let config_path = sidecar(out, "config.json");
        let results = count_results(out).map_err(io(out))?;
        let text = match std::fs::read_to_string(&config_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&config_path)(e)),
        };
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(other) = text.as_deref().and_then(|t| other_results_file(t, &name)) {
            let other = out.with_file_name(other);
            if count_results(&other).unwrap_or(0) > 0 {
                return Err(EvalError::SharedSettings {
                    out: out.to_path_buf(),
                    config: config_path,
                    other,
                });
            }
        }
        let recorded = match text {
            Some(_) if results == 0 => None,
            Some(text) => Some(serde_json::from_str::<RunConfig>(&text).map_err(|e| {
                EvalError::BadConfig {
                    path: config_path.clone(),
                    reason: e.to_string(),
                }
            })?),
            None => None,
        };
        match recorded {
            Some(recorded) => {
                let differences = recorded.differences(config);
                if !differences.is_empty() {
                    return Err(EvalError::OtherRun {
                        out: out.to_path_buf(),
                        config: config_path,
                        results,
                        differences: differences.join("; "),
                    });
                }
            }
            None if results > 0 && !adopt => {
                return Err(EvalError::Unrecorded {
                    out: out.to_path_buf(),
                    results,
                });
            }
            None => {}
        }
        // Which results file the record is for: `r.jsonl` and `r` share `r.config.json`.
        let mut record = serde_json::to_value(config).expect("a config serializes");
        record[RESULTS_FILE] = name.into();
        let text = serde_json::to_string_pretty(&record).expect("a config serializes");
        crate::fsutil::write_atomic(&config_path, format!("{text}\n").as_bytes())
            .map_err(io(&config_path))?;
        Ok(RunClaim {
            _lock: lock,
            config_path,
        })
    }

    /// Where the run's configuration is recorded.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }
}

/// The key of a settings record naming the results file it is for (beside the run's
/// [`RunConfig`], which does not compare it).
const RESULTS_FILE: &str = "results_file";

/// The results file a settings record (`text`) names when it is not `name`: sidecars are
/// named from the name without its extension, so two results files can share one. None for
/// a record of `name`, or one written before records named their file.
fn other_results_file(text: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let recorded = value.get(RESULTS_FILE)?.as_str()?;
    (recorded != name && !recorded.is_empty()).then(|| recorded.to_string())
}

/// Complete, non-blank lines of the results file (0 when it does not exist). A half-written
/// last line is not a result.
fn count_results(out: &Path) -> std::io::Result<usize> {
    let bytes = match std::fs::read(out) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let complete = crate::eval::results_file::complete_lines(&bytes);
    let lines = bytes[..complete]
        .split(|&b| b == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .count();
    // A whole record missing its newline is a result (the file is opened to complete it).
    Ok(lines
        + usize::from(crate::eval::results_file::is_whole_record(
            &bytes[complete..],
        )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::dataset::Task;

    fn config(expansions: usize) -> RunConfig {
        let task = Task {
            name: "a".into(),
            header: String::new().into(),
            statement: "theorem a : True".into(),
            split: None,
        };
        crate::eval::run_config::test_config(expansions, &[task])
    }

    const LINE: &str = "{\"name\":\"a\",\"proved\":false}\n";

    #[test]
    fn a_second_claim_on_one_results_file_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        let first = RunClaim::take(&out, &config(1), false).unwrap();
        let err = RunClaim::take(&out, &config(1), false).unwrap_err();
        assert!(matches!(err, EvalError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another --out"), "{err}");
        drop(first);
        RunClaim::take(&out, &config(1), false).unwrap();
    }

    #[test]
    fn results_files_whose_names_differ_in_the_extension_do_not_share_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let (jsonl, bare) = (dir.path().join("r.jsonl"), dir.path().join("r"));
        drop(RunClaim::take(&jsonl, &config(4), false).unwrap());
        std::fs::write(&jsonl, LINE).unwrap();
        // `r` would record its settings over `r.jsonl`'s, which holds results.
        let err = RunClaim::take(&bare, &config(1), false).unwrap_err();
        assert!(matches!(err, EvalError::SharedSettings { .. }), "{err}");
        assert!(err.to_string().contains("another name"), "{err}");
        let recorded = std::fs::read_to_string(dir.path().join("r.config.json")).unwrap();
        assert!(recorded.contains("\"r.jsonl\""), "{recorded}");
        // `r.jsonl` itself resumes; once it holds nothing, `r` may take the name.
        drop(RunClaim::take(&jsonl, &config(4), false).unwrap());
        std::fs::write(&jsonl, "").unwrap();
        drop(RunClaim::take(&bare, &config(1), false).unwrap());
    }

    #[test]
    fn a_results_file_named_like_its_own_sidecar_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["r.written", "r.lock", "r.summary.json", "x.config.json"] {
            let err = RunClaim::take(&dir.path().join(name), &config(1), false).unwrap_err();
            assert!(matches!(err, EvalError::SidecarName { .. }), "{err}");
        }
        RunClaim::take(&dir.path().join("r.written.jsonl"), &config(1), false).unwrap();
    }

    #[test]
    fn a_whole_last_record_without_its_newline_holds_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        drop(RunClaim::take(&out, &config(4), false).unwrap());
        let record = crate::eval::TheoremRecord::from_error("a", None, "x".into(), 0.1);
        let line = serde_json::to_string(&record).unwrap();
        std::fs::write(&out, &line).unwrap();
        let err = RunClaim::take(&out, &config(2), false).unwrap_err();
        assert!(matches!(err, EvalError::OtherRun { .. }), "{err}");
        // Half a record is not one: a killed run's last line.
        std::fs::write(&out, &line[..10]).unwrap();
        drop(RunClaim::take(&out, &config(2), false).unwrap());
    }

    #[test]
    fn results_of_other_settings_are_refused_and_the_same_settings_resume() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        let claim = RunClaim::take(&out, &config(1), false).unwrap();
        assert!(claim.config_path().ends_with("r.config.json"));
        drop(claim);
        std::fs::write(&out, LINE).unwrap();
        let err = RunClaim::take(&out, &config(2), false).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--expansions: 1 in the recorded run, 2 now")
                && text.contains("another --out"),
            "{text}"
        );
        // --adopt-results does not override a recorded configuration.
        assert!(RunClaim::take(&out, &config(2), true).is_err());
        // The same run resumed records what is not compared as it is now.
        let mut moved = config(1);
        moved.model = "elsewhere/m".into();
        drop(RunClaim::take(&out, &moved, false).unwrap());
        let recorded = std::fs::read_to_string(dir.path().join("r.config.json")).unwrap();
        assert!(recorded.contains("elsewhere/m"), "{recorded}");
        RunClaim::take(&out, &config(1), false).unwrap();
    }

    #[test]
    fn unrecorded_results_are_refused_unless_adopted_and_an_empty_file_takes_any_run() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        std::fs::write(&out, LINE).unwrap();
        let err = RunClaim::take(&out, &config(1), false).unwrap_err();
        assert!(err.to_string().contains("--adopt-results"), "{err}");
        drop(RunClaim::take(&out, &config(1), true).unwrap());
        // Adopted: from now on the recorded configuration decides.
        assert!(RunClaim::take(&out, &config(2), false).is_err());

        // No results (or only a half-written line): nothing to mix, the new run is recorded.
        std::fs::write(&out, "{\"name\":\"a\",\"pro").unwrap();
        drop(RunClaim::take(&out, &config(2), false).unwrap());
        std::fs::write(&out, LINE).unwrap();
        RunClaim::take(&out, &config(2), false).unwrap();
    }

    #[test]
    fn a_link_to_a_results_file_takes_the_same_lock() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        std::fs::write(&out, "").unwrap();
        let link = dir.path().join("alias.jsonl");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        let _first = RunClaim::take(&out, &config(1), false).unwrap();
        let err = RunClaim::take(&link, &config(1), false).unwrap_err();
        assert!(matches!(err, EvalError::Busy { .. }), "{err}");
    }

    #[test]
    fn a_damaged_configuration_record_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.jsonl");
        std::fs::write(dir.path().join("r.config.json"), "{not json").unwrap();
        std::fs::write(&out, LINE).unwrap();
        let err = RunClaim::take(&out, &config(1), false).unwrap_err();
        assert!(err.to_string().contains("r.config.json"), "{err}");
    }
}
