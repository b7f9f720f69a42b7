//! Disjunction elimination: a hypothesis `A ∨ B` that the proof has to split (`cases … with`,
//! `case inl/inr`, `Or.elim` as a term or by `apply`), then a short proof in each branch. The
//! prelude's `simp_all` does not split disjunctions in hypotheses and `decide` has nothing
//! to decide over atoms, so automation cannot close these; the prover has to choose the split.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{bullet, pick, Draft, GenOptions};

const ATOMS: [&str; 6] = ["p", "q", "r", "s", "t", "u"];

/// The two branch proofs: each maps the branch's hypothesis name to a term for the goal.
pub(crate) struct Branches {
    pub(crate) left: Box<dyn Fn(&str) -> String>,
    pub(crate) right: Box<dyn Fn(&str) -> String>,
    /// `Or.elim`'s arguments when the branches are plain hypotheses (`h1`, `h2`).
    pub(crate) direct: Option<(String, String)>,
}

/// The names of the two branches' hypotheses, as people name them.
pub(crate) fn branch_names(rng: &mut StdRng) -> (&'static str, &'static str) {
    *pick(rng, &[("ha", "hb"), ("hl", "hr"), ("h", "h")])
}

/// The split of `hd` into the two branches, in one of four styles (also `split`'s).
pub(crate) fn split(rng: &mut StdRng, hd: &str, b: &Branches) -> Vec<String> {
    let (ha, hb) = branch_names(rng);
    match rng.random_range(0..4) {
        0 => vec![
            format!("cases {hd} with"),
            format!("| inl {ha} => exact {}", (b.left)(ha)),
            format!("| inr {hb} => exact {}", (b.right)(hb)),
        ],
        1 => vec![
            format!("cases {hd}"),
            format!("case inl {ha} => exact {}", (b.left)(ha)),
            format!("case inr {hb} => exact {}", (b.right)(hb)),
        ],
        2 => match &b.direct {
            Some((l, r)) => vec![format!("exact Or.elim {hd} {l} {r}")],
            None => vec![format!(
                "exact Or.elim {hd} (fun {ha} => {}) (fun {hb} => {})",
                (b.left)(ha),
                (b.right)(hb)
            )],
        },
        _ => {
            let mut out = vec![format!("apply Or.elim {hd}")];
            match &b.direct {
                Some((l, r)) if rng.random_bool(0.5) => {
                    out.extend(bullet(vec![format!("exact {l}")]));
                    out.extend(bullet(vec![format!("exact {r}")]));
                }
                _ => {
                    out.extend(bullet(vec![
                        format!("intro {ha}"),
                        format!("exact {}", (b.left)(ha)),
                    ]));
                    out.extend(bullet(vec![
                        format!("intro {hb}"),
                        format!("exact {}", (b.right)(hb)),
                    ]));
                }
            }
            out
        }
    }
}

/// One disjunction-elimination theorem, with up to `options.distractors` unused hypotheses.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let mut atoms = ATOMS.to_vec();
    atoms.shuffle(rng);
    let (a, b, c, x) = (atoms[0], atoms[1], atoms[2], atoms[3]);
    let mut numbers: Vec<usize> = (1..=9 + options.distractors).collect();
    numbers.shuffle(rng);
    let mut names = numbers.into_iter().map(|k| format!("h{k}"));
    let mut next = || names.next().expect("enough hypothesis names");
    let hd = next();
    let mut hyps = vec![(hd.clone(), format!("{a} ∨ {b}"))];
    let (goal, proof) = match rng.random_range(0..4) {
        0 | 1 => {
            let (h1, h2) = (next(), next());
            hyps.push((h1.clone(), format!("{a} → {c}")));
            hyps.push((h2.clone(), format!("{b} → {c}")));
            let (l, r) = (h1.clone(), h2.clone());
            let branches = Branches {
                left: Box::new(move |h| format!("{l} {h}")),
                right: Box::new(move |h| format!("{r} {h}")),
                direct: Some((h1, h2)),
            };
            if rng.random_bool(0.5) {
                (c.to_string(), split(rng, &hd, &branches))
            } else {
                let hx = next();
                hyps.push((hx.clone(), x.to_string()));
                let mut proof = vec!["constructor".to_string()];
                proof.extend(bullet(split(rng, &hd, &branches)));
                proof.extend(bullet(vec![format!("exact {hx}")]));
                (format!("{c} ∧ {x}"), proof)
            }
        }
        2 => {
            let branches = Branches {
                left: Box::new(|h| format!("Or.inr {h}")),
                right: Box::new(|h| format!("Or.inl {h}")),
                direct: None,
            };
            (format!("{b} ∨ {a}"), split(rng, &hd, &branches))
        }
        _ => {
            let h1 = next();
            hyps.push((h1.clone(), format!("{a} → {c}")));
            let branches = Branches {
                left: Box::new(move |h| format!("Or.inl ({h1} {h})")),
                right: Box::new(|h| format!("Or.inr {h}")),
                direct: None,
            };
            (format!("{c} ∨ {b}"), split(rng, &hd, &branches))
        }
    };
    for _ in 0..rng.random_range(0..=options.distractors) {
        let (y, z) = (atoms[rng.random_range(3..6)], atoms[rng.random_range(0..6)]);
        let f = if rng.random_bool(0.5) {
            y.to_string()
        } else {
            format!("{y} → {z}")
        };
        hyps.push((next(), f));
    }
    hyps.shuffle(rng);
    let mut used: Vec<&str> = ATOMS
        .iter()
        .copied()
        .filter(|t| hyps.iter().any(|(_, f)| f.contains(t)) || goal.contains(t))
        .collect();
    used.sort();
    let mut binders = format!("({} : Prop)", used.join(" "));
    for (name, f) in &hyps {
        binders.push_str(&format!(" ({name} : {f})"));
    }
    Draft {
        binders,
        goal,
        proof,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_draft_splits_a_disjunction_hypothesis() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..200 {
            let d = draft(&mut rng, &GenOptions::default());
            assert!(d.binders.contains(" ∨ "), "{d:?}");
            assert!(
                d.proof
                    .iter()
                    .any(|l| l.contains("cases ") || l.contains("Or.elim")),
                "{d:?}"
            );
        }
    }
}
