prelude
import Mini
/-! A tactic fails and, after Lean's error recovery, no goal is left open: the only diagnostics
are errors (no `unsolved goals`). Every theorem here is `error`. -/

theorem error_type_mismatch (p q : Prop) (hp : p) (_hq : q) : q := by
  exact hp

theorem error_apply_fails (p q : Prop) (hp : p) : q := by
  apply hp

theorem error_rw_no_motive (a b c : Nat) (h : a = b) : c = c + 0 := by
  rw [h]

theorem error_after_progress (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · exact hp
  · exact hp
