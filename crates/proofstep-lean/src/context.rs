//! What a theorem assumes beyond what its statement writes. The rest of its file can add
//! hypotheses: a section's `variable (h : False)` with `include h`, an instance argument
//! `variable [Bad]`, names bound automatically (`autoImplicit`). Lean proves the theorem it
//! elaborates, so a proof found there is sound, but the statement's text no longer says all
//! of what was proved; reports show these hypotheses beside it. Lean puts them first in the
//! theorem's first proof state, before the statement's own binders.

use crate::canonical::written_binders;
use crate::message::typed_locals;

/// The hypotheses of `root_goal` (the theorem's first proof state, as Lean prints it) that
/// `statement` does not bind, as `name : type` (the type's first line), in Lean's order.
pub fn unwritten_hypotheses(statement: &str, root_goal: &str) -> Vec<String> {
    let locals = typed_locals(root_goal);
    let extra = locals.len().saturating_sub(written_binders(statement));
    locals
        .into_iter()
        .take(extra)
        .map(|(name, ty)| format!("{name} : {ty}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypotheses_from_the_file_are_the_ones_before_the_statements_own() {
        // `variable [Bad]`: an instance the statement does not write.
        assert_eq!(
            unwritten_hypotheses(
                "theorem t_false3 : (2 : Nat) + 2 = 5",
                "inst✝ : Bad\n⊢ 2 + 2 = 5"
            ),
            ["inst✝ : Bad"]
        );
        // A section variable grouped by the printer with the statement's own binder.
        assert_eq!(
            unwritten_hypotheses(
                "theorem t (y : Nat) (hy : y = 1) : x + y = x + 1",
                "x y : Nat\nhy : y = 1\n⊢ x + y = x + 1"
            ),
            ["x : Nat"]
        );
        // Everything written: instance, implicit and grouped binders, a `∀` left in the goal.
        assert!(unwritten_hypotheses(
            "theorem t {α : Type} [Inhabited α] (a b : α) (h : a = b) : ∀ c : α, b = a",
            "α : Type\ninst✝ : Inhabited α\na b : α\nh : a = b\n⊢ ∀ (c : α), b = a"
        )
        .is_empty());
        // A type too long for its line goes on the next ones.
        assert_eq!(
            unwritten_hypotheses("lemma l : p", "h :\n  a_very_long_hypothesis\n⊢ p"),
            ["h : …"]
        );
        assert!(unwritten_hypotheses("example : True", "⊢ True").is_empty());
    }

    #[test]
    fn every_way_of_writing_a_binder_counts_once() {
        let with_h = |goal: &str| format!("h : False\n{goal}");
        for (statement, goal) in [
            // Universe parameters are not binders.
            (
                "theorem tu.{w} (α : Sort w) (a : α) : a = a",
                "α : Sort w\na : α\n⊢ a = a",
            ),
            (
                "theorem tu.{v, w} {α : Sort v} : True",
                "α : Sort v\n⊢ True",
            ),
            // Strict implicit binders, both spellings.
            ("theorem s1 {{x : Nat}} : x = x", "x : Nat\n⊢ x = x"),
            ("theorem s2 ⦃x y : Nat⦄ : x = y", "x y : Nat\n⊢ x = y"),
            // Bare names, before and after bracketed binders.
            (
                "theorem tb (n : Nat) m (h2 : m = n) : n = m",
                "n m : Nat\nh2 : m = n\n⊢ n = m",
            ),
            ("theorem tb2 m (n : Nat) : m = n", "m n : Nat\n⊢ m = n"),
            ("example (x) : x = x", "x : Nat\n⊢ x = x"),
            // A name Lean prints in guillemets.
            (
                "theorem q («a b» : Nat) : «a b» = «a b»",
                "«a b» : Nat\n⊢ «a b» = «a b»",
            ),
            // Instance binders whose class holds colons.
            (
                "theorem i [Fact (1 < (2 : Nat))] [inst : Cl (2 : Nat) 3] : True",
                "inst✝ : Fact (1 < 2)\ninst : Cl 2 3\n⊢ True",
            ),
            // A default value and a comment inside a binder.
            (
                "theorem d (n : Nat := 2) /- (x : Nat) -/ (m : Nat) : n = m",
                "n m : Nat\n⊢ n = m",
            ),
        ] {
            assert!(
                unwritten_hypotheses(statement, goal).is_empty(),
                "{statement}: {:?}",
                unwritten_hypotheses(statement, goal)
            );
            assert_eq!(
                unwritten_hypotheses(statement, &with_h(goal)),
                ["h : False"],
                "{statement}"
            );
        }
    }
}
