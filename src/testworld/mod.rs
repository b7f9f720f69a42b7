//! The test world's theorem generator: propositional logic, equality reasoning and Nat
//! arithmetic (with induction) over the `lean/mini` prelude, each theorem with a tactic proof
//! written one tactic per line in one of several styles, so a model trained on the corpus has
//! real choices to learn. `proofstep corpus generate` writes the theorems as Lean files split
//! into train/val/test and keeps only the proofs real Lean accepts (see `corpus`).
//!
//! Uses Lean, through `proofstep-lean` only: the generator tells statements apart up to
//! renaming by `lean::canonical`, and `corpus` checks every generated file with `lean --json`
//! (`backend::lean_json`) and holds out goal shapes (`lean::canonical::goal_shape`).
//! `proofstep extract` reads a theorem's split from `corpus`.

pub mod algebra;
pub mod arith;
pub mod cases;
pub mod coprime;
pub mod corpus;
pub mod equality;
pub mod names;
pub mod prop;
pub mod quant;
pub mod split;

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::lean::canonical::{canonical_statement, goal_shape};

/// The kinds of theorems the generator writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// ∧ ∨ → ¬ ↔ True False over propositional atoms.
    Prop,
    /// Chains of equalities between Nat variables, rewritten or composed.
    Equality,
    /// Nat arithmetic: computation, algebraic lemmas, order, induction.
    Arith,
    /// Nat rewriting chains of two or more instantiated lemmas (beyond automation).
    Algebra,
    /// Disjunction elimination: a hypothesis `A ∨ B` split by cases (beyond automation).
    Cases,
    /// `∀`/`∃` over predicates on Nat, and functions applied to equal arguments.
    Quant,
    /// `Nat.gcd` and `Nat.Coprime`.
    Coprime,
    /// A disjunction to split before a nest of `∧`/`∨` can be built (beyond the fixed lists).
    Split,
}

impl Kind {
    /// The short name used in theorem names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Prop => "prop",
            Kind::Equality => "eq",
            Kind::Arith => "nat",
            Kind::Algebra => "alg",
            Kind::Cases => "or",
            Kind::Quant => "quant",
            Kind::Coprime => "gcd",
            Kind::Split => "split",
        }
    }
}

/// The generator's knobs.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Seed of the random choices: the same options give the same theorems.
    pub seed: u64,
    /// Largest nesting depth of a goal formula / longest chain (at least 1).
    pub depth: usize,
    /// Most hypotheses a theorem may need (beyond those its goal introduces).
    pub hypotheses: usize,
    /// Most irrelevant hypotheses added to a theorem's context.
    pub distractors: usize,
    /// Percent (0–100) of theorems drawn from the families the prelude's automation
    /// (`simp_all`, `decide`) cannot close — rewriting chains and disjunction elimination, in
    /// equal parts — instead of the basic ones.
    pub beyond_automation_percent: u8,
    /// Percent (0–100) of theorems drawn, before the other families, from `split`: a
    /// disjunction to split before a nested goal can be built, which neither automation nor
    /// the strongest fixed tactic list (`search::DEFAULT_ALSO_TRY`) can close.
    pub beyond_lists_percent: u8,
    /// Canonical forms (`lean::canonical`) no generated statement may have: the statements of
    /// held-out files (a hand-written evaluation set, another corpus's val and test).
    pub exclude: HashSet<String>,
    /// Goal shapes (`lean::canonical::goal_shape`) no generated statement may have: the shapes of
    /// another corpus's novel-shape split, so a model trained on this corpus meets them unseen.
    pub exclude_shapes: HashSet<String>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 0,
            depth: 3,
            hypotheses: 4,
            distractors: 2,
            beyond_automation_percent: 0,
            beyond_lists_percent: 0,
            exclude: HashSet::new(),
            exclude_shapes: HashSet::new(),
        }
    }
}

/// One generated theorem: `theorem {name} {binders} : {goal} := by` then the proof lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenTheorem {
    /// Unique name, e.g. `prop_00042`.
    pub name: String,
    /// Which family it belongs to.
    pub kind: Kind,
    /// The binders, e.g. `(p q : Prop) (h1 : p ∧ q)`; may be empty.
    pub binders: String,
    /// The statement's type, e.g. `q ∧ p`.
    pub goal: String,
    /// The tactic proof, one tactic per line, indentation relative to the `by` block.
    pub proof: Vec<String>,
}

impl GenTheorem {
    /// The statement without its proof: `theorem {name} {binders} : {goal}`.
    pub fn statement(&self) -> String {
        if self.binders.is_empty() {
            format!("theorem {} : {}", self.name, self.goal)
        } else {
            format!("theorem {} {} : {}", self.name, self.binders, self.goal)
        }
    }

