prelude
import Mini
/-! Statements that do not elaborate; the proofs never run. Every theorem here is `error`. -/

theorem bad_add_prop (n : Nat) : n + True = n := by
  rfl

theorem bad_unknown_type (x : Nat.Real) : x = x := by
  rfl

theorem bad_not_a_prop (n : Nat) : n := by
  exact 0
