//! Models from the Hugging Face Hub: `--model org/name[@revision]` downloaded through the real
//! `hf-hub` client from `common::local_hub` (a Hub stand-in on localhost, reached through
//! `HF_ENDPOINT` like a mirror) into the cache under `HF_HOME`; revision pins, the cache reused
//! and used when the Hub is unreachable, tokens for gated models, sharded `.bin` repositories,
//! a local folder winning over the Hub id, and the errors that name the fix.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use candle_core::{DType, Device, Tensor};
use common::local_hub::LocalHub;
use common::torch_checkpoint::write_torch_checkpoint;
use proofstep::model::{
    read_tensors, resolve_model, save_model, CausalLm, HubSettings, ModelConfig,
};

const PROMPT: &str = "[GOAL]p q : Prop\n⊢ p ∧ q → q ∧ p[PROOFSTEP]";

/// Settings reaching `endpoint` with the cache in `home`.
fn settings(endpoint: &str, home: &Path) -> HubSettings {
    HubSettings {
        endpoint: endpoint.to_string(),
        cache_dir: Some(home.join("hub")),
        token: None,
        offline: false,
    }
}

/// An address nothing listens on.
fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// `proofstep generate` with the Hub environment set to `endpoint` and `home` (and nothing
/// else of the machine's Hugging Face settings), run in `cwd`.
fn generate(model: &str, endpoint: &str, home: &Path, cwd: &Path, token: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    cmd.current_dir(cwd)
        .args([
            "generate",
            "--json",
            "-n",
            "3",
            "--temperature",
            "0.8",
            "--seed",
            "4",
        ])
        .args([
            "--max-new-tokens",
            "10",
            "--prompt",
            PROMPT,
            "--model",
            model,
        ])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_TOKEN_PATH")
        .env_remove("PROOFSTEP_MODEL");
    match token {
        Some(t) => cmd.env("HF_TOKEN", t),
        None => cmd.env_remove("HF_TOKEN"),
    };
    cmd.output().unwrap()
}

/// The candidates `generate --json` printed.
fn candidates(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["candidates"].clone()
}

fn tensors(dir: &Path) -> HashMap<String, Tensor> {
    read_tensors(dir, &Device::Cpu).unwrap()
}

fn same(a: &HashMap<String, Tensor>, b: &HashMap<String, Tensor>) -> bool {
    a.len() == b.len()
        && a.iter().all(|(n, t)| {
            b.get(n).is_some_and(|u| {
                let f = |t: &Tensor| t.to_dtype(DType::F32).unwrap();
                t.dims() == u.dims() && common::max_abs_diff(&f(t), &f(u)) == 0.0
            })
        })
}

/// The test model with other random weights (same tokenizer), in `dir`.
fn reseeded(model: &Path, dir: &Path, seed: u64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for f in ["config.json", "tokenizer.json", "generation_config.json"] {
        std::fs::copy(model.join(f), dir.join(f)).unwrap();
    }
    let config =
        ModelConfig::from_json(&std::fs::read_to_string(model.join("config.json")).unwrap())
            .unwrap();
    let lm = CausalLm::random_seeded(config, &Device::Cpu, seed).unwrap();
    save_model(&lm, dir, usize::MAX).unwrap();
    dir.to_path_buf()
}

#[test]
fn a_hub_id_is_downloaded_into_hf_home_and_generates_what_the_local_folder_generates() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let hub = LocalHub::start();
    let commit = hub.publish("proofstep-tests/tiny", "main", &model);
    let home = tmp.path().join("hf-home");
    let from_hub = generate(
        "proofstep-tests/tiny",
        &hub.endpoint(),
        &home,
        tmp.path(),
        None,
    );
    let local = generate(
        model.to_str().unwrap(),
        &closed_endpoint(),
        &home,
        tmp.path(),
        None,
    );
    assert_eq!(candidates(&from_hub), candidates(&local));
    assert!(!candidates(&local).as_array().unwrap().is_empty());
    let snapshot = home
        .join("hub/models--proofstep-tests--tiny/snapshots")
        .join(&commit);
    for f in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "generation_config.json",
    ] {
        assert!(
            snapshot.join(f).is_file(),
            "{f} not in {}",
            snapshot.display()
        );
    }
    let refs = home.join("hub/models--proofstep-tests--tiny/refs/main");
    assert_eq!(std::fs::read_to_string(refs).unwrap().trim(), commit);
}

#[test]
fn a_revision_pin_loads_that_revision_by_tag_or_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let v1 = reseeded(&model, &tmp.path().join("v1"), 99);
    let hub = LocalHub::start();
    hub.publish("org/tiny", "main", &model);
    let v1_commit = hub.publish("org/tiny", "v1", &v1);
    let s = settings(&hub.endpoint(), &tmp.path().join("home"));
    let main_dir = resolve_model(Path::new("org/tiny"), &s).unwrap();
    let tag_dir = resolve_model(Path::new("org/tiny@v1"), &s).unwrap();
    let commit_dir = resolve_model(Path::new(&format!("org/tiny@{v1_commit}")), &s).unwrap();
    assert!(same(&tensors(&main_dir), &tensors(&model)));
    assert!(same(&tensors(&tag_dir), &tensors(&v1)));
    assert!(!same(&tensors(&tag_dir), &tensors(&model)));
    assert_eq!(tag_dir, commit_dir);
    let err = resolve_model(Path::new("org/tiny@v2"), &s)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("org/tiny@v2") && err.contains("revision"),
        "{err}"
    );
}

