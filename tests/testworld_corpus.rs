//! The test-world generator and corpus: generated proofs are accepted by real Lean, the
//! generator is deterministic and varied, its knobs act, and the committed corpus keeps
//! every theorem (and statement) in one split only.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use proofstep::lean::source::SourceFile;
use proofstep::testworld::corpus::{build_corpus, CorpusOptions};
use proofstep::testworld::{generate, GenOptions, Kind};

/// Lean's error messages for `path`, from `lean --json` run directly (not through the crate).
fn lean_errors(lean: &common::TestLean, path: &Path) -> Vec<String> {
    let out = Command::new(&lean.lean)
        .arg("--json")
        .arg(path)
        .env("LEAN_PATH", &lean.lib)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"severity\":\"error\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn generated_corpus_is_proved_by_real_lean() {
    let Some(lean) = common::test_lean("generated_corpus_is_proved_by_real_lean") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let cmd = lean.command();
    let options = CorpusOptions {
        count: 90,
        gen: GenOptions {
            seed: 11,
            depth: 4,
            hypotheses: 5,
            distractors: 3,
            beyond_automation_percent: 40,
        },
        per_file: 20,
        held_out_percent: 20,
        workers: 2,
    };
    let report = build_corpus(&cmd, &out, &options, "test", &|_, _| {}).unwrap();
    assert_eq!(report.generated, 90);
    assert!(
        report.dropped.is_empty(),
        "Lean rejected generated proofs: {:?}",
        report.dropped
    );
    assert_eq!(report.splits.values().sum::<usize>(), 90);

    // Every written file, checked again by lean itself; every theorem found, in one split.
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    for split in ["train", "val", "test"] {
        for entry in std::fs::read_dir(out.join(split)).unwrap() {
            let path = entry.unwrap().path();
            let errors = lean_errors(&lean, &path);
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with("prelude\nimport Mini\n"));
            for t in SourceFile::parse(&text).theorems {
                let name = t.full_name.unwrap();
                assert!(names.insert(name.clone(), split).is_none(), "{name} twice");
            }
        }
    }
    assert_eq!(names.len(), 90);
    assert_eq!(
        report.splits["train"],
        names.values().filter(|s| **s == "train").count()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["report"]["accepted"], 90);
    assert_eq!(manifest["seed"], 11);
}

#[test]
fn a_wrong_proof_is_dropped_and_counted() {
    let Some(lean) = common::test_lean("a_wrong_proof_is_dropped_and_counted") else {
        return;
    };
    use proofstep::testworld::corpus::check_all;
    use proofstep::testworld::GenTheorem;
    let mut theorems = generate(6, &GenOptions::default());
    theorems.push(GenTheorem {
        name: "wrong_0".into(),
        kind: Kind::Prop,
        binders: "(p q : Prop) (h : p)".into(),
        goal: "q".into(),
        proof: vec!["exact h".into()],
    });
    let cmd = lean.command();
    let scratch = tempfile::tempdir().unwrap();
    let failures = check_all(&cmd, &theorems, scratch.path(), 4, 2, &|_| {}).unwrap();
    assert_eq!(
        failures.keys().copied().collect::<Vec<_>>(),
        vec![6],
        "{failures:?}"
    );
    assert!(failures[&6].contains("mismatch"), "{}", failures[&6]);
}

#[test]
fn generation_is_deterministic_varied_and_follows_its_knobs() {
    let options = GenOptions {
        seed: 3,
        ..GenOptions::default()
    };
    let a = generate(400, &options);
    assert_eq!(a, generate(400, &options));
    assert_ne!(
        a,
        generate(
            400,
            &GenOptions {
                seed: 4,
                ..options.clone()
            }
        )
    );

    let names: HashSet<&str> = a.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), a.len());
    let statements: HashSet<String> = a
        .iter()
        .map(|t| format!("{} : {}", t.binders, t.goal))
        .collect();
    assert_eq!(statements.len(), a.len(), "a statement repeats");
    for kind in [Kind::Prop, Kind::Equality, Kind::Arith] {
        assert!(
            a.iter().filter(|t| t.kind == kind).count() >= 50,
            "{kind:?} is rare"
        );
    }
    // Several proof styles for the same kinds of goals.
    let lines: Vec<&str> = a
        .iter()
        .flat_map(|t| t.proof.iter().map(String::as_str))
        .collect();
    for style in [
        "constructor",
        "refine ⟨?_, ?_⟩",
        "exact ⟨",
        "· ",
        "intro ",
        "apply ",
        "assumption",
        "left",
        "right",
        "rw [",
        "subst ",
        "symm",
        "induction ",
        "case succ",
        "exact Eq.trans",
        "at h",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(style)),
            "no proof uses `{style}`"
        );
    }
    // One tactic per line: no `;` sequencing.
    assert!(lines.iter().all(|l| !l.contains("; ")));

    let size =
        |o: &GenOptions, kind: Kind, f: &dyn Fn(&proofstep::testworld::GenTheorem) -> usize| {
            let ts: Vec<_> = generate(300, o)
                .into_iter()
                .filter(|t| t.kind == kind)
                .collect();
            ts.iter().map(f).sum::<usize>() as f64 / ts.len() as f64
        };
    let goal_len = |t: &proofstep::testworld::GenTheorem| t.goal.chars().count();
    let binders = |t: &proofstep::testworld::GenTheorem| t.binders.matches(" : ").count();
    let shallow = GenOptions {
        seed: 5,
        depth: 1,
        hypotheses: 0,
        distractors: 0,
        beyond_automation_percent: 0,
    };
    let deep = GenOptions {
        seed: 5,
        depth: 4,
        hypotheses: 6,
        distractors: 4,
        beyond_automation_percent: 0,
    };
    assert!(size(&deep, Kind::Prop, &goal_len) > 1.5 * size(&shallow, Kind::Prop, &goal_len));
    assert!(size(&deep, Kind::Equality, &binders) > size(&shallow, Kind::Equality, &binders) + 1.0);
}

