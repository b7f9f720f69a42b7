//! The test-world generator and corpus: generated proofs are accepted by real Lean, the
//! generator is deterministic and varied, its knobs act, no statement repeats up to renaming
//! (the check catches renamed and reordered copies), the committed corpus keeps every statement
//! in one split up to renaming, its novel-shape split shares no goal shape with the others, and
//! the hand-written evaluation file is held out.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use proofstep::lean::canonical::{canonical_statement, goal_shape};
use proofstep::lean::source::SourceFile;
use proofstep::testworld::corpus::{build_corpus, CorpusOptions};
use proofstep::testworld::{generate, GenOptions, Kind};

/// Lean's error messages for `path`, from `lean --json` run directly (not through the crate).
fn lean_errors(lean: &common::TestLean, path: &Path) -> Vec<String> {
    let out = Command::new(&lean.lean)
        .arg("--json")
        .arg("-DmaxErrors=0")
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
            beyond_lists_percent: 20,
            ..GenOptions::default()
        },
        per_file: 20,
        held_out_percent: 20,
        novel_percent: 10,
        statements_only: false,
        exclude_paths: Vec::new(),
        exclude_shape_paths: Vec::new(),
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
    for split in ["train", "val", "test", "novel"] {
        let Ok(entries) = std::fs::read_dir(out.join(split)) else {
            continue;
        };
        for entry in entries {
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
fn no_split_theorem_is_closed_without_splitting_its_disjunction() {
    let Some(lean) =
        common::test_lean("no_split_theorem_is_closed_without_splitting_its_disjunction")
    else {
        return;
    };
    // Every depth, so the shallow goals (where a draw may admit none) are covered too; each
    // theorem's proof replaced by what the fixed lists try that could close a `∧`/`∨` goal of
    // propositions from hypotheses: Lean must reject every one of them.
    let mut source = String::from("prelude\nimport Mini\n");
    let mut count = 0;
    for depth in 1..=4 {
        let options = GenOptions {
            seed: depth as u64,
            depth,
            beyond_lists_percent: 100,
            ..GenOptions::default()
        };
        for t in generate(150, &options).theorems {
            source.push_str(&format!(
                "theorem {}_{depth} {} : {} := by\n  first | assumption | simp_all | (constructor <;> simp_all) | (constructor <;> assumption)\n",
                t.name, t.binders, t.goal
            ));
            count += 1;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Unsplit.lean");
    std::fs::write(&path, &source).unwrap();
    // Theorem k is on lines 3 + 2k (statement, where "unsolved goals" lands) and 4 + 2k.
    let failed: HashSet<u64> = lean_errors(&lean, &path)
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["pos"]["line"]
                .as_u64()
                .unwrap()
        })
        .map(|line| (line - 3) / 2)
        .collect();
    assert_eq!(
        failed.len(),
        count,
        "some split theorem closed without a split:\n{source}"
    );
}

#[test]
fn a_wrong_proof_is_dropped_and_counted() {
    let Some(lean) = common::test_lean("a_wrong_proof_is_dropped_and_counted") else {
        return;
    };
    use proofstep::testworld::corpus::check_all;
    use proofstep::testworld::GenTheorem;
    let mut theorems = generate(6, &GenOptions::default()).theorems;
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
    let a = generate(400, &options).theorems;
    assert_eq!(a, generate(400, &options).theorems);
    assert_ne!(
        a,
        generate(
            400,
            &GenOptions {
                seed: 4,
                ..options.clone()
            }
        )
        .theorems
    );

    let names: HashSet<&str> = a.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), a.len());
    let statements: HashSet<String> = a
        .iter()
        .map(|t| canonical_statement(&t.statement()))
        .collect();
    assert_eq!(
        statements.len(),
        a.len(),
        "a statement repeats up to renaming"
    );
    for kind in [
        Kind::Prop,
        Kind::Equality,
        Kind::Arith,
        Kind::Quant,
        Kind::Coprime,
    ] {
        assert!(
            a.iter().filter(|t| t.kind == kind).count() >= 20,
            "{kind:?} is rare"
        );
    }
    // Names as people write them, not the generator's few.
    let hypothesis_names: HashSet<&str> = a
        .iter()
        .flat_map(|t| t.binders.split('(').skip(1))
        .filter_map(|b| b.split(" : ").next())
        .filter(|n| n.starts_with('h') || n.starts_with('H') || *n == "this")
        .collect();
    assert!(hypothesis_names.len() >= 25, "{hypothesis_names:?}");
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
                .theorems
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
        ..GenOptions::default()
    };
    let deep = GenOptions {
        seed: 5,
        depth: 4,
        hypotheses: 6,
        distractors: 4,
        ..GenOptions::default()
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
        )
        .theorems;
        let count = |kind: Kind| ts.iter().filter(|t| t.kind == kind).count();
        (count(Kind::Algebra), count(Kind::Cases), ts.len())
    };
    assert_eq!(share(0), (0, 0, 600));
    let (algebra, cases, all) = share(100);
    assert_eq!(algebra + cases, all);
    // Both families, though not in equal parts: a family with fewer distinct statements has
    // more of its draws refused as renamed copies.
    assert!(algebra > 100 && cases > 100, "{algebra} {cases}");
    let (algebra, cases, _) = share(50);
    assert!((200..400).contains(&(algebra + cases)), "{algebra} {cases}");
}

