# The fixed tactic lists of the pipeline benchmark, sourced by run.sh,
# beyond.sh and beyond_data.sh: the baselines (each tried in order at every
# node) and, AUTO, the list tried beside a model (--also-try).
PLAIN=(assumption rfl trivial constructor "intro h" contradiction left right)
AUTO=(assumption rfl trivial constructor "intro h" contradiction decide simp_all)
# The strongest list: automation and every Nat lemma the generated rewriting chains use; since
# 2026-12-03 the default list of prove/eval/iterate (search::DEFAULT_ALSO_TRY).
LEMMAS=("${AUTO[@]}" "rw [Nat.add_comm]" "rw [Nat.mul_comm]" "rw [Nat.add_assoc]" "rw [← Nat.add_assoc]"
  "rw [Nat.mul_assoc]" "rw [← Nat.mul_assoc]" "rw [Nat.left_distrib]" "rw [Nat.right_distrib]")
