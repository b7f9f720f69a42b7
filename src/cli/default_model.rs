//! The default model: what `prove`, `eval`, `generate`, `serve` and `lsp` load when `--model`
//! is omitted (`args::ModelOrDefault`). It is the small Llama trained on the test world's
//! corpus and committed at `models/testworld-small` (rebuilt by `models/testworld-small/make.sh`).

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Where the default model lives, relative to the repository root.
pub const DEFAULT_MODEL: &str = "models/testworld-small";

/// The default model's folder: `$PROOFSTEP_MODEL` when set; else `models/testworld-small` in
/// the working folder or a folder above it; else in the source tree this binary was built from.
/// An error says how to get one when none of them holds a complete model folder.
pub fn default_model_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PROOFSTEP_MODEL") {
        let dir = PathBuf::from(dir);
        if let Some(missing) = missing_file(&dir) {
            bail!(
                "PROOFSTEP_MODEL={} is not a model folder ({missing} is missing): point it at a folder \
                 that `proofstep train` wrote, or unset it to use {DEFAULT_MODEL}",
                dir.display()
            );
        }
        return Ok(dir);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let source_tree = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = cwd
        .ancestors()
        .chain(std::iter::once(source_tree.as_path()))
        .map(|root| root.join(DEFAULT_MODEL));
    for dir in candidates {
        if missing_file(&dir).is_none() {
            return Ok(dir);
        }
    }
    bail!(
        "no --model given and the default model is missing ({DEFAULT_MODEL} in the repository, \
         looked above {} and in {}): restore it with `git checkout -- {DEFAULT_MODEL}`, rebuild it \
         with `bash {DEFAULT_MODEL}/make.sh`, set PROOFSTEP_MODEL, or pass --model DIR",
        cwd.display(),
        source_tree.display()
    )
}

/// The first file a model folder needs that `dir` lacks, if any.
fn missing_file(dir: &Path) -> Option<&'static str> {
    ["config.json", "model.safetensors", "tokenizer.json"]
        .into_iter()
        .find(|f| !dir.join(f).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_folder_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(missing_file(dir.path()), Some("config.json"));
        for f in ["config.json", "model.safetensors"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        assert_eq!(missing_file(dir.path()), Some("tokenizer.json"));
        std::fs::write(dir.path().join("tokenizer.json"), "x").unwrap();
        assert_eq!(missing_file(dir.path()), None);
    }
}
