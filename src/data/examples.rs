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
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => DataError::BadExample {
                path: path.to_path_buf(),
                line: i + 1,
                reason: "not UTF-8 text".into(),
            },
            _ => DataError::io(path, e),
        })?;
        // A byte-order mark some editors write before the first line is not part of the JSON.
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            &line
        };
        if line.trim().is_empty() {
            continue;
        }
        let example: Example = serde_json::from_str(line).map_err(|e| DataError::BadExample {
            path: path.to_path_buf(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        out.push(example);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_a_bad_example_at_their_line_and_a_byte_order_mark_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.jsonl");
        let good = r#"{"input": "[GOAL]p[PROOFSTEP]", "output": "exact h"}"#;
        let mut bytes = format!("\u{feff}{good}\n").into_bytes();
        bytes.extend_from_slice(b"{\"input\": \"\xff\"}\n");
        std::fs::write(&path, &bytes).unwrap();
        match read_examples(&path) {
            Err(DataError::BadExample { line, reason, .. }) => {
                assert_eq!((line, reason.as_str()), (2, "not UTF-8 text"))
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(&path, format!("\u{feff}{good}\n")).unwrap();
        assert_eq!(read_examples(&path).unwrap().len(), 1);
    }
}
