//! Equality reasoning: a chain of hypotheses `v0 = v1`, `v1 = v2`, … (each possibly stated
//! backwards) proves a goal relating `v0` and `vk`, bare or inside a context (`+ c`, `c *`,
//! `f _`, or with `+ 0`, `0 +`, `* 1`, `1 *` to rewrite away with a prelude lemma). Styles:
//! one `rw [...]` with every rule, one `rw` per line, `rw … at` folding the chain into one
//! hypothesis, `subst` then `rfl`, `symm` first, and `Eq.trans`/`.symm`/`congrArg` terms.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{pick, Draft, GenOptions};

const VARS: [&str; 10] = ["a", "b", "c", "d", "e", "m", "n", "x", "y", "z"];

/// What surrounds the two ends of the chain in the goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrap {
    None,
    /// `v + c` on both sides.
    AddRight,
    /// `c * v` on both sides.
    MulLeft,
    /// `f v` on both sides.
    Fun,
    /// The left side carries a neutral element removed by this lemma (`v + 0`, ...).
    Lemma(&'static str, &'static str),
}

const LEMMAS: [(&str, &str); 4] = [
    ("{} + 0", "Nat.add_zero"),
    ("0 + {}", "Nat.zero_add"),
    ("{} * 1", "Nat.mul_one"),
    ("1 * {}", "Nat.one_mul"),
];

