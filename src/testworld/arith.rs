//! Nat arithmetic over the prelude's lemmas: numerals the kernel computes, commutativity,
//! associativity and distributivity by `rw`/`exact`/`apply`, order facts and `≤` chains,
//! witnesses for `∃`, successor injectivity, and induction proofs (`induction … with` or
//! `case` per constructor) of the basic identities.

use rand::rngs::StdRng;
use rand::Rng;

use super::{pick, Draft, GenOptions};

const VARS: [&str; 8] = ["a", "b", "c", "k", "m", "n", "x", "y"];

fn vars(rng: &mut StdRng, count: usize) -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    while out.len() < count {
        let v = *pick(rng, &VARS);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn nat_binder(vs: &[&str]) -> String {
    let mut sorted = vs.to_vec();
    sorted.sort_by_key(|v| VARS.iter().position(|w| w == v));
    format!("({} : Nat)", sorted.join(" "))
}

/// An induction proof of `goal` on `v` with the given zero and successor steps, in one of the
/// three layouts (`with` and one line per case, `with` and the successor steps below, `case`).
fn induction(rng: &mut StdRng, v: &str, zero: &str, succ: &[&str]) -> Vec<String> {
    let (k, ih) = (
        *pick(rng, &["k", "i", "j"]),
        *pick(rng, &["ih", "ih'", "hk"]),
    );
    match rng.random_range(0..3) {
        0 => vec![
            format!("induction {v} with"),
            format!("| zero => {zero}"),
            format!(
                "| succ {k} {ih} => rw [{}]",
                succ.join(", ").replace("IH", ih)
            ),
        ],
        1 => {
            let mut out = vec![
                format!("induction {v} with"),
                format!("| zero => {zero}"),
                format!("| succ {k} {ih} =>"),
            ];
            out.extend(
                succ.iter()
                    .map(|r| format!("  rw [{}]", r.replace("IH", ih))),
            );
            out
        }
        _ => vec![
            format!("induction {v}"),
            format!("case zero => {zero}"),
            format!(
                "case succ {k} {ih} => rw [{}]",
                succ.join(", ").replace("IH", ih)
            ),
        ],
    }
}

/// One arithmetic theorem.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let big = 5 + 5 * options.depth as u32;
    match rng.random_range(0..9) {
        0 => {
            let (x, y) = (rng.random_range(0..big * 2), rng.random_range(0..big * 2));
            let (op, value) = if rng.random_bool(0.5) {
                ("+", x + y)
            } else {
                ("*", x * y)
            };
            let proof = pick(rng, &["rfl", "decide", "exact rfl"]).to_string();
            Draft {
                binders: String::new(),
                goal: format!("{x} {op} {y} = {value}"),
                proof: vec![proof],
            }
        }
        1 => {
            let v = vars(rng, 3);
            let (op, lemma) = *pick(rng, &[("+", "Nat.add_comm"), ("*", "Nat.mul_comm")]);
            let (x, y, z) = (v[0], v[1], v[2]);
            if rng.random_bool(0.5) {
                let proof = match rng.random_range(0..3) {
                    0 => format!("rw [{lemma}]"),
                    1 => format!("exact {lemma} {x} {y}"),
                    _ => format!("apply {lemma}"),
                };
                Draft {
                    binders: nat_binder(&v[..2]),
                    goal: format!("{x} {op} {y} = {y} {op} {x}"),
                    proof: vec![proof],
                }
            } else {
                Draft {
                    binders: nat_binder(&v),
                    goal: format!("{x} {op} {y} + {z} = {y} {op} {x} + {z}"),
                    proof: vec![format!("rw [{lemma} {x} {y}]")],
                }
            }
        }
        2 => {
            let v = vars(rng, 3);
            let (x, y, z) = (v[0], v[1], v[2]);
            let (goal, lemma, alt) = *pick(
                rng,
                &[
                    ("X + Y + Z = X + (Y + Z)", "Nat.add_assoc", "Nat.add_assoc"),
                    ("X * Y * Z = X * (Y * Z)", "Nat.mul_assoc", "Nat.mul_assoc"),
                    (
                        "X * (Y + Z) = X * Y + X * Z",
                        "Nat.left_distrib",
                        "Nat.mul_add",
                    ),
                    (
                        "(X + Y) * Z = X * Z + Y * Z",
                        "Nat.right_distrib",
                        "Nat.add_mul",
                    ),
                ],
            );
            let goal = goal.replace('X', x).replace('Y', y).replace('Z', z);
            let proof = match rng.random_range(0..4) {
                0 => format!("rw [{lemma}]"),
                1 => format!("rw [{alt}]"),
                2 => format!("exact {lemma} {x} {y} {z}"),
                _ => format!("apply {alt}"),
            };
            Draft {
                binders: nat_binder(&v),
                goal,
                proof: vec![proof],
            }
        }
        3 | 4 => {
            let v = vars(rng, 3);
            let (n, m, c) = (v[0], v[1], v[2]);
            let cases: [(String, &str, &str, Vec<&str>, &str); 4] = [
                (
                    format!("0 + {n} = {n}"),
                    "rfl",
                    n,
                    vec!["Nat.add_succ", "IH"],
                    "Nat.zero_add",
                ),
                (
                    format!("0 * {n} = 0"),
                    "rfl",
                    n,
                    vec!["Nat.mul_succ", "IH"],
                    "Nat.zero_mul",
                ),
                (
                    format!("1 * {n} = {n}"),
                    "rfl",
                    n,
                    vec!["Nat.mul_succ", "IH"],
                    "Nat.one_mul",
                ),
                (
                    format!("{m} + {n} + {c} = {m} + ({n} + {c})"),
                    "rfl",
                    c,
                    vec!["Nat.add_succ", "Nat.add_succ", "Nat.add_succ", "IH"],
                    "Nat.add_assoc",
                ),
            ];
            let i = rng.random_range(0..cases.len());
            let (goal, zero, on, succ, lemma) = &cases[i];
            let used: Vec<&str> = v.iter().copied().filter(|x| goal.contains(x)).collect();
            let proof = if rng.random_range(0..4) == 0 {
                vec![pick(rng, &[format!("rw [{lemma}]"), format!("apply {lemma}")]).clone()]
            } else {
                induction(rng, on, zero, succ)
            };
            Draft {
                binders: nat_binder(&used),
                goal: goal.clone(),
                proof,
            }
        }
        5 => {
            let len = rng.random_range(1..=options.depth.max(1) + 1);
            let v = vars(rng, len + 1);
            let hyps: Vec<String> = (0..len)
                .map(|i| format!("(h{} : {} ≤ {})", i + 1, v[i], v[i + 1]))
                .collect();
            let goal = format!("{} ≤ {}", v[0], v[len]);
            let mut proof = Vec::new();
            if len == 1 {
                proof.push(pick(rng, &["exact h1", "assumption"]).to_string());
            } else if rng.random_bool(0.5) {
                for i in 0..len - 1 {
                    proof.push(format!("apply Nat.le_trans h{}", i + 1));
                }
                proof.push(format!("exact h{len}"));
            } else {
                let mut t = format!("h{len}");
                for i in (1..len).rev() {
                    t = format!("Nat.le_trans h{i} ({t})");
                }
                proof.push(format!(
                    "exact {}",
                    t.replace(&format!("(h{len})"), &format!("h{len}"))
                ));
            }
            Draft {
                binders: format!("{} {}", nat_binder(&v), hyps.join(" ")),
                goal,
                proof,
            }
        }
        6 => {
            let v = vars(rng, 2);
            let (n, k) = (v[0], v[1]);
            let (binders, goal, proof) = match rng.random_range(0..4) {
                0 => (
                    nat_binder(&v),
                    format!("{n} ≤ {n} + {k}"),
                    pick(
                        rng,
                        &[
                            format!("exact Nat.le_add_right {n} {k}"),
                            "apply Nat.le_add_right".into(),
                        ],
                    )
                    .clone(),
                ),
                1 => (
                    nat_binder(&v[..1]),
                    format!("{n} ≤ {n}"),
                    pick(
                        rng,
                        &[format!("exact Nat.le_refl {n}"), "apply Nat.le_refl".into()],
                    )
                    .clone(),
                ),
                2 => (
                    nat_binder(&v[..1]),
                    format!("{n} < {n} + 1"),
                    pick(
                        rng,
                        &[
                            format!("exact Nat.lt_succ_self {n}"),
                            "apply Nat.lt_succ_self".into(),
                        ],
                    )
                    .clone(),
                ),
                _ => (
                    nat_binder(&v[..1]),
                    format!("{n} ≤ {n} + 1"),
                    pick(
                        rng,
                        &[format!("exact Nat.le_succ {n}"), "apply Nat.le_succ".into()],
                    )
                    .clone(),
                ),
            };
            Draft {
                binders,
                goal,
                proof: vec![proof],
            }
        }
        7 => {
            let v = vars(rng, 2);
            let (n, k) = (v[0], v[1]);
            let witness = format!("{n} + {k}");
            let goal = format!("∃ w, w = {witness}");
            let proof = match rng.random_range(0..3) {
                0 => vec![format!("exists {witness}")],
                1 => vec![format!("exact ⟨{witness}, rfl⟩")],
                _ => vec![format!("refine ⟨{witness}, ?_⟩"), "rfl".to_string()],
            };
            Draft {
                binders: nat_binder(&v),
                goal,
                proof,
            }
        }
        _ => {
            let v = vars(rng, 2);
            let (n, m) = (v[0], v[1]);
            if rng.random_bool(0.5) {
                let proof = match rng.random_range(0..3) {
                    0 => vec!["exact Nat.succ.inj h".to_string()],
                    1 => vec!["apply Nat.succ.inj".to_string(), "exact h".to_string()],
                    _ => vec!["injection h".to_string()],
                };
                Draft {
                    binders: format!("{} (h : {n} + 1 = {m} + 1)", nat_binder(&v)),
                    goal: format!("{n} = {m}"),
                    proof,
                }
            } else {
                let proof = match rng.random_range(0..3) {
                    0 => vec![format!("exact Nat.succ_ne_zero {n}")],
                    1 => vec!["intro h".to_string(), "contradiction".to_string()],
                    _ => vec!["apply Nat.succ_ne_zero".to_string()],
                };
                Draft {
                    binders: nat_binder(&v[..1]),
                    goal: format!("{n} + 1 ≠ 0"),
                    proof,
                }
            }
        }
    }
}
