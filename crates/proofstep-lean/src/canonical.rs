//! A statement's canonical form: the same theorem written with other names, other hypothesis
//! order or other spacing has the same canonical form, so train/val/test splits and dataset
//! overlaps are compared up to renaming, not as raw text. And a goal's shape (the conclusion
//! with every name and numeral erased), for splits that hold out whole kinds of goals.
//!
//! Both work on Lean's tokens (comments and whitespace gone), without elaborating: binders
//! `(a b : T)`, `{a : T}`, `⦃a : T⦄` and `[inst : C]` are read before the statement's top-level
//! `:`, and names bound inside the conclusion (`∀ x,`, `∃ y,`, `fun z =>`, `λ`) are renamed too.
//! Variables get canonical names in the order they are first used in the conclusion, the rest
//! in the order of what the hypotheses say of them, and hypotheses are listed sorted by their
//! canonical text, so neither the names a writer picked nor the order of the hypotheses
//! matter.

use std::collections::HashMap;

use crate::source::tokens;

/// One binder of a statement: the name and the tokens of its type.
#[derive(Clone, Debug)]
struct Binder<'a> {
    name: &'a str,
    /// `[ ]` (instance) binders are kept apart from the others.
    instance: bool,
    ty: Vec<&'a str>,
}

/// The parts of a statement: its binders and the tokens of its conclusion.
struct Parsed<'a> {
    binders: Vec<Binder<'a>>,
    conclusion: Vec<&'a str>,
}

/// The canonical form of a statement (`theorem t (a b : Nat) (h : a = b) : b = a`, with or
/// without keyword, name or a trailing `:= proof`): equal for two statements exactly when they
/// differ only in names of variables and hypotheses, hypothesis order, binder grouping and
/// brackets, spacing and comments.
pub fn canonical_statement(statement: &str) -> String {
    canonical_of(&split_dots(tokens(statement)))
}

/// The tokens with a dotted name split after its first component (`m.gcd` → `m`, `.gcd`), so
/// a bound name used with dot notation is still seen as that name.
fn split_dots(toks: Vec<&str>) -> Vec<&str> {
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        match t.find('.') {
            Some(i) if i > 0 && t.starts_with(|c: char| c.is_alphabetic() || c == '_') => {
                out.push(&t[..i]);
                out.push(&t[i..]);
            }
            _ => out.push(t),
        }
    }
    out
}

