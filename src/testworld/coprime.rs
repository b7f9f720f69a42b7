//! Greatest common divisors and coprimality (`Nat.gcd`, `Nat.Coprime`, with the prelude's
//! lemmas under Init's and Mathlib's names): unfolding `Coprime` to `gcd … = 1` and back
//! (`exact`, `.gcd_eq_one`, `rw [Nat.coprime_iff_gcd_eq_one]`), rewriting with `gcd_zero_left`
//! and `gcd_zero_right`, substituting equal arguments, and numerals the kernel computes — the
//! seed's `test_thm` is of this kind, written with `m.Coprime n` or `Nat.Coprime m n` alike.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::names::Names;
use super::{pick, Draft, GenOptions};

/// `gcd a b` written as people do: `a.gcd b` or `Nat.gcd a b` (always the latter for a
/// numeral, where `0.gcd` would not parse).
fn gcd(rng: &mut StdRng, a: &str, b: &str) -> String {
    let numeral = a.starts_with(|c: char| c.is_ascii_digit());
    if !numeral && rng.random_bool(0.5) {
        format!("{a}.gcd {b}")
    } else {
        format!("Nat.gcd {a} {b}")
    }
}

/// `Coprime a b` written as people do.
fn coprime(rng: &mut StdRng, a: &str, b: &str) -> String {
    if rng.random_bool(0.5) {
        format!("{a}.Coprime {b}")
    } else {
        format!("Nat.Coprime {a} {b}")
    }
}

/// The greatest common divisor, for numeral theorems.
fn euclid(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        euclid(b, a % b)
    }
}

/// One gcd or coprimality theorem.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let mut names = Names::draw(rng);
    let (m, n) = (names.nat(), names.nat());
    let mut nats = vec![m, n];
    let mut hyps: Vec<(String, String)> = Vec::new();
    let (goal, proof) = match rng.random_range(0..9) {
        0 | 1 => {
            let h = names.hyp();
            hyps.push((h.to_string(), coprime(rng, m, n)));
            let proof = match rng.random_range(0..4) {
                0 => vec![format!("exact {h}")],
                1 => vec![format!("exact {h}.gcd_eq_one")],
                2 => vec![
                    format!("rw [Nat.coprime_iff_gcd_eq_one] at {h}"),
                    format!("exact {h}"),
                ],
                _ => vec![format!("exact Nat.coprime_iff_gcd_eq_one.mp {h}")],
            };
            (format!("{} = 1", gcd(rng, m, n)), proof)
        }
        2 => {
            let h = names.hyp();
            hyps.push((h.to_string(), format!("{} = 1", gcd(rng, m, n))));
            let proof = match rng.random_range(0..4) {
                0 => vec![format!("exact {h}")],
                1 => vec![format!("exact Nat.Coprime.of_gcd_eq_one {h}")],
                2 => vec![
                    "rw [Nat.coprime_iff_gcd_eq_one]".to_string(),
                    format!("exact {h}"),
                ],
                _ => vec![format!("exact Nat.coprime_iff_gcd_eq_one.mpr {h}")],
            };
            (coprime(rng, m, n), proof)
        }
        3 => {
            let a = names.nat();
            nats.push(a);
            let (h1, h2) = (names.hyp(), names.hyp());
            let backwards = rng.random_bool(0.4);
            let eq = if backwards {
                format!("{m} = {a}")
            } else {
                format!("{a} = {m}")
            };
            hyps.push((h1.to_string(), eq));
            hyps.push((h2.to_string(), coprime(rng, m, n)));
            let arrow = if backwards { "← " } else { "" };
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("rw [{arrow}{h1}]"), format!("exact {h2}")],
                _ => vec![format!("subst {h1}"), format!("exact {h2}")],
            };
            (format!("{} = 1", gcd(rng, a, n)), proof)
        }
        4 => {
            nats.retain(|v| *v != m);
            let proof = match rng.random_range(0..3) {
                0 => vec!["rw [Nat.gcd_zero_left]".to_string()],
                1 => vec![format!("exact Nat.gcd_zero_left {n}")],
                _ => vec!["rfl".to_string()],
            };
            (format!("{} = {n}", gcd(rng, "0", n)), proof)
        }
        5 => {
            nats.retain(|v| *v != m);
            let proof = match rng.random_range(0..2) {
                0 => vec!["rw [Nat.gcd_zero_right]".to_string()],
                _ => vec![format!("exact Nat.gcd_zero_right {n}")],
            };
            (format!("{} = {n}", gcd(rng, n, "0")), proof)
        }
        6 => {
            let h = names.hyp();
            let (zero, other, lemma) = if rng.random_bool(0.5) {
                (n, m, "Nat.gcd_zero_right")
            } else {
                (m, n, "Nat.gcd_zero_left")
            };
            hyps.push((h.to_string(), format!("{zero} = 0")));
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("rw [{h}, {lemma}]")],
                _ => vec![format!("rw [{h}]"), format!("exact {lemma} {other}")],
            };
            (format!("{} = {other}", gcd(rng, m, n)), proof)
        }
        7 => {
            let (k, h, hk) = (names.nat(), names.hyp(), names.hyp());
            nats.push(k);
            hyps.push((h.to_string(), coprime(rng, m, n)));
            hyps.push((hk.to_string(), format!("{k} = {}", gcd(rng, m, n))));
            let proof = match rng.random_range(0..2) {
                0 => vec![format!("rw [{hk}]"), format!("exact {h}")],
                _ => vec![format!("rw [{hk}]"), format!("exact {h}.gcd_eq_one")],
            };
            (format!("{k} = 1"), proof)
        }
        _ => {
            nats.clear();
            let (a, b) = (rng.random_range(1..40u32), rng.random_range(1..40u32));
            let goal = match rng.random_range(0..3) {
                0 => format!("Nat.gcd {a} {b} = {}", euclid(a, b)),
                1 if euclid(a, b) == 1 => format!("Nat.Coprime {a} {b}"),
                1 => format!("¬Nat.Coprime {a} {b}"),
                _ if euclid(a, b) == 1 => format!("Nat.Coprime {a} {b}"),
                _ => format!("¬Nat.Coprime {a} {b}"),
            };
            (goal, vec!["decide".to_string()])
        }
    };
    // Hypotheses no proof needs.
    if !nats.is_empty() {
        for _ in 0..rng.random_range(0..=options.distractors) {
            let a = *pick(rng, &nats);
            let b = *pick(rng, &nats);
            let c = rng.random_range(0..9u32);
            let ty = match rng.random_range(0..3) {
                0 => format!("{a} ≤ {b} + {c}"),
                1 => format!("{} = {}", gcd(rng, a, b), c + 2),
                _ => format!("{a} + {c} = {b} + {c}"),
            };
            hyps.push((names.hyp().to_string(), ty));
        }
    }
    hyps.shuffle(rng);
    let mut parts = Vec::new();
    if !nats.is_empty() {
        parts.push(format!("({} : Nat)", nats.join(" ")));
    }
    parts.extend(hyps.into_iter().map(|(h, t)| format!("({h} : {t})")));
    Draft {
        binders: parts.join(" "),
        goal,
        proof,
    }
}

#[cfg(test)]
mod tests {
    use super::euclid;

    #[test]
    fn euclid_computes_the_gcd() {
        assert_eq!(euclid(12, 18), 6);
        assert_eq!(euclid(7, 0), 7);
        assert_eq!(euclid(4, 9), 1);
    }
}