#[test]
fn a_second_run_reads_the_cache_and_downloads_nothing_again() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let hub = LocalHub::start();
    hub.publish("org/tiny", "main", &model);
    let s = settings(&hub.endpoint(), &tmp.path().join("home"));
    let first = resolve_model(Path::new("org/tiny"), &s).unwrap();
    let downloads = |hub: &LocalHub| {
        hub.requests()
            .iter()
            .filter(|r| r.contains("/resolve/"))
            .count()
    };
    let after_first = downloads(&hub);
    assert!(after_first >= 3, "{:?}", hub.requests());
    let second = resolve_model(Path::new("org/tiny"), &s).unwrap();
    assert_eq!(first, second);
    assert_eq!(downloads(&hub), after_first, "{:?}", hub.requests());
}

#[test]
fn a_cached_model_is_used_when_the_hub_cannot_be_reached() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let hub = LocalHub::start();
    hub.publish("org/tiny", "main", &model);
    let home = tmp.path().join("home");
    let online = resolve_model(Path::new("org/tiny"), &settings(&hub.endpoint(), &home)).unwrap();
    let unreachable = settings(&closed_endpoint(), &home);
    assert_eq!(
        resolve_model(Path::new("org/tiny"), &unreachable).unwrap(),
        online
    );
    let offline = HubSettings {
        offline: true,
        ..unreachable.clone()
    };
    assert_eq!(
        resolve_model(Path::new("org/tiny"), &offline).unwrap(),
        online
    );
    let err = resolve_model(Path::new("org/other"), &offline)
        .unwrap_err()
        .to_string();
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
}

#[test]
fn an_unreachable_hub_says_to_pass_a_local_folder_or_set_hf_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = generate(
        "org/tiny",
        &closed_endpoint(),
        &tmp.path().join("home"),
        tmp.path(),
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the Hub")
            && err.contains("local model folder")
            && err.contains("HF_ENDPOINT")
            && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn a_gated_model_is_refused_without_hf_token_and_downloaded_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let hub = LocalHub::start();
    hub.publish("org/gated", "main", &model);
    hub.require_token("org/gated", "hf_secret");
    let home = tmp.path().join("home");
    let refused = generate("org/gated", &hub.endpoint(), &home, tmp.path(), None);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("401") && err.contains("set HF_TOKEN"), "{err}");
    let wrong = generate(
        "org/gated",
        &hub.endpoint(),
        &home,
        tmp.path(),
        Some("hf_wrong"),
    );
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("cannot read it"), "{err}");
    let allowed = generate(
        "org/gated",
        &hub.endpoint(),
        &home,
        tmp.path(),
        Some("hf_secret"),
    );
    assert!(!candidates(&allowed).as_array().unwrap().is_empty());
}

#[test]
fn a_local_folder_named_like_the_hub_id_wins_over_the_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let other = reseeded(&model, &tmp.path().join("org/tiny"), 98);
    let hub = LocalHub::start();
    hub.publish("org/tiny", "main", &model);
    let home = tmp.path().join("home");
    let named = generate("org/tiny", &hub.endpoint(), &home, tmp.path(), None);
    let local = generate(
        other.to_str().unwrap(),
        &hub.endpoint(),
        &home,
        tmp.path(),
        None,
    );
    assert_eq!(candidates(&named), candidates(&local));
    assert!(hub.requests().is_empty(), "{:?}", hub.requests());
}

#[test]
fn a_sharded_pytorch_repository_downloads_every_shard_its_index_names() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::untrained_model(tmp.path());
    let reference = tensors(&model);
    let repo = tmp.path().join("bin-repo");
    std::fs::create_dir_all(&repo).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(model.join(f), repo.join(f)).unwrap();
    }
    let mut names: Vec<&String> = reference.keys().collect();
    names.sort();
    let mut weight_map = serde_json::Map::new();
    for (i, chunk) in names.chunks(names.len().div_ceil(2)).enumerate() {
        let file = format!("pytorch_model-{:05}-of-00002.bin", i + 1);
        let part: Vec<(String, Tensor)> = chunk
            .iter()
            .map(|n| ((*n).clone(), reference[*n].clone()))
            .collect();
        write_torch_checkpoint(&repo.join(&file), &part);
        for n in chunk {
            weight_map.insert((*n).clone(), file.clone().into());
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(repo.join("pytorch_model.bin.index.json"), index.to_string()).unwrap();
    std::fs::write(repo.join("README.md"), "not downloaded").unwrap();
    let hub = LocalHub::start();
    hub.publish("org/bin", "main", &repo);
    let dir = resolve_model(
        Path::new("org/bin"),
        &settings(&hub.endpoint(), &tmp.path().join("h")),
    )
    .unwrap();
    assert!(same(&tensors(&dir), &reference));
    assert!(!dir.join("README.md").exists());
    assert!(proofstep::model::Generator::load(&dir).is_ok());
}
