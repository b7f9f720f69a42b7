//! Fetching and unpacking the LeanDojo Benchmark 4 tarball (`--download`): streamed to disk with
//! a progress callback, hashed while it arrives (SHA-256 and MD5), checked against a SHA-256 the
//! user gives and against the MD5 Zenodo publishes for the file, then unpacked.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::error::DataError;
use crate::fsutil::AtomicFile;

/// The seed's URL: LeanDojo Benchmark 4, version 1 (mathlib4 commit 5a919533).
pub const DEFAULT_URL: &str =
    "https://zenodo.org/record/8040110/files/leandojo_benchmark_4_v1.tar.gz";

/// What a download produced.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Downloaded {
    /// The archive on disk.
    pub archive: PathBuf,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Its MD5 (hex).
    pub md5: String,
    /// Whether a published or given checksum was compared (and matched).
    pub verified: bool,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

fn download_error(url: &str, reason: impl ToString) -> DataError {
    DataError::Download {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

/// Downloads `url` into `dir` (atomically: a temporary file renamed when complete and checked),
/// calling `progress(bytes, total)` as it goes. `sha256`, when given, must match; for a Zenodo
/// record URL the MD5 Zenodo publishes is checked too when it can be fetched.
pub fn download(
    url: &str,
    dir: &Path,
    sha256: Option<&str>,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Downloaded, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let name = url
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("leandojo_benchmark_4.tar.gz");
    let name = name.split('?').next().unwrap_or(name);
    let archive = dir.join(name);
    let response = agent()
        .get(url)
        .call()
        .map_err(|e| download_error(url, e))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut body = response.into_body().into_reader();
    let mut tmp = AtomicFile::create(&archive).map_err(|e| DataError::io(&archive, e))?;
    let (mut sha, mut md5) = (Sha256::new(), Md5::new());
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| download_error(url, e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| DataError::io(&archive, e))?;
        done += n as u64;
        progress(done, total);
    }
    let sha_hex = hex(&sha.finalize());
    let md5_hex = hex(&md5.finalize());
    let mut verified = false;
    if let Some(expected) = sha256 {
        if !expected.eq_ignore_ascii_case(&sha_hex) {
            return Err(DataError::Checksum {
                url: url.to_string(),
                expected: format!("sha256 {expected}"),
                actual: format!("sha256 {sha_hex}"),
            });
        }
        verified = true;
    }
    match zenodo_md5(url) {
        Some(published) if published != md5_hex => {
            return Err(DataError::Checksum {
                url: url.to_string(),
                expected: format!("md5 {published} (published by Zenodo)"),
                actual: format!("md5 {md5_hex}"),
            });
        }
        Some(_) => verified = true,
        None => {}
    }
    if !verified {
        tracing::warn!(sha256 = %sha_hex, "no checksum to compare the download with; pass --sha256 to check it");
    }
    tmp.commit().map_err(|e| DataError::io(&archive, e))?;
    Ok(Downloaded {
        archive,
        sha256: sha_hex,
        md5: md5_hex,
        verified,
    })
}

/// The MD5 Zenodo publishes for a `https://zenodo.org/record(s)/ID/files/NAME` URL, if the
/// URL is one and the record's metadata can be fetched.
fn zenodo_md5(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://zenodo.org/record/")
        .or_else(|| url.strip_prefix("https://zenodo.org/records/"))?;
    let (id, file) = rest.split_once("/files/")?;
    let file = file.split('?').next()?;
    let api = format!("https://zenodo.org/api/records/{id}");
    let mut response = agent().get(&api).call().ok()?;
    let meta: serde_json::Value = serde_json::from_reader(response.body_mut().as_reader()).ok()?;
    let entry = meta
        .get("files")?
        .as_array()?
        .iter()
        .find(|f| f.get("key").and_then(|k| k.as_str()) == Some(file))?;
    entry
        .get("checksum")?
        .as_str()?
        .strip_prefix("md5:")
        .map(str::to_string)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpacks a `.tar.gz` into `dir` (the `tar xzf` step).
pub fn unpack(archive: &Path, dir: &Path) -> Result<(), DataError> {
    let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    tar.unpack(dir).map_err(|e| DataError::BadSplitFile {
        path: archive.to_path_buf(),
        reason: format!("cannot unpack the archive: {e}"),
    })
}
