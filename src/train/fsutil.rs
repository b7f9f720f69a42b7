//! Atomic file writes for training outputs: a temporary file in the same folder, synced, then
//! renamed, so a killed run never leaves a half-written file under its final name.

use std::io::Write;
use std::path::Path;

use super::error::TrainError;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| TrainError::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| TrainError::io(path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| TrainError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| TrainError::io(path, e.error))?;
    Ok(())
}
