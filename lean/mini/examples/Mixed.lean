prelude
import Mini
/-! One theorem of each outcome in a single file, for checkers that report per theorem. -/

theorem mixed_proved (p q : Prop) (h : p ∧ q) : q ∧ p := by
  exact ⟨h.right, h.left⟩

theorem mixed_open (p q : Prop) (hp : p) : p ∧ q := by
  constructor
  exact hp

theorem mixed_error (p q : Prop) (hp : p) : q := by
  exact hp

theorem mixed_sorry (n : Nat) : n * 1 = n := by
  sorry

theorem mixed_unknown (p : Prop) : p := by
  exact nonexistent_lemma

theorem mixed_proved_after (n : Nat) : n * 1 = n := by
  rw [Nat.mul_one]
