prelude
import Mini
/-! Proofs that name things that do not exist. Every theorem here is `error`. -/

theorem unknown_in_exact (p : Prop) : p := by
  exact foo

theorem unknown_in_rw (a b : Nat) : a + b = b + a := by
  rw [Nat.add_comm_wrong]

theorem unknown_in_apply (p q : Prop) (hp : p) : p ∧ q := by
  apply And.intro_wrong
  exact hp