/// One equality theorem.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let len = rng
        .random_range(1..=options.depth.max(1) + 1)
        .min(VARS.len() - 3);
    let mut vars: Vec<usize> = (0..VARS.len()).collect();
    vars.shuffle(rng);
    let chain: Vec<&str> = vars[..=len].iter().map(|&i| VARS[i]).collect();
    let spare: Vec<&str> = vars[len + 1..].iter().map(|&i| VARS[i]).collect();
    let mut pool: Vec<usize> = (1..=len + options.distractors + 3).collect();
    pool.shuffle(rng);
    let mut names = pool.into_iter().map(|k| format!("h{k}"));

    // hyps[i] relates chain[i] and chain[i+1]; backwards when `rev[i]`.
    let rev: Vec<bool> = (0..len).map(|_| rng.random_bool(0.35)).collect();
    let hyp_names: Vec<String> = (0..len)
        .map(|_| names.next().expect("enough names"))
        .collect();
    let mut hyps: Vec<(String, String)> = (0..len)
        .map(|i| {
            let (l, r) = if rev[i] {
                (chain[i + 1], chain[i])
            } else {
                (chain[i], chain[i + 1])
            };
            (hyp_names[i].clone(), format!("{l} = {r}"))
        })
        .collect();

    let wrap = match rng.random_range(0..10) {
        0..=3 => Wrap::None,
        4 => Wrap::AddRight,
        5 => Wrap::MulLeft,
        6 => Wrap::Fun,
        _ => {
            let (form, lemma) = *pick(rng, &LEMMAS);
            Wrap::Lemma(form, lemma)
        }
    };
    let other = if rng.random_bool(0.5) {
        spare[0].to_string()
    } else {
        rng.random_range(2..10).to_string()
    };
    let side = |v: &str, left: bool| match wrap {
        Wrap::None => v.to_string(),
        Wrap::AddRight => format!("{v} + {other}"),
        Wrap::MulLeft => format!("{other} * {v}"),
        Wrap::Fun => format!("f {v}"),
        Wrap::Lemma(form, _) if left => form.replace("{}", v),
        Wrap::Lemma(..) => v.to_string(),
    };
    let flipped = rng.random_bool(0.3);
    let (first, last) = (chain[0], chain[len]);
    let goal = if flipped {
        format!("{} = {}", side(last, false), side(first, true))
    } else {
        format!("{} = {}", side(first, true), side(last, false))
    };

    // Rewrite rules that carry chain[0] to chain[len] in the goal, step by step.
    let rules: Vec<String> = (0..len)
        .map(|i| {
            if rev[i] {
                format!("← {}", hyp_names[i])
            } else {
                hyp_names[i].clone()
            }
        })
        .collect();
    let lemma = match wrap {
        Wrap::Lemma(_, l) => Some(l.to_string()),
        _ => None,
    };
    let chain_term = || {
        let steps: Vec<String> = (0..len)
            .map(|i| {
                if rev[i] {
                    format!("{}.symm", hyp_names[i])
                } else {
                    hyp_names[i].clone()
                }
            })
            .collect();
        let mut t = steps[len - 1].clone();
        for s in steps[..len - 1].iter().rev() {
            t = if t.contains(' ') {
                format!("Eq.trans {s} ({t})")
            } else {
                format!("Eq.trans {s} {t}")
            };
        }
        t
    };

    let mut proof = Vec::new();
    let style = rng.random_range(0..6);
    match style {
        0 | 1 => {
            if flipped && rng.random_bool(0.5) {
                proof.push("symm".to_string());
            }
            let mut all: Vec<String> = lemma.iter().cloned().collect();
            all.extend(rules.iter().cloned());
            if style == 0 {
                proof.push(format!("rw [{}]", all.join(", ")));
            } else {
                proof.extend(all.iter().map(|r| format!("rw [{r}]")));
            }
        }
        2 if len >= 2 => {
            // Fold the chain into the first hypothesis.
            for rule in &rules[1..len] {
                proof.push(format!("rw [{rule}] at {}", hyp_names[0]));
            }
            if let Some(l) = &lemma {
                proof.push(format!("rw [{l}]"));
            }
            if wrap == Wrap::None || matches!(wrap, Wrap::Lemma(..)) {
                if rev[0] == flipped {
                    proof.push(format!("exact {}", hyp_names[0]));
                } else {
                    proof.push(format!("exact {}.symm", hyp_names[0]));
                }
            } else {
                proof.push(format!("rw [{}]", rules[0]));
            }
        }
        3 => {
            for h in &hyp_names {
                proof.push(format!("subst {h}"));
            }
            match &lemma {
                Some(l) => proof.push(format!("rw [{l}]")),
                None => proof.push("rfl".to_string()),
            }
        }
        _ if matches!(wrap, Wrap::None | Wrap::Fun) => {
            let mut t = chain_term();
            if wrap == Wrap::Fun {
                t = format!("congrArg f ({t})");
            }
            if flipped {
                if rng.random_bool(0.5) {
                    proof.push("symm".to_string());
                    proof.push(format!("exact {t}"));
                } else {
                    let t = if t.contains(' ') { format!("({t})") } else { t };
                    proof.push(format!("exact {t}.symm"));
                }
            } else {
                proof.push(format!("exact {t}"));
            }
        }
        _ => {
            let mut all: Vec<String> = lemma.iter().cloned().collect();
            all.extend(rules.iter().cloned());
            proof.push(format!("rw [{}]", all.join(", ")));
        }
    }

    for _ in 0..rng.random_range(0..=options.distractors) {
        let l = *pick(rng, &spare);
        let r = *pick(rng, &VARS);
        let rhs = match rng.random_range(0..3) {
            0 => r.to_string(),
            1 => format!("{r} + {}", rng.random_range(1..5)),
            _ => format!("{r} * {}", rng.random_range(2..5)),
        };
        if l != r {
            hyps.push((names.next().expect("enough names"), format!("{l} = {rhs}")));
        }
    }
    hyps.shuffle(rng);

    let mut used: Vec<&str> = VARS
        .iter()
        .copied()
        .filter(|v| {
            let word = |s: &str| s.split(|c: char| !c.is_alphanumeric()).any(|w| w == *v);
            word(&goal) || hyps.iter().any(|(_, h)| word(h))
        })
        .collect();
    used.dedup();
    let mut binders = format!("({} : Nat)", used.join(" "));
    if wrap == Wrap::Fun {
        binders.push_str(" (f : Nat → Nat)");
    }
    for (name, h) in &hyps {
        binders.push_str(&format!(" ({name} : {h})"));
    }
    Draft {
        binders,
        goal,
        proof,
    }
}
