//! The Lean source files below a folder: the one walk every command that takes a folder of
//! Lean files uses (`eval`, `extract`, `data whole-proofs`). Recursive, in path order; hidden
//! entries (`.lake`, `.git`, `.toolchain`: build products and other people's sources) skipped.

use std::io;
use std::path::{Path, PathBuf};

/// A folder that could not be read, and why.
#[derive(Debug)]
pub struct WalkError {
    /// The folder.
    pub path: PathBuf,
    /// Why.
    pub source: io::Error,
}

/// Every `.lean` file below `dir`, sorted.
pub fn lean_files_below(dir: &Path) -> Result<Vec<PathBuf>, WalkError> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), WalkError> {
    let failed = |source| WalkError {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(failed)? {
        let path = entry.map_err(failed)?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "lean") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lean_files_in_path_order_and_skips_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (folder, file) in [
            ("b", "B.lean"),
            ("a/x", "A.lean"),
            (".lake/p", "P.lean"),
            ("a", "n.txt"),
        ] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
            std::fs::write(root.join(folder).join(file), "").unwrap();
        }
        let found = lean_files_below(root).unwrap();
        assert_eq!(found, [root.join("a/x/A.lean"), root.join("b/B.lean")]);
        let err = lean_files_below(&root.join("missing")).unwrap_err();
        assert_eq!(err.path, root.join("missing"));
    }
}
