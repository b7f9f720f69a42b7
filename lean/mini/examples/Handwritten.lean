prelude
import Mini
/-! Hand-written exercises in the test world's language, the kind a textbook or a first Lean
course sets: propositional logic, quantifiers, equality and natural-number arithmetic, with
names as people write them. Written by hand, never generated and never used for training: the
prover's held-out yardstick (`benchmarks/`). Every proof here was checked by Lean; evaluation
uses the statements only. -/

-- Conjunction and disjunction

theorem and_swap_ex (p q : Prop) (h : p ∧ q) : q ∧ p := by
  exact ⟨h.2, h.1⟩

theorem and_left_ex (p q : Prop) (h : p ∧ q) : p := h.1

theorem and_right_ex {a b : Prop} (hab : a ∧ b) : b := hab.2

theorem and_intro_ex (p q : Prop) (hp : p) (hq : q) : p ∧ q := ⟨hp, hq⟩

theorem and_assoc_ex (p q r : Prop) (h : (p ∧ q) ∧ r) : p ∧ (q ∧ r) :=
  ⟨h.1.1, h.1.2, h.2⟩

theorem and_self_ex (a : Prop) (ha : a) : a ∧ a := ⟨ha, ha⟩

theorem or_swap_ex (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq

theorem or_intro_left_ex (p q : Prop) (hp : p) : p ∨ q := Or.inl hp

theorem or_intro_right_ex (x y : Prop) (hy : y) : x ∨ y := Or.inr hy

theorem or_self_ex (p : Prop) (h : p ∨ p) : p := by
  cases h with
  | inl h₁ => exact h₁
  | inr h₂ => exact h₂

theorem and_or_ex (p q r : Prop) (h : p ∧ (q ∨ r)) : (p ∧ q) ∨ (p ∧ r) := by
  cases h.2 with
  | inl hq => exact Or.inl ⟨h.1, hq⟩
  | inr hr => exact Or.inr ⟨h.1, hr⟩

theorem or_and_ex (a b c : Prop) (h : (a ∨ b) ∧ c) : (a ∧ c) ∨ (b ∧ c) := by
  cases h.1 with
  | inl ha => exact Or.inl ⟨ha, h.2⟩
  | inr hb => exact Or.inr ⟨hb, h.2⟩

-- Implication

theorem modus_ponens_ex (p q : Prop) (hpq : p → q) (hp : p) : q := hpq hp

theorem imp_self_ex (p : Prop) : p → p := fun hp => hp

theorem imp_trans_ex (p q r : Prop) (h₁ : p → q) (h₂ : q → r) : p → r :=
  fun hp => h₂ (h₁ hp)

theorem imp_const_ex (p q : Prop) (hq : q) : p → q := fun _ => hq

theorem curry_ex (a b c : Prop) (h : a ∧ b → c) : a → b → c :=
  fun ha hb => h ⟨ha, hb⟩

theorem uncurry_ex (a b c : Prop) (h : a → b → c) : a ∧ b → c :=
  fun hab => h hab.1 hab.2

theorem imp_and_ex (p q r : Prop) (hq : p → q) (hr : p → r) : p → q ∧ r :=
  fun hp => ⟨hq hp, hr hp⟩

theorem or_imp_ex (p q r : Prop) (hpr : p → r) (hqr : q → r) (h : p ∨ q) : r := by
  cases h with
  | inl hp => exact hpr hp
  | inr hq => exact hqr hq

-- Negation and iff

theorem not_not_intro_ex (p : Prop) (hp : p) : ¬¬p := fun hn => hn hp

theorem contrapositive_ex (p q : Prop) (hpq : p → q) (hnq : ¬q) : ¬p :=
  fun hp => hnq (hpq hp)

theorem not_and_of_not_left_ex (p q : Prop) (hnp : ¬p) : ¬(p ∧ q) :=
  fun h => hnp h.1

theorem absurd_ex (p q : Prop) (hp : p) (hnp : ¬p) : q := absurd hp hnp

theorem false_elim_ex (x : Prop) (h : False) : x := False.elim h

theorem iff_symm_ex (p q : Prop) (h : p ↔ q) : q ↔ p := ⟨h.2, h.1⟩

theorem iff_intro_ex (a b : Prop) (hab : a → b) (hba : b → a) : a ↔ b := ⟨hab, hba⟩

theorem iff_mp_ex (p q : Prop) (h : p ↔ q) (hp : p) : q := h.1 hp

theorem and_comm_iff_ex (p q : Prop) : p ∧ q ↔ q ∧ p :=
  ⟨fun h => ⟨h.2, h.1⟩, fun h => ⟨h.2, h.1⟩⟩

theorem not_or_ex (p q : Prop) (hnp : ¬p) (hnq : ¬q) : ¬(p ∨ q) := by
  intro h
  cases h with
  | inl hp => exact hnp hp
  | inr hq => exact hnq hq

-- Quantifiers

theorem forall_apply_ex (P : Nat → Prop) (h : ∀ n, P n) : P 5 := h 5

theorem forall_and_ex (P Q : Nat → Prop) (h : ∀ x, P x ∧ Q x) (y : Nat) : Q y := (h y).2

theorem exists_intro_ex : ∃ n : Nat, n + 2 = 5 := ⟨3, rfl⟩

theorem exists_of_forall_ex (P : Nat → Prop) (h : ∀ x, P x) : ∃ x, P x := ⟨0, h 0⟩

theorem exists_imp_ex (P Q : Nat → Prop) (hpq : ∀ x, P x → Q x) (h : ∃ x, P x) : ∃ x, Q x := by
  cases h with
  | intro w hw => exact ⟨w, hpq w hw⟩

theorem exists_and_left_ex (P Q : Nat → Prop) (h : ∃ x, P x ∧ Q x) : ∃ x, P x := by
  cases h with
  | intro x hx => exact ⟨x, hx.1⟩

-- Equality

theorem eq_symm_ex (a b : Nat) (h : a = b) : b = a := h.symm

theorem eq_trans_ex (x y z : Nat) (hxy : x = y) (hyz : y = z) : x = z := by
  rw [hxy, hyz]

theorem eq_chain_ex (a b c d : Nat) (h₁ : a = b) (h₂ : b = c) (h₃ : c = d) : a = d := by
  rw [h₁, h₂, h₃]

theorem congr_arg_ex (f : Nat → Nat) (a b : Nat) (h : a = b) : f a = f b := by
  rw [h]

theorem subst_pred_ex (P : Nat → Prop) (m n : Nat) (h : m = n) (hm : P m) : P n := by
  rw [← h]
  exact hm

-- Natural numbers

theorem add_zero_ex (n : Nat) : n + 0 = n := rfl

theorem zero_add_ex (n : Nat) : 0 + n = n := by
  rw [Nat.zero_add]

theorem add_comm_ex (a b : Nat) : a + b = b + a := Nat.add_comm a b

theorem add_assoc_ex (a b c : Nat) : (a + b) + c = a + (b + c) := by
  rw [Nat.add_assoc]

theorem mul_comm_ex (m n : Nat) : m * n = n * m := Nat.mul_comm m n

theorem mul_one_ex (k : Nat) : k * 1 = k := by
  rw [Nat.mul_one]

theorem add_right_comm_ex (x y z : Nat) : x + y + z = x + z + y := by
  rw [Nat.add_right_comm]

theorem add_eq_of_eq_ex (a b c : Nat) (h : a = b) : a + c = b + c := by
  rw [h]

theorem succ_ne_zero_ex (n : Nat) : n + 1 ≠ 0 := Nat.succ_ne_zero n

theorem le_refl_ex (n : Nat) : n ≤ n := Nat.le_refl n

theorem le_succ_ex (m : Nat) : m ≤ m + 1 := Nat.le_succ m

theorem le_trans_ex (a b c : Nat) (hab : a ≤ b) (hbc : b ≤ c) : a ≤ c :=
  Nat.le_trans hab hbc

theorem zero_le_ex (n : Nat) : 0 ≤ n := Nat.zero_le n

theorem two_mul_ex (n : Nat) : 2 * n = n + n := by
  rw [Nat.mul_comm, Nat.mul_succ, Nat.mul_one]

theorem numerals_ex : 3 * 4 + 2 = 14 := by decide

theorem lt_ex : 3 < 7 := by decide

theorem distrib_ex (a b c : Nat) : a * (b + c) = a * b + a * c := by
  rw [Nat.left_distrib]
