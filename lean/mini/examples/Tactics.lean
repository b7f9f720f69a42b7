prelude
import Mini
/-! One proved theorem per supported tactic or notation; every theorem here is `proved`. -/

theorem use_exact (p : Prop) (hp : p) : p := by exact hp
theorem use_intro (p : Prop) : p → p := by
  intro h
  exact h
theorem use_intros (p q : Prop) : p → q → p := by
  intros
  assumption
theorem use_apply (p q : Prop) (hpq : p → q) (hp : p) : q := by
  apply hpq
  exact hp
theorem use_refine (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  refine ⟨?_, hq⟩
  exact hp
theorem use_constructor (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  exact hp
  exact hq
theorem use_assumption (p q : Prop) (_hq : q) (hp : p) : p := by assumption
theorem use_cases_and (p q : Prop) (h : p ∧ q) : q := by
  cases h with
  | intro hp hq => exact hq
theorem use_cases_or (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq
theorem use_cases_plain (p q : Prop) (h : p ∧ q) : p := by
  cases h
  assumption
theorem use_cases_nat (n : Nat) : n = 0 ∨ ∃ m, n = m + 1 := by
  cases n with
  | zero => left; rfl
  | succ m => right; exact ⟨m, rfl⟩
theorem use_induction (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ k ih => rw [Nat.add_succ, ih]
theorem use_rw (a b : Nat) (h : a = b) : a + 0 = b := by
  rw [h]
  rfl
theorem use_rw_rev (a b : Nat) (h : b = a) : a = b := by
  rw [← h]
theorem use_rw_at (a b : Nat) (p : Nat → Prop) (h : a = b) (hp : p a) : p b := by
  rw [h] at hp
  exact hp
theorem use_rw_seq (a b c : Nat) (h1 : a = b) (h2 : b = c) : a = c := by
  rw [h1, h2]
theorem use_rfl (n : Nat) : n + 0 = n := by rfl
theorem use_eq_refl (n : Nat) : n = n := by eq_refl
theorem use_exfalso (p : Prop) (h : False) : p := by
  exfalso
  exact h
theorem use_cdot (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · exact hp
  · exact hq
theorem use_semicolon (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor; exact hp; exact hq
theorem use_all_semicolon (p : Prop) (hp : p) : p ∧ p := by
  constructor <;> exact hp
theorem use_have (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  have hp2 : p := hp
  exact ⟨hp2, hq⟩
theorem use_show (p : Prop) (hp : p) : p := by
  show p
  exact hp
theorem use_left (p q : Prop) (hp : p) : p ∨ q := by
  left
  exact hp
theorem use_right (p q : Prop) (hq : q) : p ∨ q := by
  right
  exact hq
theorem use_exists : ∃ n : Nat, n + 1 = 3 := by exists 2
theorem use_anonymous_constructor : ∃ n : Nat, n * 2 = 6 := ⟨3, rfl⟩
theorem use_trivial : True := by trivial
theorem use_contradiction (p : Prop) (h : False) : p := by contradiction
theorem use_subst (a b : Nat) (h : a = b) : b = a := by
  subst h
  rfl
theorem use_symm (a b : Nat) (h : a = b) : b = a := by
  symm
  exact h
theorem use_specialize (p q : Prop) (hp : p) (hpq : p → q) : q := by
  specialize hpq hp
  exact hpq
theorem use_all_goals (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  all_goals assumption
theorem use_any_goals (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  any_goals assumption
theorem use_case (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  case left => exact hp
  case right => exact hq
theorem use_next (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  next => exact hp
  next => exact hq
theorem use_rename_i (p q : Prop) (hq : q) : p → q := by
  intro
  rename_i _hp
  exact hq
theorem use_match (p q : Prop) (h : p ∧ q) : q := by
  match h with
  | ⟨_, hq⟩ => exact hq
theorem use_intro_pattern (p q : Prop) : p ∧ q → q := by
  intro ⟨_, hq⟩
  exact hq
theorem use_suffices (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  suffices h : q by exact ⟨hp, h⟩
  exact hq
theorem use_repeat_first (p : Prop) (hp : p) : p ∧ p ∧ p := by
  repeat (first | exact hp | constructor)
theorem use_try (p : Prop) (hp : p) : p := by
  try contradiction
  exact hp
theorem use_injection (a b : Nat) (h : a + 1 = b + 1) : a = b := by
  injection h
theorem use_clear_revert_change (p q : Prop) (hp : p) (_hq : q) : p := by
  clear _hq
  revert hp
  intro h
  change p
  skip
  exact h
  done
theorem use_focus (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  focus
    exact hp
  exact hq
theorem use_rotate_right (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  rotate_right
  exact hq
  exact hp
theorem use_calc_term (a b c : Nat) (h1 : a = b) (h2 : b = c) : a = c :=
  calc a = b := h1
    _ = c := h2
theorem use_calc_tactic (a b : Nat) (h : a = b) : a + 0 = b := by
  calc a + 0 = a := Nat.add_zero a
    _ = b := h
theorem use_and_or_not_iff (p q : Prop) (hp : p) (hnq : ¬q) : (p ∨ q) ∧ ¬q ∧ (p ↔ p) := by
  refine ⟨Or.inl hp, hnq, ?_⟩
  exact Iff.intro (fun h => h) (fun h => h)
theorem use_iff_constructor (p : Prop) : p ↔ p := by
  constructor
  · intro h
    exact h
  · intro h
    exact h
theorem use_numerals : 2 + 3 * 4 - 1 = 13 := by rfl
theorem use_mul (a b : Nat) (h : a = b) : a * 2 = b * 2 := by rw [h]
theorem use_le_lt (n : Nat) : n ≤ n + 1 ∧ n < n + 1 := by
  constructor
  · exact Nat.le_succ n
  · exact Nat.lt_succ_self n
theorem use_ge_gt (n : Nat) : n + 1 ≥ n ∧ n + 1 > n := ⟨Nat.le_succ n, Nat.lt_succ_self n⟩
theorem use_ne (n : Nat) : n + 1 ≠ 0 := Nat.succ_ne_zero n
theorem use_true_false : True ∧ ¬False := ⟨True.intro, fun h => h⟩
theorem use_lemmas (a b c : Nat) : a + b + c = c + (b + a) := by
  rw [Nat.add_comm a b, Nat.add_comm]
theorem use_have_term (p q : Prop) (hp : p) (hpq : p → q) : q :=
  have hq : q := hpq hp
  hq
theorem use_fun_match (p q : Prop) : p ∧ q → q ∧ p := fun ⟨hp, hq⟩ => ⟨hq, hp⟩
theorem use_rewrite (a b : Nat) (h : a = b) : a + 1 = b + 1 := by
  rewrite [h]
  rfl
theorem use_subst_notation (a b : Nat) (h : a = b) : b = a := h ▸ rfl
theorem use_decide : 3 ≤ 5 ∧ 12 * 12 ≠ 143 ∧ ¬(7 < 2) := by decide
theorem use_simp (a : Nat) : a * 1 + 0 = a := by simp
theorem use_simp_hyps (p q : Prop) (hp : p) (hq : q) : (p ∨ False) ∧ q := by simp [hp, hq]
theorem use_simp_only (a b : Nat) (h : a = b) : a + 0 = b := by simp only [Nat.add_zero, h]
theorem use_simp_at (a b : Nat) (h : a + 0 = b) : a = b := by
  simp at h
  exact h
theorem use_simp_all (a b : Nat) (h₁ : a = b) (h₂ : b = 3) : a = 3 := by simp_all
theorem use_contradiction_ctor (n : Nat) (h : n + 1 = 0) : False := by contradiction
theorem use_cases_ctor (n : Nat) (h : 0 = n + 1) : False := by cases h
theorem use_trivial_decide : 2 + 3 = 5 := by trivial
