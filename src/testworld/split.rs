//! Case splits with a goal to build: a hypothesis `A ∨ B` whose branches each give different
//! facts (through implications `a → c`), and a goal — a nest of `∧` and `∨` over those facts —
//! that holds in both branches but not from the facts both share. No proof exists without the
//! split, and a fixed tactic list (automation plus the `Nat` rewrites, `search::DEFAULT_ALSO_TRY`)
//! has no tactic that splits a hypothesis, so only a prover that reads the state and chooses the
//! split can close these; goals of many shapes reach the novel-shape split. Half the proofs
//! write each branch's term at once (the `cases` family's styles), half build the goal one
//! connective per tactic: steps a prover can take on goal shapes it has never seen.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::cases::{branch_names, split, Branches};
use super::{pick, Draft, GenOptions};

const ATOMS: [&str; 12] = ["p", "q", "r", "s", "t", "u", "v", "w", "a", "b", "c", "d"];

/// A goal formula over atoms.
#[derive(Clone, Debug, PartialEq)]
enum Goal {
    Atom(&'static str),
    And(Box<Goal>, Box<Goal>),
    Or(Box<Goal>, Box<Goal>),
}

impl Goal {
    /// Whether the goal follows from the atoms `known` alone.
    fn holds(&self, known: &HashSet<&str>) -> bool {
        match self {
            Goal::Atom(a) => known.contains(a),
            Goal::And(l, r) => l.holds(known) && r.holds(known),
            Goal::Or(l, r) => l.holds(known) || r.holds(known),
        }
    }

    /// Whether the goal follows without splitting `left ∨ right` as `simp_all` would see it,
    /// with the atoms `shared` and the disjunction itself rewritten to `True`. Errs toward
    /// "follows": callers pass every atom both branches know (`simp_all` cannot reach a
    /// conclusion both sides imply without the split) and either order of the disjunction.
    fn holds_unsplit(&self, shared: &HashSet<&str>, left: &Side, right: &Side) -> bool {
        self.unsplit(shared, left, right).is_none()
    }

    /// What is left of the goal once `simp_all` has rewritten the atoms `shared` and the
    /// disjunction `left ∨ right` to `True` and simplified bottom-up (`x ∧ True` to `x`,
    /// `x ∨ True` to `True`, `x ∧ x` and `x ∨ x` to `x`: the prelude's `and_self`, `or_self`),
    /// again at each node, since a simplified part may become the disjunction
    /// (`(q ∧ (q ∨ r)) ∨ r` is `q ∨ r` once `q ∨ r` is `True`); `None` if nothing is.
    fn unsplit(&self, shared: &HashSet<&str>, left: &Side, right: &Side) -> Option<Goal> {
        let rest = match self {
            Goal::Atom(a) => return (!shared.contains(a)).then(|| self.clone()),
            Goal::And(l, r) => match (
                l.unsplit(shared, left, right),
                r.unsplit(shared, left, right),
            ) {
                (Some(l), Some(r)) if l == r => l,
                (Some(l), Some(r)) => Goal::And(Box::new(l), Box::new(r)),
                (one, None) | (None, one) => return one,
            },
            Goal::Or(l, r) => {
                let (l, r) = (
                    l.unsplit(shared, left, right)?,
                    r.unsplit(shared, left, right)?,
                );
                if l == r {
                    l
                } else {
                    Goal::Or(Box::new(l), Box::new(r))
                }
            }
        };
        match &rest {
            Goal::Or(l, r)
                if (l.is_side(left) && r.is_side(right))
                    || (l.is_side(right) && r.is_side(left)) =>
            {
                None
            }
            _ => Some(rest),
        }
    }

    /// Whether the goal is the side's formula: its atom, or its two atoms under `∧`.
    fn is_side(&self, side: &Side) -> bool {
        match (self, &side.atoms[..]) {
            (Goal::Atom(a), [b]) => a == b,
            (Goal::And(l, r), [a, b]) => matches!(
                (&**l, &**r),
                (Goal::Atom(x), Goal::Atom(y)) if (x, y) == (a, b) || (x, y) == (b, a)
            ),
            _ => false,
        }
    }

