//! A model folder's fingerprint: what an evaluation records to know which model wrote its
//! results, cheap enough to take at every run (milliseconds, even for gigabytes of weights) yet
//! content-based, so a copied or moved folder keeps its fingerprint and a retrained one does not.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};
use crate::io::weights::{weight_files, WeightFormat};

/// The small files of a folder that decide what the model does, hashed whole when present.
const SMALL_FILES: [&str; 6] = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
];

/// Bytes read at each sampled place of a weights file.
const SAMPLE: u64 = 64 << 10;

/// Places sampled in each weights file, evenly spread from the first tensor byte to the last.
const SAMPLES: u64 = 8;

/// The largest safetensors header read whole (the format's own limit is 100 MB).
const MAX_HEADER: u64 = 100 << 20;

/// SHA-256 (hex) over the folder's small files, whole, and each weights file's size, header
/// (a safetensors file's: every tensor's name, dtype, shape and offsets; a PyTorch zip has
/// none read here) and 64 KiB at eight places spread over its data. Training changes every weight, so any retraining or fine-tune shows; an edit confined
/// to bytes outside the samples would not.
pub fn model_fingerprint(dir: &Path) -> Result<String> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| ModelError::io(path, e)
    };
    let mut hash = Sha256::new();
    for name in SMALL_FILES {
        let path = dir.join(name);
        if path.exists() && !path.is_file() {
            // A folder of that name is passed over, as `weight_files` passes it over.
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                hash.update(format!("{name} {}\n", bytes.len()));
                hash.update(&bytes);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    for path in weight_files(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut file = File::open(&path).map_err(io(&path))?;
        let size = file.metadata().map_err(io(&path))?.len();
        hash.update(format!("{name} {size}\n"));
        let data = match WeightFormat::of(&path) {
            WeightFormat::Safetensors => {
                let mut len = [0u8; 8];
                file.read_exact(&mut len).map_err(io(&path))?;
                let header_len = u64::from_le_bytes(len).min(MAX_HEADER);
                let mut header = Vec::new();
                (&mut file)
                    .take(header_len)
                    .read_to_end(&mut header)
                    .map_err(io(&path))?;
                hash.update(&header);
                8 + header_len
            }
            WeightFormat::PyTorch => 0,
        };
        let span = size.saturating_sub(data).saturating_sub(SAMPLE);
        let mut buf = Vec::with_capacity(SAMPLE as usize);
        for i in 0..SAMPLES {
            let at = data + span * i / (SAMPLES - 1);
            file.seek(SeekFrom::Start(at)).map_err(io(&path))?;
            buf.clear();
            (&mut file)
                .take(SAMPLE)
                .read_to_end(&mut buf)
                .map_err(io(&path))?;
            hash.update(&buf);
        }
    }
    Ok(format!("{:x}", hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(weights: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            "{\"model_type\": \"llama\"}",
        )
        .unwrap();
        let header = b"{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header);
        file.extend_from_slice(weights);
        std::fs::write(dir.path().join("model.safetensors"), file).unwrap();
        dir
    }

    #[test]
    fn a_copied_folder_keeps_its_fingerprint_and_changed_weights_change_it() {
        let a = folder(&[1, 2, 3, 4]);
        let copy = folder(&[1, 2, 3, 4]);
        let retrained = folder(&[1, 2, 3, 5]);
        let fa = model_fingerprint(a.path()).unwrap();
        assert_eq!(fa.len(), 64);
        assert_eq!(fa, model_fingerprint(copy.path()).unwrap());
        assert_ne!(fa, model_fingerprint(retrained.path()).unwrap());
        std::fs::write(
            a.path().join("config.json"),
            "{\"model_type\": \"gpt_neox\"}",
        )
        .unwrap();
        assert_ne!(fa, model_fingerprint(a.path()).unwrap());
    }

    #[test]
    fn a_pytorch_checkpoint_is_fingerprinted_by_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let bin = dir.path().join("pytorch_model.bin");
        std::fs::write(&bin, vec![7u8; 300_000]).unwrap();
        let before = model_fingerprint(dir.path()).unwrap();
        let mut bytes = vec![7u8; 300_000];
        bytes[0] = 8;
        std::fs::write(&bin, bytes).unwrap();
        assert_ne!(before, model_fingerprint(dir.path()).unwrap());
    }

    #[test]
    fn a_folder_named_like_an_index_is_passed_over_as_the_loader_passes_it() {
        let a = folder(&[1, 2, 3, 4]);
        let before = model_fingerprint(a.path()).unwrap();
        std::fs::create_dir(a.path().join("model.safetensors.index.json")).unwrap();
        assert_eq!(model_fingerprint(a.path()).unwrap(), before);
    }

    #[test]
    fn a_folder_without_weights_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(model_fingerprint(dir.path()).is_err());
    }
}
