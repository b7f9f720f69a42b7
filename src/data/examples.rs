//! Reading proof-step JSONL files (`{"input", "output"}` per line), the training data format.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::DataError;
use super::format::Example;

/// Reads every example of a proof-step JSONL file; blank lines are skipped, anything else that
/// is not an example is an error naming the line.
pub fn read_examples(path: &Path) -> Result<Vec<Example>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| DataError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let example: Example = serde_json::from_str(&line).map_err(|e| DataError::BadExample {
            path: path.to_path_buf(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        out.push(example);
    }
    Ok(out)
}