    /// The theorem as Lean source, ending with a newline.
    pub fn render(&self) -> String {
        let mut out = format!("theorem {}", self.name);
        if !self.binders.is_empty() {
            out.push(' ');
            out.push_str(&self.binders);
        }
        out.push_str(&format!(" : {} := by\n", self.goal));
        for line in &self.proof {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// The statement part of a generated theorem before its name is fixed.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Binders, as in `GenTheorem::binders`.
    pub binders: String,
    /// The statement's type.
    pub goal: String,
    /// The proof lines.
    pub proof: Vec<String>,
}

/// What `generate` made, and what it refused.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The theorems, in order of generation.
    pub theorems: Vec<GenTheorem>,
    /// Draws refused because their statement repeated an earlier one up to renaming.
    pub renamed_copies: usize,
    /// Draws refused because their statement is one of `GenOptions::exclude` up to renaming.
    pub held_out_copies: usize,
    /// Draws refused because their goal shape is one of `GenOptions::exclude_shapes`.
    pub held_out_shapes: usize,
}

/// Generates `count` theorems, drawing the kinds at random (prop, equality, arith, quantifiers
/// and gcd in the ratio 3:2:2:2:1, or with `beyond_automation_percent` chance a rewriting chain
/// or a disjunction elimination, in equal parts, or first with `beyond_lists_percent` chance a
/// split with a goal to build), named `{kind}_{index:05}` with the index
/// counted over all kinds so names never repeat. The older families write fixed names, which
/// `names::rename` replaces by names drawn from wide pools. A statement equal to an earlier one
/// up to renaming and hypothesis order (whatever its proof), or to an excluded one, is replaced
/// by a fresh draw, so no statement lands in two splits.
pub fn generate(count: usize, options: &GenOptions) -> Generated {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    let (mut renamed_copies, mut held_out_copies, mut held_out_shapes) = (0, 0, 0);
    let mut attempts = 0usize;
    while out.len() < count && attempts < count * 50 + 100 {
        attempts += 1;
        // Each draw is made only when its knob is set, so corpora made before a knob existed
        // come out of the same seed unchanged.
        let beyond_lists = options.beyond_lists_percent > 0
            && rng.random_range(0..100) < options.beyond_lists_percent.min(100);
        let beyond = options.beyond_automation_percent > 0
            && rng.random_range(0..100) < options.beyond_automation_percent.min(100);
        let kind = match (beyond, rng.random_range(0..10)) {
            _ if beyond_lists => Kind::Split,
            (true, 0..=4) => Kind::Algebra,
            (true, _) => Kind::Cases,
            (false, 0..=2) => Kind::Prop,
            (false, 3 | 4) => Kind::Equality,
            (false, 5 | 6) => Kind::Arith,
            (false, 7 | 8) => Kind::Quant,
            (false, _) => Kind::Coprime,
        };
        let draft = match kind {
            Kind::Prop => names::rename(prop::draft(&mut rng, options), &mut rng),
            Kind::Equality => names::rename(equality::draft(&mut rng, options), &mut rng),
            Kind::Arith => names::rename(arith::draft(&mut rng, options), &mut rng),
            Kind::Algebra => names::rename(algebra::draft(&mut rng, options), &mut rng),
            Kind::Cases => names::rename(cases::draft(&mut rng, options), &mut rng),
            Kind::Quant => quant::draft(&mut rng, options),
            Kind::Coprime => coprime::draft(&mut rng, options),
            Kind::Split => names::rename(split::draft(&mut rng, options), &mut rng),
        };
        let statement = format!("{} : {}", draft.binders, draft.goal);
        if !options.exclude_shapes.is_empty()
            && options.exclude_shapes.contains(&goal_shape(&statement))
        {
            held_out_shapes += 1;
            continue;
        }
        let form = canonical_statement(&statement);
        if options.exclude.contains(&form) {
            held_out_copies += 1;
            continue;
        }
        if !seen.insert(form) {
            renamed_copies += 1;
            continue;
        }
        out.push(GenTheorem {
            name: format!("{}_{:05}", kind.name(), out.len()),
            kind,
            binders: draft.binders,
            goal: draft.goal,
            proof: draft.proof,
        });
    }
    Generated {
        theorems: out,
        renamed_copies,
        held_out_copies,
        held_out_shapes,
    }
}

/// Indents a nested block under a bullet: the first line gets `· `, the rest two spaces.
pub(crate) fn bullet(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("· {l}")
            } else {
                format!("  {l}")
            }
        })
        .collect()
}

/// Picks one element of a non-empty slice.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}