#[test]
fn the_beyond_lists_knob_sets_the_share_of_splits_and_leaves_older_corpora_unchanged() {
    let draw = |lists: u8, automation: u8| {
        generate(
            600,
            &GenOptions {
                seed: 8,
                beyond_automation_percent: automation,
                beyond_lists_percent: lists,
                ..GenOptions::default()
            },
        )
        .theorems
    };
    let splits = |ts: &[proofstep::testworld::GenTheorem]| {
        ts.iter().filter(|t| t.kind == Kind::Split).count()
    };
    // At 0 no draw is made for the knob, so the corpora of before it come out unchanged
    // (`the_committed_corpora_are_what_their_manifest_commands_generate` holds them to it).
    assert_eq!(splits(&draw(0, 60)), 0);
    assert_eq!(splits(&draw(100, 60)), 600);
    let share = splits(&draw(50, 60));
    assert!((240..420).contains(&share), "{share}");
    // Every split theorem has a disjunction hypothesis its proof splits, and the goals vary.
    let ts = draw(100, 0);
    let shapes: HashSet<String> = ts.iter().map(|t| goal_shape(&t.statement())).collect();
    assert!(shapes.len() >= 40, "only {} goal shapes", shapes.len());
    for t in &ts {
        assert!(t.binders.contains(" ∨ "), "{}", t.render());
        assert!(
            t.proof
                .iter()
                .any(|l| l.contains("cases ") || l.contains("Or.elim")),
            "{}",
            t.render()
        );
    }
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
    let small = generate(300, &options).theorems;
    let large = generate(1200, &options).theorems;
    assert_eq!(small[..], large[..300]);
    let statements: HashSet<String> = large
        .iter()
        .map(|t| canonical_statement(&t.statement()))
        .collect();
    assert_eq!(
        statements.len(),
        large.len(),
        "no statement repeats up to renaming"
    );
}

