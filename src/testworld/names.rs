//! Names as people write them: each theorem draws its hypothesis and variable names from wide
//! pools (`h`, `h₁`, `h'`, `hp`, `hpq`, `hab`, `H`, … and `a b c x y z n m k p q r s`, …), so a
//! model trained on the corpus can only succeed by copying names from the proof state, never
//! by remembering the generator's favourite names.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::lean::source::is_ident_rest;

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

/// Whether `name` is one the older families write with fixed names: a single lowercase letter
/// (`p`, `a`, `k`), or a hypothesis `h`, `h3`, `ha`, `hl`, `ih`, `ih'`.
fn is_generated_name(name: &str) -> bool {
    let mut chars = name.chars();
    let (Some(first), rest) = (chars.next(), chars.as_str()) else {
        return false;
    };
    if !first.is_ascii_lowercase() {
        return false;
    }
    rest.is_empty()
        || matches!(name, "ih" | "ih'")
        || (first == 'h'
            && (rest.chars().all(|c| c.is_ascii_digit())
                || (rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()))))
}

/// The identifiers of `text` that can be renamed, with their byte spans: whole names not
/// after a `.` (so `h.1` renames `h`, and `Nat.succ` nothing).
fn identifiers(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if (c.is_alphabetic() || c == '_') && !prev.is_some_and(|p| is_ident_rest(p) || p == '.') {
            let mut end = i + c.len_utf8();
            let mut last = c;
            while let Some(&(j, d)) = chars.peek() {
                if !is_ident_rest(d) {
                    break;
                }
                end = j + d.len_utf8();
                last = d;
                chars.next();
            }
            out.push((i, end));
            prev = Some(last);
        } else {
            prev = Some(c);
        }
    }
    out
}

/// `text` with every renamable identifier in `map` replaced.
fn substitute(text: &str, map: &std::collections::HashMap<String, &'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in identifiers(text) {
        if let Some(new) = map.get(&text[start..end]) {
            out.push_str(&text[at..start]);
            out.push_str(new);
            at = end;
        }
    }
    out.push_str(&text[at..]);
    out
}

/// The draft with the fixed names an older family wrote (`p q`, `a b`, `h3`, `ha`, `ih`)
/// replaced consistently — binders, goal and proof alike — by names drawn from the pools:
/// propositions from `PROPS`, numbers from `NATS`, hypotheses from `HYPOTHESES`. A variable
/// group `(a b : Nat)` is sometimes written one binder per name.
pub fn rename(draft: super::Draft, rng: &mut StdRng) -> super::Draft {
    use rand::Rng;
    let mut names = Names::draw(rng);
    let props = prop_names(&draft.binders);
    let mut map = std::collections::HashMap::new();
    let texts = [draft.binders.as_str(), draft.goal.as_str()]
        .into_iter()
        .chain(draft.proof.iter().map(String::as_str));
    for text in texts {
        for (start, end) in identifiers(text) {
            let name = &text[start..end];
            if !is_generated_name(name) || map.contains_key(name) {
                continue;
            }
            let new = if name.starts_with('h') || name.starts_with("ih") {
                names.hyp()
            } else if props.iter().any(|p| p == name) {
                names.prop()
            } else {
                names.nat()
            };
            map.insert(name.to_string(), new);
        }
    }
    let mut binders = substitute(&draft.binders, &map);
    if rng.random_bool(0.3) {
        binders = ungroup(&binders);
    }
    super::Draft {
        binders,
        goal: substitute(&draft.goal, &map),
        proof: draft.proof.iter().map(|l| substitute(l, &map)).collect(),
    }
}

/// The names bound as propositions in a binder list (`(p q : Prop)`).
fn prop_names(binders: &str) -> Vec<String> {
    groups(binders)
        .into_iter()
        .filter_map(|g| {
            let inner = g.trim_start_matches('(').trim_end_matches(')');
            let (names, ty) = inner.split_once(" : ")?;
            (ty.trim() == "Prop").then(|| names.split_whitespace().map(str::to_string))
        })
        .flatten()
        .collect()
}

/// The top-level bracketed groups of a binder list.
fn groups(binders: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = None;
    for (i, c) in binders.char_indices() {
        match c {
            '(' | '{' | '[' | '⦃' => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            ')' | '}' | ']' | '⦄' => {
                depth -= 1;
                if depth == 0 {
                    if let Some(s) = start.take() {
                        out.push(&binders[s..i + c.len_utf8()]);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `(a b : Nat)` written `(a : Nat) (b : Nat)`; other groups as they are.
fn ungroup(binders: &str) -> String {
    groups(binders)
        .into_iter()
        .map(|g| {
            let inner = &g[1..g.len() - 1];
            match inner.split_once(" : ") {
                Some((names, ty)) if g.starts_with('(') && names.split_whitespace().count() > 1 => {
                    names
                        .split_whitespace()
                        .map(|n| format!("({n} : {ty})"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
                _ => g.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn renaming_is_consistent_and_leaves_qualified_names_alone() {
        let draft = super::super::Draft {
            binders: "(p q : Prop) (a : Nat) (h3 : p ∧ q) (h1 : a = 0)".into(),
            goal: "q ∧ p ∧ a + 0 = 0".into(),
            proof: vec![
                "refine ⟨h3.2, h3.1, ?_⟩".into(),
                "rw [Nat.add_zero, h1]".into(),
                "intro ha".into(),
            ],
        };
        let mut rng = StdRng::seed_from_u64(9);
        let out = rename(draft, &mut rng);
        let ids = |t: &str| -> Vec<String> {
            identifiers(t)
                .iter()
                .map(|&(s, e)| t[s..e].to_string())
                .collect()
        };
        assert!(
            !ids(&out.binders).iter().any(|n| n == "h3" || n == "h1"),
            "{out:?}"
        );
        assert!(out.proof[1].contains("Nat.add_zero"), "{out:?}");
        // The same name everywhere: the hypothesis `h3` of the binders is the one the proof uses.
        let h3 = out.proof[0]
            .trim_start_matches("refine ⟨")
            .split('.')
            .next()
            .unwrap()
            .to_string();
        assert!(out.binders.contains(&format!("({h3} : ")), "{out:?}");
        assert_eq!(
            identifiers("h.1 Nat.succ x'"),
            vec![(0, 1), (4, 7), (13, 15)]
        );
    }

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
