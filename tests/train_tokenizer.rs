//! `proofstep tokenizer train` on proof-step JSONL: the format's markers and end/pad tokens are
//! single tokens with fixed ids, the vocabulary respects the limit, and the folder loads.

use std::path::PathBuf;
use std::process::Command;

use proofstep::model::ProofTokenizer;

#[test]
fn trains_a_byte_level_bpe_with_the_format_tokens() {
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leandojo/expected/random");
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["tokenizer", "train", "--vocab-size", "300", "--data"])
        .arg(fixtures.join("proofstep-train.jsonl"))
        .arg(fixtures.join("proofstep-test.jsonl"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["examples"], 7);
    assert!(summary["vocab_size"].as_u64().unwrap() <= 300);
    let tok = ProofTokenizer::from_file(&out.path().join("tokenizer.json"), None).unwrap();
    assert_eq!(tok.eos_id(), Some(0));
    let ids = tok
        .encode("[GOAL]a b : ℝ\n⊢ 0 ≤ a ^ 2 + b ^ 2[PROOFSTEP]positivity<|endoftext|>")
        .unwrap();
    assert_eq!(ids[0], 2);
    assert_eq!(*ids.last().unwrap(), 0);
    assert_eq!(ids.iter().filter(|&&i| i == 3).count(), 1);
    assert!(ids.iter().all(|&i| i != 1), "[PAD] never appears in text");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (config["eos_token"].as_str(), config["pad_token"].as_str()),
        (Some("<|endoftext|>"), Some("[PAD]"))
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["tokenizer", "train", "--vocab-size", "100", "--data"])
        .arg(fixtures.join("proofstep-train.jsonl"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at least 260"));
}
