//! `proofstep eval overlap` through the real binary: the committed corpus's held-out splits
//! share no statement with its train split even up to renaming, its novel split no goal shape,
//! and a renamed, reordered copy of a train theorem is caught (exit 1). No Lean needed.

mod common;

use std::process::Command;

fn overlap(checked: &std::path::Path, reference: &std::path::Path) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(["eval", "overlap", "--json"])
        .arg(checked)
        .arg(reference)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), value)
}

#[test]
fn held_out_splits_share_no_statement_with_train_and_novel_no_goal_shape() {
    let root = common::repo_root().join("data/testworld");
    for split in ["val", "test", "novel"] {
        let (code, found) = overlap(&root.join(split), &root.join("train"));
        assert_eq!(code, 0, "{split}: {found}");
        assert_eq!(found["up_to_renaming"], 0, "{split}");
        assert!(found["checked"].as_u64().unwrap() > 100, "{split}: {found}");
    }
    let (_, novel) = overlap(&root.join("novel"), &root.join("train"));
    assert_eq!(novel["same_goal_shape"], 0, "{novel}");
    let (_, test) = overlap(&root.join("test"), &root.join("train"));
    assert!(
        test["same_goal_shape"].as_u64().unwrap() > 0,
        "the random split shares shapes with train: {test}"
    );
}

#[test]
fn a_renamed_and_reordered_copy_of_a_train_theorem_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("Train.lean");
    std::fs::write(
        &train,
        "theorem nat_00604 (a m n : Nat) : n * m + a = m * n + a := by\n  sorry\n\
         theorem imp (p q : Prop) (hp : p) (hpq : p → q) : q := by\n  exact hpq hp\n\
         theorem g (z : Nat) : Nat.gcd z 0 = z := by\n  sorry\n",
    )
    .unwrap();
    let test = dir.path().join("Test.lean");
    std::fs::write(
        &test,
        "theorem t1 (x y z : Nat) : x * y + z = y * x + z := by\n  sorry\n\
         theorem t2 (r s : Prop) (h₁ : r → s) (h₂ : r) : s := by\n  sorry\n\
         theorem t3 (a b : Nat) : a + b = b + a := by\n  sorry\n\
         theorem t4 (y : Nat) : y.gcd 0 = y := by\n  sorry\n",
    )
    .unwrap();
    let (code, found) = overlap(&test, &train);
    assert_eq!(code, 1, "{found}");
    assert_eq!(found["checked"], 4);
    assert_eq!(found["up_to_renaming"], 3, "{found}");
    assert_eq!(found["exact"], 0);
    assert_eq!(found["copies"][0]["copy_of"], "nat_00604");
    assert_eq!(found["copies"][1]["copy_of"], "imp");
    // Field notation is the function it names: `y.gcd 0` is `Nat.gcd y 0`.
    assert_eq!(found["copies"][2]["copy_of"], "g");
}
