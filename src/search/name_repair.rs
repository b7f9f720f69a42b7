//! Name repair: a model often writes the right tactic with a hypothesis name the state does not
//! have (`apply Or.elim h₁` where the disjunction is `h₂`, `exact hp` where it is `h`), a name
//! it learned from other proofs instead of copying it from the goal. Lean rejects such a
//! candidate with "unknown identifier"; the search then checks it again with each name the
//! goal's context does have in that place, and Lean judges each as it judges any candidate.

use crate::lean::message::{hypothesis_names, type_names, unknown_name, Unknown};
use crate::lean::source::name_occurrences;

/// The names a misnamed hypothesis is replaced by, in the order they are tried: the goal's
/// hypotheses (`goal` is the state's first goal, the one a tactic works on) that are proofs or
/// values, the newest (printed last) first, then those that are types (`p q : Prop`,
/// `α : Type`), which a tactic rarely means where it wrote an unknown name. Read once per
/// expansion by the search.
pub fn repair_order(goal: &str) -> Vec<String> {
    let types = type_names(goal);
    let (mut order, last): (Vec<String>, Vec<String>) = hypothesis_names(goal)
        .into_iter()
        .rev()
        .partition(|n| !types.contains(n));
    order.extend(last);
    order
}

/// The tactics to try instead of `tactic`, which Lean rejected with `error` on a goal whose
/// hypotheses are `names` (`repair_order`, in that order): when the first unknown identifier
/// `error` names is a name `tactic` writes (alone or as the head of `h.mp`, `h.1`) and not one
/// of the goal's hypotheses, `tactic` with that name replaced everywhere by each hypothesis
/// name, in the order of `names`. Empty for any other failure, and for
/// a name under a capitalised namespace (`Nat.foo`: a lemma the model made up, which no
/// hypothesis replaces). A made-up lemma name without one (`mul_pos_of_foo`, Lean 3's
/// `nat.succ_le`) cannot be told from a misnamed hypothesis by its spelling and is repaired
/// too; the per-expansion budget bounds what that costs.
pub fn repairs(tactic: &str, error: &str, names: &[String]) -> Vec<String> {
    let Some(unknown) = error
        .lines()
        .find_map(unknown_name)
        .filter(|(kind, _)| *kind == Unknown::Identifier)
        .map(|(_, name)| name)
    else {
        return Vec::new();
    };
    let head = unknown.split('.').next().unwrap_or(unknown);
    if head.len() < unknown.len() && head.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Vec::new();
    }
    if names.iter().any(|n| n == head) {
        return Vec::new();
    }
    let spans = name_occurrences(tactic, head);
    if spans.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let mut text = String::with_capacity(tactic.len() + name.len());
        let mut at = 0;
        for span in &spans {
            text.push_str(&tactic[at..span.start]);
            text.push_str(name);
            at = span.end;
        }
        text.push_str(&tactic[at..]);
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOAL: &str = "case inl\np q r : Prop\nh₁ : p ∧ q\nh₂ : p ∨ r\nhx✝ : q\n⊢ p ∨ q";

    fn names() -> Vec<String> {
        repair_order(GOAL)
    }

    /// Proofs first, newest first; the goal's types (`p q r : Prop`) last.
    #[test]
    fn proofs_are_tried_before_types() {
        assert_eq!(names(), ["h₂", "h₁", "r", "q", "p"]);
        let goal = "b q : Prop\nh3 : q → b\nn : Nat\nh1 : q ∨ b\nh₁ : q\n⊢ q";
        assert_eq!(repair_order(goal), ["h₁", "h1", "n", "h3", "q", "b"]);
    }

    /// Messages as Lean 4.35.0 prints them (`lean/mini`'s Lean on `apply Or.elim h4`, `exact
    /// ha.1`, `exact hx.mp hp`) and as Lean before 4.2x did.
    #[test]
    fn an_unknown_hypothesis_is_replaced_by_each_name_of_the_context() {
        let got = repairs("apply Or.elim h4", "Unknown identifier `h4`", &names());
        assert_eq!(
            got,
            [
                "apply Or.elim h₂",
                "apply Or.elim h₁",
                "apply Or.elim r",
                "apply Or.elim q",
                "apply Or.elim p"
            ]
        );
        let got = repairs("exact ⟨ha.1, ha.2⟩", "unknown identifier 'ha'", &names());
        assert_eq!(got[1], "exact ⟨h₁.1, h₁.2⟩");
        let got = repairs("exact hx.mp hp", "Unknown identifier `hx.mp`", &names());
        assert_eq!(got[0], "exact h₂.mp hp");
        let got = repairs(
            "exact (h4)",
            "error: x\nUnknown identifier `h4`\nmore",
            &names(),
        );
        assert_eq!(got[0], "exact (h₂)");
    }

    #[test]
    fn nothing_is_repaired_that_a_hypothesis_cannot_fix() {
        // Another error; an unknown constant; a name of the context with a wrong field; a
        // namespaced lemma; a name the tactic does not write; a word that only contains it.
        for (tactic, error) in [
            ("exact h₁", "Type mismatch\n  h₁"),
            ("exact Foo", "Unknown constant `Foo`"),
            ("exact h₁.mpr", "Unknown identifier `h₁.mpr`"),
            ("exact Nat.foo h₁", "Unknown identifier `Nat.foo`"),
            ("exact h₁", "Unknown identifier `h9`"),
            ("exact hh9 -- h9", "Unknown identifier `h9`"),
        ] {
            assert!(repairs(tactic, error, &names()).is_empty(), "{tactic}");
        }
        assert!(repairs(
            "exact h9",
            "Unknown identifier `h9`",
            &repair_order("⊢ True")
        )
        .is_empty());
    }
}
