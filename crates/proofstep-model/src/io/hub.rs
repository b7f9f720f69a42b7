//! Models on the Hugging Face Hub: a `--model` (or `train --model_name_or_path`) of the form
//! `org/name[@revision]` is downloaded with the `hf-hub` client into the standard cache
//! (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, the layout Python's
//! `huggingface_hub` shares) and loaded from its snapshot folder like any local folder.
//! `HF_ENDPOINT` (a mirror), `HF_TOKEN` (gated and private models) and `HF_HUB_OFFLINE` are
//! honoured; a model already in the cache is used when the Hub cannot be reached. A local
//! folder of the same name always wins over the Hub id.

use std::fmt;
use std::path::{Path, PathBuf};

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use crate::error::{ModelError, Result};
use crate::io::weights::{index_shards, weight_files, WEIGHT_LAYOUTS};

/// The Hub's own address, used when `HF_ENDPOINT` is unset.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Files a model folder needs besides its weights.
const REQUIRED: [&str; 2] = ["config.json", "tokenizer.json"];

/// Files fetched when the repository has them (decoding settings, tokenizer details).
const OPTIONAL: [&str; 3] = [
    "generation_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// A model repository on the Hub, as written on the command line: `org/name[@revision]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubId {
    /// `org/name`.
    pub repo: String,
    /// A branch, tag or commit after `@`; None means `main`.
    pub revision: Option<String>,
}

impl HubId {
    /// Reads `org/name` or `org/name@revision` (each name of letters, digits, `-`, `_`, `.`,
    /// not starting with `.`); anything else (a path with more parts, an absolute path) is not
    /// a Hub id.
    pub fn parse(spec: &str) -> Option<HubId> {
        let (repo, revision) = match spec.split_once('@') {
            Some((repo, rev)) if !rev.is_empty() && !rev.contains("..") => {
                (repo, Some(rev.to_string()))
            }
            Some(_) => return None,
            None => (spec, None),
        };
        let (org, name) = repo.split_once('/')?;
        let part_ok = |p: &str| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (part_ok(org) && part_ok(name)).then(|| HubId {
            repo: repo.to_string(),
            revision,
        })
    }

    /// The revision asked for: the one after `@`, else `main`.
    pub fn revision(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }

    fn hf_repo(&self) -> Repo {
        Repo::with_revision(
            self.repo.clone(),
            RepoType::Model,
            self.revision().to_string(),
        )
    }
}

impl fmt::Display for HubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.revision {
            Some(rev) => write!(f, "{}@{rev}", self.repo),
            None => f.write_str(&self.repo),
        }
    }
}

/// Where the Hub is and how to reach it; [`HubSettings::from_env`] reads what Python's
/// `huggingface_hub` reads.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// The Hub's address (`HF_ENDPOINT`, e.g. a mirror), without a trailing `/`.
    pub endpoint: String,
    /// The cache's `hub` folder (`HF_HUB_CACHE`, `HF_HOME/hub`, `~/.cache/huggingface/hub`);
    /// None when no home folder is known and nothing is set.
    pub cache_dir: Option<PathBuf>,
    /// A token for gated and private models (`HF_TOKEN`, else the file `huggingface-cli login`
    /// writes in `HF_HOME`).
    pub token: Option<String>,
    /// Use only the cache (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
}

impl HubSettings {
    /// The settings the environment gives, with the defaults of Python's `huggingface_hub`.
    pub fn from_env() -> HubSettings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let home = var("HF_HOME").map(PathBuf::from).or_else(|| {
            var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| Path::new(&h).join(".cache")))
                .map(|cache| cache.join("huggingface"))
        });
        let cache_dir = var("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join("hub")));
        let token = var("HF_TOKEN").or_else(|| {
            let path = var("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join("token")))?;
            let text = std::fs::read_to_string(path).ok()?;
            Some(text.trim().to_string()).filter(|t| !t.is_empty())
        });
        let offline = var("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
        });
        HubSettings {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            cache_dir,
            token,
            offline,
        }
    }
}

/// The folder a `--model` names: a local path that exists as it is; else, when it reads as a
/// Hub id, the model downloaded into (or found in) the cache; else the path as given, for the
/// folder's own errors to describe.
pub fn resolve_model(spec: &Path, settings: &HubSettings) -> Result<PathBuf> {
    if spec.exists() {
        return Ok(spec.to_path_buf());
    }
    match spec.to_str().and_then(HubId::parse) {
        Some(id) => fetch(&id, settings),
        None => Ok(spec.to_path_buf()),
    }
}

