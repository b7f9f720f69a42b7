//! A proof state's goal up to the names of its locals: `intro h₁` and `intro h2` on one goal
//! leave goals that differ only in a hypothesis name, and a search that told them apart would
//! expand the same state once per name the model writes.
//!
//! The goal is Lean's pretty-printed text, read with Lean's lexer (`source::identifier_spans`).
//! Every local it declares (`message::local_names`: the names before ` : ` on the hypothesis
//! lines, inaccessible `h✝¹` ones too) is replaced wherever it stands as an identifier, or as the
//! head of a dotted one (`h.1`, `h.mp`), by a canonical name numbered in order of first
//! appearance: `§h0`, `§h1`, … for the names a tactic can write, `§i0`, … for the inaccessible
//! ones, so a state whose hypothesis is `h✝` is never merged with one that can name it. `§` is a
//! token of its own in Lean, so no printed name reads as a canonical one. A word after `.` (a
//! field: `(f a).b`) or `?` (a metavariable) is not a local and keeps its name, as does the
//! `case` line; a goal with `:=` (a `let` value, a structure instance, a named argument: names
//! there may be fields or parameters), a name literal or a `«quoted»` name is left as printed.
//! So two goals get one text only when a one-to-one renaming of their locals turns one into the
//! other.

use std::collections::{HashMap, HashSet};

use crate::message::{is_superscript_digit, local_names, INACCESSIBLE};
use crate::source::identifier_spans;

/// `goal` with its locals renamed in order of first appearance (see the module doc).
pub fn goal_up_to_renaming(goal: &str) -> String {
    if goal.contains(":=") || goal.contains('`') || goal.contains('«') {
        return goal.to_string();
    }
    let declared = local_names(goal);
    if declared.is_empty() {
        return goal.to_string();
    }
    let locals: HashSet<&str> = declared.iter().map(String::as_str).collect();
    let body = if goal.starts_with("case ") {
        goal.find('\n').map_or(goal.len(), |i| i + 1)
    } else {
        0
    };
    let mut renamed: HashMap<&str, String> = HashMap::new();
    let (mut accessible, mut inaccessible) = (0, 0);
    let mut out = String::with_capacity(goal.len() + 16);
    let mut at = 0;
    for span in identifier_spans(goal) {
        if span.start < body || goal[..span.start].ends_with(['.', '?']) {
            continue;
        }
        let word = &goal[span.clone()];
        let head = word.split('.').next().unwrap_or(word);
        // An inaccessible name prints as the word, then `✝` and a superscript index.
        let name = if head.len() == word.len() {
            let mark = goal[span.end..]
                .find(|c: char| c != INACCESSIBLE && !is_superscript_digit(c))
                .unwrap_or(goal.len() - span.end);
            &goal[span.start..span.end + mark]
        } else {
            head
        };
        let Some(&name) = locals.get(name) else {
            continue;
        };
        let canonical = renamed.entry(name).or_insert_with(|| {
            if name.contains(INACCESSIBLE) {
                inaccessible += 1;
                format!("§i{}", inaccessible - 1)
            } else {
                accessible += 1;
                format!("§h{}", accessible - 1)
            }
        });
        out.push_str(&goal[at..span.start]);
        out.push_str(canonical);
        at = span.start + name.len();
    }
    out.push_str(&goal[at..]);
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

    /// What is not a local keeps its name, so goals that differ there stay apart (the review's
    /// counterexamples: each pair is one text if the word is renamed, or missed).
    #[test]
    fn fields_metavariables_literals_and_negations_are_not_locals() {
        let pairs = [
            // A local after `!` is a local.
            (
                "b c : Bool\nh : b = true\n⊢ (!b) = false",
                "c b : Bool\nh : c = true\n⊢ (!b) = false",
            ),
            // A field after `.` is not.
            (
                "a b : Nat\nh : a = 0\n⊢ (f a b).a = 0",
                "b a : Nat\nh : b = 0\n⊢ (f b a).b = 0",
            ),
            // Nor is a string's content.
            ("a b : Nat\n⊢ \"a\" < \"b\"", "b a : Nat\n⊢ \"b\" < \"a\""),
            // Nor a metavariable's name.
            ("a b : Nat\n⊢ ?a = b", "b a : Nat\n⊢ ?b = a"),
            // `:=` leaves the goal as printed: a `let`'s name or a structure's field.
            (
                "x : Nat\n⊢ let x := 1;\n  x = 1",
                "y : Nat\n⊢ let x := 1;\n  y = 1",
            ),
        ];
        for (a, b) in pairs {
            assert_ne!(goal_up_to_renaming(a), goal_up_to_renaming(b), "{a} / {b}");
        }
        assert_eq!(
            goal_up_to_renaming("b : Bool\n⊢ (!b) = b"),
            "§h0 : Bool\n⊢ (!§h0) = §h0"
        );
        assert_eq!(
            goal_up_to_renaming("case a\na : Nat\n⊢ ?a = a"),
            "case a\n§h0 : Nat\n⊢ ?a = §h0"
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