    /// The goal as Lean writes it; `nested` parenthesizes a compound goal.
    fn text(&self, nested: bool) -> String {
        let (l, op, r) = match self {
            Goal::Atom(a) => return a.to_string(),
            Goal::And(l, r) => (l, "∧", r),
            Goal::Or(l, r) => (l, "∨", r),
        };
        let body = format!("{} {op} {}", l.text(true), r.text(true));
        if nested {
            format!("({body})")
        } else {
            body
        }
    }

    /// A proof term of the goal from the terms of the atoms `known` (which must make it hold).
    fn term(&self, known: &[(&str, String)]) -> String {
        match self {
            Goal::Atom(a) => known
                .iter()
                .find(|(k, _)| k == a)
                .map(|(_, t)| t.clone())
                .expect("a known atom"),
            Goal::And(l, r) => format!("⟨{}, {}⟩", l.term(known), r.term(known)),
            Goal::Or(l, r) if l.holds(&atoms(known)) => {
                format!("Or.inl {}", argument(l.term(known)))
            }
            Goal::Or(_, r) => format!("Or.inr {}", argument(r.term(known))),
        }
    }

    /// The goal built one connective per tactic (`constructor`, `left`, `right`, then `exact`
    /// at each atom), in the order Lean leaves the goals, so no bullets are needed; each step
    /// depends only on the first goal, which is what lets a prover build shapes it never saw.
    fn steps(&self, known: &[(&str, String)]) -> Vec<String> {
        match self {
            Goal::Atom(_) => vec![format!("exact {}", self.term(known))],
            Goal::And(l, r) => {
                let mut out = vec!["constructor".to_string()];
                out.extend(l.steps(known));
                out.extend(r.steps(known));
                out
            }
            Goal::Or(l, r) if l.holds(&atoms(known)) => std::iter::once("left".to_string())
                .chain(l.steps(known))
                .collect(),
            Goal::Or(_, r) => std::iter::once("right".to_string())
                .chain(r.steps(known))
                .collect(),
        }
    }
}

/// The atoms of `known` (atom, term) pairs, as `Goal::holds` takes them.
fn atoms<'a>(known: &[(&'a str, String)]) -> HashSet<&'a str> {
    known.iter().map(|(a, _)| *a).collect()
}

/// A term written as a function's argument: parenthesized unless it is one token or `⟨…⟩`.
fn argument(term: String) -> String {
    if term.contains(' ') && !term.starts_with('⟨') {
        format!("({term})")
    } else {
        term
    }
}

