//! The weight files a model folder may hold besides f32 `model.safetensors`: PyTorch `.bin`
//! checkpoints (single, and sharded with `pytorch_model.bin.index.json`), read with candle's
//! pickle reader, and fp16 / bf16 safetensors, converted to the f32 the model computes in.
//! The `.bin` files are written by `common::torch_checkpoint` as `torch.save` lays them out.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use common::torch_checkpoint::write_torch_checkpoint;
use proofstep::model::{
    load_model, read_tensors, save_model, CausalLm, Decoding, GenerateOptions, Generator,
    ModelConfig, Predictor,
};

fn neox() -> ModelConfig {
    let v = serde_json::json!({
        "model_type": "gpt_neox", "vocab_size": 61, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "rotary_pct": 0.25,
        "max_position_embeddings": 128, "eos_token_id": 0
    });
    ModelConfig::from_json(&v.to_string()).unwrap()
}

/// A folder with `lm`'s config and its tensors saved as safetensors in `dir`.
fn safetensors_folder(lm: &CausalLm, dir: &Path) -> HashMap<String, Tensor> {
    save_model(lm, dir, usize::MAX).unwrap();
    read_tensors(dir, &Device::Cpu).unwrap()
}

/// The same folder with the weights as `.bin` files instead: one, or `shards` with an index.
fn bin_folder(from: &Path, to: &Path, tensors: &HashMap<String, Tensor>, shards: usize) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if !name.starts_with("model") {
            std::fs::copy(f.path(), to.join(&name)).unwrap();
        }
    }
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    if shards == 1 {
        let all: Vec<(String, Tensor)> = names
            .iter()
            .map(|n| ((*n).clone(), tensors[*n].clone()))
            .collect();
        write_torch_checkpoint(&to.join("pytorch_model.bin"), &all);
        return;
    }
    let mut weight_map = serde_json::Map::new();
    for (i, chunk) in names.chunks(names.len().div_ceil(shards)).enumerate() {
        let file = format!("pytorch_model-{:05}-of-{shards:05}.bin", i + 1);
        let part: Vec<(String, Tensor)> = chunk
            .iter()
            .map(|n| ((*n).clone(), tensors[*n].clone()))
            .collect();
        write_torch_checkpoint(&to.join(&file), &part);
        for n in chunk {
            weight_map.insert((*n).clone(), file.clone().into());
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(to.join("pytorch_model.bin.index.json"), index.to_string()).unwrap();
}

fn assert_same_tensors(a: &HashMap<String, Tensor>, b: &HashMap<String, Tensor>) {
    let mut ka: Vec<&String> = a.keys().collect();
    let mut kb: Vec<&String> = b.keys().collect();
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb);
    for (name, t) in a {
        assert_eq!(t.dims(), b[name].dims(), "{name}");
        assert_eq!(t.dtype(), b[name].dtype(), "{name}");
        let f32 = |t: &Tensor| t.to_dtype(DType::F32).unwrap();
        assert_eq!(common::max_abs_diff(&f32(t), &f32(&b[name])), 0.0, "{name}");
    }
}

#[test]
fn a_pytorch_bin_checkpoint_reads_to_the_same_tensors_as_the_safetensors_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let lm = CausalLm::random_seeded(neox(), &Device::Cpu, 11).unwrap();
    let st = tmp.path().join("st");
    let tensors = safetensors_folder(&lm, &st);
    let bin = tmp.path().join("bin");
    bin_folder(&st, &bin, &tensors, 1);
    assert!(!bin.join("model.safetensors").exists());
    assert_same_tensors(&tensors, &read_tensors(&bin, &Device::Cpu).unwrap());
    let ids = Tensor::new(&[[1u32, 5, 9, 2]], &Device::Cpu).unwrap();
    let a = lm.forward_train(&ids).unwrap();
    let b = load_model(&bin, &Device::Cpu)
        .unwrap()
        .forward_train(&ids)
        .unwrap();
    assert_eq!(common::max_abs_diff(&a, &b), 0.0);
}

#[test]
fn a_sharded_pytorch_checkpoint_reads_every_shard_its_index_names() {
    let tmp = tempfile::tempdir().unwrap();
    let lm = CausalLm::random_seeded(neox(), &Device::Cpu, 12).unwrap();
    let st = tmp.path().join("st");
    let tensors = safetensors_folder(&lm, &st);
    let bin = tmp.path().join("bin");
    bin_folder(&st, &bin, &tensors, 3);
    assert!(bin.join("pytorch_model-00003-of-00003.bin").exists());
    assert_same_tensors(&tensors, &read_tensors(&bin, &Device::Cpu).unwrap());
    std::fs::remove_file(bin.join("pytorch_model-00002-of-00003.bin")).unwrap();
    let err = load_model(&bin, &Device::Cpu)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("pytorch_model-00002-of-00003.bin"), "{err}");
}