/// `statement` (`theorem NAME (binders) : goal`) with every bound name renamed (`zz` before it)
/// and the hypotheses in reverse order: the same theorem, written as nobody's generator would.
fn disguise(statement: &str) -> String {
    let toks = proofstep::lean::source::tokens(statement);
    let mut groups: Vec<Vec<&str>> = Vec::new();
    let mut i = 2;
    while toks.get(i) == Some(&"(") {
        let mut depth = 0;
        let start = i;
        loop {
            match toks[i] {
                "(" => depth += 1,
                ")" => depth -= 1,
                _ => {}
            }
            i += 1;
            if depth == 0 {
                break;
            }
        }
        groups.push(toks[start..i].to_vec());
    }
    let goal = &toks[i + 1..];
    let bound: HashSet<&str> = groups
        .iter()
        .flat_map(|g| g[1..].iter().take_while(|t| **t != ":").copied())
        .collect();
    let rename = |t: &&str| -> String {
        let (head, rest) = t.split_once('.').map_or((*t, ""), |(h, r)| (h, r));
        if bound.contains(head) {
            if rest.is_empty() {
                format!("zz{head}")
            } else {
                format!("zz{head}.{rest}")
            }
        } else {
            t.to_string()
        }
    };
    let is_variable = |g: &Vec<&str>| {
        let ty: Vec<&str> = g
            .iter()
            .skip_while(|t| **t != ":")
            .skip(1)
            .copied()
            .collect();
        matches!(
            ty.as_slice(),
            ["Prop", ")"] | ["Nat", ")"] | ["Nat", "→", "Prop", ")"] | ["Nat", "→", "Nat", ")"]
        )
    };
    let (variables, mut hypotheses): (Vec<_>, Vec<_>) = groups.iter().partition(|g| is_variable(g));
    hypotheses.reverse();
    let binders: Vec<String> = variables
        .into_iter()
        .chain(hypotheses)
        .map(|g| g.iter().map(rename).collect::<Vec<_>>().join(" "))
        .collect();
    format!(
        "theorem disguised {} : {}",
        binders.join(" "),
        goal.iter().map(rename).collect::<Vec<_>>().join(" ")
    )
}

#[test]
fn renamed_and_reordered_copies_of_excluded_statements_are_never_generated() {
    // A held-out set, its statements written with other names and hypotheses in another order
    // than any generator writes them: the generator must still refuse them.
    let free = generate(3000, &GenOptions::default()).theorems;
    let taken: Vec<String> = free.iter().take(200).map(|t| t.statement()).collect();
    let disguised: Vec<String> = taken.iter().map(|s| disguise(s)).collect();
    assert!(disguised.iter().zip(&taken).all(|(d, t)| d != t));
    for (d, t) in disguised.iter().zip(&taken) {
        assert_eq!(canonical_statement(d), canonical_statement(t), "{t}\n{d}");
    }
    let exclude: HashSet<String> = disguised.iter().map(|s| canonical_statement(s)).collect();
    assert_eq!(
        exclude,
        taken.iter().map(|s| canonical_statement(s)).collect(),
        "renaming does not change a canonical form"
    );
    let generated = generate(
        3000,
        &GenOptions {
            exclude: exclude.clone(),
            ..GenOptions::default()
        },
    );
    assert!(
        generated.held_out_copies >= 200,
        "{}",
        generated.held_out_copies
    );
    assert!(generated
        .theorems
        .iter()
        .all(|t| !exclude.contains(&canonical_statement(&t.statement()))));
}

#[test]
fn excluded_goal_shapes_never_come_back_under_other_names() {
    let first = generate(2000, &GenOptions::default()).theorems;
    let shapes: HashSet<String> = first
        .iter()
        .take(40)
        .map(|t| goal_shape(&t.statement()))
        .collect();
    let generated = generate(
        2000,
        &GenOptions {
            seed: 9,
            exclude_shapes: shapes.clone(),
            ..GenOptions::default()
        },
    );
    assert!(
        generated.held_out_shapes > 0,
        "no draw had an excluded shape"
    );
    assert_eq!(generated.theorems.len(), 2000);
    for t in &generated.theorems {
        assert!(
            !shapes.contains(&goal_shape(&t.statement())),
            "{} has an excluded goal shape",
            t.statement()
        );
    }
}

/// The corpora the repository commits: the test world's and the beyond-automation one.
const COMMITTED_CORPORA: [&str; 2] = ["data/testworld", "data/beyond"];

#[test]
fn the_committed_corpora_are_what_their_manifest_commands_generate() {
    for corpus in COMMITTED_CORPORA {
        committed_corpus_is_what_its_manifest_command_generates(corpus);
    }
}

