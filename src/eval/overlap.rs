//! How much two theorem sets share: statements equal as text (after trimming) and statements
//! equal up to renaming (`lean::canonical`), so a test split can be checked for copies of
//! training theorems before its pass rate is believed.

use std::collections::HashMap;

use serde::Serialize;

use crate::eval::dataset::Task;
use crate::lean::canonical::{canonical_statement, goal_shape};

/// One theorem of the checked set that the reference set also holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Copy {
    /// The theorem's name in the checked set.
    pub name: String,
    /// A reference theorem it copies.
    pub copy_of: String,
    /// True when the statements are equal as text, not only up to renaming.
    pub exact: bool,
}

/// The overlap of a checked set with a reference set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// Theorems in the checked set.
    pub checked: usize,
    /// Theorems in the reference set.
    pub reference: usize,
    /// Checked theorems whose statement is a reference statement as text.
    pub exact: usize,
    /// Checked theorems whose statement is a reference statement up to renaming (the exact
    /// copies included).
    pub up_to_renaming: usize,
    /// Checked theorems whose goal shape (`lean::canonical::goal_shape`: the goal with every
    /// name and numeral erased) some reference theorem has: 0 for a novel-shape split.
    pub same_goal_shape: usize,
    /// Every copy found, in the checked set's order.
    pub copies: Vec<Copy>,
}

/// The statement without its keyword and name, spacing normalised: what "equal as text" means.
fn plain(statement: &str) -> String {
    let toks = crate::lean::source::tokens(statement);
    let start = toks
        .iter()
        .position(|t| matches!(*t, "(" | "{" | "[" | "⦃" | ":"))
        .unwrap_or(0);
    toks[start..].join(" ")
}

/// The theorems of `checked` that also occur in `reference`, as text or up to renaming.
pub fn overlap(checked: &[Task], reference: &[Task]) -> Overlap {
    let mut by_text: HashMap<String, &str> = HashMap::new();
    let mut by_form: HashMap<String, &str> = HashMap::new();
    let shapes: std::collections::HashSet<String> =
        reference.iter().map(|t| goal_shape(&t.statement)).collect();
    for task in reference {
        by_text
            .entry(plain(&task.statement))
            .or_insert(task.name.as_str());
        by_form
            .entry(canonical_statement(&task.statement))
            .or_insert(task.name.as_str());
    }
    let mut copies = Vec::new();
    for task in checked {
        if let Some(other) = by_text.get(&plain(&task.statement)) {
            copies.push(Copy {
                name: task.name.clone(),
                copy_of: other.to_string(),
                exact: true,
            });
        } else if let Some(other) = by_form.get(&canonical_statement(&task.statement)) {
            copies.push(Copy {
                name: task.name.clone(),
                copy_of: other.to_string(),
                exact: false,
            });
        }
    }
    Overlap {
        checked: checked.len(),
        reference: reference.len(),
        exact: copies.iter().filter(|c| c.exact).count(),
        up_to_renaming: copies.len(),
        same_goal_shape: checked
            .iter()
            .filter(|t| shapes.contains(&goal_shape(&t.statement)))
            .count(),
        copies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, statement: &str) -> Task {
        Task {
            name: name.into(),
            header: "".into(),
            statement: statement.into(),
            split: None,
        }
    }

    #[test]
    fn renamed_and_reordered_copies_are_caught() {
        let train = [
            task(
                "nat_00604",
                "theorem nat_00604 (a m n : Nat) : n * m + a = m * n + a",
            ),
            task(
                "prop_1",
                "theorem prop_1 (p q : Prop) (hp : p) (hpq : p → q) : q",
            ),
        ];
        let test = [
            task(
                "nat_00004",
                "theorem nat_00004 (a b c : Nat) : a * b + c = b * a + c",
            ),
            task(
                "prop_2",
                "theorem prop_2 (x y : Prop) (h₁ : x → y) (h₂ : x) : y",
            ),
            task(
                "same",
                "theorem same  (a m n : Nat) :\n  n * m + a = m * n + a",
            ),
            task("new", "theorem new (a b : Nat) : a + b = b + a"),
        ];
        let o = overlap(&test, &train);
        assert_eq!(
            (o.checked, o.reference, o.exact, o.up_to_renaming),
            (4, 2, 1, 3)
        );
        assert_eq!(o.copies[0].copy_of, "nat_00604");
        assert!(!o.copies[0].exact);
        assert_eq!(o.copies[1].copy_of, "prop_1");
        assert!(o.copies[2].exact);
        assert_eq!(o.same_goal_shape, 3, "`new` has a goal shape train lacks");
    }
}
