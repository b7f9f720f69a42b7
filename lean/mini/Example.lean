prelude
import Mini
/-! The quick-start file of the test world: small theorems of varied kinds, all proved.
`test_thm` is the seed's theorem, the one a proof search is asked to find. -/

theorem test_thm (m n : Nat) (h : m.Coprime n) : m.gcd n = 1 := by
  rw [Nat.coprime_iff_gcd_eq_one] at h
  exact h

theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by
  constructor
  · exact h.right
  · exact h.left

theorem or_swap (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq

theorem imp_trans (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := by
  intro hp
  apply hqr
  exact hpq hp

theorem not_not_of (p : Prop) (hp : p) : ¬¬p := by
  intro hn
  exact hn hp

theorem iff_swap (p q : Prop) : (p ↔ q) → (q ↔ p) := by
  intro h
  exact ⟨h.mpr, h.mp⟩

theorem false_implies (p : Prop) : False → p := by
  intro h
  exfalso
  exact h

theorem two_plus_two : 2 + 2 = 4 := by rfl

theorem six_times_seven : 6 * 7 = 42 := rfl

theorem zero_add_induction (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ k ih => rw [Nat.add_succ, ih]

theorem add_comm_rw (a b c : Nat) (h : a = b) : a + c = c + b := by
  rw [h, Nat.add_comm]

theorem exists_succ (n : Nat) : ∃ m, m = n + 1 := by
  exists n + 1

theorem le_add_two (n : Nat) : n ≤ n + 2 := by
  apply Nat.le_add_right

theorem mul_distrib (a b c : Nat) : a * (b + c) = a * b + a * c := by
  rw [Nat.left_distrib]

theorem eq_from_hyp (a b : Nat) (p : Nat → Prop) (h : a = b) (hp : p a) : p b := by
  rw [← h]
  exact hp

theorem and_true_intro (p : Prop) (hp : p) : p ∧ True := by
  constructor <;> trivial
