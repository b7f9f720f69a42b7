//! `results.jsonl`: one line per finished theorem, appended and flushed as each finishes, so a
//! killed run loses nothing it finished and a rerun resumes where it stopped (a rerun of the
//! same settings, which `claim` checks before the file is opened).
//!
//! Beside it, `<stem>.written` records what proofstep wrote: the file's length and SHA-256
//! after each line. A line within that length is one a search wrote after Lean verified its
//! proof; a line after it, or any line once the file no longer matches (edited by hand,
//! concatenated, copied over), is [`ResultsFile::unvouched`], and `eval` checks its proof
//! again before it counts.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::warn;

use crate::eval::record::TheoremRecord;
use crate::eval::report::sidecar;
use crate::eval::EvalError;

/// An open results file: the records already in it, and an appender for new ones.
pub struct ResultsFile {
    path: PathBuf,
    file: Mutex<Appender>,
    done: Mutex<HashSet<String>>,
    /// Names whose line proofstep's record of what it wrote does not cover.
    unvouched: HashSet<String>,
}

/// The file being appended to, with the length and running hash of what it holds.
struct Appender {
    file: File,
    hash: Sha256,
    bytes: u64,
}

/// What proofstep last wrote to a results file (`<stem>.written`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Written {
    /// The file's length then.
    bytes: u64,
    /// The SHA-256 of those bytes, in hex.
    sha256: String,
}

impl Appender {
    /// Records the file as it is now as written by proofstep.
    fn vouch(&self, results: &Path) -> Result<(), EvalError> {
        record_written(results, &self.hash, self.bytes)
    }
}

/// Writes `<stem>.written` for `results` holding `bytes` bytes that hash to `hash`.
fn record_written(results: &Path, hash: &Sha256, bytes: u64) -> Result<(), EvalError> {
    let written = Written {
        bytes,
        sha256: hex(&hash.clone().finalize()),
    };
    let text = serde_json::to_string(&written).expect("a record serializes");
    let path = written_path(results);
    crate::fsutil::write_atomic(&path, format!("{text}\n").as_bytes())
        .map_err(|source| EvalError::Io { path, source })
}

