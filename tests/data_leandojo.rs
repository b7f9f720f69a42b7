//! `proofstep data leandojo` on LeanDojo-schema fixtures: output byte for byte as the seed's
//! data.py (expected files written by Python's json.dumps, see tests/fixtures/leandojo/make_fixtures.py),
//! per-split counts, clear errors, and bounded memory on a large generated split file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leandojo")
}

fn convert(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["data", "leandojo", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn random_split_matches_the_seed_byte_for_byte() {
    let out = tempfile::tempdir().unwrap();
    let run = convert(&fixtures().join("leandojo_benchmark_4"), out.path(), &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        "train\t5\nval\t1\ntest\t2\n"
    );
    for split in ["train", "val", "test"] {
        let name = format!("proofstep-{split}.jsonl");
        let got = std::fs::read(out.path().join(&name)).unwrap();
        let want = std::fs::read(fixtures().join("expected/random").join(&name)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{name}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        3,
        "only the three outputs, no temporary files"
    );
}

#[test]
fn novel_premises_split_from_the_parent_folder_with_json_counts() {
    let out = tempfile::tempdir().unwrap();
    // The seed's data dir holds leandojo_benchmark_4/; that is accepted too.
    let run = convert(
        &fixtures(),
        out.path(),
        &["--split", "novel_premises", "--json"],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let examples: Vec<u64> = counts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["examples"].as_u64().unwrap())
        .collect();
    assert_eq!(examples, vec![1, 0, 1]);
    assert_eq!(counts[2]["theorems"], 2);
    assert_eq!(counts[2]["theorems_with_tactics"], 1);
    for split in ["train", "val", "test"] {
        let name = format!("proofstep-{split}.jsonl");
        let got = std::fs::read(out.path().join(&name)).unwrap();
        let want = std::fs::read(fixtures().join("expected/novel_premises").join(&name)).unwrap();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn missing_or_malformed_input_says_what_to_do() {
    let out = tempfile::tempdir().unwrap();
    let run = convert(Path::new("/nonexistent/benchmark"), out.path(), &[]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("random/train.json is missing") && err.contains("tar xzf"),
        "{err}"
    );

    let bad = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(bad.path().join("random")).unwrap();
    for split in ["train", "val", "test"] {
        std::fs::write(bad.path().join(format!("random/{split}.json")), "[]").unwrap();
    }
    std::fs::write(
        bad.path().join("random/val.json"),
        "[{\"traced_tactics\": [{\"tactic\": 3}]}]",
    )
    .unwrap();
    let run = convert(bad.path(), out.path(), &[]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("val.json") && err.contains("not a LeanDojo Benchmark 4 split file"),
        "{err}"
    );
    assert!(
        !out.path().join("proofstep-val.jsonl").exists(),
        "no partial output under the final name"
    );
}

/// A benchmark folder under `dir` whose `random/{train,val,test}.json` hold the given texts.
fn benchmark_with(dir: &Path, train: &str, val: &str, test: &str) -> PathBuf {
    let root = dir.join("leandojo_benchmark_4");
    std::fs::create_dir_all(root.join("random")).unwrap();
    for (split, text) in [("train", train), ("val", val), ("test", test)] {
        std::fs::write(root.join(format!("random/{split}.json")), text).unwrap();
    }
    root
}

/// Every file in `dir` with its bytes, sorted by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[cfg(unix)]
#[test]
fn outputs_get_the_permissions_of_an_ordinary_file() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let out = tempfile::tempdir().unwrap();
    let run = convert(&fixtures().join("leandojo_benchmark_4"), out.path(), &[]);
    assert!(run.status.success());
    // What an ordinary create gives under the test's umask (0644 under 022), not 0600.
    let plain = out.path().join("plain");
    std::fs::write(&plain, "").unwrap();
    for split in ["train", "val", "test"] {
        let path = out.path().join(format!("proofstep-{split}.jsonl"));
        assert_eq!(mode(&path), mode(&plain), "{split}");
    }
}

#[test]
fn a_run_that_fails_on_one_split_leaves_the_previous_outputs_untouched() {
    let out = tempfile::tempdir().unwrap();
    let first = convert(&fixtures().join("leandojo_benchmark_4"), out.path(), &[]);
    assert!(first.status.success());
    let before = snapshot(out.path());
    assert_eq!(before.len(), 3);

    // A second run whose train split is fine and whose val split is broken.
    let input = tempfile::tempdir().unwrap();
    let train = r#"[{"full_name": "t", "file_path": "T.lean", "traced_tactics": [{"tactic": "rfl", "state_before": "⊢ 1 = 1", "state_after": "no goals"}]}]"#;
    let root = benchmark_with(input.path(), train, "[{\"traced_tactics\": [", "[]");
    let run = convert(&root, out.path(), &[]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("val.json"), "{err}");
    assert_eq!(
        snapshot(out.path()),
        before,
        "every old output byte for byte, and no temporary file"
    );
}

#[test]
fn records_missing_every_field_are_an_error_naming_the_fields() {
    let input = tempfile::tempdir().unwrap();
    let records = r#"[{"name": "a", "steps": ["simp"]}, {"name": "b"}]"#;
    let root = benchmark_with(input.path(), records, records, "[]");
    let out = tempfile::tempdir().unwrap();
    let run = convert(&root, out.path(), &[]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    for field in ["`full_name`", "`file_path`", "`traced_tactics`"] {
        assert!(err.contains(field), "names {field}: {err}");
    }
    assert!(
        err.contains("none of their 4 records") && err.contains("\"state_before\""),
        "says what a record should look like: {err}"
    );
    assert!(snapshot(out.path()).is_empty(), "nothing written");
}

/// Writes a split file of about `bytes` bytes: many theorems with realistic-length states.
fn generate_split(path: &Path, bytes: usize) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let state = "α : Type u_1\\ninst✝ : LinearOrderedField α\\na b c : α\\nh : 0 < a ∧ 0 < b\\n⊢ a * b ≤ (a ^ 2 + b ^ 2) / 2 + c ^ 2 * 0";
    let mut written = 1;
    let mut steps = 0;
    f.write_all(b"[").unwrap();
    let mut i = 0;
    while written < bytes {
        let mut t = format!(
            "{}{{\"url\": \"u\", \"commit\": \"c\", \"file_path\": \"Mathlib/X{i}.lean\", \"full_name\": \"X.t{i}\", \"start\": [1, 1], \"end\": [9, 9], \"traced_tactics\": [",
            if i == 0 { "" } else { "," }
        );
        for k in 0..8 {
            t.push_str(&format!(
                "{}{{\"tactic\": \"nlinarith [sq_nonneg (a - b), h{k}]\", \"annotated_tactic\": [\"nlinarith\", []], \"state_before\": \"{state}\", \"state_after\": \"no goals\"}}",
                if k == 0 { "" } else { "," }
            ));
            steps += 1;
        }
        t.push_str("]}");
        f.write_all(t.as_bytes()).unwrap();
        written += t.len();
        i += 1;
    }
    f.write_all(b"]").unwrap();
    steps
}

/// Peak resident memory (VmHWM, kB) of a running child, polled until it exits.
fn run_and_peak_rss(mut cmd: Command) -> (std::process::ExitStatus, u64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn large_split_is_streamed_with_bounded_memory() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!(
            "SKIPPED large_split_is_streamed_with_bounded_memory: no /proc to read memory from"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("leandojo_benchmark_4/random");
    std::fs::create_dir_all(&root).unwrap();
    let size = 32 << 20;
    let steps = generate_split(&root.join("train.json"), size);
    std::fs::write(root.join("val.json"), "[]").unwrap();
    std::fs::write(root.join("test.json"), "[]").unwrap();
    let out = dir.path().join("out");
    let mut cmd = bin();
    cmd.args(["data", "leandojo", "--input"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out);
    let (status, peak_kb) = run_and_peak_rss(cmd);
    assert!(status.success());
    let lines = std::fs::read_to_string(out.join("proofstep-train.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, steps);
    eprintln!("peak RSS {peak_kb} kB converting a {size}-byte split file");
    // Reading the whole 32 MB array into memory would need well over 32 MB; streaming needs a
    // few buffers.
    assert!(
        peak_kb < 24 * 1024,
        "peak RSS {peak_kb} kB on a {size}-byte split file"
    );
}
