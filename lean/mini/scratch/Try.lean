prelude
import Mini

theorem a1 (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases ‹_ ∨ _›
  · right; assumption
  · left; assumption

theorem a2 (P Q : Nat → Prop) (hpq : ∀ x, P x → Q x) (h : ∃ x, P x) : ∃ x, Q x := by
  cases ‹∃ _, _›
  constructor
  apply hpq
  assumption

theorem a3 (p q r : Prop) (hpr : p → r) (hqr : q → r) (h : p ∨ q) : r := by
  cases ‹_ ∨ _› <;> simp_all

theorem a4 (p q : Prop) (h : p ∨ q) : q ∨ p := by
  rcases ‹_ ∨ _› with h | h
  · exact Or.inr h
  · exact Or.inl h
