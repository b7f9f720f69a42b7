//! Dataset loading for `eval`: the real miniF2F / ProofNet files in ../shared/data (DeepSeek
//! shape and llmstep's LeanDojo-style records), a LeanDojo Benchmark 4 split file whose
//! statements live in a Lake project's sources, and Lean files / folders of the test world.

mod common;

use std::path::Path;

use proofstep::eval::{load, DatasetOptions};

#[test]
fn minif2f_and_proofnet_jsonl_load_with_statements_headers_and_splits() {
    let Some(shared) =
        common::shared_dir("minif2f_and_proofnet_jsonl_load_with_statements_headers_and_splits")
    else {
        return;
    };
    let minif2f = shared.join("data/minif2f/minif2f-deepseek.jsonl");
    let all = load(&minif2f, &DatasetOptions::default()).unwrap();
    assert_eq!(all.len(), 488);
    let test = load(
        &minif2f,
        &DatasetOptions {
            split: Some("test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(test.len(), 244);
    for task in &all {
        assert!(task.statement.starts_with("theorem "), "{}", task.statement);
        assert!(!task.statement.contains(":= by"), "{}", task.statement);
        assert!(!task.statement.ends_with(":="), "{}", task.statement);
        assert!(task.header.contains("import Mathlib"));
    }
    let p10 = all.iter().find(|t| t.name == "amc12a_2015_p10").unwrap();
    assert_eq!(
        p10.statement,
        "theorem amc12a_2015_p10 (x y : ℤ) (h₀ : 0 < y) (h₁ : y < x) (h₂ : x + y + x * y = 80) : x = 26"
    );
    assert_eq!(p10.split.as_deref(), Some("valid"));

    let proofnet = load(
        &shared.join("data/proofnet/proofnet-deepseek.jsonl"),
        &DatasetOptions::default(),
    )
    .unwrap();
    assert_eq!(proofnet.len(), 371);
    // A few ProofNet problems are `def`s (constructing a structure) rather than theorems.
    assert!(proofnet
        .iter()
        .all(|t| !t.statement.ends_with(":=") && !t.statement.contains(":= by")));
    assert!(
        proofnet
            .iter()
            .filter(|t| t.statement.starts_with("theorem "))
            .count()
            > 300
    );
}

#[test]
fn leandojo_style_records_need_a_header_and_say_how_to_give_one() {
    let Some(shared) =
        common::shared_dir("leandojo_style_records_need_a_header_and_say_how_to_give_one")
    else {
        return;
    };
    let path = shared.join("data/minif2f/minif2f-llmstep.jsonl");
    let err = load(&path, &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--header") && err.contains("--repo"), "{err}");
    let options = DatasetOptions {
        header: Some("import Mathlib".into()),
        split: Some("test".into()),
        ..Default::default()
    };
    let tasks = load(&path, &options).unwrap();
    assert!(tasks.len() >= 240, "{}", tasks.len());
    assert!(tasks
        .iter()
        .all(|t| t.header == "import Mathlib" && t.statement.starts_with("theorem ")));
}

/// A LeanDojo Benchmark 4 split file: only names, files and positions; the text is in the repo.
#[test]
fn a_leandojo_split_file_reads_statements_and_headers_from_the_repo() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("Mathlib/Logic")).unwrap();
    let source = "import Mathlib.Init\n\nnamespace Foo\n\n/-- doc -/\ntheorem and_swap' (p q : Prop) (h : p ∧ q) :\n    q ∧ p := by\n  exact ⟨h.2, h.1⟩\n\n  theorem nat_refl (n : ℕ) : n = n := rfl\nend Foo\n";
    std::fs::write(repo.path().join("Mathlib/Logic/Basic.lean"), source).unwrap();
    let split = repo.path().join("test.json");
    let records = serde_json::json!([
        {"url": "https://github.com/leanprover-community/mathlib4", "commit": "5a919533", "file_path": "Mathlib/Logic/Basic.lean",
         "full_name": "Foo.and_swap'", "start": [6, 1], "end": [8, 19], "traced_tactics": []},
        {"url": "https://github.com/leanprover-community/mathlib4", "commit": "5a919533", "file_path": "Mathlib/Logic/Basic.lean",
         "full_name": "Foo.nat_refl", "start": [10, 3], "end": [10, 42], "traced_tactics": []}
    ]);
    std::fs::write(&split, records.to_string()).unwrap();

    let err = load(&split, &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--repo"), "{err}");
    let tasks = load(
        &split,
        &DatasetOptions {
            repo: Some(repo.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].name, "Foo.and_swap'");
    assert_eq!(
        tasks[0].statement,
        "theorem and_swap' (p q : Prop) (h : p ∧ q) :\n    q ∧ p"
    );
    assert_eq!(
        tasks[0].header,
        "import Mathlib.Init\n\nnamespace Foo\n\n/-- doc -/\n"
    );
    assert_eq!(tasks[1].statement, "theorem nat_refl (n : ℕ) : n = n");
    assert!(tasks[1]
        .header
        .ends_with("q ∧ p := by\n  exact ⟨h.2, h.1⟩\n\n  "));

    let bad = repo.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"full_name": "x", "file_path": "Missing.lean", "start": [1, 1]}]"#,
    )
    .unwrap();
    let err = load(
        &bad,
        &DatasetOptions {
            repo: Some(repo.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("Missing.lean"), "{err}");
}

#[test]
fn a_lean_file_and_a_folder_of_lean_files_give_every_theorem_with_its_header() {
    let example = common::repo_root().join("lean/mini/Example.lean");
    let tasks = load(&example, &DatasetOptions::default()).unwrap();
    let first = &tasks[0];
    assert_eq!(first.name, "test_thm");
    assert_eq!(
        first.statement,
        "theorem test_thm (m n : Nat) (h : m.Coprime n) : m.gcd n = 1"
    );
    assert!(first.header.starts_with("prelude\nimport Mini\n"));
    let second = &tasks[1];
    assert!(
        second.header.contains("theorem test_thm"),
        "later theorems see the earlier ones"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::copy(&example, dir.path().join("sub/Example.lean")).unwrap();
    std::fs::write(
        dir.path().join("A.lean"),
        "prelude\nimport Mini\ntheorem a (p : Prop) (hp : p) : p := hp\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "theorem not_lean : True").unwrap();
    let all = load(dir.path(), &DatasetOptions::default()).unwrap();
    assert_eq!(all.len(), tasks.len() + 1);
    assert_eq!(all[0].name, "A.lean:a");
    assert_eq!(
        all[1].name,
        format!("sub{}Example.lean:test_thm", std::path::MAIN_SEPARATOR)
    );

    let err = load(Path::new("data.csv"), &DatasetOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("data.csv"), "{err}");
}

/// Results are kept by theorem name, so theorems a dataset names alike are told apart
/// (`t1`, then `t1@2`): a second `t1` had been dropped from the run and its denominator without
/// a word (ProofNet names 19 pairs of exercises alike).
#[test]
fn theorems_of_one_name_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.jsonl");
    let line = |name: &str, statement: &str| {
        format!(
            "{}\n",
            serde_json::json!({"name": name, "header": "prelude\nimport Mini\n", "formal_statement": format!("theorem {name} {statement} := by")})
        )
    };
    std::fs::write(
        &path,
        line("t1", "(p : Prop) (hp : p) : p")
            + &line("t1@2", "(p : Prop) : p → p")
            + &line("t2", "(p q : Prop) (hp : p) : q")
            + &line("t1", "(p q : Prop) (hp : p) : q"),
    )
    .unwrap();
    let tasks = load(&path, &DatasetOptions::default()).unwrap();
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t1", "t1@2", "t2", "t1@3"]);
    assert!(tasks[3].statement.ends_with(": q"));
}

/// Every miniF2F and ProofNet record carries the goal Lean with Mathlib printed for its
/// statement, so the rule behind `context` (`lean::context`) can be checked on 859 real
/// statements with binders of every kind (`Type*`, instance arguments, `{hP : P = λ i => …}`,
/// binders over lines). It finds exactly the six that assume a name their statement does not
/// bind: Lean bound it automatically. Five miniF2F statements write `∑ k in s, f k + g k`, where
/// the sum ends before `+`, so the `k` after it is a new variable of the theorem
/// (`mathd_algebra_342` is then about `∑ k ∈ range 5, a` plus `k * d` for any `k`); ProofNet's
/// `exercise_24_3a` leaves its space `I` to be bound so.
#[test]
fn only_statements_with_names_bound_automatically_assume_more_than_they_write() {
    let Some(shared) = common::shared_dir(
        "only_statements_with_names_bound_automatically_assume_more_than_they_write",
    ) else {
        return;
    };
    let mut checked = 0;
    let mut found = Vec::new();
    for file in [
        "data/minif2f/minif2f-deepseek.jsonl",
        "data/proofnet/proofnet-deepseek.jsonl",
    ] {
        for line in std::fs::read_to_string(shared.join(file)).unwrap().lines() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let (Some(statement), Some(goal)) =
                (record["formal_statement"].as_str(), record["goal"].as_str())
            else {
                continue;
            };
            let extra = proofstep::lean::context::unwritten_hypotheses(statement, goal);
            if !extra.is_empty() {
                found.push(format!(
                    "{}: {}",
                    record["name"].as_str().unwrap(),
                    extra.join(", ")
                ));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 859);
    assert_eq!(
        found,
        [
            "induction_pord1p1on2powklt5on2: k : ℕ",
            "induction_prod1p1onk3le3m1onn: k : ℝ",
            "amc12a_2021_p9: k : ℕ",
            "mathd_algebra_342: k : ℝ",
            "mathd_algebra_158: k : ℕ",
            "exercise_24_3a: I : Type u_1",
        ]
    );
}
