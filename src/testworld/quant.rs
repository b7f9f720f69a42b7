//! Quantifiers and functions: predicates `P : Nat → Prop` under `∀` and `∃` (instantiated,
//! introduced, eliminated with `cases … with | intro`, combined with `∧`, `→`, `↔`, `¬`), and
//! functions `f : Nat → Nat` applied to equal arguments — the statement forms a textbook's first
//! chapters set, which the propositional and arithmetic families do not reach.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::names::Names;
use super::{pick, Draft, GenOptions};

/// A binder list: the predicates or functions and the numbers first, then the hypotheses in
/// random order.
fn binders(rng: &mut StdRng, vars: Vec<String>, mut hyps: Vec<(String, String)>) -> String {
    hyps.shuffle(rng);
    let mut parts = vars;
    parts.extend(hyps.into_iter().map(|(n, t)| format!("({n} : {t})")));
    parts.join(" ")
}

/// `(a b : T)` or `(a : T) (b : T)`, as writers group them.
fn group(rng: &mut StdRng, names: &[&str], ty: &str) -> Vec<String> {
    if names.len() > 1 && rng.random_bool(0.3) {
        names.iter().map(|n| format!("({n} : {ty})")).collect()
    } else {
        vec![format!("({} : {ty})", names.join(" "))]
    }
}

/// Hypotheses no proof needs, over the theorem's own predicates.
fn distractors(
    rng: &mut StdRng,
    names: &mut Names,
    preds: &[&str],
    options: &GenOptions,
) -> Vec<(String, String)> {
    let n = rng.random_range(0..=options.distractors);
    (0..n)
        .map(|_| {
            let p = *pick(rng, preds);
            let q = *pick(rng, preds);
            let x = *pick(rng, &["x", "n", "k", "y"]);
            let ty = match rng.random_range(0..3) {
                0 => format!("∀ {x}, {q} {x} → {p} {x}"),
                1 => format!("{p} 0"),
                _ => format!("∃ {x}, {q} {x} ∧ {p} {x}"),
            };
            (names.hyp().to_string(), ty)
        })
        .collect()
}

/// The parts of one drafted theorem: binders for the variables, hypotheses, goal and proof.
type Parts = (Vec<String>, Vec<(String, String)>, String, Vec<String>);

