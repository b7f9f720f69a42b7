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
}