fn canonical_of<'a>(toks: &[&'a str]) -> String {
    let parsed = parse(toks);
    let bound: Vec<&str> = parsed.binders.iter().map(|b| b.name).collect();
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut next = 0usize;
    let name_in = |toks: &[&'a str], names: &mut HashMap<&'a str, String>, next: &mut usize| {
        for t in toks {
            if bound.contains(t) && !names.contains_key(t) {
                names.insert(t, format!("x{next}"));
                *next += 1;
            }
        }
    };
    // Variables first used in the conclusion, in order. The others are told apart by what
    // the hypotheses say of them, refined a few rounds as in Weisfeiler–Leman colour
    // refinement (a variable's colour: the sorted hypotheses it occurs in, written with `@`
    // for itself and the colours of the others), then named in colour order. Neither the names
    // a writer chose nor the order of the hypotheses enter a colour; variables that share a
    // colour play alike roles, and either order names them alike.
    name_in(&parsed.conclusion, &mut names, &mut next);
    // Only names some type mentions; a hypothesis nothing refers to stays `_`.
    let unknown: Vec<&str> = bound
        .iter()
        .copied()
        .filter(|v| !v.is_empty() && !names.contains_key(v))
        .filter(|v| parsed.binders.iter().any(|b| b.ty.contains(v)))
        .collect();
    let mut colour: HashMap<&str, u64> = HashMap::new();
    for v in &unknown {
        let ty = parsed
            .binders
            .iter()
            .find(|b| b.name == *v)
            .map_or(String::new(), |b| b.ty.join(" "));
        colour.insert(v, fnv(&ty));
    }
    for _ in 0..4 {
        let mut refined = HashMap::with_capacity(colour.len());
        for v in &unknown {
            let mut signature: Vec<String> = parsed
                .binders
                .iter()
                .filter(|b| b.ty.contains(v))
                .map(|b| {
                    b.ty.iter()
                        .map(|t| {
                            if t == v {
                                "@".to_string()
                            } else if let Some(n) = names.get(t) {
                                n.clone()
                            } else if let Some(c) = colour.get(t) {
                                format!("?{c:x}")
                            } else {
                                t.to_string()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            signature.sort();
            signature.push(format!("#{:x}", colour[v]));
            refined.insert(*v, fnv(&signature.join("|")));
        }
        colour = refined;
    }
    let mut order = unknown.clone();
    order.sort_by_key(|v| colour[v]);
    for v in order {
        names.insert(v, format!("x{next}"));
        next += 1;
    }
    // Binders whose names are used nowhere (hypotheses, mostly) are written `_`: only their
    // types count.
    let render = |toks: &[&str], names: &HashMap<&str, String>| -> String {
        let mut local = Locals::default();
        toks.iter()
            .map(|t| names.get(t).cloned().unwrap_or_else(|| local.rename(t)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut entries: Vec<String> = parsed
        .binders
        .iter()
        .map(|b| {
            let ty = render(&b.ty, &names);
            match names.get(b.name) {
                Some(name) => format!("{}{name} : {ty}", if b.instance { "inst " } else { "" }),
                None => format!("{}_ : {ty}", if b.instance { "inst " } else { "" }),
            }
        })
        .collect();
    entries.sort();
    format!(
        "{} ⊢ {}",
        entries.join(" ; "),
        render(&parsed.conclusion, &names)
    )
}

/// The shape of a statement's goal: its conclusion with every identifier and numeral erased
/// (`a * b + c = b * a + c` and `x * y + 1 = y * x + 1` are both `_ * _ + _ = _ * _ + _`).
pub fn goal_shape(statement: &str) -> String {
    let toks = split_dots(tokens(statement));
    let parsed = parse(&toks);
    erase(&parsed.conclusion, &|t| is_name_or_numeral(t))
}

/// FNV-1a of a text: a colour for `canonical_of`, stable across runs and Rust versions.
fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// `toks` joined by spaces with every token `erased` says so written `_`.
fn erase(toks: &[&str], erased: &dyn Fn(&str) -> bool) -> String {
    toks.iter()
        .map(|t| if erased(t) { "_" } else { t })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_name_or_numeral(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '«')
        && !is_keyword(t)
}

/// Words of the term language that are not names.
fn is_keyword(t: &str) -> bool {
    matches!(
        t,
        "fun"
            | "λ"
            | "let"
            | "have"
            | "show"
            | "from"
            | "if"
            | "then"
            | "else"
            | "match"
            | "with"
            | "by"
            | "at"
            | "in"
    )
}

/// Names bound inside a term (`∀ x y,`, `∃ z,`, `fun w =>`), renamed in order of binding so
/// their choice does not matter either.
#[derive(Default)]
struct Locals<'a> {
    names: HashMap<&'a str, String>,
    binding: bool,
}

impl<'a> Locals<'a> {
    fn rename(&mut self, t: &'a str) -> String {
        if matches!(t, "∀" | "∃" | "fun" | "λ" | "∃!") {
            self.binding = true;
            return t.to_string();
        }
        if self.binding {
            if matches!(t, "," | "=>" | ":" | "↦") {
                self.binding = false;
                return t.to_string();
            }
            if is_name_or_numeral(t) {
                let next = self.names.len();
                let name = self.names.entry(t).or_insert_with(|| format!("y{next}"));
                return name.clone();
            }
            return t.to_string();
        }
        self.names.get(t).cloned().unwrap_or_else(|| t.to_string())
    }
}

/// Splits a statement's tokens into binders and conclusion: after the keyword and name (when
/// there are any), bracketed groups up to the top-level `:`; the rest, up to a top-level `:=`,
/// is the conclusion.
fn parse<'a>(toks: &[&'a str]) -> Parsed<'a> {
    let mut i = 0;
    while i < toks.len() && !matches!(toks[i], "(" | "{" | "[" | "⦃" | ":") {
        i += 1;
    }
    let mut binders = Vec::new();
    while i < toks.len() && matches!(toks[i], "(" | "{" | "[" | "⦃") {
        let open = toks[i];
        let close = match open {
            "(" => ")",
            "{" => "}",
            "[" => "]",
            _ => "⦄",
        };
        let mut depth = 0i32;
        let mut j = i;
        while j < toks.len() {
            depth += bracket(toks[j]);
            if depth == 0 {
                break;
            }
            j += 1;
        }
        let inner = &toks[(i + 1).min(toks.len())..j.min(toks.len())];
        let colon = inner.iter().position(|t| *t == ":");
        let instance = open == "[";
        match colon {
            Some(c) => {
                let ty: Vec<&str> = inner[c + 1..].to_vec();
                for name in &inner[..c] {
                    binders.push(Binder {
                        name,
                        instance,
                        ty: ty.clone(),
                    });
                }
            }
            // `[C α]`: an anonymous instance.
            None => binders.push(Binder {
                name: "",
                instance,
                ty: inner.to_vec(),
            }),
        }
        let _ = close;
        i = j + 1;
    }
    if i < toks.len() && toks[i] == ":" {
        i += 1;
    }
    let mut end = toks.len();
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().skip(i) {
        depth += bracket(t);
        if depth == 0 && *t == ":=" {
            end = k;
            break;
        }
    }
    Parsed {
        binders,
        conclusion: toks[i.min(end)..end].to_vec(),
    }
}

fn bracket(t: &str) -> i32 {
    match t {
        "(" | "{" | "[" | "⦃" | "⟨" => 1,
        ")" | "}" | "]" | "⦄" | "⟩" => -1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_and_reordered_copies_have_one_canonical_form() {
        let a = canonical_statement("theorem nat_00004 (a b c : Nat) : a * b + c = b * a + c");
        let b = canonical_statement("theorem nat_00604 (a m n : Nat) : n * m + a = m * n + a");
        assert_eq!(a, b);
        let c = canonical_statement("theorem t (p q : Prop) (hp : p) (hpq : p → q) : q");
        let d = canonical_statement(
            "lemma other_name {x y : Prop} (h₂ : x → y)\n    (h₁ : x) : y := by\n  exact h₂ h₁",
        );
        assert_eq!(c, d);
        let e = canonical_statement("example (a b : Prop) (h : a ∧ b) : b ∧ a");
        let f = canonical_statement("theorem swap (q p : Prop) (hqp : q ∧ p) : p ∧ q");
        assert_eq!(e, f);
        let g = canonical_statement("theorem q1 (P : Nat → Prop) (h : ∀ n, P n) : ∃ m, P m");
        let h = canonical_statement("theorem q2 (Q : Nat → Prop) (hq : ∀ k, Q k) : ∃ x, Q x");
        assert_eq!(g, h);
        // Dot notation on a bound name.
        let i = canonical_statement("theorem t (m n : Nat) (h : m.Coprime n) : m.gcd n = 1");
        let j = canonical_statement("theorem u (a b : Nat) (hab : a.Coprime b) : a.gcd b = 1");
        assert_eq!(i, j);
        assert_ne!(
            i,
            canonical_statement("theorem u (a b : Nat) (hab : b.Coprime a) : a.gcd b = 1")
        );
    }

    #[test]
    fn different_theorems_stay_apart() {
        let a = canonical_statement("theorem t (a b : Nat) : a + b = b + a");
        assert_ne!(
            a,
            canonical_statement("theorem t (a b : Nat) : a * b = b * a")
        );
        assert_ne!(
            a,
            canonical_statement("theorem t (a b : Nat) : a + b = a + b")
        );
        let imp = canonical_statement("theorem t (p q : Prop) (h : p → q) (hp : p) : q");
        assert_ne!(
            imp,
            canonical_statement("theorem t (p q : Prop) (h : q → p) (hp : p) : q"),
            "which way the implication goes matters"
        );
        assert_ne!(
            canonical_statement("theorem t (a b : Nat) (h : a = b) : a + 0 = b"),
            canonical_statement("theorem t (a b : Nat) (h : a = b) : b + 0 = a"),
        );
    }

    #[test]
    fn shapes_erase_every_name_and_numeral() {
        assert_eq!(
            goal_shape("theorem t (a b c : Nat) : a * b + c = b * a + 2"),
            "_ * _ + _ = _ * _ + _"
        );
        assert_eq!(
            goal_shape("theorem t (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  exact ⟨h.2, h.1⟩"),
            "_ ∧ _"
        );
        assert_eq!(
            goal_shape("theorem t : ∀ n : Nat, n = n"),
            "∀ _ : _ , _ = _"
        );
    }
}
