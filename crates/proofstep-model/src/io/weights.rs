//! A model folder's weight files, in the layouts transformers writes: `model.safetensors`,
//! safetensors shards named by `model.safetensors.index.json`, a PyTorch `pytorch_model.bin`,
//! or `.bin` shards named by `pytorch_model.bin.index.json`. PyTorch checkpoints are read with
//! candle's pickle reader, which reads tensors without running any of the pickle's code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde_json::Value;

use crate::error::{ModelError, Result};

/// The weight layouts a folder may hold, in the order they are looked for: each is a single
/// file or an index naming shards.
pub const WEIGHT_LAYOUTS: [(&str, &str); 2] = [
    ("model.safetensors", "model.safetensors.index.json"),
    ("pytorch_model.bin", "pytorch_model.bin.index.json"),
];

/// How a weights file stores its tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightFormat {
    /// safetensors: a JSON header, then the raw tensors.
    Safetensors,
    /// A PyTorch zip checkpoint (`torch.save`): a pickle naming raw storages.
    PyTorch,
}

impl WeightFormat {
    /// The format of a weights file, by its name (transformers' `.bin` is PyTorch's).
    pub fn of(path: &Path) -> WeightFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("bin") | Some("pt") | Some("pth") => WeightFormat::PyTorch,
            _ => WeightFormat::Safetensors,
        }
    }
}

/// The shard file names an index (`*.index.json`'s `weight_map`) names, sorted, each once.
pub fn index_shards(index_json: &str, index_name: &str) -> Result<Vec<String>> {
    let v: Value = serde_json::from_str(index_json)
        .map_err(|e| ModelError::Weights(format!("{index_name}: {e}")))?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| ModelError::Weights(format!("{index_name}: no weight_map")))?;
    let mut files: Vec<String> = map
        .values()
        .filter_map(|f| f.as_str().map(String::from))
        .collect();
    files.sort();
    files.dedup();
    if let Some(bad) = files
        .iter()
        .find(|f| f.contains('/') || f.contains('\\') || f.starts_with('.'))
    {
        return Err(ModelError::Weights(format!(
            "{index_name} names the shard {bad:?} outside its folder; re-save the model with \
             transformers' save_pretrained"
        )));
    }
    Ok(files)
}

/// The weights files of a folder: the first layout of [`WEIGHT_LAYOUTS`] present as a file
/// (a folder of that name is passed over, as the model-folder checks pass it over).
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    for (single, index) in WEIGHT_LAYOUTS {
        if dir.join(single).is_file() {
            return Ok(vec![dir.join(single)]);
        }
        let index = dir.join(index);
        if index.is_file() {
            let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
            let shards = index_shards(&text, &index.display().to_string())?;
            return Ok(shards.into_iter().map(|f| dir.join(f)).collect());
        }
    }
    let not_files: Vec<&str> = WEIGHT_LAYOUTS
        .iter()
        .flat_map(|(single, index)| [*single, *index])
        .filter(|name| dir.join(name).exists())
        .collect();
    let there = match not_files[..] {
        [] => String::new(),
        [one] => format!(" ({one} there is not a file)"),
        _ => format!(" ({} there are not files)", not_files.join(", ")),
    };
    Err(ModelError::Weights(format!(
        "no model.safetensors, pytorch_model.bin or their *.index.json shards in {}{there}: a \
         model folder holds its weights in one of those (as transformers' save_pretrained writes \
         them)",
        dir.display()
    )))
}

/// All tensors of one weights file, by name, in their stored dtype.
pub fn read_file(file: &Path, device: &Device) -> Result<Vec<(String, Tensor)>> {
    match WeightFormat::of(file) {
        WeightFormat::Safetensors => candle_core::safetensors::load(file, device)
            .map(|m| m.into_iter().collect())
            .map_err(|e| ModelError::Weights(format!("{}: {e}", file.display()))),
        WeightFormat::PyTorch => {
            if !file.exists() {
                return Err(ModelError::io(
                    file,
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ));
            }
            let tensors = candle_core::pickle::read_all(file).map_err(|e| {
                ModelError::Weights(format!(
                    "{}: not a PyTorch checkpoint proofstep can read ({e}); it reads the zip \
                     format torch.save writes since PyTorch 1.6 with contiguous tensors: load \
                     and re-save it with transformers' save_pretrained(dir, \
                     safe_serialization=True)",
                    file.display()
                ))
            })?;
            tensors
                .into_iter()
                .map(|(name, t)| Ok((name, t.to_device(device)?)))
                .collect()
        }
    }
}

/// All tensors of a folder's weights file(s), by name, in their stored dtype.
pub fn read_tensors(dir: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let mut all = HashMap::new();
    for file in weight_files(dir)? {
        all.extend(read_file(&file, device)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_naming_a_shard_outside_its_folder_is_refused() {
        let index = r#"{"weight_map": {"a": "../../etc/passwd", "b": "x.bin"}}"#;
        let err = index_shards(index, "i.json").unwrap_err().to_string();
        assert!(err.contains("outside its folder"), "{err}");
        let ok = r#"{"weight_map": {"a": "s-2.bin", "b": "s-1.bin", "c": "s-1.bin"}}"#;
        assert_eq!(index_shards(ok, "i.json").unwrap(), ["s-1.bin", "s-2.bin"]);
    }

    #[test]
    fn a_folder_without_weights_names_every_layout() {
        let dir = tempfile::tempdir().unwrap();
        let err = weight_files(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("pytorch_model.bin"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_named_like_weights_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("model.safetensors")).unwrap();
        let err = weight_files(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors there is not a file"),
            "{err}"
        );
        std::fs::write(dir.path().join("pytorch_model.bin"), b"").unwrap();
        assert_eq!(
            weight_files(dir.path()).unwrap(),
            [dir.path().join("pytorch_model.bin")]
        );
    }
}
