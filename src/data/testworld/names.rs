//! Names as people write them: each theorem draws its hypothesis and variable names from wide
//! pools (`h`, `h₁`, `h'`, `hp`, `hpq`, `hab`, `H`, … and `a b c x y z n m k p q r s`, …), so a
//! model trained on the corpus can only succeed by copying names from the proof state, never
//! by remembering the generator's favourite names.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Hypothesis names as they appear in textbooks, Mathlib and students' files.
pub const HYPOTHESES: [&str; 36] = [
    "h", "h₁", "h₂", "h₃", "h₄", "h'", "h''", "h1", "h2", "h3", "h4", "h0", "hp", "hq", "hr", "hs",
    "hpq", "hqr", "hpr", "hab", "hbc", "hac", "hx", "hy", "hz", "hn", "hm", "hk", "ha", "hb", "hc",
    "H", "H₁", "H₂", "hyp", "this",
];

/// Names for propositions.
pub const PROPS: [&str; 14] = [
    "p", "q", "r", "s", "t", "a", "b", "c", "P", "Q", "R", "A", "B", "C",
];

/// Names for natural numbers.
pub const NATS: [&str; 14] = [
    "a", "b", "c", "d", "x", "y", "z", "n", "m", "k", "i", "j", "u", "v",
];

/// Names for predicates and functions on `Nat`.
pub const FUNCTIONS: [&str; 8] = ["P", "Q", "R", "f", "g", "p", "q", "φ"];

/// One theorem's names: each pool shuffled, and a name handed out at most once across pools
/// (so a hypothesis never shadows a variable).
pub struct Names {
    hyps: Vec<&'static str>,
    props: Vec<&'static str>,
    nats: Vec<&'static str>,
    functions: Vec<&'static str>,
    used: Vec<&'static str>,
}

impl Names {
    /// Fresh pools for one theorem.
    pub fn draw(rng: &mut StdRng) -> Names {
        let shuffled = |pool: &[&'static str], rng: &mut StdRng| {
            let mut v = pool.to_vec();
            v.shuffle(rng);
            v
        };
        Names {
            hyps: shuffled(&HYPOTHESES, rng),
            props: shuffled(&PROPS, rng),
            nats: shuffled(&NATS, rng),
            functions: shuffled(&FUNCTIONS, rng),
            used: Vec::new(),
        }
    }

    fn take(pool: &mut Vec<&'static str>, used: &mut Vec<&'static str>) -> &'static str {
        while let Some(name) = pool.pop() {
            if !used.contains(&name) {
                used.push(name);
                return name;
            }
        }
        panic!("a theorem asked for more names than its pool holds")
    }

    /// A hypothesis name not used yet in this theorem.
    pub fn hyp(&mut self) -> &'static str {
        Self::take(&mut self.hyps, &mut self.used)
    }

    /// A proposition name not used yet.
    pub fn prop(&mut self) -> &'static str {
        Self::take(&mut self.props, &mut self.used)
    }

    /// A natural-number name not used yet.
    pub fn nat(&mut self) -> &'static str {
        Self::take(&mut self.nats, &mut self.used)
    }

    /// A predicate or function name not used yet.
    pub fn function(&mut self) -> &'static str {
        Self::take(&mut self.functions, &mut self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_theorem_never_gets_one_name_twice() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            let mut names = Names::draw(&mut rng);
            let mut all = Vec::new();
            for _ in 0..6 {
                all.push(names.prop());
                all.push(names.nat());
                all.push(names.hyp());
            }
            all.push(names.function());
            let mut sorted = all.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), all.len(), "{all:?}");
        }
    }
}
