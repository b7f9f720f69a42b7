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
            "{} is not a model folder ({missing}): point --model (or PROOFSTEP_MODEL, \
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

/// What is wrong with the first file a model folder needs that `dir` lacks, if any: missing,
/// or there but a folder.
pub(crate) fn missing_file(dir: &Path) -> Option<String> {
    let has_weights = WEIGHT_LAYOUTS
        .iter()
        .any(|(single, index)| dir.join(single).is_file() || dir.join(index).is_file());
    let lacking = |name: &str| {
        let what = if dir.join(name).exists() {
            "is not a file"
        } else {
            "is missing"
        };
        Some(format!("{name} {what}"))
    };
    if !dir.join("config.json").is_file() {
        lacking("config.json")
    } else if !has_weights {
        let (single, _) = WEIGHT_LAYOUTS[0];
        match WEIGHT_LAYOUTS
            .iter()
            .flat_map(|(single, index)| [single, index])
            .find(|name| dir.join(name).exists())
        {
            Some(present) => lacking(present),
            None => Some(format!("{single} (or pytorch_model.bin) is missing")),
        }
    } else if let Some(shard) = missing_shard(dir) {
        Some(shard)
    } else if !dir.join("tokenizer.json").is_file() {
        lacking("tokenizer.json")
    } else {
        None
    }
}

/// The first weights shard an index names that is not a file in `dir`, if any.
fn missing_shard(dir: &Path) -> Option<String> {
    match proofstep::model::io::weights::weight_files(dir) {
        Err(e) => Some(e.to_string()),
        Ok(files) => files.iter().find(|f| !f.is_file()).map(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            format!("{name}, a shard its index names, is missing")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_folder_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            missing_file(dir.path()).as_deref(),
            Some("config.json is missing")
        );
        std::fs::write(dir.path().join("config.json"), "x").unwrap();
        std::fs::create_dir(dir.path().join("model.safetensors")).unwrap();
        assert_eq!(
            missing_file(dir.path()).as_deref(),
            Some("model.safetensors is not a file")
        );
        std::fs::remove_dir(dir.path().join("model.safetensors")).unwrap();
        std::fs::write(dir.path().join("model.safetensors"), "x").unwrap();
        assert_eq!(
            missing_file(dir.path()).as_deref(),
            Some("tokenizer.json is missing")
        );
        std::fs::write(dir.path().join("tokenizer.json"), "x").unwrap();
        assert_eq!(missing_file(dir.path()), None);
    }

    #[test]
    fn a_sharded_folder_names_its_missing_shard() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "x").unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), "x").unwrap();
        std::fs::create_dir(dir.path().join("model.safetensors.index.json")).unwrap();
        assert_eq!(
            missing_file(dir.path()).as_deref(),
            Some("model.safetensors.index.json is not a file")
        );
        std::fs::remove_dir(dir.path().join("model.safetensors.index.json")).unwrap();
        let index = r#"{"weight_map": {"a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors"}}"#;
        std::fs::write(dir.path().join("model.safetensors.index.json"), index).unwrap();
        std::fs::write(dir.path().join("model-00001-of-00002.safetensors"), "x").unwrap();
        assert_eq!(
            missing_file(dir.path()).as_deref(),
            Some("model-00002-of-00002.safetensors, a shard its index names, is missing")
        );
        std::fs::write(dir.path().join("model-00002-of-00002.safetensors"), "x").unwrap();
        assert_eq!(missing_file(dir.path()), None);
    }
}
