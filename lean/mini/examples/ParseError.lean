prelude
import Mini
/-! Files that do not parse. `parse_fine_before` is `proved`; `parse_unknown_tactic` and
`parse_unclosed` are `error` (the parser gives up inside their proofs). -/

theorem parse_fine_before (p : Prop) (hp : p) : p := by
  exact hp

theorem parse_unknown_tactic (p : Prop) (hp : p) : p := by
  frobnicate hp

theorem parse_unclosed (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · exact (hp
  · exact hq