/// Downloads what the model `id` needs (config, tokenizer, weights: safetensors or PyTorch
/// `.bin`, every shard an index names) into the cache, skipping files already there, and
/// returns its snapshot folder. Without the Hub (unreachable, or `offline`), a complete
/// snapshot already in the cache is used.
pub fn fetch(id: &HubId, settings: &HubSettings) -> Result<PathBuf> {
    let cache_dir = settings.cache_dir.clone().ok_or_else(|| {
        ModelError::Hub(format!(
            "no cache folder for {id}: set HF_HOME (or HF_HUB_CACHE) to a writable folder"
        ))
    })?;
    let cache = Cache::new(cache_dir.clone());
    if settings.offline {
        return cached_snapshot(&cache_dir, id).ok_or_else(|| {
            ModelError::Hub(format!(
                "HF_HUB_OFFLINE is set and {id} is not complete in the cache {}: unset \
                 HF_HUB_OFFLINE to download it, or pass a local model folder",
                cache_dir.display()
            ))
        });
    }
    let api = ApiBuilder::from_cache(cache.clone())
        .with_endpoint(settings.endpoint.clone())
        .with_token(settings.token.clone())
        .with_retries(2)
        .with_progress(true)
        .build()
        .map_err(|e| hub_error(id, settings, e))?;
    let remote = api.repo(id.hf_repo());
    let info = match remote.info() {
        Ok(info) => info,
        Err(e) if is_unreachable(&e) => {
            if let Some(dir) = cached_snapshot(&cache_dir, id) {
                tracing::warn!(
                    "the Hub at {} cannot be reached ({e}); using {id} from the cache, {}",
                    settings.endpoint,
                    dir.display()
                );
                return Ok(dir);
            }
            return Err(hub_error(id, settings, e));
        }
        Err(e) => return Err(hub_error(id, settings, e)),
    };
    let names: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    let (files, index) = files_to_fetch(id, &names)?;
    let snapshot = cache_dir
        .join(id.hf_repo().folder_name())
        .join("snapshots")
        .join(&info.sha);
    let get = |file: &str| -> Result<()> {
        if snapshot.join(file).is_file() {
            return Ok(());
        }
        tracing::info!("downloading {file} of {id} from {}", settings.endpoint);
        let path = remote
            .download(file)
            .map_err(|e| hub_error(id, settings, e))?;
        if !path.starts_with(&snapshot) {
            return Err(ModelError::Hub(format!(
                "{id} moved to a new commit while it was downloaded (from {} to the one of \
                 {}): run again, or pin a commit with @",
                info.sha,
                path.display()
            )));
        }
        Ok(())
    };
    for file in &files {
        get(file)?;
    }
    if let Some(index) = index {
        let path = snapshot.join(index);
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        for shard in index_shards(&text, &format!("{id}: {index}"))? {
            if !names.contains(&shard.as_str()) {
                return Err(ModelError::Hub(format!(
                    "{id}: {index} names {shard}, which the repository does not have"
                )));
            }
            get(&shard)?;
        }
    }
    cache
        .repo(id.hf_repo())
        .create_ref(&info.sha)
        .map_err(|e| ModelError::io(&cache_dir, e))?;
    Ok(snapshot)
}

/// The files to fetch from a repository listing `names`: the required ones, the optional ones
/// it has, and its weights (the first layout of `WEIGHT_LAYOUTS` it has); with the index whose
/// shards come after it, if the weights are sharded.
fn files_to_fetch<'a>(id: &HubId, names: &[&'a str]) -> Result<(Vec<&'a str>, Option<&'a str>)> {
    let has = |f: &str| names.iter().copied().find(|n| *n == f);
    let mut files = Vec::new();
    for required in REQUIRED {
        files.push(has(required).ok_or_else(|| {
            ModelError::Hub(format!(
                "{id} has no {required}, so it is not a model proofstep can load (it needs \
                 config.json, tokenizer.json and the weights); pass a local folder that has them"
            ))
        })?);
    }
    files.extend(OPTIONAL.into_iter().filter_map(has));
    for (single, index) in WEIGHT_LAYOUTS {
        if let Some(single) = has(single) {
            files.push(single);
            return Ok((files, None));
        }
        if let Some(index) = has(index) {
            files.push(index);
            return Ok((files, Some(index)));
        }
    }
    Err(ModelError::Hub(format!(
        "{id} has no weights proofstep reads (model.safetensors, pytorch_model.bin, or their \
         *.index.json shards); it has: {}",
        names.join(", ")
    )))
}