fn committed_corpus_is_what_its_manifest_command_generates(corpus: &str) {
    let root = common::repo_root().join(corpus);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let knob = |k: &str| manifest[k].as_u64().unwrap() as usize;
    let mut exclude = HashSet::new();
    for path in manifest["exclude"].as_array().unwrap() {
        let path = common::repo_root().join(path.as_str().unwrap());
        let tasks = proofstep::eval::load(&path, &Default::default()).unwrap();
        exclude.extend(tasks.iter().map(|t| canonical_statement(&t.statement)));
    }
    let options = GenOptions {
        seed: manifest["seed"].as_u64().unwrap(),
        depth: knob("depth"),
        hypotheses: knob("hypotheses"),
        distractors: knob("distractors"),
        beyond_automation_percent: manifest["beyond_automation"].as_u64().unwrap_or(0) as u8,
        beyond_lists_percent: manifest["beyond_lists"].as_u64().unwrap_or(0) as u8,
        exclude,
        exclude_shapes: HashSet::new(),
    };
    let mut text = String::new();
    for split in ["train", "val", "test", "novel"] {
        for entry in std::fs::read_dir(root.join(split)).unwrap() {
            text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    let theorems = generate(knob("count"), &options).theorems;
    assert_eq!(theorems.len(), text.matches("\ntheorem ").count());
    for t in &theorems {
        assert!(
            text.contains(&t.render()),
            "{corpus}: not in the corpus: {}",
            t.name
        );
    }
}

#[test]
fn committed_corpora_keep_each_statement_in_one_split_up_to_renaming() {
    for corpus in COMMITTED_CORPORA {
        committed_corpus_keeps_each_statement_in_one_split_up_to_renaming(corpus);
    }
}

fn committed_corpus_keeps_each_statement_in_one_split_up_to_renaming(corpus: &str) {
    let root = common::repo_root().join(corpus);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut forms: BTreeMap<String, String> = BTreeMap::new();
    let mut shapes: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut per_split: BTreeMap<String, usize> = BTreeMap::new();
    for split in ["train", "val", "test", "novel"] {
        for entry in std::fs::read_dir(root.join(split)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for t in SourceFile::parse(&text).theorems {
                let name = t.full_name.unwrap();
                if let Some(other) = names.insert(name.clone(), split.into()) {
                    panic!("{corpus}: {name} is in {other} and {split}");
                }
                let form = canonical_statement(&t.statement);
                if let Some(other) = forms.insert(form.clone(), name.clone()) {
                    panic!("{corpus}: {name} ({split}) is {other} up to renaming");
                }
                shapes
                    .entry(split.into())
                    .or_default()
                    .insert(goal_shape(&t.statement));
                *per_split.entry(split.into()).or_default() += 1;
            }
        }
    }
    assert!(names.len() >= 2500, "only {} theorems", names.len());
    assert_eq!(manifest["report"]["accepted"], names.len());
    for (split, n) in &per_split {
        assert_eq!(manifest["report"]["splits"][split], *n, "{split}");
    }
    assert!(per_split["test"] >= 100 && per_split["val"] >= 100 && per_split["novel"] >= 100);
    // The novel-shape split: no goal shape of it occurs in any other split.
    for split in ["train", "val", "test"] {
        let shared: Vec<&String> = shapes["novel"].intersection(&shapes[split]).collect();
        assert!(
            shared.is_empty(),
            "{corpus}: novel shapes also in {split}: {shared:?}"
        );
    }
    // The hand-written evaluation file and the quick-start file are held out up to renaming.
    for file in [
        "lean/mini/examples/Handwritten.lean",
        "lean/mini/Example.lean",
    ] {
        let path = common::repo_root().join(file);
        for task in proofstep::eval::load(&path, &Default::default()).unwrap() {
            let form = canonical_statement(&task.statement);
            assert!(
                !forms.contains_key(&form),
                "{file}: {} is {} up to renaming",
                task.name,
                forms[&form]
            );
        }
    }
}
