//! Nat rewriting chains: `lhs = rhs` where `rhs` is `lhs` after two or more commutativity,
//! associativity or distributivity steps at chosen subterms, proved by `rw` with each lemma
//! instantiated at its subterm (`rw [Nat.add_comm (a * b) c]`). The prelude's simp set has no
//! commutativity or associativity lemma, so `simp_all` and `decide` cannot close these: the
//! prover has to pick the subterm and the lemma, which is what a model can learn here.
//!
//! The proof is found by simulating `rw` exactly as Lean runs it: every occurrence of the
//! instantiated left side is replaced, on both sides of the goal, and the goal closes as soon
//! as both sides are the same term (`rw` tries `rfl` after each rewrite). Drafts whose
//! simulated proof does not close are drawn again; Lean still checks every proof.

use rand::rngs::StdRng;
use rand::Rng;

use super::{Draft, GenOptions};

const VARS: [&str; 8] = ["a", "b", "c", "k", "m", "n", "x", "y"];

/// A Nat expression of variables, `+` and `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum E {
    V(&'static str),
    Add(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
}

impl E {
    /// Lean source with the fewest parentheses (`+`, `*` associate left; `*` binds tighter).
    fn render(&self) -> String {
        match self {
            E::V(v) => v.to_string(),
            E::Add(l, r) => {
                let r = match **r {
                    E::Add(..) => format!("({})", r.render()),
                    _ => r.render(),
                };
                format!("{} + {r}", l.render())
            }
            E::Mul(l, r) => {
                let l = match **l {
                    E::Add(..) => format!("({})", l.render()),
                    _ => l.render(),
                };
                let r = match **r {
                    E::V(_) => r.render(),
                    _ => format!("({})", r.render()),
                };
                format!("{l} * {r}")
            }
        }
    }

    /// The expression as a lemma argument: parenthesised unless it is a variable.
    fn arg(&self) -> String {
        match self {
            E::V(v) => v.to_string(),
            _ => format!("({})", self.render()),
        }
    }

    fn vars(&self, out: &mut Vec<&'static str>) {
        match self {
            E::V(v) => {
                if !out.contains(v) {
                    out.push(v)
                }
            }
            E::Add(l, r) | E::Mul(l, r) => {
                l.vars(out);
                r.vars(out);
            }
        }
    }

    /// Every subterm, the whole term first.
    fn subterms<'a>(&'a self, out: &mut Vec<&'a E>) {
        out.push(self);
        if let E::Add(l, r) | E::Mul(l, r) = self {
            l.subterms(out);
            r.subterms(out);
        }
    }

    /// Replaces every occurrence of `from` by `to` (what `rw` does to the goal).
    fn replace(&self, from: &E, to: &E) -> E {
        if self == from {
            return to.clone();
        }
        match self {
            E::V(_) => self.clone(),
            E::Add(l, r) => E::Add(Box::new(l.replace(from, to)), Box::new(r.replace(from, to))),
            E::Mul(l, r) => E::Mul(Box::new(l.replace(from, to)), Box::new(r.replace(from, to))),
        }
    }
}

/// One rewrite: the instantiated lemma as `rw` writes it, and the equation it states.
struct Step {
    rule: String,
    from: E,
    to: E,
}

/// The rewrites that apply at the root of `e`.
fn steps_at(e: &E) -> Vec<Step> {
    let b = |x: &E| Box::new(x.clone());
    let mut out: Vec<(String, E)> = Vec::new();
    match e {
        E::Add(l, r) => {
            out.push((
                format!("Nat.add_comm {} {}", l.arg(), r.arg()),
                E::Add(b(r), b(l)),
            ));
            if let E::Add(x, y) = &**l {
                out.push((
                    format!("Nat.add_assoc {} {} {}", x.arg(), y.arg(), r.arg()),
                    E::Add(b(x), Box::new(E::Add(b(y), b(r)))),
                ));
            }
            if let E::Add(y, z) = &**r {
                out.push((
                    format!("← Nat.add_assoc {} {} {}", l.arg(), y.arg(), z.arg()),
                    E::Add(Box::new(E::Add(b(l), b(y))), b(z)),
                ));
            }
        }
        E::Mul(l, r) => {
            out.push((
                format!("Nat.mul_comm {} {}", l.arg(), r.arg()),
                E::Mul(b(r), b(l)),
            ));
            if let E::Mul(x, y) = &**l {
                out.push((
                    format!("Nat.mul_assoc {} {} {}", x.arg(), y.arg(), r.arg()),
                    E::Mul(b(x), Box::new(E::Mul(b(y), b(r)))),
                ));
            }
            if let E::Add(y, z) = &**r {
                out.push((
                    format!("Nat.left_distrib {} {} {}", l.arg(), y.arg(), z.arg()),
                    E::Add(Box::new(E::Mul(b(l), b(y))), Box::new(E::Mul(b(l), b(z)))),
                ));
            }
            if let E::Add(x, y) = &**l {
                out.push((
                    format!("Nat.right_distrib {} {} {}", x.arg(), y.arg(), r.arg()),
                    E::Add(Box::new(E::Mul(b(x), b(r))), Box::new(E::Mul(b(y), b(r)))),
                ));
            }
        }
        E::V(_) => {}
    }
    out.into_iter()
        .map(|(rule, to)| Step {
            rule,
            from: e.clone(),
            to,
        })
        .collect()
}

