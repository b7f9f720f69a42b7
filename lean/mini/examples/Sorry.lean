prelude
import Mini
/-! Proofs closed (in whole or in part) by `sorry` or `admit`: a `declaration uses 'sorry'`
warning and no error. Every theorem here is `sorry`. -/

theorem sorry_whole (p : Prop) : p := by sorry

theorem sorry_admit (p q : Prop) (hp : p) : p ∧ q := by
  constructor
  · exact hp
  · admit

theorem sorry_one_branch (p q : Prop) (hp : p) : p ∧ q := by
  constructor
  · exact hp
  · sorry

theorem sorry_term (n : Nat) : n + 1 = 1 + n := sorry
