prelude
import Mini

theorem t01 (p q r : Prop) (hp : p) (hq : q) (hr : r) : p ∧ q ∧ r := ⟨hp, hq, hr⟩
theorem t02 (a b : Prop) (hab : a ∧ b) : b ∧ a := ⟨hab.2, hab.1⟩
theorem t03 (p q : Prop) (hq : q) : p → q := fun _ => hq
theorem t04 (P : Nat → Prop) (hall : ∀ x, P x) (a : Nat) : P a := hall a
theorem t05 (f : Nat → Nat) (hf : ∀ x, f x = x) : f 3 = 3 := hf 3
theorem t06 (x y : Nat) (hxy : x = y) : y = x := hxy.symm
theorem t07 (a b c : Nat) (h1 : a = b) (h2 : c = b) : a = c := by rw [h1, h2]
theorem t08 (n : Nat) : n * 0 = 0 := rfl
theorem t09 (n : Nat) : 0 * n = 0 := Nat.zero_mul n
theorem t10 (k : Nat) : 1 * k = k := Nat.one_mul k
theorem t11 (m n : Nat) (h : m = n) : m + 1 = n + 1 := by rw [h]
theorem t12 (p q : Prop) (hnq : ¬q) (hpq : p → q) : ¬p := fun hp => hnq (hpq hp)
theorem t13 (p : Prop) (hp : p) (hn : ¬p) : False := hn hp
theorem t14 (p q : Prop) : p ∧ q → p := fun h => h.1
theorem t15 (p q : Prop) : p → p ∨ q := fun hp => Or.inl hp
theorem t16 (a b : Nat) : a + b + 0 = b + a := by rw [Nat.add_zero, Nat.add_comm]
theorem t17 (P Q : Prop) (h : P ↔ Q) (hq : Q) : P := h.2 hq
theorem t18 (x : Nat) (h : x = 2) : x + x = 4 := by rw [h]
theorem t19 (p q r : Prop) (h : p → q → r) (hp : p) (hq : q) : r := h hp hq
theorem t20 (p q : Prop) (h : p ∧ q) : q ∧ p ∧ q := ⟨h.2, h.1, h.2⟩
theorem t21 (u v : Nat) : u + v = v + u := Nat.add_comm u v
theorem t22 (a b c : Nat) : a + b + c = c + b + a := by
  rw [Nat.add_comm a b, Nat.add_comm (b + a) c, Nat.add_assoc c b a]
theorem t23 (P : Nat → Prop) (h : P 0) : ∃ n, P n := ⟨0, h⟩
theorem t24 (x : Nat) : x - x = 0 := Nat.sub_self x
theorem t25 (p : Prop) (hp : p) : ¬¬p := fun hn => hn hp
theorem t26 (p q : Prop) (hp : p) (hq : q) : q ∧ p := ⟨hq, hp⟩
theorem t27 (a b : Nat) (h : a = b) : b + 0 = a := by rw [h]; rfl
theorem t28 (p q : Prop) (hpq : p ↔ q) : q → p := hpq.2
theorem t29 (m : Nat) : m + 0 = 0 + m := by rw [Nat.zero_add]; rfl
theorem t30 (s t : Nat) (h : s + 0 = t) : s = t := h
theorem t31 (p q : Prop) (hnp : ¬p) (hp : p) : q := absurd hp hnp
theorem t32 (a : Nat) (P : Nat → Prop) (ha : P a) (h : ∀ n, P n → P (n + 1)) : P (a + 1) := h a ha