/// A random expression with `leaves` variables drawn from `vars` (repeats allowed).
fn expr(rng: &mut StdRng, leaves: usize, vars: &[&'static str]) -> E {
    if leaves <= 1 {
        return E::V(vars[rng.random_range(0..vars.len())]);
    }
    let left = rng.random_range(1..leaves);
    let (l, r) = (expr(rng, left, vars), expr(rng, leaves - left, vars));
    if rng.random_range(0..3) == 0 {
        E::Mul(Box::new(l), Box::new(r))
    } else {
        E::Add(Box::new(l), Box::new(r))
    }
}

/// Applies `len` random rewrites to `start` and replays them as `rw` on `start = end`;
/// returns the goal's right side and the rules when the replay closes the goal in at least two
/// steps, each leading to a goal not seen before (no step undoes another).
fn chain(rng: &mut StdRng, start: &E, len: usize) -> Option<(E, Vec<String>)> {
    let mut cur = start.clone();
    let mut plan = Vec::new();
    for _ in 0..len {
        let mut subs = Vec::new();
        cur.subterms(&mut subs);
        let choices: Vec<Step> = subs.into_iter().flat_map(steps_at).collect();
        if choices.is_empty() {
            return None;
        }
        let i = rng.random_range(0..choices.len());
        let step = choices.into_iter().nth(i)?;
        cur = cur.replace(&step.from, &step.to);
        plan.push(step);
    }
    let target = cur;
    let (mut lhs, mut rhs) = (start.clone(), target.clone());
    if lhs == rhs {
        return None;
    }
    let mut rules = Vec::new();
    let mut seen = vec![(lhs.clone(), rhs.clone())];
    for step in plan {
        let (l, r) = (
            lhs.replace(&step.from, &step.to),
            rhs.replace(&step.from, &step.to),
        );
        if seen.iter().any(|(sl, sr)| *sl == l && *sr == r) {
            return None;
        }
        seen.push((l.clone(), r.clone()));
        (lhs, rhs) = (l, r);
        rules.push(step.rule);
        if lhs == rhs {
            break;
        }
    }
    (lhs == rhs && rules.len() >= 2).then_some((target, rules))
}

/// One rewriting-chain theorem: 3 to `depth + 1` leaves, 2 to `depth + 1` rewrites.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let most = options.depth.max(2) + 1;
    loop {
        let leaves = rng.random_range(3..=most.max(3));
        let nvars = rng.random_range(2..=leaves.min(4));
        let mut pool = VARS.to_vec();
        let mut vars = Vec::new();
        while vars.len() < nvars {
            vars.push(pool.remove(rng.random_range(0..pool.len())));
        }
        let start = expr(rng, leaves, &vars);
        let len = rng.random_range(2..=most);
        let Some((target, rules)) = chain(rng, &start, len) else {
            continue;
        };
        let mut used = Vec::new();
        start.vars(&mut used);
        used.sort_by_key(|v| VARS.iter().position(|w| w == v));
        let proof = if rng.random_bool(0.5) {
            rules.iter().map(|r| format!("rw [{r}]")).collect()
        } else {
            vec![format!("rw [{}]", rules.join(", "))]
        };
        return Draft {
            binders: format!("({} : Nat)", used.join(" ")),
            goal: format!("{} = {}", start.render(), target.render()),
            proof,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn v(name: &'static str) -> E {
        E::V(name)
    }

    #[test]
    fn rendering_keeps_the_tree() {
        let sum = E::Add(Box::new(v("a")), Box::new(v("b")));
        let e = E::Mul(
            Box::new(sum.clone()),
            Box::new(E::Add(Box::new(v("c")), Box::new(sum.clone()))),
        );
        assert_eq!(e.render(), "(a + b) * (c + (a + b))");
        let left = E::Add(
            Box::new(sum.clone()),
            Box::new(E::Mul(Box::new(v("c")), Box::new(v("a")))),
        );
        assert_eq!(left.render(), "a + b + c * a");
        assert_eq!(sum.arg(), "(a + b)");
    }

    #[test]
    fn a_rewrite_replaces_every_occurrence_on_both_sides() {
        let ab = E::Add(Box::new(v("a")), Box::new(v("b")));
        let ba = E::Add(Box::new(v("b")), Box::new(v("a")));
        let e = E::Mul(Box::new(ab.clone()), Box::new(ab.clone()));
        assert_eq!(
            e.replace(&ab, &ba),
            E::Mul(Box::new(ba.clone()), Box::new(ba))
        );
    }

    #[test]
    fn drafts_are_chains_of_at_least_two_instantiated_rewrites() {
        let mut rng = StdRng::seed_from_u64(3);
        let options = GenOptions::default();
        for _ in 0..200 {
            let d = draft(&mut rng, &options);
            let rules: usize = d.proof.iter().map(|l| l.matches("Nat.").count()).sum();
            assert!(rules >= 2, "{d:?}");
            assert!(d.proof.iter().all(|l| l.starts_with("rw [")), "{d:?}");
            let (l, r) = d.goal.split_once(" = ").unwrap();
            assert_ne!(l, r);
            let rules: Vec<&str> = d
                .proof
                .iter()
                .flat_map(|l| {
                    l.trim_start_matches("rw [")
                        .trim_end_matches(']')
                        .split(", ")
                })
                .collect();
            for pair in rules.windows(2) {
                let undone = pair[0] == pair[1]
                    || pair[1] == format!("← {}", pair[0])
                    || pair[0] == format!("← {}", pair[1]);
                assert!(!undone, "a step undoes the one before: {d:?}");
            }
        }
    }
}