#[test]
fn a_bin_model_generates_the_same_candidates_as_its_safetensors_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let st = common::untrained_model(tmp.path());
    let tensors = read_tensors(&st, &Device::Cpu).unwrap();
    let bin = tmp.path().join("bin");
    bin_folder(&st, &bin, &tensors, 1);
    let options = GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![0.0, 1.0],
            samples: 3,
            top_p: 0.95,
        },
        max_new_tokens: 12,
        seed: 5,
    };
    let prompt = "[GOAL]p q : Prop\n⊢ p ∧ q → q ∧ p[PROOFSTEP]".to_string();
    let run = |dir: &Path| {
        let g = Generator::load(dir).unwrap();
        g.generate(std::slice::from_ref(&prompt), &options).unwrap()
    };
    let (a, b) = (run(&st), run(&bin));
    let texts = |c: &Vec<Vec<proofstep::model::Candidate>>| -> Vec<(String, String)> {
        c[0].iter()
            .map(|c| (c.text.clone(), format!("{:.6}", c.score)))
            .collect()
    };
    assert!(!a[0].is_empty());
    assert_eq!(texts(&a), texts(&b));
}

#[test]
fn half_precision_bin_storages_read_as_their_values() {
    let tmp = tempfile::tempdir().unwrap();
    let lm = CausalLm::random_seeded(neox(), &Device::Cpu, 13).unwrap();
    let st = tmp.path().join("st");
    let tensors = safetensors_folder(&lm, &st);
    for dtype in [DType::F16, DType::BF16] {
        let half: HashMap<String, Tensor> = tensors
            .iter()
            .map(|(n, t)| (n.clone(), t.to_dtype(dtype).unwrap()))
            .collect();
        let bin = tmp.path().join(format!("bin-{dtype:?}"));
        bin_folder(&st, &bin, &half, 1);
        assert_same_tensors(&half, &read_tensors(&bin, &Device::Cpu).unwrap());
        load_model(&bin, &Device::Cpu).unwrap();
    }
}

#[test]
fn a_pre_zip_or_damaged_bin_file_is_refused_with_the_way_to_convert_it() {
    let tmp = tempfile::tempdir().unwrap();
    let lm = CausalLm::random_seeded(neox(), &Device::Cpu, 14).unwrap();
    let st = tmp.path().join("st");
    let tensors = safetensors_folder(&lm, &st);
    let bin = tmp.path().join("bin");
    bin_folder(&st, &bin, &tensors, 1);
    // A legacy (PyTorch < 1.6) checkpoint is a bare pickle stream, not a zip.
    std::fs::write(bin.join("pytorch_model.bin"), b"\x80\x02\x8a\x0alegacy").unwrap();
    let err = load_model(&bin, &Device::Cpu)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("pytorch_model.bin") && err.contains("save_pretrained"),
        "{err}"
    );
}

#[test]
fn fp16_and_bf16_safetensors_load_and_agree_with_f32_within_their_precision() {
    let tmp = tempfile::tempdir().unwrap();
    let lm = CausalLm::random_seeded(neox(), &Device::Cpu, 15).unwrap();
    let st = tmp.path().join("f32");
    let tensors = safetensors_folder(&lm, &st);
    let ids = Tensor::new(&[[3u32, 1, 4, 1, 5, 9, 2, 6]], &Device::Cpu).unwrap();
    let reference = lm.forward_train(&ids).unwrap();
    let scale = reference
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    // Relative to the logits' scale: fp16 keeps 11 bits of mantissa, bf16 8.
    for (dtype, tolerance) in [(DType::F16, 2e-3), (DType::BF16, 2e-2)] {
        let half: HashMap<String, Tensor> = tensors
            .iter()
            .map(|(n, t)| (n.clone(), t.to_dtype(dtype).unwrap()))
            .collect();
        let dir = tmp.path().join(format!("{dtype:?}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(st.join("config.json"), dir.join("config.json")).unwrap();
        proofstep::model::io::folder::write_tensors(&dir, &half, usize::MAX).unwrap();
        let stored = read_tensors(&dir, &Device::Cpu).unwrap();
        assert!(stored.values().all(|t| t.dtype() == dtype));
        let loaded = load_model(&dir, &Device::Cpu).unwrap();
        assert!(loaded.tensors().values().all(|t| t.dtype() == DType::F32));
        let logits = loaded.forward_train(&ids).unwrap();
        let diff = common::max_abs_diff(&reference, &logits);
        assert!(
            diff > 0.0 && diff <= tolerance * scale,
            "{dtype:?}: {diff} against scale {scale}"
        );
    }
}
