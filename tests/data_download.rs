//! `proofstep data leandojo --download`: fetches a tarball over HTTP (a local server here,
//! serving the LeanDojo-schema fixtures), checks its SHA-256, unpacks it and formats it; a wrong
//! checksum and an unreachable URL fail with what to do.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leandojo")
}

/// The fixtures' leandojo_benchmark_4 folder as a .tar.gz, like Zenodo's.
fn tarball() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(
        "leandojo_benchmark_4",
        fixtures().join("leandojo_benchmark_4"),
    )
    .unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

/// Serves `body` to every request on a local port; returns the URL of the file.
fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    format!("http://127.0.0.1:{port}/leandojo_benchmark_4_v1.tar.gz")
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn downloads_checks_unpacks_and_formats() {
    let body = tarball();
    let sha = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let url = serve(body);
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("data"), dir.path().join("processed"));
    let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());

    let wrong = "0".repeat(64);
    let bad = run(&[
        "data",
        "leandojo",
        "--download",
        "--url",
        &url,
        "--sha256",
        &wrong,
        "--input",
        input,
        "--out",
        out,
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("checksum mismatch") && err.contains(&sha),
        "{err}"
    );
    assert!(
        !dir.path()
            .join("data/leandojo_benchmark_4_v1.tar.gz")
            .exists(),
        "a bad download is not kept"
    );

    let ok = run(&[
        "data",
        "leandojo",
        "--download",
        "--url",
        &url,
        "--sha256",
        &sha,
        "--input",
        input,
        "--out",
        out,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "train\t5\nval\t1\ntest\t2\n"
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("checksum verified"));
    for split in ["train", "val", "test"] {
        let name = format!("proofstep-{split}.jsonl");
        assert_eq!(
            std::fs::read(dir.path().join("processed").join(&name)).unwrap(),
            std::fs::read(fixtures().join("expected/random").join(&name)).unwrap()
        );
    }
}

#[test]
fn offline_download_names_the_url_and_the_manual_step() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://127.0.0.1:1/leandojo_benchmark_4_v1.tar.gz";
    let input = dir.path().join("data");
    let out = run(&[
        "data",
        "leandojo",
        "--download",
        "--url",
        url,
        "--input",
        input.to_str().unwrap(),
        "--out",
        "/tmp/unused",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(url) && err.contains("tar xzf") && err.contains("--input"),
        "{err}"
    );
}