/// One quantifier or function theorem.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let mut names = Names::draw(rng);
    let (p, q, r) = (names.function(), names.function(), names.function());
    let n = names.nat();
    let bound = *pick(rng, &["x", "y", "z", "k", "n", "m"]);
    let bound = if bound == n { "w" } else { bound };
    let (vars, hyps, goal, proof): Parts = match rng.random_range(0..12) {
        0 => {
            let h = names.hyp();
            let proof = match rng.random_range(0..3) {
                0 => vec![format!("exact {h} {n}")],
                1 => vec![format!("apply {h}")],
                _ => vec![format!("specialize {h} {n}"), format!("exact {h}")],
            };
            let mut vars = group(rng, &[p], "Nat → Prop");
            vars.push(format!("({n} : Nat)"));
            let hyps = vec![(h.to_string(), format!("∀ {bound}, {p} {bound}"))];
            (vars, hyps, format!("{p} {n}"), proof)
        }
        1 => {
            let h = names.hyp();
            let (side, field) = if rng.random_bool(0.5) {
                (p, *pick(rng, &["1", "left"]))
            } else {
                (q, *pick(rng, &["2", "right"]))
            };
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("exact ({h} {n}).{field}")],
                _ => {
                    let h2 = names.hyp();
                    vec![
                        format!("have {h2} := {h} {n}"),
                        format!("exact {h2}.{field}"),
                    ]
                }
            };
            let mut vars = group(rng, &[p, q], "Nat → Prop");
            vars.push(format!("({n} : Nat)"));
            let hyps = vec![(
                h.to_string(),
                format!("∀ {bound}, {p} {bound} ∧ {q} {bound}"),
            )];
            (vars, hyps, format!("{side} {n}"), proof)
        }
        2 => {
            let (h1, h2) = (names.hyp(), names.hyp());
            let y = names.nat();
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("intro {y}"), format!("exact {h1} {y} ({h2} {y})")],
                _ => vec![
                    format!("intro {y}"),
                    format!("apply {h1}"),
                    format!("exact {h2} {y}"),
                ],
            };
            let vars = group(rng, &[p, q], "Nat → Prop");
            let hyps = vec![
                (
                    h1.to_string(),
                    format!("∀ {bound}, {p} {bound} → {q} {bound}"),
                ),
                (h2.to_string(), format!("∀ {bound}, {p} {bound}")),
            ];
            (vars, hyps, format!("∀ {bound}, {q} {bound}"), proof)
        }
        3 => {
            let h = names.hyp();
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("exact ⟨{n}, {h}⟩")],
                _ => vec![format!("refine ⟨{n}, ?_⟩"), format!("exact {h}")],
            };
            let mut vars = group(rng, &[p], "Nat → Prop");
            vars.push(format!("({n} : Nat)"));
            let hyps = vec![(h.to_string(), format!("{p} {n}"))];
            (vars, hyps, format!("∃ {bound}, {p} {bound}"), proof)
        }
        4 => {
            let (h, hpq) = (names.hyp(), names.hyp());
            let (w, hw) = (names.nat(), names.hyp());
            let proof = vec![
                format!("cases {h} with"),
                format!("| intro {w} {hw} => exact ⟨{w}, {hpq} {w} {hw}⟩"),
            ];
            let vars = group(rng, &[p, q], "Nat → Prop");
            let hyps = vec![
                (h.to_string(), format!("∃ {bound}, {p} {bound}")),
                (
                    hpq.to_string(),
                    format!("∀ {bound}, {p} {bound} → {q} {bound}"),
                ),
            ];
            (vars, hyps, format!("∃ {bound}, {q} {bound}"), proof)
        }
        5 => {
            let h = names.hyp();
            let (w, hw) = (names.nat(), names.hyp());
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("intro ⟨{w}, {hw}⟩"), format!("exact {h} {w} {hw}")],
                _ => {
                    let he = names.hyp();
                    vec![
                        format!("intro {he}"),
                        format!("cases {he} with"),
                        format!("| intro {w} {hw} => exact {h} {w} {hw}"),
                    ]
                }
            };
            let vars = group(rng, &[p], "Nat → Prop");
            let hyps = vec![(h.to_string(), format!("∀ {bound}, ¬{p} {bound}"))];
            (vars, hyps, format!("¬∃ {bound}, {p} {bound}"), proof)
        }
        6 => {
            let f = *pick(rng, &["f", "g"]);
            let (a, b) = (names.nat(), names.nat());
            let h = names.hyp();
            let proof = match rng.random_range(0..3) {
                0 => vec![format!("rw [{h}]")],
                1 => vec![format!("exact congrArg {f} {h}")],
                _ => vec![format!("subst {h}"), "rfl".to_string()],
            };
            let mut vars = vec![format!("({f} : Nat → Nat)")];
            vars.extend(group(rng, &[a, b], "Nat"));
            let hyps = vec![(h.to_string(), format!("{a} = {b}"))];
            (vars, hyps, format!("{f} {a} = {f} {b}"), proof)
        }
        7 => {
            let f = *pick(rng, &["f", "g"]);
            let (a, b, c) = (names.nat(), names.nat(), names.nat());
            let (h1, h2) = (names.hyp(), names.hyp());
            let proof = match rng.random_range(0..3) {
                0 => vec![format!("rw [{h1}, {h2}]")],
                1 => vec![format!("rw [{h1}]"), format!("exact {h2}")],
                _ => vec![format!("rw [← {h2}, {h1}]")],
            };
            let mut vars = vec![format!("({f} : Nat → Nat)")];
            vars.extend(group(rng, &[a, b, c], "Nat"));
            let hyps = vec![
                (h1.to_string(), format!("{a} = {b}")),
                (h2.to_string(), format!("{f} {b} = {c}")),
            ];
            (vars, hyps, format!("{f} {a} = {c}"), proof)
        }
        8 => {
            let h = names.hyp();
            let (i, j) = (rng.random_range(0..10u32), rng.random_range(0..10u32));
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("exact ⟨{h} {i}, {h} {j}⟩")],
                _ => vec![
                    "constructor".to_string(),
                    format!("· exact {h} {i}"),
                    format!("· exact {h} {j}"),
                ],
            };
            let vars = group(rng, &[p], "Nat → Prop");
            let hyps = vec![(h.to_string(), format!("∀ {bound}, {p} {bound}"))];
            (vars, hyps, format!("{p} {i} ∧ {p} {j}"), proof)
        }
        9 => {
            let (h, hp) = (names.hyp(), names.hyp());
            let forward = rng.random_bool(0.5);
            let (from, to, dir) = if forward { (p, q, "mp") } else { (q, p, "mpr") };
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("exact ({h} {n}).{dir} {hp}")],
                _ => {
                    let arrow = if forward { "← " } else { "" };
                    vec![format!("rw [{arrow}{h} {n}]"), format!("exact {hp}")]
                }
            };
            let mut vars = group(rng, &[p, q], "Nat → Prop");
            vars.push(format!("({n} : Nat)"));
            let hyps = vec![
                (
                    h.to_string(),
                    format!("∀ {bound}, {p} {bound} ↔ {q} {bound}"),
                ),
                (hp.to_string(), format!("{from} {n}")),
            ];
            (vars, hyps, format!("{to} {n}"), proof)
        }
        10 => {
            let h = names.hyp();
            let (w, hw) = (names.nat(), names.hyp());
            let (side, field) = if rng.random_bool(0.5) {
                (p, *pick(rng, &["1", "left"]))
            } else {
                (q, *pick(rng, &["2", "right"]))
            };
            let proof = vec![
                format!("cases {h} with"),
                format!("| intro {w} {hw} => exact ⟨{w}, {hw}.{field}⟩"),
            ];
            let vars = group(rng, &[p, q], "Nat → Prop");
            let hyps = vec![(
                h.to_string(),
                format!("∃ {bound}, {p} {bound} ∧ {q} {bound}"),
            )];
            (vars, hyps, format!("∃ {bound}, {side} {bound}"), proof)
        }
        _ => {
            let (h1, h2) = (names.hyp(), names.hyp());
            let (y, hy) = (names.nat(), names.hyp());
            let proof = match rng.random_range(0..2) {
                0 => vec![
                    format!("intro {y} {hy}"),
                    format!("exact {h2} {y} ({h1} {y} {hy})"),
                ],
                _ => vec![
                    format!("intro {y} {hy}"),
                    format!("apply {h2}"),
                    format!("apply {h1}"),
                    format!("exact {hy}"),
                ],
            };
            let vars = group(rng, &[p, q, r], "Nat → Prop");
            let hyps = vec![
                (
                    h1.to_string(),
                    format!("∀ {bound}, {p} {bound} → {q} {bound}"),
                ),
                (
                    h2.to_string(),
                    format!("∀ {bound}, {q} {bound} → {r} {bound}"),
                ),
            ];
            (
                vars,
                hyps,
                format!("∀ {bound}, {p} {bound} → {r} {bound}"),
                proof,
            )
        }
    };
    let mut hyps = hyps;
    // Distractors mention only the predicates this theorem declares (none, for functions).
    let declared: Vec<&str> = [p, q, r]
        .into_iter()
        .filter(|x| {
            vars.iter()
                .any(|v| v.ends_with(": Nat → Prop)") && v.split(['(', ' ', ')']).any(|w| w == *x))
        })
        .collect();
    if !declared.is_empty() {
        hyps.extend(distractors(rng, &mut names, &declared, options));
    }
    Draft {
        binders: binders(rng, vars, hyps),
        goal,
        proof,
    }
}
