//! Atomic writes, the one copy every writer of the workspace uses: a file is written under a
//! temporary name in its target's folder, synced, renamed over the target, and the folder
//! synced, so a killed run or a failed write never leaves a half-written or missing file under
//! the final name. The final file gets the permissions an ordinary create would give (the
//! umask's, or those of the file it replaces), not a temporary file's private 0600.
//!
//! Errors are plain `io::Error`s, for the caller to name the file or folder in its own error
//! type.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A text file read whole; text that is not UTF-8 is an `InvalidData` error naming the line and
/// byte where it stops being UTF-8 (`read_to_string` says only "stream did not contain valid
/// UTF-8").
pub fn read_utf8(path: &Path) -> io::Result<String> {
    String::from_utf8(std::fs::read(path)?).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line {line}: not UTF-8 text (byte {valid}); save the file as UTF-8"),
        )
    })
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file being written under a temporary name beside its target, for outputs too large to
/// hold in memory: write to it, then [`AtomicFile::commit`] renames it into place. Dropped
/// without a commit (an error, a panic), or interrupted (`interrupt`), its temporary file is
/// deleted and the target is left as it was.
pub struct AtomicFile {
    target: PathBuf,
    out: BufWriter<NamedTempFile>,
    _tracked: crate::interrupt::Tracked,
}

impl AtomicFile {
    /// Starts writing `target` (its folder must exist).
    pub fn create(target: &Path) -> io::Result<Self> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} names no file", target.display()),
                )
            })?
            .to_string_lossy();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Created with 0666, which the kernel narrows by the umask, as any new file.
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(parent_dir(target))?;
        if let Ok(existing) = std::fs::metadata(target) {
            tmp.as_file().set_permissions(existing.permissions())?;
        }
        Ok(AtomicFile {
            target: target.to_path_buf(),
            _tracked: crate::interrupt::track_file(tmp.path().to_path_buf()),
            out: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    /// Where the file goes once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the finished file over its target and syncs the folder.
    pub fn commit(self) -> io::Result<()> {
        let (target, tmp, _tracked) = self.finish()?;
        tmp.persist(&target).map_err(|e| e.error)?;
        sync_dir(parent_dir(&target))
    }

    /// Flushes and syncs the temporary file, ready to be renamed (tracked until it is).
    fn finish(self) -> io::Result<(PathBuf, NamedTempFile, crate::interrupt::Tracked)> {
        let tmp = self.out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        Ok((self.target, tmp, self._tracked))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Commits a set of files together: every one is flushed and synced first, and only when all
/// of them are complete is any renamed into place, so a failure while writing any of them
/// leaves every target as it was. (The renames themselves follow one another; they are what
/// cannot fail short of the disk going away.)
pub fn commit_all(files: impl IntoIterator<Item = AtomicFile>) -> io::Result<()> {
    let finished = files
        .into_iter()
        .map(AtomicFile::finish)
        .collect::<io::Result<Vec<_>>>()?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (target, tmp, _tracked) in finished {
        tmp.persist(&target).map_err(|e| e.error)?;
        let dir = parent_dir(&target).to_path_buf();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// Gives the file `path`, written by a library that makes its files private (0600), the
/// permissions an ordinary create in its folder gives (0666 narrowed by the umask), so a model
/// folder is readable by whoever may read its folder.
pub fn ordinary_permissions(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let probe = tempfile::Builder::new()
            .prefix(".permissions.")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(parent_dir(path))?;
        std::fs::set_permissions(path, probe.as_file().metadata()?.permissions())?;
    }
    Ok(())
}

/// Puts the folder `staged` (filled by the caller, e.g. under a temporary name in the same
/// parent) in place of `target`. A folder already at `target` is first moved aside, then
/// deleted once the new one is in place, so at no point is there a half-filled folder under
/// the final name; if the move fails the old folder is put back.
pub fn replace_dir(staged: &Path, target: &Path) -> io::Result<()> {
    let parent = parent_dir(target);
    sync_dir(staged)?;
    let aside = if target.exists() {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        // An empty folder with a unique name, which the old folder is renamed over.
        let aside = tempfile::Builder::new()
            .prefix(&format!(".{name}.old."))
            .tempdir_in(parent)?
            .keep();
        if let Err(e) = std::fs::rename(target, &aside) {
            let _ = std::fs::remove_dir(&aside);
            return Err(e);
        }
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(staged, target) {
        if let Some(aside) = &aside {
            let _ = std::fs::rename(aside, target);
        }
        return Err(e);
    }
    sync_dir(parent)?;
    if let Some(aside) = aside {
        std::fs::remove_dir_all(&aside)?;
    }
    Ok(())
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename in `dir` durable (on Unix a folder is synced through a handle on it).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder's entries, sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"first, longer text").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(dir.path()), ["out.json"]);
    }

    #[test]
    fn a_file_dropped_uncommitted_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new, half written").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(entries(dir.path()), ["out.jsonl"]);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: everything up to the rename works, the rename fails.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), "x").unwrap();
        assert!(write_atomic(&path, b"bytes").is_err());
        assert_eq!(entries(dir.path()), ["taken"]);
        // And a target with no folder to go in is an error, not a panic.
        assert!(write_atomic(&dir.path().join("missing/out.json"), b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_umask_permissions_and_a_replaced_file_keeps_its_own() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        // What an ordinary create gives under this process's umask (022 in CI: 0644).
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let path = dir.path().join("new.json");
        write_atomic(&path, b"{}").unwrap();
        assert_eq!(
            mode(&path),
            mode(&plain),
            "not a temporary file's private 0600"
        );
        let umask = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:").map(str::trim).map(String::from))
            });
        if umask.as_deref() == Some("0022") {
            assert_eq!(mode(&path), 0o644);
        }

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"{\"again\": 1}").unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_set_is_renamed_only_when_every_file_of_it_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, "old a\n").unwrap();
        std::fs::write(&b, "old b\n").unwrap();
        // A set abandoned after the first file is written: nothing changes.
        {
            let mut fa = AtomicFile::create(&a).unwrap();
            fa.write_all(b"new a\n").unwrap();
            let _fb = AtomicFile::create(&b).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a\n");
        assert_eq!(entries(dir.path()), ["a.jsonl", "b.jsonl"]);
        let mut fa = AtomicFile::create(&a).unwrap();
        let mut fb = AtomicFile::create(&b).unwrap();
        fa.write_all(b"new a\n").unwrap();
        fb.write_all(b"new b\n").unwrap();
        commit_all([fa, fb]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new a\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b\n");
        assert_eq!(entries(dir.path()), ["a.jsonl", "b.jsonl"]);
    }

    #[test]
    fn a_staged_folder_replaces_the_old_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("corpus");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.lean"), "old").unwrap();
        let staged = dir.path().join(".corpus.staged");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("new.lean"), "new").unwrap();
        replace_dir(&staged, &target).unwrap();
        assert_eq!(entries(&target), ["new.lean"]);
        assert_eq!(entries(dir.path()), ["corpus"]);
        // Into a place that is empty, too.
        let fresh = dir.path().join("fresh");
        std::fs::create_dir(&staged).unwrap();
        replace_dir(&staged, &fresh).unwrap();
        assert!(fresh.is_dir() && !staged.exists());
    }
}