/// Where the record of what was written to `results` is.
fn written_path(results: &Path) -> PathBuf {
    sidecar(results, "written")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many bytes at the start of `bytes` proofstep's record vouches for: the recorded length
/// when the file's first bytes still hash to the recorded hash, else none.
fn vouched_prefix(results: &Path, bytes: &[u8]) -> usize {
    let Ok(text) = std::fs::read_to_string(written_path(results)) else {
        return 0;
    };
    let Ok(written) = serde_json::from_str::<Written>(&text) else {
        return 0;
    };
    let Ok(len) = usize::try_from(written.bytes) else {
        return 0;
    };
    match bytes.get(..len) {
        Some(prefix) if hex(&Sha256::digest(prefix)) == written.sha256 => len,
        _ => 0,
    }
}

impl ResultsFile {
    /// Opens (or creates) `path` for appending. Records already there are read back; a last line
    /// cut short by a killed run (no final newline) is cut off the file, so that theorem runs
    /// again, and so does a theorem whose record is a Lean failure to retry
    /// (`TheoremRecord::retry`). Returns the file and the records it holds.
    pub fn open(path: &Path) -> Result<(Self, Vec<TheoremRecord>), EvalError> {
        // Its record of what was written is the target's, as its lock and settings are.
        let resolved = the_file(path);
        let path = resolved.as_path();
        let io = |source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut existing = read_bytes(path)?;
        let complete = complete_lines(&existing);
        if complete < existing.len() {
            if is_whole_record(&existing[complete..]) {
                // A whole record whose newline is missing (an editor that drops the last
                // one): completed, not lost.
                let mut file = OpenOptions::new().append(true).open(path).map_err(io)?;
                file.write_all(b"\n").map_err(io)?;
                existing.push(b'\n');
            } else {
                warn!(
                    path = %path.display(),
                    bytes = existing.len() - complete,
                    "dropping a half-written last line (from a killed run); that theorem will run again"
                );
                let file = OpenOptions::new().write(true).open(path).map_err(io)?;
                file.set_len(complete as u64).map_err(io)?;
                file.sync_all().map_err(io)?;
                existing.truncate(complete);
            }
        }
        let vouched = vouched_prefix(path, &existing);
        let (records, done, ends) = parse(path, &existing)?;
        let unvouched = records
            .iter()
            .zip(&ends)
            .filter(|(_, &end)| end > vouched)
            .map(|(r, _)| r.name.clone())
            .collect();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let mut hash = Sha256::new();
        hash.update(&existing);
        Ok((
            ResultsFile {
                path: path.to_path_buf(),
                file: Mutex::new(Appender {
                    file,
                    hash,
                    bytes: existing.len() as u64,
                }),
                done: Mutex::new(done),
                unvouched,
            },
            records,
        ))
    }

    /// True when the theorem already has a line.
    pub fn is_done(&self, name: &str) -> bool {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(name)
    }

    /// Appends one record as one line and flushes it. A record whose name is already in the
    /// file is not written again (a record to retry does not count as there), nor one that
    /// ends after the run was interrupted (its search may have met a Lean killed by the
    /// interruption: a resumed run searches that theorem again).
    pub fn append(&self, record: &TheoremRecord) -> Result<(), EvalError> {
        {
            let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            if done.contains(&record.name) {
                return Ok(());
            }
            if !record.retry {
                done.insert(record.name.clone());
            }
        }
        let mut line = serde_json::to_string(record).expect("a record always serializes");
        line.push('\n');
        let mut out = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let io = |source| EvalError::Io {
            path: self.path.clone(),
            source,
        };
        if crate::interrupt::is_interrupted() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the run was interrupted; this theorem is searched again when it resumes",
            )));
        }
        out.file.write_all(line.as_bytes()).map_err(io)?;
        out.file.flush().map_err(io)?;
        out.hash.update(line.as_bytes());
        out.bytes += line.len() as u64;
        out.vouch(&self.path)
    }

    /// Whether `name`'s record was read from a line proofstep's record of what it wrote does
    /// not cover (written by hand or by another program, or the file changed since): its
    /// proof must be checked again before it counts.
    pub fn is_unvouched(&self, name: &str) -> bool {
        self.unvouched.contains(name)
    }

    /// Records the file as it is now as proofstep's (after the caller checked every proof
    /// [`ResultsFile::is_unvouched`] named).
    pub fn vouch(&self) -> Result<(), EvalError> {
        let out = self.file.lock().unwrap_or_else(|e| e.into_inner());
        out.vouch(&self.path)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of a results file, read without changing it (for `eval merge`, whose inputs
/// may still be written by their runs): one per theorem, the first line of each name (or the
/// line that replaced a record to retry); a last line cut short is not a record yet. A file
/// that does not exist holds none.
pub fn read_records(path: &Path) -> Result<Vec<TheoremRecord>, EvalError> {
    let bytes = read_bytes(path)?;
    Ok(parse(path, &bytes[..complete_lines(&bytes)])?.0)
}

/// Records a results file written whole by proofstep (`eval merge`'s, every proof checked) as
/// proofstep's, so that resuming it checks none again.
pub fn vouch_written(path: &Path) -> Result<(), EvalError> {
    let bytes = read_bytes(path)?;
    record_written(path, &Sha256::new_with_prefix(&bytes), bytes.len() as u64)
}

/// The file a results path names: a link to a results file is that file (one lock, one
/// settings record and one record of what was written for both names).
pub(crate) fn the_file(path: &Path) -> PathBuf {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
        .then(|| path.canonicalize().ok())
        .flatten()
        .unwrap_or_else(|| path.to_path_buf())
}

/// Whether `tail` (a file's bytes after its last newline) is a whole record whose newline is
/// missing rather than a line a killed run cut short.
pub(crate) fn is_whole_record(tail: &[u8]) -> bool {
    !tail.is_empty()
        && serde_json::from_str::<TheoremRecord>(String::from_utf8_lossy(tail).trim()).is_ok()
}

/// The whole file; empty when it does not exist.
fn read_bytes(path: &Path) -> Result<Vec<u8>, EvalError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(EvalError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// How many bytes of `bytes` are complete lines (up to and including the last newline).
pub(crate) fn complete_lines(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// The records of complete lines, the first of each name (a later line replaces a record to
/// retry), the names that are done (those whose record is not one to retry), and where each
/// record's line ends in `complete` (bytes).
#[allow(clippy::type_complexity)]
fn parse(
    path: &Path,
    complete: &[u8],
) -> Result<(Vec<TheoremRecord>, HashSet<String>, Vec<usize>), EvalError> {
    let mut records: Vec<TheoremRecord> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut start = 0;
    for (i, raw) in complete.split_inclusive(|&b| b == b'\n').enumerate() {
        let end = start + raw.len();
        start = end;
        let line = String::from_utf8_lossy(raw);
        if line.trim().is_empty() {
            continue;
        }
        let record: TheoremRecord =
            serde_json::from_str(line.trim_end()).map_err(|e| EvalError::Corrupt {
                path: path.to_path_buf(),
                line: i + 1,
                reason: e.to_string(),
            })?;
        match at.get(&record.name) {
            Some(&k) if records[k].retry => {
                records[k] = record;
                ends[k] = end;
            }
            Some(_) => {}
            None => {
                at.insert(record.name.clone(), records.len());
                records.push(record);
                ends.push(end);
            }
        }
    }
    let done = records
        .iter()
        .filter(|r| !r.retry)
        .map(|r| r.name.clone())
        .collect();
    Ok((records, done, ends))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> TheoremRecord {
        TheoremRecord::from_error(name, None, "x".into(), 0.5)
    }

    #[test]
    fn a_half_written_last_line_is_dropped_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        {
            let (file, old) = ResultsFile::open(&path).unwrap();
            assert!(old.is_empty());
            file.append(&record("a")).unwrap();
            file.append(&record("b")).unwrap();
            file.append(&record("a")).unwrap();
        }
        let full = std::fs::read_to_string(&path).unwrap();
        assert_eq!(full.lines().count(), 2);
        // A killed run: half of a third line, no newline.
        let third = serde_json::to_string(&record("c")).unwrap();
        std::fs::write(&path, format!("{full}{}", &third[..third.len() / 2])).unwrap();
        let (file, old) = ResultsFile::open(&path).unwrap();
        assert_eq!(
            old.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), full);
        assert!(file.is_done("a") && !file.is_done("c"));
        file.append(&record("c")).unwrap();
        drop(file);
        // Read-only, a half-written line is left where it is and not counted.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{}", &third[..5])).unwrap();
        let read = read_records(&path).unwrap();
        assert_eq!(read.len(), 3);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .ends_with(&third[..5]));
        std::fs::write(&path, text).unwrap();
        let (_, all) = ResultsFile::open(&path).unwrap();
        assert_eq!(
            all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn a_lean_failure_is_searched_again_and_its_new_line_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        {
            let (file, _) = ResultsFile::open(&path).unwrap();
            file.append(&TheoremRecord::from_failure_to_retry(
                "a",
                None,
                "died".into(),
                0.1,
            ))
            .unwrap();
            file.append(&record("b")).unwrap();
            // In the same run a record to retry stays to retry.
            assert!(!file.is_done("a") && file.is_done("b"));
        }
        let (file, old) = ResultsFile::open(&path).unwrap();
        assert_eq!(old.len(), 2);
        assert!(!file.is_done("a"));
        let mut found = record("a");
        found.error = None;
        found.proved = true;
        file.append(&found).unwrap();
        assert!(file.is_done("a"));
        drop(file);
        for read in [
            ResultsFile::open(&path).unwrap().1,
            read_records(&path).unwrap(),
        ] {
            assert_eq!(read.len(), 2);
            assert!(read[0].name == "a" && read[0].proved && !read[0].retry);
        }
    }

    #[test]
    fn a_corrupt_complete_line_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        std::fs::write(&path, "{not json}\n").unwrap();
        let err = ResultsFile::open(&path).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
