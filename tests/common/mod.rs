//! Shared helpers of the integration tests: where the test world's real Lean lives, and the
//! rule for tests that need it (run when present; with CI=true a missing Lean is a failure;
//! elsewhere the test says by name that it skipped).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test world's toolchain, as installed by `lean/mini/setup.sh`.
pub struct TestLean {
    /// The `lean` executable.
    pub lean: PathBuf,
    /// The folder holding `Mini.olean` (goes on LEAN_PATH).
    pub lib: PathBuf,
}

/// The test world's Lean, or None (after printing that `test` skipped) when it is not installed.
/// Panics when CI=true and it is missing: CI must run the real-Lean tests.
pub fn test_lean(test: &str) -> Option<TestLean> {
    let root = repo_root();
    let lean = root.join("lean/mini/.toolchain/bin/lean");
    let lib = root.join("lean/mini/build");
    if lean.exists() && lib.join("Mini.olean").exists() {
        return Some(TestLean { lean, lib });
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{test}: the test world's Lean is missing under CI=true; run `bash lean/mini/setup.sh` first");
    }
    eprintln!("SKIPPED {test}: no test-world Lean (run `bash lean/mini/setup.sh`)");
    None
}

/// `../shared` beside the repository, or None (after printing that `test` skipped).
/// Panics when CI=true and it is missing.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap());
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{test}: ../shared is missing under CI=true");
    }
    eprintln!("SKIPPED {test}: ../shared is not present");
    None
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