#[test]
fn the_beyond_automation_knob_sets_the_share_of_rewriting_chains_and_case_splits() {
    let share = |percent: u8| {
        let ts = generate(
            600,
            &GenOptions {
                seed: 8,
                beyond_automation_percent: percent,
                ..GenOptions::default()
            },
        );
        let count = |kind: Kind| ts.iter().filter(|t| t.kind == kind).count();
        (count(Kind::Algebra), count(Kind::Cases), ts.len())
    };
    assert_eq!(share(0), (0, 0, 600));
    let (algebra, cases, all) = share(100);
    assert_eq!(algebra + cases, all);
    assert!(algebra > 200 && cases > 200, "{algebra} {cases}");
    let (algebra, cases, _) = share(50);
    assert!((250..350).contains(&(algebra + cases)), "{algebra} {cases}");
}

#[test]
fn a_larger_count_extends_the_corpus_and_keeps_every_split() {
    // What benchmarks/pipeline/beyond_data.sh relies on: a corpus of 4x the theorems starts with
    // the smaller one's theorems, names included, and a split depends on the name and seed
    // only (`split_of`), so the smaller corpus's test split stays held out in the larger one.
    let options = GenOptions {
        seed: 0,
        beyond_automation_percent: 60,
        ..GenOptions::default()
    };
    let small = generate(300, &options);
    let large = generate(1200, &options);
    assert_eq!(small[..], large[..300]);
    let statements: HashSet<(&str, &str)> = large
        .iter()
        .map(|t| (t.binders.as_str(), t.goal.as_str()))
        .collect();
    assert_eq!(statements.len(), large.len(), "no statement repeats");
}

#[test]
fn the_committed_corpus_is_what_its_manifest_command_generates() {
    // The knob at 0 must not spend a random draw, or this corpus would no longer come out.
    let root = common::repo_root().join("data/testworld");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let knob = |k: &str| manifest[k].as_u64().unwrap() as usize;
    let options = GenOptions {
        seed: manifest["seed"].as_u64().unwrap(),
        depth: knob("depth"),
        hypotheses: knob("hypotheses"),
        distractors: knob("distractors"),
        beyond_automation_percent: 0,
    };
    let mut text = String::new();
    for split in ["train", "val", "test"] {
        for entry in std::fs::read_dir(root.join(split)).unwrap() {
            text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    let theorems = generate(knob("count"), &options);
    assert_eq!(theorems.len(), text.matches("\ntheorem ").count());
    for t in &theorems {
        assert!(text.contains(&t.render()), "not in the corpus: {}", t.name);
    }
}

#[test]
fn committed_corpus_keeps_each_theorem_and_statement_in_one_split() {
    let root = common::repo_root().join("data/testworld");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut statements: BTreeMap<String, String> = BTreeMap::new();
    let mut per_split: BTreeMap<String, usize> = BTreeMap::new();
    for split in ["train", "val", "test"] {
        for entry in std::fs::read_dir(root.join(split)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for t in SourceFile::parse(&text).theorems {
                let name = t.full_name.unwrap();
                let statement = t.statement.splitn(3, ' ').nth(2).unwrap_or("").to_string();
                if let Some(other) = names.insert(name.clone(), split.into()) {
                    panic!("{name} is in {other} and {split}");
                }
                if let Some(other) = statements.insert(statement.clone(), split.into()) {
                    panic!("statement `{statement}` is in {other} and {split}");
                }
                *per_split.entry(split.into()).or_default() += 1;
            }
        }
    }
    assert!(names.len() >= 2500, "only {} theorems", names.len());
    assert_eq!(manifest["report"]["accepted"], names.len());
    for (split, n) in &per_split {
        assert_eq!(manifest["report"]["splits"][split], *n, "{split}");
    }
    assert!(per_split["test"] >= 100 && per_split["val"] >= 100);
}
