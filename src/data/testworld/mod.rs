//! The test world's theorem generator: propositional logic, equality reasoning and Nat
//! arithmetic (with induction) over the `lean/mini` prelude, each theorem with a tactic proof
//! written one tactic per line in one of several styles, so a model trained on the corpus has
//! real choices to learn. `proofstep corpus generate` writes the theorems as Lean files split
//! into train/val/test and keeps only the proofs real Lean accepts (see `corpus`).

pub mod algebra;
pub mod arith;
pub mod cases;
pub mod coprime;
pub mod corpus;
pub mod equality;
pub mod names;
pub mod prop;
pub mod quant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
    /// equal parts — instead of the three basic ones. At 0 no random draw is spent on it, so
    /// a corpus generated before the knob existed comes out the same.
    pub beyond_automation_percent: u8,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 0,
            depth: 3,
            hypotheses: 4,
            distractors: 2,
            beyond_automation_percent: 0,
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

/// Generates `count` theorems, drawing the kinds at random (prop, equality, arith in the ratio
/// 2:1:1, or with `beyond_automation_percent` chance a rewriting chain or a disjunction
/// elimination, in equal parts), named `{kind}_{index:05}` with the index counted over all
/// kinds so names never repeat.
/// A statement that repeats an earlier one (whatever its proof) is replaced by a fresh draw.
pub fn generate(count: usize, options: &GenOptions) -> Vec<GenTheorem> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(count);
    let mut attempts = 0usize;
    while out.len() < count && attempts < count * 50 + 100 {
        attempts += 1;
        let beyond = options.beyond_automation_percent > 0
            && rng.random_range(0..100) < options.beyond_automation_percent.min(100);
        let kind = match (beyond, rng.random_range(0..4)) {
            (true, 0 | 1) => Kind::Algebra,
            (true, _) => Kind::Cases,
            (false, 0 | 1) => Kind::Prop,
            (false, 2) => Kind::Equality,
            (false, _) => Kind::Arith,
        };
        let draft = match kind {
            Kind::Prop => prop::draft(&mut rng, options),
            Kind::Equality => equality::draft(&mut rng, options),
            Kind::Arith => arith::draft(&mut rng, options),
            Kind::Algebra => algebra::draft(&mut rng, options),
            Kind::Cases => cases::draft(&mut rng, options),
        };
        // One proof per statement, so a statement never lands in two splits.
        let key = format!("{} : {}", draft.binders, draft.goal);
        if !seen.insert(key) {
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
    out
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
