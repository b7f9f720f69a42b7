//! `proofstep extract` on small test-world files with real Lean: the states before and after
//! each tactic are the goals Lean prints, theorems with errors are skipped, split folders are
//! kept, and the output round-trips through `proofstep data leandojo`.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const A: &str = "prelude
import Mini

theorem swap (p q : Prop) (h : p ∧ q) : q ∧ p := by
  constructor
  · exact h.2
  · exact h.1

theorem zero_add' (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ k ih => rw [Nat.add_succ, ih]

theorem or_cases (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h
  case inl hp => exact Or.inr hp
  case inr hq => exact Or.inl hq

theorem broken (p : Prop) : p := by
  exact trivial

theorem term_mode (p : Prop) (hp : p) : p := hp
";

const B: &str = "prelude
import Mini

theorem test_like (m n : Nat) (h : m = n) : n + 0 = m := by
  rw [Nat.add_zero]
  exact Eq.symm h
";

fn proofstep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `proofstep extract INPUT --out OUT EXTRA...` and expects it to succeed.
fn extract_ok(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "extract",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = proofstep(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

fn read(path: &Path) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn states(theorem: &Value) -> Vec<(String, String, String)> {
    theorem["traced_tactics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (s("tactic"), s("state_before"), s("state_after"))
        })
        .collect()
}

#[test]
fn extract_records_lean_states_and_round_trips_through_data_leandojo() {
    if common::test_lean("extract_records_lean_states_and_round_trips_through_data_leandojo")
        .is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("train")).unwrap();
    std::fs::create_dir_all(src.join("test")).unwrap();
    common::write_file(&src.join("train"), "A.lean", A);
    common::write_file(&src.join("test"), "B.lean", B);
    let out = dir.path().join("out");
    let run = extract_ok(&src, &out, &["--workers", "2"]);
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["skipped_theorems"], 1, "`broken` has a Lean error");
    assert_eq!(summary["steps"], 3 + 1 + 3 + 2);

    let train = read(&out.join("random/train.json"));
    let test = read(&out.join("random/test.json"));
    assert!(read(&out.join("random/val.json")).is_empty());
    let names: Vec<&str> = train
        .iter()
        .map(|t| t["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["swap", "zero_add'", "or_cases", "term_mode"]);
    assert_eq!(train[0]["file_path"], "train/A.lean");
    assert_eq!(train[0]["start"], serde_json::json!([4, 1]));
    assert_eq!(train[0]["end"], serde_json::json!([7, 14]));

    let ctx = "p q : Prop\nh : p ∧ q\n";
    assert_eq!(
        states(&train[0]),
        vec![
            (
                "constructor".to_string(),
                format!("{ctx}⊢ q ∧ p"),
                format!("case left\n{ctx}⊢ q\n\ncase right\n{ctx}⊢ p"),
            ),
            (
                "exact h.2".to_string(),
                format!("case left\n{ctx}⊢ q"),
                "no goals".to_string()
            ),
            (
                "exact h.1".to_string(),
                format!("case right\n{ctx}⊢ p"),
                "no goals".to_string()
            ),
        ]
    );
    assert_eq!(
        states(&train[1]),
        vec![(
            "induction n with\n| zero => rfl\n| succ k ih => rw [Nat.add_succ, ih]".to_string(),
            "n : Nat\n⊢ 0 + n = n".to_string(),
            "no goals".to_string(),
        )]
    );
    // A `case` step is applied to all the goals, as a search applies it; at its first
    // character Lean would report the goal inside it, focused and renamed.
    let inl = "case inl\np q : Prop\nh✝ : p\n⊢ q ∨ p";
    let inr = "case inr\np q : Prop\nh✝ : q\n⊢ q ∨ p";
    let both = format!("{inl}\n\n{inr}");
    assert_eq!(
        states(&train[2]),
        vec![
            (
                "cases h".to_string(),
                "p q : Prop\nh : p ∨ q\n⊢ q ∨ p".to_string(),
                both.clone()
            ),
            (
                "case inl hp => exact Or.inr hp".to_string(),
                both,
                inr.to_string()
            ),
            (
                "case inr hq => exact Or.inl hq".to_string(),
                inr.to_string(),
                "no goals".to_string()
            ),
        ]
    );
    assert!(
        states(&train[3]).is_empty(),
        "a term-mode proof has no tactic steps"
    );
    assert_eq!(
        train[0]["traced_tactics"][0]["annotated_tactic"],
        serde_json::json!(["constructor", []])
    );

    let ctx = "m n : Nat\nh : m = n\n";
    let steps = states(&test[0]);
    assert_eq!(
        steps,
        vec![
            (
                "rw [Nat.add_zero]".to_string(),
                format!("{ctx}⊢ n + 0 = m"),
                format!("{ctx}⊢ n = m")
            ),
            (
                "exact Eq.symm h".to_string(),
                format!("{ctx}⊢ n = m"),
                "no goals".to_string()
            ),
        ]
    );

    // Round trip: the seed's JSONL from the extracted benchmark.
    let data = dir.path().join("data");
    let run = proofstep(&[
        "data",
        "leandojo",
        "--input",
        out.to_str().unwrap(),
        "--out",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<Value> = std::fs::read_to_string(data.join("proofstep-test.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["input"],
        format!("[GOAL]{ctx}⊢ n + 0 = m[PROOFSTEP]")
    );
    assert_eq!(lines[0]["output"], "rw [Nat.add_zero]<|endoftext|>");
    assert_eq!(lines[1]["input"], format!("[GOAL]{ctx}⊢ n = m[PROOFSTEP]"));
    let train_lines = std::fs::read_to_string(data.join("proofstep-train.jsonl")).unwrap();
    assert_eq!(train_lines.lines().count(), 7);
}

/// Only what `check` certifies becomes training data: a proof resting on `sorry` through a
/// lemma, or on the file's own axiom, had been traced (`exact cheat.elim` for `2 + 2 = 5`).
#[test]
fn proofs_check_does_not_certify_are_never_traced() {
    if common::test_lean("proofs_check_does_not_certify_are_never_traced").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(
        dir.path(),
        "Poison.lean",
        "prelude\nimport Mini\ntheorem cheat : False := sorry\n\
theorem uses_cheat : (2 : Nat) + 2 = 5 := by\n  exact cheat.elim\n\
axiom bad : (2 : Nat) + 2 = 5\ntheorem uses_axiom : (2 : Nat) + 2 = 5 := by\n  exact bad\n\
theorem honest (p : Prop) (hp : p) : p := by\n  exact hp\n",
    );
    let out = dir.path().join("out");
    extract_ok(&file, &out, &[]);
    let traced: Vec<String> = ["train", "val", "test"]
        .iter()
        .flat_map(|s| read(&out.join(format!("random/{s}.json"))))
        .map(|t| t["full_name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(traced, ["honest"]);
}

#[test]
fn extract_without_split_folders_hashes_theorems_and_reports_bad_input() {
    if common::test_lean("extract_without_split_folders_hashes_theorems_and_reports_bad_input")
        .is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_file(
        dir.path(),
        "Example.lean",
        &std::fs::read_to_string(common::repo_root().join("lean/mini/Example.lean")).unwrap(),
    );
    let out = dir.path().join("out");
    extract_ok(&file, &out, &["--held-out-percent", "20"]);
    let all: Vec<Value> = ["train", "val", "test"]
        .iter()
        .flat_map(|s| read(&out.join(format!("random/{s}.json"))))
        .collect();
    let expected = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("theorem "))
        .count();
    assert!(expected >= 10);
    assert_eq!(all.len(), expected, "every theorem of Example.lean, once");
    let test_thm = all.iter().find(|t| t["full_name"] == "test_thm").unwrap();
    assert_eq!(states(test_thm).len(), 2);
    // Consecutive steps of a linear proof chain: after(i) = before(i+1).
    for t in &all {
        let s = states(t);
        for w in s.windows(2) {
            if !w[0].2.contains("case ") && w[0].2 != "no goals" {
                assert_eq!(w[0].2, w[1].1, "{}", t["full_name"]);
            }
        }
        if let Some(last) = s.last() {
            assert_eq!(last.2, "no goals", "{}", t["full_name"]);
        }
    }
    assert!(
        !dir.path()
            .join("out/random")
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with('.') }),
        "no temporary file is left behind"
    );

    let run = proofstep(&[
        "extract",
        dir.path().join("missing").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(5));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("missing") && err.contains("no such file"),
        "{err}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = proofstep(&[
        "extract",
        empty.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("no .lean files"));
}

#[test]
fn a_novel_split_folder_gets_its_own_file_never_train() {
    if common::test_lean("a_novel_split_folder_gets_its_own_file_never_train").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("corpus");
    std::fs::create_dir_all(src.join("novel")).unwrap();
    common::write_file(&src.join("novel"), "N.lean", B);
    let out = dir.path().join("out");
    extract_ok(&src, &out, &[]);
    let novel = read(&out.join("random/novel.json"));
    assert_eq!(novel.len(), 1, "{novel:?}");
    assert_eq!(novel[0]["full_name"], "test_like");
    for split in ["train", "val", "test"] {
        assert!(
            read(&out.join(format!("random/{split}.json"))).is_empty(),
            "{split}"
        );
    }
}
