//! A proof state's goal up to the names of its locals: `intro h₁` and `intro h2` on one goal
//! leave goals that differ only in a hypothesis name, and a search that told them apart would
//! expand the same state once per name the model writes.
//!
//! The goal is Lean's pretty-printed text. Every local it declares (`message::local_names`: the
//! names before ` : ` on the hypothesis lines, inaccessible `h✝¹` ones too) is replaced wherever
//! it stands as a whole word, or as the head of a dotted one (`h.1`, `h.mp`), by a canonical
//! name numbered in order of first appearance: `§h0`, `§h1`, … for the names a tactic can write,
//! `§i0`, … for the inaccessible ones, so a state whose hypothesis is `h✝` is never merged with
//! one that can name it. `§` is a token of its own in Lean, so no printed name reads as a
//! canonical one. Two goals get one text only when a one-to-one renaming of their locals turns
//! one into the other; a name the printer wrote in a way this misses (`«a.b»`) stays as written,
//! which can only keep two states apart, never merge different ones.

use std::collections::HashMap;

use crate::message::{is_local_name_char, local_names, INACCESSIBLE};

/// `goal` with its locals renamed in order of first appearance (see the module doc).
pub fn goal_up_to_renaming(goal: &str) -> String {
    let locals = local_names(goal);
    if locals.is_empty() {
        return goal.to_string();
    }
    let mut renamed: HashMap<&str, String> = HashMap::new();
    let (mut accessible, mut inaccessible) = (0, 0);
    let mut out = String::with_capacity(goal.len() + 16);
    let mut rest = goal;
    while let Some(start) = rest.find(|c: char| is_local_name_char(c) && c != '.') {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !is_local_name_char(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        let head = word.split('.').next().unwrap_or(word);
        if locals.iter().any(|l| l == head) {
            let name = renamed.entry(head).or_insert_with(|| {
                if head.contains(INACCESSIBLE) {
                    inaccessible += 1;
                    format!("§i{}", inaccessible - 1)
                } else {
                    accessible += 1;
                    format!("§h{}", accessible - 1)
                }
            });
            out.push_str(name);
            out.push_str(&word[head.len()..]);
        } else {
            out.push_str(word);
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_that_differ_in_local_names_only_read_the_same() {
        let a = "p q : Prop\nh₁ : p ∧ q\nhq : q\n⊢ q ∧ h₁.1 = h₁.left";
        let b = "x y : Prop\nh2 : x ∧ y\nthis : y\n⊢ y ∧ h2.1 = h2.left";
        assert_eq!(goal_up_to_renaming(a), goal_up_to_renaming(b));
        assert_eq!(
            goal_up_to_renaming(a),
            "§h0 §h1 : Prop\n§h2 : §h0 ∧ §h1\n§h3 : §h1\n⊢ §h1 ∧ §h2.1 = §h2.left"
        );
    }

    #[test]
    fn different_goals_stay_apart() {
        // Which hypothesis says what matters, not only how many there are.
        let a = "p q : Prop\nh : p\n⊢ p";
        let b = "p q : Prop\nh : q\n⊢ p";
        assert_ne!(goal_up_to_renaming(a), goal_up_to_renaming(b));
        // A constant is not a local: `Nat.succ` and `succ` keep their names.
        let c = "n : Nat\n⊢ Nat.succ n = succ n";
        assert_eq!(
            goal_up_to_renaming(c),
            "§h0 : Nat\n⊢ Nat.succ §h0 = succ §h0"
        );
        // A local's name inside a longer word (`hp` when `h` is local) is left alone.
        assert_eq!(goal_up_to_renaming("h : p\n⊢ hp"), "§h0 : p\n⊢ hp");
        // A name bound inside a type that is also a local's is renamed with it; one that is not
        // a local's keeps its name, so the two goals stay apart.
        let d = "x : Nat\nh : ∀ (y : Nat), y = x\n⊢ True";
        let e = "y : Nat\nh : ∀ (y : Nat), y = y\n⊢ True";
        assert_ne!(goal_up_to_renaming(d), goal_up_to_renaming(e));
    }

    #[test]
    fn inaccessible_names_are_renamed_apart_from_accessible_ones() {
        let a = "a✝ : p\nh✝¹ : q\n⊢ p";
        let b = "x✝ : p\nh✝ : q\n⊢ p";
        assert_eq!(goal_up_to_renaming(a), goal_up_to_renaming(b));
        assert_eq!(goal_up_to_renaming(a), "§i0 : p\n§i1 : q\n⊢ p");
        // A goal that can name its hypothesis is not one that cannot.
        assert_ne!(
            goal_up_to_renaming("h✝ : p\n⊢ p"),
            goal_up_to_renaming("h : p\n⊢ p")
        );
    }

    #[test]
    fn case_lines_wrapped_types_and_goals_without_locals() {
        let a = "case inl\nh :\n  p ∧\n    q\n⊢ q";
        assert_eq!(goal_up_to_renaming(a), "case inl\n§h0 :\n  p ∧\n    q\n⊢ q");
        assert_eq!(goal_up_to_renaming("⊢ 1 + 1 = 2"), "⊢ 1 + 1 = 2");
        assert_eq!(goal_up_to_renaming(""), "");
    }
}
