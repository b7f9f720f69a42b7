//! The default model: what `prove`, `eval`, `generate`, `serve` and `lsp` load when neither
//! `--model` nor `PROOFSTEP_MODEL` gives one (`args::ModelOrDefault`). It is the small Llama
//! trained on the test world's corpus and committed at `models/testworld-small` (rebuilt by
//! `models/testworld-small/make.sh`).

use std::path::{Path, PathBuf};

use proofstep::lean::toolchain::LakeProject;
use proofstep::model::io::weights::WEIGHT_LAYOUTS;

use crate::cli::exit::Failure;

/// Where the default model lives, relative to the repository root.
pub const DEFAULT_MODEL: &str = "models/testworld-small";

/// The default model's folder: `models/testworld-small` in the working folder or a folder
/// above it; else in the source tree this binary was built from. An error says how to get one
/// when none of them holds a complete model folder. Inside a Lake project that requires
/// Mathlib it warns: this model knows only the test world.
pub fn default_model_dir() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let source_tree = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = cwd
        .ancestors()
        .chain(std::iter::once(source_tree.as_path()))
        .map(|root| root.join(DEFAULT_MODEL));
    for dir in candidates {
        if missing_file(&dir).is_none() {
            warn_inside_mathlib(&cwd, &dir);
            return Ok(dir);
        }
    }
    Err(Failure::Model.error(format!(
        "no --model given and the default model is missing ({DEFAULT_MODEL} in the repository, \
         looked above {} and in {}): restore it with `git checkout -- {DEFAULT_MODEL}`, rebuild it \
         with `bash {DEFAULT_MODEL}/make.sh`, set PROOFSTEP_MODEL, or pass --model DIR",
        cwd.display(),
        source_tree.display()
    )))
}

/// Checks a model folder given by `--model` or `PROOFSTEP_MODEL`: an error names the file it
/// lacks and both ways it could have been given.
pub fn given_model_dir(dir: &Path) -> anyhow::Result<()> {
    match missing_file(dir) {
        None => Ok(()),
        Some(missing) => Err(Failure::Model.error(format!(
            "{} is not a model folder ({missing} is missing): point --model (or PROOFSTEP_MODEL, \
             which stands in for it) at a folder that `proofstep train` wrote, or give neither \
             to use {DEFAULT_MODEL}",
            dir.display()
        ))),
    }
}

/// Warns when the test world's model is about to be used inside a Mathlib project (the working
/// folder's Lake project requires Mathlib), where it proves next to nothing.
fn warn_inside_mathlib(cwd: &Path, model: &Path) {
    if let Some(project) = LakeProject::find(cwd).filter(|p| p.requires_mathlib) {
        tracing::warn!(
            "no --model given, so this uses the test world's model {} inside {}, a Lake project \
             that requires Mathlib: that model knows only this repository's test world and will \
             prove next to nothing here. Pass --model DIR (or set PROOFSTEP_MODEL) with a model \
             trained on Mathlib (README.md, \"A Mathlib user's path\")",
            model.display(),
            project.root.display()
        );
    }
}

/// The first file a model folder needs that `dir` lacks, if any.
fn missing_file(dir: &Path) -> Option<&'static str> {
    let has_weights = WEIGHT_LAYOUTS
        .iter()
        .any(|(single, index)| dir.join(single).is_file() || dir.join(index).is_file());
    if !dir.join("config.json").is_file() {
        Some("config.json")
    } else if !has_weights {
        Some("model.safetensors (or pytorch_model.bin)")
    } else if !dir.join("tokenizer.json").is_file() {
        Some("tokenizer.json")
    } else {
        None
    }
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
