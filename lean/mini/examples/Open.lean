prelude
import Mini
/-! Proofs that leave goals open (`unsolved goals`); every theorem here is `open`. -/

theorem open_after_constructor (p q : Prop) (hp : p) (_hq : q) : p ∧ q := by
  constructor
  exact hp

theorem open_untouched (a b : Nat) (h : a = b) : b + 0 = a := by
  skip

theorem open_succ_case (n : Nat) : n + 0 = 0 + n := by
  induction n with
  | zero => rfl
  | succ k ih => skip

theorem open_two_goals (p q r : Prop) (hp : p) : (p ∧ q) ∧ r := by
  constructor
  · constructor
    · exact hp
