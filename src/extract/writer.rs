//! A JSON array written one element at a time to a temporary file beside its target and
//! renamed into place by `finish` (`crate::fsutil::AtomicFile`), so memory stays bounded and a
//! killed run never leaves a half-written split file under the final name.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::error::ExtractError;
use crate::fsutil::AtomicFile;

/// An open JSON array being written.
pub struct ArrayWriter {
    out: AtomicFile,
    count: usize,
}

impl ArrayWriter {
    /// Starts the array for `target` (its folder must exist).
    pub fn create(target: &Path) -> Result<Self, ExtractError> {
        let mut out = AtomicFile::create(target).map_err(|e| ExtractError::io(target, e))?;
        out.write_all(b"[")
            .map_err(|e| ExtractError::io(target, e))?;
        Ok(ArrayWriter { out, count: 0 })
    }

    /// Appends one element (one line of the file).
    pub fn push<T: Serialize>(&mut self, item: &T) -> Result<(), ExtractError> {
        let sep: &[u8] = if self.count == 0 { b"\n" } else { b",\n" };
        self.out
            .write_all(sep)
            .map_err(|e| ExtractError::io(self.out.target(), e))?;
        serde_json::to_writer(&mut self.out, item)
            .map_err(|e| ExtractError::io(self.out.target(), e.into()))?;
        self.count += 1;
        Ok(())
    }

    /// Elements written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Closes the array and renames the file to its target.
    pub fn finish(mut self) -> Result<usize, ExtractError> {
        let target = self.out.target().to_path_buf();
        self.out
            .write_all(b"\n]\n")
            .map_err(|e| ExtractError::io(&target, e))?;
        self.out
            .commit()
            .map_err(|e| ExtractError::io(&target, e))?;
        Ok(self.count)
    }
}