/// The snapshot of `id` in the cache when it is complete (config, tokenizer, every weights
/// file), found through the revision's ref (or the commit itself, when pinned).
fn cached_snapshot(cache_dir: &Path, id: &HubId) -> Option<PathBuf> {
    let repo_dir = cache_dir.join(id.hf_repo().folder_name());
    let rev = id.revision();
    let commit = match std::fs::read_to_string(repo_dir.join("refs").join(rev)) {
        Ok(text) => text.trim().to_string(),
        Err(_) if rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) => rev.into(),
        Err(_) => return None,
    };
    let dir = repo_dir.join("snapshots").join(commit);
    let complete = REQUIRED.iter().all(|f| dir.join(f).is_file())
        && weight_files(&dir).is_ok_and(|files| files.iter().all(|f| f.is_file()));
    complete.then_some(dir)
}

/// Whether the Hub could not be reached at all (as opposed to answering with a refusal).
fn is_unreachable(e: &ApiError) -> bool {
    matches!(e, ApiError::RequestError(r) if matches!(r.as_ref(), ureq::Error::Transport(_)))
}

/// A download failure as an error that names the fix.
fn hub_error(id: &HubId, s: &HubSettings, e: ApiError) -> ModelError {
    let at = &s.endpoint;
    let message = match &e {
        ApiError::RequestError(r) => match r.as_ref() {
            ureq::Error::Status(code @ (401 | 403), _) => {
                let token = if s.token.is_some() {
                    "the token proofstep sent (HF_TOKEN, or the one `huggingface-cli login` saved) cannot read it"
                } else {
                    "no token was sent: set HF_TOKEN (or run `huggingface-cli login`)"
                };
                format!(
                    "{at} refused {id} ({code}): it does not exist, or it is gated or private \
                     and {token}; check the name, accept the model's terms on the Hub, or pass \
                     a local model folder"
                )
            }
            ureq::Error::Status(404, _) => format!(
                "{at} has no model {id}: check the name and the revision after @ (a branch, \
                 tag or commit), or pass a local model folder"
            ),
            ureq::Error::Status(code, _) => format!(
                "{at} answered {code} for {id}: try again later, set HF_ENDPOINT to a mirror, \
                 or pass a local model folder"
            ),
            ureq::Error::Transport(t) => format!(
                "cannot reach the Hub at {at} to download {id} ({t}), and it is not in the \
                 cache: pass a local model folder instead (e.g. one made with `huggingface-cli \
                 download {} --local-dir DIR` where the Hub is reachable), set HF_ENDPOINT to a \
                 mirror you can reach, or check the network and proxy (HTTPS_PROXY)",
                id.repo
            ),
        },
        ApiError::MissingHeader(h) => format!(
            "{at} does not answer like a Hugging Face Hub (no {h} header for {id}): set \
             HF_ENDPOINT to a Hub or a mirror of one (default {DEFAULT_ENDPOINT})"
        ),
        ApiError::LockAcquisition(path) => format!(
            "another process is downloading {} for {id}: wait for it, or remove the stale lock",
            path.display()
        ),
        other => format!("downloading {id} from {at}: {other}"),
    };
    ModelError::Hub(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_are_org_slash_name_with_an_optional_revision() {
        let id = HubId::parse("EleutherAI/pythia-1.4b-deduped").unwrap();
        assert_eq!(
            (id.repo.as_str(), id.revision()),
            ("EleutherAI/pythia-1.4b-deduped", "main")
        );
        let pinned = HubId::parse("wellecks/llmstep-mathlib4-pythia2.8b@v1.0").unwrap();
        assert_eq!(pinned.revision(), "v1.0");
        assert_eq!(
            pinned.to_string(),
            "wellecks/llmstep-mathlib4-pythia2.8b@v1.0"
        );
        for not_an_id in [
            "models/testworld-small/extra",
            "/abs/path",
            "./model",
            "model",
            "org/",
            "org/name@",
            "../x",
            "org/na me",
            "org/name@../../x",
        ] {
            assert_eq!(HubId::parse(not_an_id), None, "{not_an_id}");
        }
    }

    #[test]
    fn a_repository_without_weights_or_tokenizer_is_refused_by_name() {
        let id = HubId::parse("org/name").unwrap();
        let err = files_to_fetch(&id, &["config.json", "README.md"]).unwrap_err();
        assert!(err.to_string().contains("no tokenizer.json"), "{err}");
        let err = files_to_fetch(&id, &["config.json", "tokenizer.json", "model.gguf"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no weights") && err.contains("model.gguf"),
            "{err}"
        );
        let (files, index) = files_to_fetch(
            &id,
            &[
                "config.json",
                "tokenizer.json",
                "generation_config.json",
                "pytorch_model.bin.index.json",
                "pytorch_model-00001-of-00002.bin",
                "model.safetensors",
            ],
        )
        .unwrap();
        assert_eq!(
            files,
            [
                "config.json",
                "tokenizer.json",
                "generation_config.json",
                "model.safetensors"
            ]
        );
        assert_eq!(index, None);
    }
}
