//! A JSON array written one element at a time to a temporary file beside its target and
//! renamed into place by `finish`, so memory stays bounded and a killed run never leaves a
//! half-written split file under the final name.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::ExtractError;

/// An open JSON array being written.
pub struct ArrayWriter {
    target: PathBuf,
    out: BufWriter<tempfile::NamedTempFile>,
    count: usize,
}

impl ArrayWriter {
    /// Starts the array for `target` (its folder must exist).
    pub fn create(target: &Path) -> Result<Self, ExtractError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".extract-")
            .tempfile_in(dir)
            .map_err(|e| ExtractError::io(dir, e))?;
        let mut out = BufWriter::new(tmp);
        out.write_all(b"[")
            .map_err(|e| ExtractError::io(target, e))?;
        Ok(ArrayWriter {
            target: target.to_path_buf(),
            out,
            count: 0,
        })
    }

    /// Appends one element (one line of the file).
    pub fn push<T: Serialize>(&mut self, item: &T) -> Result<(), ExtractError> {
        let sep: &[u8] = if self.count == 0 { b"\n" } else { b",\n" };
        self.out
            .write_all(sep)
            .map_err(|e| ExtractError::io(&self.target, e))?;
        serde_json::to_writer(&mut self.out, item)
            .map_err(|e| ExtractError::io(&self.target, e.into()))?;
        self.count += 1;
        Ok(())
    }

    /// Elements written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Closes the array and renames the file to its target.
    pub fn finish(mut self) -> Result<usize, ExtractError> {
        self.out
            .write_all(b"\n]\n")
            .map_err(|e| ExtractError::io(&self.target, e))?;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| ExtractError::io(&self.target, e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| ExtractError::io(&self.target, e))?;
        tmp.persist(&self.target)
            .map_err(|e| ExtractError::io(&self.target, e.error))?;
        Ok(self.count)
    }
}
