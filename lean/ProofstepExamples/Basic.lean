import Mathlib

/-! Theorems for `proofstep prove` on Mathlib: the seed's `test_thm` and a dozen of the same kind
(gcd, coprimality, divisibility, lcm on `Nat`). Their bodies are `sorry` on purpose: they are the
statements a proof search is asked to prove, e.g. from this folder:

    proofstep prove --theorem test_thm --file ProofstepExamples/Basic.lean --model DIR --backend repl

`proofstep eval --dataset ProofstepExamples/Basic.lean --model DIR --out results.jsonl` runs them all.

They live in the namespace `ProofstepExamples`: Mathlib already declares root-level theorems named
like several of them (`gcd_comm'`, `gcd_zero_left'`, `gcd_one_left'`, `lcm_comm'` in
`Mathlib/Algebra/GCDMonoid/Basic.lean`), and a second declaration of a name stops `lake build`. -/

namespace ProofstepExamples

theorem test_thm (m n : Nat) (h : m.Coprime n) : m.gcd n = 1 := by
  sorry

theorem gcd_comm' (m n : Nat) : m.gcd n = n.gcd m := by
  sorry

theorem coprime_comm' (m n : Nat) (h : m.Coprime n) : n.Coprime m := by
  sorry

theorem gcd_self' (n : Nat) : n.gcd n = n := by
  sorry

theorem gcd_zero_left' (n : Nat) : Nat.gcd 0 n = n := by
  sorry

theorem gcd_one_left' (n : Nat) : Nat.gcd 1 n = 1 := by
  sorry

theorem coprime_one_left' (n : Nat) : Nat.Coprime 1 n := by
  sorry

theorem gcd_dvd_left' (m n : Nat) : m.gcd n ∣ m := by
  sorry

theorem dvd_gcd' (k m n : Nat) (hm : k ∣ m) (hn : k ∣ n) : k ∣ m.gcd n := by
  sorry

theorem lcm_comm' (m n : Nat) : m.lcm n = n.lcm m := by
  sorry

theorem gcd_mul_lcm' (m n : Nat) : m.gcd n * m.lcm n = m * n := by
  sorry

theorem coprime_of_gcd_eq_one (m n : Nat) (h : m.gcd n = 1) : m.Coprime n := by
  sorry

theorem dvd_mul_of_dvd_left' (a b c : Nat) (h : a ∣ b) : a ∣ b * c := by
  sorry

theorem even_add_even (m n : Nat) (hm : Even m) (hn : Even n) : Even (m + n) := by
  sorry

end ProofstepExamples