/// A random goal of at most `depth` connectives over `atoms`.
fn random_goal(rng: &mut StdRng, atoms: &[&'static str], depth: usize) -> Goal {
    if depth == 0 || rng.random_bool(0.3) {
        let atom: &&'static str = pick(rng, atoms);
        return Goal::Atom(atom);
    }
    let l = random_goal(rng, atoms, depth - 1);
    // Two equal sides (`c ∧ c`) are nothing a writer would state.
    let r = (0..8)
        .map(|_| random_goal(rng, atoms, depth - 1))
        .find(|r| r.text(true) != l.text(true))
        .unwrap_or_else(|| l.clone());
    let (l, r) = (Box::new(l), Box::new(r));
    if rng.random_bool(0.5) {
        Goal::And(l, r)
    } else {
        Goal::Or(l, r)
    }
}

/// One side of the disjunction: one atom, or two under `∧`.
#[derive(Clone)]
struct Side {
    atoms: Vec<&'static str>,
}

impl Side {
    fn formula(&self) -> String {
        self.atoms.join(" ∧ ")
    }

    /// The term of each of the side's atoms when the branch hypothesis is named `h`.
    fn terms(&self, h: &str) -> Vec<(&'static str, String)> {
        match self.atoms[..] {
            [a] => vec![(a, h.to_string())],
            _ => vec![
                (self.atoms[0], format!("{h}.1")),
                (self.atoms[1], format!("{h}.2")),
            ],
        }
    }
}

/// What a branch knows: the side's atoms, then every implication's conclusion whose premise it
/// knows (premises are side atoms, so one pass suffices), then the facts both branches share.
fn known(
    side: &Side,
    h: &str,
    implications: &[(String, &'static str, &'static str)],
    shared: &[(String, &'static str)],
) -> Vec<(&'static str, String)> {
    let mut out = side.terms(h);
    for (name, premise, conclusion) in implications {
        let from = out
            .iter()
            .find(|(a, _)| a == premise)
            .map(|(_, t)| t.clone());
        if let Some(t) = from {
            if !out.iter().any(|(a, _)| a == conclusion) {
                out.push((conclusion, format!("{name} {}", argument(t))));
            }
        }
    }
    for (name, atom) in shared {
        if !out.iter().any(|(a, _)| a == atom) {
            out.push((atom, name.clone()));
        }
    }
    out
}

/// One theorem of the family, with 1 to `options.hypotheses` (clamped to 2–6) implications, up
/// to `options.distractors` (at most 4) unused hypotheses, its goal at most `options.depth`
/// (at most 4) connectives deep. A draw for which no goal needs the split is drawn again.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    loop {
        if let Some(draft) = try_draft(rng, options) {
            return draft;
        }
    }
}

/// One draw of `draft`, or `None` when the drawn facts admit no goal that needs the split (every
/// conclusion reachable from both sides, say).
fn try_draft(rng: &mut StdRng, options: &GenOptions) -> Option<Draft> {
    let distractors = options.distractors.min(4);
    // At most 2 + 2 + 3 + 1 atoms are needed; what is left feeds the distractors.
    let mut fresh = ATOMS.to_vec();
    fresh.shuffle(rng);
    let mut atom = || fresh.pop().expect("enough atoms");
    let mut side = |rng: &mut StdRng| Side {
        atoms: (0..rng.random_range(1..=2)).map(|_| atom()).collect(),
    };
    let (left, right) = (side(rng), side(rng));
    let conclusions: Vec<&str> = (0..3).map(|_| fresh.pop().expect("enough atoms")).collect();
    let mut numbers: Vec<usize> = (1..=8 + distractors).collect();
    numbers.shuffle(rng);
    let mut names = numbers.into_iter().map(|k| format!("h{k}"));
    let mut next = || names.next().expect("enough hypothesis names");
    let hd = next();
    let premises: Vec<&str> = left.atoms.iter().chain(&right.atoms).copied().collect();
    let mut implications: Vec<(String, &str, &str)> = Vec::new();
    for _ in 0..rng.random_range(1..=options.hypotheses.clamp(2, 6)) {
        let (premise, conclusion) = (*pick(rng, &premises), *pick(rng, &conclusions));
        if !implications
            .iter()
            .any(|(_, p, c)| (*p, *c) == (premise, conclusion))
        {
            implications.push((next(), premise, conclusion));
        }
    }
    let shared: Vec<(String, &str)> = if rng.random_bool(0.3) {
        vec![(next(), fresh.pop().expect("enough atoms"))]
    } else {
        Vec::new()
    };
    let known_left = known(&left, "ha", &implications, &shared);
    let known_right = known(&right, "hb", &implications, &shared);
    let (in_left, in_right) = (atoms(&known_left), atoms(&known_right));
    let common: HashSet<&str> = in_left.intersection(&in_right).copied().collect();
    let mut pool: Vec<&'static str> = in_left.union(&in_right).copied().collect();
    pool.sort();
    let needs_split = |g: &Goal| {
        g.holds(&in_left) && g.holds(&in_right) && !g.holds_unsplit(&common, &left, &right)
    };
    let depth = options.depth.clamp(1, 4);
    let goal = (0..200)
        .map(|_| random_goal(rng, &pool, depth))
        .find(|g| needs_split(g))?;
    // Half the proofs build the goal step by step, half write each branch's term at once.
    let proof = if rng.random_bool(0.5) {
        let (ha, hb) = branch_names(rng);
        let mut steps = vec![format!("apply Or.elim {hd}"), format!("intro {ha}")];
        steps.extend(goal.steps(&known(&left, ha, &implications, &shared)));
        steps.push(format!("intro {hb}"));
        steps.extend(goal.steps(&known(&right, hb, &implications, &shared)));
        steps
    } else {
        let branch = |side: &Side| {
            let (side, implications, shared, goal) = (
                side.clone(),
                implications.clone(),
                shared.clone(),
                goal.clone(),
            );
            Box::new(move |h: &str| goal.term(&known(&side, h, &implications, &shared)))
                as Box<dyn Fn(&str) -> String>
        };
        let branches = Branches {
            left: branch(&left),
            right: branch(&right),
            direct: None,
        };
        split(rng, &hd, &branches)
    };
    let mut hyps = vec![(hd, format!("{} ∨ {}", left.formula(), right.formula()))];
    hyps.extend(
        implications
            .iter()
            .map(|(name, premise, conclusion)| (name.clone(), format!("{premise} → {conclusion}"))),
    );
    hyps.extend(shared.iter().map(|(name, a)| (name.clone(), a.to_string())));
    for _ in 0..rng.random_range(0..=distractors) {
        // A premise no branch knows, so the hypothesis can never be used.
        let Some(premise) = fresh.pop() else { break };
        let conclusion = *pick(rng, &pool);
        hyps.push((next(), format!("{premise} → {conclusion}")));
    }
    hyps.shuffle(rng);
    let goal_text = goal.text(false);
    let mut used: Vec<&str> = ATOMS
        .iter()
        .copied()
        // Formulas hold nothing but one-letter atoms and connectives, as in `cases`.
        .filter(|a| hyps.iter().any(|(_, f)| f.contains(a)) || goal_text.contains(a))
        .collect();
    used.sort();
    let mut binders = format!("({} : Prop)", used.join(" "));
    for (name, f) in &hyps {
        binders.push_str(&format!(" ({name} : {f})"));
    }
    Some(Draft {
        binders,
        goal: goal_text,
        proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_holds_in_each_branch_and_not_from_the_shared_facts() {
        let a = |x| Box::new(Goal::Atom(x));
        let goal = Goal::And(Box::new(Goal::Or(a("c"), a("d"))), a("s"));
        let left: HashSet<&str> = ["p", "c", "s"].into();
        let right: HashSet<&str> = ["q", "d", "s"].into();
        assert!(goal.holds(&left) && goal.holds(&right));
        assert!(!goal.holds(&left.intersection(&right).copied().collect()));
        let known = vec![
            ("p", "ha".to_string()),
            ("c", "h1 ha".to_string()),
            ("s", "h3".to_string()),
        ];
        assert_eq!(goal.term(&known), "⟨Or.inl (h1 ha), h3⟩");
        assert_eq!(
            goal.steps(&known),
            ["constructor", "left", "exact h1 ha", "exact h3"]
        );
        let right = Goal::Or(a("d"), Box::new(Goal::And(a("c"), a("p"))));
        assert_eq!(
            right.steps(&known),
            ["right", "constructor", "exact h1 ha", "exact ha"]
        );
        // The disjunction itself inside the goal needs no split, in either order.
        let (l, r) = (
            Side { atoms: vec!["p"] },
            Side {
                atoms: vec!["q", "t"],
            },
        );
        let hd = Goal::Or(a("p"), Box::new(Goal::And(a("t"), a("q"))));
        assert!(Goal::And(Box::new(hd.clone()), a("s")).holds_unsplit(&["s"].into(), &l, &r));
        assert!(Goal::Or(Box::new(hd), a("c")).holds_unsplit(&HashSet::new(), &l, &r));
        assert!(!goal.holds_unsplit(&["s"].into(), &l, &r));
        // Nor where a part becomes the disjunction once a part of it is rewritten to `True`.
        let disjunction = Goal::Or(a("p"), Box::new(Goal::And(a("q"), a("t"))));
        let qt = || Box::new(Goal::And(a("q"), a("t")));
        let around = Goal::Or(Box::new(Goal::And(a("p"), Box::new(disjunction))), qt());
        assert!(Goal::And(Box::new(around), a("s")).holds_unsplit(&["s"].into(), &l, &r));
        // And where `x ∧ x` or `x ∨ x` is `x` once a shared fact is `True` (`and_self`).
        let twice = Goal::And(a("p"), Box::new(Goal::And(a("p"), a("s"))));
        assert!(Goal::Or(Box::new(twice), qt()).holds_unsplit(&["s"].into(), &l, &r));
        let inner = Goal::And(qt(), a("c"));
        assert!(!Goal::Or(a("p"), Box::new(inner)).holds_unsplit(&HashSet::new(), &l, &r));
        assert_eq!(goal.text(false), "(c ∨ d) ∧ s");
    }
}
