//! A statement's canonical form: the same theorem written with other names, other hypothesis
//! order or other spacing has the same canonical form, so train/val/test splits and dataset
//! overlaps are compared up to renaming, not as raw text. And a goal's shape (the conclusion,
//! read the same way, with every name and numeral erased), for splits that hold out whole
//! kinds of goals. And a proof state's goal up to the names of its locals (`goal`), for a
//! search's visited set.
//!
//! The first two work on Lean's tokens (comments and whitespace gone), without elaborating: binders
//! `(a b : T)`, `{a : T}`, `⦃a : T⦄` and `[inst : C]` are read before the statement's top-level
//! `:`. For the canonical form, the conclusion is then put in Lean's `intro` normal form: its
//! leading `∀`-binders become binders and its top-level arrow premises anonymous hypotheses
//! (`p → q` is `(_ : p) : q`; `¬ p` abbreviates `p → False` and is read so everywhere). Every
//! type and the conclusion are read as terms (`term`): redundant parentheses go, spellings of
//! one notation (`->`, `↦`, `λ`, `ℕ`) become one, names bound inside (`∀ x,`, `∃ y,`,
//! `fun z =>`, `∑ i ∈ s,` and the other big operators, `{x | p x}`) are renamed in order of
//! binding, a binder predicate is read as Lean expands it (`∀ x < n, p` is `∀ x, x < n → p`),
//! and field notation on a variable of known type is the function it names (`m.gcd n` with
//! `m : Nat` is `Nat.gcd m n`). Variables get canonical names in the order they
//! are first used in the conclusion, the rest in the order of what the hypotheses say of them
//! (ties broken by trying each order, see `MAX_ORDERS`), and hypotheses are listed sorted by
//! their canonical text, so neither the names a writer picked nor the order of the hypotheses
//! matter. Canonical names (`§x0`, `§y0`) hold `§`, which Lean reads as a token of its own, so
//! no name in a statement can be mistaken for one.

mod goal;
mod term;

use std::collections::HashMap;

use crate::source::tokens;
pub use goal::goal_up_to_renaming;
use term::{free_names, parse_term, print, rename, rename_bound, resolve_fields, type_head, Expr};

/// Orders of tied variables tried at most (8!); beyond, ties are named in binder order, so
/// a statement with that many variables alike (nine or more hypotheses-only variables no
/// hypothesis tells apart) may get another form when its binders are reordered.
const MAX_ORDERS: u64 = 40_320;

/// One binder of a statement as written: the name and the tokens of its type.
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

/// A binder of a statement in `intro` normal form: its name (empty when nothing can refer to
/// it, as an arrow premise) and its type read as a term.
struct Hypothesis {
    name: String,
    instance: bool,
    ty: Expr,
}

/// A statement in `intro` normal form: binders and a conclusion that neither starts with `∀`
/// nor is an arrow.
struct Statement {
    binders: Vec<Hypothesis>,
    conclusion: Expr,
}

/// The canonical form of a statement (`theorem t (a b : Nat) (h : a = b) : b = a`, with or
/// without keyword, name or a trailing `:= proof`): equal for two statements exactly when they
/// differ only in names of variables and hypotheses, hypothesis order, binder grouping and
/// brackets, binders written as leading `∀`s or arrows of the conclusion, redundant
/// parentheses, notation spellings, spacing and comments.
pub fn canonical_statement(statement: &str) -> String {
    let toks = normalize(split_dots(from_keyword(tokens(statement))));
    Statement::read(&parse(&toks)).canonical()
}

/// The tokens from the declaration keyword on: a statement read from a file keeps its doc
/// comment, attributes, modifiers and `... in` prefixes, whose brackets are not binders
/// (`attribute [-instance] i in theorem ...`). All of them when there is no keyword.
fn from_keyword(toks: Vec<&str>) -> Vec<&str> {
    match toks
        .iter()
        .position(|t| matches!(*t, "theorem" | "lemma" | "example"))
    {
        Some(k) => toks[k..].to_vec(),
        None => toks,
    }
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

/// The tokens with each notation in one spelling: `↦` is `=>`, `λ` is `fun`, `ℕ ℤ ℚ ℝ ℂ` are
/// `Nat Int Rat Real Complex`, and the ASCII operators the lexer splits into single symbols
/// (`=>`, `->`, `<->`, `<=`, `>=`, `==`, `++`, `::`, `/\`, `\/`) are joined, the first five
/// into `=>`, `→`, `↔`, `≤`, `≥`. None of the joined pairs is valid Lean with a space between.
fn normalize(toks: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(toks.len());
    for t in toks {
        let t = match t {
            "↦" => "=>",
            "λ" => "fun",
            "ℕ" => "Nat",
            "ℤ" => "Int",
            "ℚ" => "Rat",
            "ℝ" => "Real",
            "ℂ" => "Complex",
            t => t,
        };
        let joined = match (out.last().copied(), t) {
            (Some("="), ">") => Some("=>"),
            (Some("-"), ">") => Some("→"),
            (Some("<"), "=") => Some("≤"),
            (Some(">"), "=") => Some("≥"),
            (Some("="), "=") => Some("=="),
            (Some("+"), "+") => Some("++"),
            (Some(":"), ":") => Some("::"),
            (Some("/"), "\\") => Some("∧"),
            (Some("\\"), "/") => Some("∨"),
            _ => None,
        };
        match joined {
            Some("→") if out.len() >= 2 && out[out.len() - 2] == "<" => {
                out.truncate(out.len() - 2);
                out.push("↔");
            }
            Some(j) => {
                out.pop();
                out.push(j);
            }
            None => out.push(t),
        }
    }
    out
}

impl Statement {
    /// The statement with its binder types and conclusion read as terms, in `intro` normal
    /// form.
    fn read(parsed: &Parsed) -> Statement {
        let binders = parsed
            .binders
            .iter()
            .map(|b| Hypothesis {
                name: b.name.to_string(),
                instance: b.instance,
                ty: if b.ty.is_empty() {
                    Expr::Atom("_".into())
                } else {
                    parse_term(&b.ty)
                },
            })
            .collect();
        let mut statement = Statement {
            binders,
            conclusion: Expr::Raw(Vec::new()),
        };
        statement.conclusion = statement.intro(parse_term(&parsed.conclusion));
        statement.resolve_fields();
        statement
    }

    /// Field notation on a variable written as the function it stands for (`m.gcd n` with
    /// `m : Nat` is `Nat.gcd m n`, `term::resolve_fields`), each binder's type read with the
    /// binders before it in scope and the conclusion with all of them.
    fn resolve_fields(&mut self) {
        let mut types: HashMap<String, Option<String>> = HashMap::new();
        for b in &mut self.binders {
            resolve_fields(&mut b.ty, &types);
            if b.name.is_empty() {
                continue;
            }
            let head = type_head(&b.ty, &types);
            types.insert(b.name.clone(), head);
        }
        resolve_fields(&mut self.conclusion, &types);
    }

    /// `goal` with its leading `∀`-binders and arrow premises moved into the binders, as
    /// Lean's `intro` would: `∀ a b : Nat, p a → q b` is `(a b : Nat) (_ : p a) : q b`. Each
    /// `∀`-bound name is renamed to a fresh `✝k` (no token of Lean's), so it can neither clash
    /// with a binder of the same name nor capture a free name of a premise before it.
    fn intro(&mut self, mut goal: Expr) -> Expr {
        loop {
            goal = match goal {
                Expr::Binder("∀", mut items, body) => {
                    let mut body = *body;
                    for i in 0..items.len() {
                        let written = items[i].name.clone();
                        let name = if written.is_empty() || written == "_" {
                            String::new()
                        } else {
                            let fresh = format!("✝{}", self.binders.len());
                            rename_bound(&mut items[i + 1..], &written, &fresh);
                            rename(&mut body, &written, &fresh);
                            fresh
                        };
                        self.binders.push(Hypothesis {
                            name,
                            instance: items[i].bracket == "[",
                            ty: items[i].ty.take().unwrap_or(Expr::Atom("_".into())),
                        });
                    }
                    body
                }
                Expr::Infix(op, premise, rest) if op.is_arrow() => {
                    self.binders.push(Hypothesis {
                        name: String::new(),
                        instance: false,
                        ty: *premise,
                    });
                    *rest
                }
                goal => return goal,
            }
        }
    }

    /// The canonical form. Variables first used in the conclusion are named in that order.
    /// The others are told apart by what the hypotheses say of them (`colours`), named in
    /// colour order, and variables left sharing a colour are named in whichever order gives
    /// the least form: neither the names a writer chose nor the order of the hypotheses enter.
    fn canonical(&self) -> String {
        let bound: Vec<&str> = self
            .binders
            .iter()
            .map(|b| b.name.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        let mut names: HashMap<String, String> = HashMap::new();
        for t in free_names(&self.conclusion) {
            if bound.contains(&t.as_str()) && !names.contains_key(&t) {
                let name = format!("§x{}", names.len());
                names.insert(t, name);
            }
        }
        let free: Vec<Vec<String>> = self.binders.iter().map(|b| free_names(&b.ty)).collect();
        // Only names some type mentions; a hypothesis nothing refers to stays `_`.
        let mut unknown: Vec<&str> = Vec::new();
        for v in &bound {
            let used = free.iter().any(|f| f.iter().any(|t| t == v));
            if used && !names.contains_key(*v) && !unknown.contains(v) {
                unknown.push(v);
            }
        }
        let colour = self.colours(&unknown, &names, &free);
        let mut classes: Vec<Vec<&str>> = Vec::new();
        let mut order = unknown.clone();
        order.sort_by_key(|v| colour[*v]);
        for v in order {
            match classes.last_mut() {
                Some(class) if colour[class[0]] == colour[v] => class.push(v),
                _ => classes.push(vec![v]),
            }
        }
        self.least_form(&classes, &mut names)
    }

    /// Colours of the `unknown` variables, refined a few rounds as in Weisfeiler–Leman colour
    /// refinement: first its type's, then the sorted hypotheses it occurs in, written with `@`
    /// for itself, the canonical names of named variables and the colours of the others.
    fn colours(
        &self,
        unknown: &[&str],
        names: &HashMap<String, String>,
        free: &[Vec<String>],
    ) -> HashMap<String, u64> {
        let mut colour: HashMap<String, u64> = unknown.iter().map(|v| (v.to_string(), 0)).collect();
        let label = |t: &str, me: &str, colour: &HashMap<String, u64>| -> Option<String> {
            if t == me {
                Some("@".into())
            } else if let Some(n) = names.get(t) {
                Some(n.clone())
            } else {
                colour.get(t).map(|c| format!("?{c:x}"))
            }
        };
        let initial: HashMap<String, u64> = unknown
            .iter()
            .map(|v| {
                let ty = self.binders.iter().find(|b| b.name == *v).map(|b| &b.ty);
                let text = ty.map_or(String::new(), |ty| print(ty, &|t| label(t, v, &colour)));
                (v.to_string(), fnv(&text))
            })
            .collect();
        colour = initial;
        for _ in 0..4 {
            let mut refined = HashMap::with_capacity(colour.len());
            for v in unknown {
                let mut signature: Vec<String> = self
                    .binders
                    .iter()
                    .zip(free)
                    .filter(|(_, f)| f.iter().any(|t| t == v))
                    .map(|(b, _)| {
                        let own = label(&b.name, v, &colour).unwrap_or_else(|| "_".into());
                        let ty = print(&b.ty, &|t| label(t, v, &colour));
                        format!("{}{own} : {ty}", if b.instance { "inst " } else { "" })
                    })
                    .collect();
                signature.sort();
                signature.push(format!("#{:x}", colour[*v]));
                refined.insert(v.to_string(), fnv(&signature.join("|")));
            }
            colour = refined;
        }
        colour
    }

    /// The least form over every order of naming the variables of each tied class (classes in
    /// colour order), or the binder order when there are more than `MAX_ORDERS` orders.
    fn least_form(&self, classes: &[Vec<&str>], names: &mut HashMap<String, String>) -> String {
        // Saturating: a class of 21 or more would overflow a factorial.
        let orders = classes
            .iter()
            .map(|c| (1..=c.len() as u64).fold(1u64, u64::saturating_mul))
            .fold(1u64, u64::saturating_mul);
        if orders > MAX_ORDERS {
            for v in classes.iter().flatten() {
                let name = format!("§x{}", names.len());
                names.insert(v.to_string(), name);
            }
            return self.render(names);
        }
        let mut best = None;
        self.try_orders(classes, names, &mut best);
        best.expect("at least one order")
    }

    /// Names the first class in each of its orders and the rest recursively, keeping in
    /// `best` the least rendering.
    fn try_orders(
        &self,
        classes: &[Vec<&str>],
        names: &mut HashMap<String, String>,
        best: &mut Option<String>,
    ) {
        let Some((class, rest)) = classes.split_first() else {
            let form = self.render(names);
            if best.as_ref().is_none_or(|b| form < *b) {
                *best = Some(form);
            }
            return;
        };
        let start = names.len();
        for order in permutations(class) {
            for (i, v) in order.iter().enumerate() {
                names.insert(v.to_string(), format!("§x{}", start + i));
            }
            self.try_orders(rest, names, best);
            for v in &order {
                names.remove(*v);
            }
        }
    }

    /// The statement written with `names`: hypotheses sorted, `;`-separated, then `⊢` and the
    /// conclusion. Binders whose names are used nowhere (hypotheses, mostly) are written `_`:
    /// only their types count.
    fn render(&self, names: &HashMap<String, String>) -> String {
        let naming = |t: &str| names.get(t).cloned();
        let mut entries: Vec<String> = self
            .binders
            .iter()
            .map(|b| {
                let name = names.get(&b.name).map_or("_", String::as_str);
                let ty = print(&b.ty, &naming);
                format!("{}{name} : {ty}", if b.instance { "inst " } else { "" })
            })
            .collect();
        entries.sort();
        format!(
            "{} ⊢ {}",
            entries.join(" ; "),
            print(&self.conclusion, &naming)
        )
    }
}

/// Every order of `items`.
fn permutations<'a>(items: &[&'a str]) -> Vec<Vec<&'a str>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

/// How many names a statement's binders bind as written, before its top-level `:`: the
/// hypotheses its first proof state holds when nothing else of the file adds any. After the
/// keyword, the name (`example` has none) and its universe parameters (`.{u v}`), each
/// bracketed group binds the names before its `:` (`(a b : Nat)` two, `{{x : α}}` one), an
/// instance group one (`[Group G]`, `[inst : Fact (0 < (n : ℕ))]`), a group without a type
/// each name it holds (`(x y)`); a bare name binds itself (`theorem t m
/// (h : m = 0)`). Without a keyword, the binders are read as `parse` reads them.
pub fn written_binders(statement: &str) -> usize {
    let toks = from_keyword(tokens(statement));
    let mut i = match toks.first() {
        Some(&"theorem" | &"lemma") => 2,
        Some(&"example") => 1,
        _ => return parse(&normalize(split_dots(toks))).binders.len(),
    };
    // Universe parameters: `t.{u}` lexes as `t`, `.`, `{`, ….
    if toks.get(i) == Some(&".") && toks.get(i + 1) == Some(&"{") {
        i = group_end(&toks, i + 1) + 1;
    }
    let mut count = 0;
    while i < toks.len() && toks[i] != ":" {
        match toks[i] {
            "(" | "{" | "[" | "⦃" => {
                let end = group_end(&toks, i);
                let inner = &toks[(i + 1).min(end)..end];
                let names = |ts: &[&str]| ts.iter().filter(|t| is_name_or_numeral(t)).count();
                // An instance binder binds one name, whatever colons its class holds
                // (`[Fact (1 < (p : ℕ))]`).
                count += match inner.iter().position(|t| *t == ":") {
                    _ if toks[i] == "[" => 1,
                    Some(c) => names(&inner[..c]),
                    None => names(inner),
                };
                i = end + 1;
            }
            t if is_name_or_numeral(t) => {
                count += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    count
}

/// The index of the token that closes the bracket opened at `open` (the last token when none
/// does).
fn group_end(toks: &[&str], open: usize) -> usize {
    let mut depth = 0i32;
    for (j, t) in toks.iter().enumerate().skip(open) {
        depth += bracket(t);
        if depth == 0 {
            return j;
        }
    }
    toks.len().saturating_sub(1)
}

/// The shape of a statement's goal: its conclusion as the canonical form reads it (in `intro`
/// normal form, notation and parentheses normalised, field notation resolved, names bound
/// inside renamed) with every identifier and numeral erased (`a * b + c = b * a + c` and
/// `x * y + 1 = y * x + 1` are both `_ * _ + _ = _ * _ + _`; `p → q ∨ p` is `_ ∨ _`, the goal
/// after `intro`).
pub fn goal_shape(statement: &str) -> String {
    let toks = normalize(split_dots(from_keyword(tokens(statement))));
    let goal = Statement::read(&parse(&toks)).conclusion;
    let printed = print(&goal, &|_| None);
    // `✝k`: a variable `intro` named (`Statement::intro`).
    erase(&printed.split(' ').collect::<Vec<_>>(), &|t| {
        is_name_or_numeral(t) || t.starts_with('✝')
    })
}

/// FNV-1a of a text: a colour for `Statement::colours`, stable across runs and Rust versions.
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

/// Whether a goal shape erases `t`: a name or numeral, not a keyword.
fn is_name_or_numeral(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '«')
        && !term::is_keyword(t)
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
            // `(x y)`: names with no type given.
            None if !instance && inner.iter().all(|t| is_name_or_numeral(t)) => {
                binders.extend(inner.iter().map(|name| Binder {
                    name,
                    instance,
                    ty: Vec::new(),
                }));
            }
            // `[C α]`: an anonymous instance.
            None => binders.push(Binder {
                name: "",
                instance,
                ty: inner.to_vec(),
            }),
        }
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

/// How `t` changes the bracket depth: +1 for an opening bracket, -1 for a closing one.
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
        // What a file writes before the keyword is not part of the statement's binders.
        assert_eq!(
            canonical_statement(
                "/-- [doc] -/\nattribute [-instance] i in\n@[simp] private theorem t (a b : Nat) : a + b = b + a"
            ),
            canonical_statement("theorem u (x y : Nat) : x + y = y + x")
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
        // The goal after `intro`, read as the canonical form reads it.
        assert_eq!(goal_shape("theorem t : ∀ n : Nat, n = n"), "_ = _");
        let shape = goal_shape("theorem t (p q : Prop) : p → ((q ∨ p))");
        assert_eq!(shape, "_ ∨ _");
        assert_eq!(shape, goal_shape("theorem u (a b : Prop) (h : b) : a ∨ b"));
        assert_eq!(
            goal_shape("theorem t (m n : Nat) : m.gcd n = n.gcd m"),
            goal_shape("theorem u (a b : Nat) : Nat.gcd a b = Nat.gcd b a")
        );
        assert_eq!(
            goal_shape("theorem t (p : Nat → Prop) : ∃ x, p x"),
            "∃ §y0 , _ §y0"
        );
        assert_ne!(
            goal_shape("theorem t (a b : Nat) : a + b = b"),
            goal_shape("theorem t (a b : Nat) : a * b = b")
        );
    }

    /// Asserts that every statement of `same` has one canonical form.
    fn same(statements: &[&str]) {
        let first = canonical_statement(statements[0]);
        for s in &statements[1..] {
            assert_eq!(first, canonical_statement(s), "{}\n{s}", statements[0]);
        }
    }

    /// Asserts that `a` and `b` have different canonical forms.
    fn apart(a: &str, b: &str) {
        assert_ne!(canonical_statement(a), canonical_statement(b), "{a}\n{b}");
    }

    /// Field notation on a variable of known type is the function it names (the twenty-third
    /// audit: the generator writes `y.gcd 0` and `Nat.gcd y 0` alike, and the committed splits
    /// held such pairs across train and test).
    #[test]
    fn field_notation_is_the_function_it_names() {
        same(&[
            "theorem gcd_00091 (y : Nat) : y.gcd 0 = y",
            "theorem gcd_00915 (z : Nat) : Nat.gcd z 0 = z",
            "theorem g : ∀ x : ℕ, Nat.gcd x 0 = x",
        ]);
        same(&[
            "theorem t (m n : Nat) (h : m.Coprime n) : m.gcd n = 1",
            "theorem u (a b : Nat) (hab : Nat.Coprime a b) : Nat.gcd a b = 1",
            "theorem v (b a : Nat) (hab : Nat.Coprime a b) : a.gcd b = 1",
        ]);
        same(&[
            "theorem t (P : Nat → Prop) (h : ∃ k : Nat, P (k.gcd 2)) : True",
            "theorem u (Q : Nat → Prop) (h : ∃ j : Nat, Q (Nat.gcd j 2)) : True",
        ]);
        same(&[
            "theorem t (l : List Nat) : l.length = l.length",
            "theorem u (s : List Nat) : List.length s = s.length",
        ]);
        // In an argument: `Nat.gcd a.succ b` is `Nat.gcd (Nat.succ a) b`.
        same(&[
            "theorem t (a b : Nat) : Nat.gcd a.succ b = 1",
            "theorem u (x y : Nat) : Nat.gcd (Nat.succ x) y = 1",
        ]);
        // Another type, another function.
        apart(
            "theorem t (m n : Int) : m.gcd n = 1",
            "theorem u (m n : Int) : Nat.gcd m n = 1",
        );
        // A variable's type is not a namespace; an inner binder without a type hides the outer.
        apart(
            "theorem t {α : Type} (x : α) : x.f = x.f",
            "theorem u {α : Type} (x : α) : α.f x = x.f",
        );
        apart(
            "theorem t (n : Nat) : ∃ n, n.gcd 1 = 1",
            "theorem u (n : Nat) : ∃ n, Nat.gcd n 1 = 1",
        );
    }

    /// Big operators, binder predicates and set-builder terms bind names too (the twenty-third
    /// audit: `∑ i in s`, `{x | p x}` kept their names; `∀ k < n` took `n` for a bound name).
    #[test]
    fn every_binder_of_the_notation_binds() {
        same(&[
            "theorem t (n : Nat) : ∑ i in Finset.range n, i = n * (n - 1) / 2",
            "theorem u (m : Nat) : ∑ k ∈ Finset.range m, k = m * (m - 1) / 2",
        ]);
        same(&[
            "theorem t (f : Nat → Nat) : ∏ i : Fin 3, f i = 1",
            "theorem u (g : Nat → Nat) : ∏ j : Fin 3, g j = 1",
        ]);
        same(&[
            "theorem t (a : Real) : {x : Real | x < a} = {y : Real | y < a}",
            "theorem u (b : ℝ) : {z : ℝ | z < b} = {w : ℝ | w < b}",
        ]);
        same(&[
            "theorem t (s : Set Nat) (p : Nat → Prop) : {x ∈ s | p x} = s",
            "theorem u (t : Set Nat) (q : Nat → Prop) : {y ∈ t | q y} = t",
        ]);
        // A binder predicate is Lean's expansion: `∀ x < n, p x` is `∀ x, x < n → p x`.
        same(&[
            "theorem t (n : Nat) (P : Nat → Prop) (h : ∀ k < n, P k) (m : Nat) (hm : m < n) : P m",
            "theorem u (a : Nat) (Q : Nat → Prop) (h : ∀ j, j < a → Q j) (b : Nat) (hb : b < a) : Q b",
        ]);
        same(&[
            "theorem t (s : Set Nat) (P : Nat → Prop) : ∀ x ∈ s, P x",
            "theorem u (t : Set Nat) (Q : Nat → Prop) : ∀ y, y ∈ t → Q y",
            "theorem v (t : Set Nat) (Q : Nat → Prop) (y : _) (hy : y ∈ t) : Q y",
        ]);
        apart(
            "theorem t (n m : Nat) (P : Nat → Prop) (h : ∀ k < n, P k) (hm : m < n) : P m",
            "theorem u (n m : Nat) (P : Nat → Prop) (h : ∀ k < m, P k) (hm : m < n) : P m",
        );
        apart(
            "theorem t (s u : Set Nat) (P : Nat → Prop) (h : ∃ x ∈ s, P x) : ∃ x ∈ u, P x",
            "theorem t (s u : Set Nat) (P : Nat → Prop) (h : ∃ x ∈ s, P x) : ∃ x ∈ s, P x",
        );
        apart(
            "theorem t (n : Nat) : ∑ i in Finset.range n, i = n",
            "theorem t (n : Nat) : ∏ i in Finset.range n, i = n",
        );
        // A big operator's body stops at 67, as Mathlib's notation reads it (the twenty-fourth
        // and twenty-fifth audits): `∑ i, f i + 1` is `(∑ i, f i) + 1`.
        same(&[
            "theorem t (n : Nat) : ∑ i in Finset.range n, i + 1 = n",
            "theorem u (m : Nat) : (∑ k in Finset.range m, k) + 1 = m",
        ]);
        apart(
            "theorem t (n : Nat) : ∑ i in Finset.range n, i + 1 = n",
            "theorem t (n : Nat) : ∑ i in Finset.range n, (i + 1) = n",
        );
        // A set-builder term inside a term the parser does not read (`∅`, before it knew it;
        // `-2` still) binds its name too; a predicate's bracketed domain binds nothing.
        same(&[
            "theorem t (a : Nat) : {x : Nat | x < a} = ∅",
            "theorem u (b : Nat) : {y : Nat | y < b} = ∅",
        ]);
        same(&[
            "theorem t (a : Int) : {x : Int | x < a} = {x : Int | -2 < x}",
            "theorem u (b : Int) : {y : Int | y < b} = {z : Int | -2 < z}",
        ]);
        apart(
            "theorem t (a b c : Int) (hb : b < c) (h : -1 < a ∧ ∀ x ∈ Finset.Icc (a + 1) b, x > 0) : True",
            "theorem t (a b c : Int) (hb : b < c) (h : -1 < a ∧ ∀ x ∈ Finset.Icc (a + 1) c, x > 0) : True",
        );
        // Field notation on a big operator's index is not read through its domain.
        apart(
            "theorem t (s : Finset Nat) : ∑ i ∈ s, i.succ = 0",
            "theorem t (s : Finset Nat) : ∑ i ∈ s, s.succ i = 0",
        );
    }

    /// A hostile statement costs neither the stack nor exponential time (the twenty-fifth
    /// audit: 26 nested `{x ∈ …` took 28 s, 10,000 nested binders overflowed the stack).
    #[test]
    fn deep_nesting_stays_cheap() {
        let braces = format!(
            "theorem t (s : Set Nat) : {} = s",
            "{x ∈ ".repeat(40) + "s" + &"}".repeat(40)
        );
        canonical_statement(&braces);
        goal_shape(&braces);
        for unit in ["∑ i in s, ", "{x | ", "∀ k < n, ", "m.gcd (", "(a + "] {
            let statement = format!(
                "theorem t (m n a : Nat) (s : Finset Nat) : {}a",
                unit.repeat(10_000)
            );
            canonical_statement(&statement);
            goal_shape(&statement);
        }
    }

    #[test]
    fn leading_foralls_are_binders() {
        same(&[
            "theorem c03 : ∀ a b : Nat, a * b = b * a",
            "theorem r03 (a b : Nat) : a * b = b * a",
            "theorem s03 (a : Nat) : ∀ (b : Nat), a * b = b * a",
            "theorem t03 : ∀ x : Nat, ∀ y : Nat, y * x = x * y",
        ]);
        // A typeless `∀ x` is `(x : _)`, not `(x : Nat)`: types are not inferred.
        apart("theorem t : ∀ x, x = x", "theorem t (x : Nat) : x = x");
        same(&["theorem t : ∀ x, x = x", "theorem t (x) : x = x"]);
        // A `∀` inside the conclusion is not a binder of the statement.
        apart(
            "theorem t (P : Nat → Prop) : (∀ x, P x) ∧ True",
            "theorem t (P : Nat → Prop) (x : Nat) : P x ∧ True",
        );
        // A name the `∀` shadows, or a free name a premise uses, is not captured.
        same(&[
            "theorem t (x : Nat) : ∀ x : Nat, x = x",
            "theorem t (y : Nat) : ∀ x : Nat, x = x",
        ]);
        apart(
            "theorem t (P : Nat → Prop) : P x → ∀ x, P x",
            "theorem t (P : Nat → Prop) : ∀ x, P x → P x",
        );
    }

    #[test]
    fn arrow_premises_are_anonymous_hypotheses() {
        same(&[
            "theorem c04 (p q : Prop) : p → q → p",
            "theorem r04 (p q : Prop) (hp : p) (hq : q) : p",
            "theorem s04 (p q : Prop) : p -> (q -> p)",
        ]);
        same(&[
            "theorem t (P Q : Nat → Prop) : ∀ x : Nat, P x → Q x",
            "theorem t (P Q : Nat → Prop) (x : Nat) : P x → Q x",
            "theorem t (P Q : Nat → Prop) (x : Nat) (h : P x) : Q x",
        ]);
        // `(p q : Prop) : p → q` and `: q → p` are one theorem renamed; with `p` known apart,
        // the direction matters.
        same(&[
            "theorem t (p q : Prop) : p → q",
            "theorem t (p q : Prop) : q → p",
        ]);
        apart(
            "theorem t (p q : Prop) (hp : p) : p → q",
            "theorem t (p q : Prop) (hp : p) : q → p",
        );
        // `(p → q) → r` has one premise, `p → q`; `p → q → r` has two.
        apart(
            "theorem t (p q r : Prop) : (p → q) → r",
            "theorem t (p q r : Prop) : p → q → r",
        );
        same(&[
            "theorem t (p q r : Prop) : (p → q) → r",
            "theorem t (p q r : Prop) (h : p → q) : r",
        ]);
        // `↔` binds looser than `→`: `p → q ↔ r` is `(p → q) ↔ r`, no premise at all.
        apart(
            "theorem t (p q r : Prop) : p → q ↔ r",
            "theorem t (p q r : Prop) (h : p) : q ↔ r",
        );
        same(&[
            "theorem t (p q r : Prop) : p → (q ↔ r)",
            "theorem t (p q r : Prop) (h : p) : q ↔ r",
        ]);
        // `(∀ x, P x) → Q` has a premise; `∀ x, (P x → Q)` binds `x` first.
        apart(
            "theorem t (P : Nat → Prop) (Q : Prop) : (∀ x, P x) → Q",
            "theorem t (P : Nat → Prop) (Q : Prop) : ∀ x, (P x → Q)",
        );
        // An arrow inside brackets or under `∃` is no premise.
        apart(
            "theorem t (p q : Prop) : (p → q) ∧ p",
            "theorem t (p q : Prop) (h : p) : q ∧ p",
        );
        apart(
            "theorem t (P : Nat → Prop) (q : Prop) : ∃ x, P x → q",
            "theorem t (P : Nat → Prop) (q : Prop) (x : Nat) (h : P x) : q",
        );
    }

    #[test]
    fn negation_is_an_arrow_to_false() {
        same(&[
            "theorem t (p q : Prop) (h : p → q) (hq : ¬q) : ¬p",
            "theorem t (p q : Prop) (h : p → q) (hq : q → False) (hp : p) : False",
        ]);
        // `¬` takes what binds tighter than `∧`: `¬ p ∧ q` is `(¬ p) ∧ q`.
        apart(
            "theorem t (p q : Prop) : ¬ p ∧ q",
            "theorem t (p q : Prop) : ¬ (p ∧ q)",
        );
        same(&[
            "theorem t (p q : Prop) : ¬ p ∧ q",
            "theorem t (p q : Prop) : (p → False) ∧ q",
        ]);
        same(&[
            "theorem t (a b : Nat) : ¬ a = b",
            "theorem t (a b : Nat) (h : a = b) : False",
        ]);
        apart("theorem t (p : Prop) : ¬¬p", "theorem t (p : Prop) : p");
    }

    #[test]
    fn notation_spellings_are_one() {
        same(&[
            "theorem t (a b : ℕ) : a + b = b + a",
            "theorem t (a b : Nat) : a + b = b + a",
        ]);
        same(&[
            "theorem t (x : ℤ) (y : ℚ) (z : ℝ) (w : ℂ) : x = x",
            "theorem t (x : Int) (y : Rat) (z : Real) (w : Complex) : x = x",
        ]);
        same(&[
            "theorem t (f : Nat → Nat) (h : f = fun x ↦ x) : f 0 = 0",
            "theorem t (f : Nat → Nat) (h : f = fun x => x) : f 0 = 0",
            "theorem t (f : Nat → Nat) (h : f = λ y => y) : f 0 = 0",
            "theorem t (f : Nat -> Nat) (h : f = λ y ↦ y) : f 0 = 0",
        ]);
        same(&[
            "theorem t (a b : Nat) : a <= b -> b >= a",
            "theorem t (a b : Nat) : a ≤ b → b ≥ a",
        ]);
        apart(
            "theorem t (f : Nat → Nat) (h : f = fun x => x) : f 0 = 0",
            "theorem t (f : Nat → Nat) (h : f = fun x => 0) : f 0 = 0",
        );
        // Names free in a `fun` body are not bound by it.
        apart(
            "theorem t (h : g = fun x => f x) : True",
            "theorem t (h : g = fun x => k x) : True",
        );
        apart(
            "theorem t (h : g = fun x => x + 1) : True",
            "theorem t (h : g = fun x => x + 2) : True",
        );
    }

    #[test]
    fn redundant_parentheses_do_not_count() {
        same(&[
            "theorem t (a b c : Nat) : (a + b) + c = a + (b + c)",
            "theorem t (a b c : Nat) : a + b + c = a + (b + c)",
            "theorem t (a b c : Nat) : ((a + b) + c) = (a + (b + c))",
        ]);
        apart(
            "theorem t (a b c : Nat) : a + b + c = a + b + c",
            "theorem t (a b c : Nat) : a + b + c = a + (b + c)",
        );
        apart(
            "theorem t (a b c : Nat) : a - b - c = 0",
            "theorem t (a b c : Nat) : a - (b - c) = 0",
        );
        same(&[
            "theorem t (a b c : Nat) : a - b - c = 0",
            "theorem t (a b c : Nat) : (a - b) - c = 0",
        ]);
        same(&[
            "theorem t (a b c : Nat) : a * b + c = 0",
            "theorem t (a b c : Nat) : (a * b) + c = 0",
        ]);
        apart(
            "theorem t (a b c : Nat) : a * (b + c) = 0",
            "theorem t (a b c : Nat) : a * b + c = 0",
        );
        same(&[
            "theorem t (a b c : Nat) : a ^ b ^ c = 0",
            "theorem t (a b c : Nat) : a ^ (b ^ c) = 0",
        ]);
        apart(
            "theorem t (a b c : Nat) : a ^ b ^ c = 0",
            "theorem t (a b c : Nat) : (a ^ b) ^ c = 0",
        );
        same(&[
            "theorem t (p q r : Prop) (h : p ∧ (q ∧ r)) : r",
            "theorem t (p q r : Prop) (h : p ∧ q ∧ r) : r",
        ]);
        apart(
            "theorem t (p q r : Prop) (h : (p ∧ q) ∧ r) : r",
            "theorem t (p q r : Prop) (h : p ∧ q ∧ r) : r",
        );
        same(&[
            "theorem t (p q r : Prop) (h : (p ∧ q) ∨ r) : r",
            "theorem t (p q r : Prop) (h : p ∧ q ∨ r) : r",
        ]);
        apart(
            "theorem t (p q r : Prop) (h : p ∧ (q ∨ r)) : r",
            "theorem t (p q r : Prop) (h : p ∧ q ∨ r) : r",
        );
        same(&[
            "theorem t (f : Nat → Nat) (a : Nat) : f (a) = (f) a",
            "theorem t (f : Nat → Nat) (a : Nat) : f a = f a",
        ]);
        apart(
            "theorem t (f : Nat → Nat) (a b : Nat) : f (a + b) = 0",
            "theorem t (f : Nat → Nat) (a b : Nat) : f a + b = 0",
        );
        same(&[
            "theorem t (f : Nat → Nat → Nat) (a b : Nat) : (f a) b = 0",
            "theorem t (f : Nat → Nat → Nat) (a b : Nat) : f a b = 0",
        ]);
        apart(
            "theorem t (f : Nat → Nat) (g : Nat → Nat) (a : Nat) : f (g a) = 0",
            "theorem t (f : Nat → Nat) (g : Nat → Nat) (a : Nat) : f g a = 0",
        );
        // A binder's body runs to the end: `(∃ x, P x) ∧ q` keeps its parentheses.
        apart(
            "theorem t (P : Nat → Prop) (q : Prop) (h : (∃ x, P x) ∧ q) : q",
            "theorem t (P : Nat → Prop) (q : Prop) (h : ∃ x, P x ∧ q) : q",
        );
        same(&[
            "theorem t (P : Nat → Prop) (q : Prop) (h : q ∧ (∃ x, P x)) : q",
            "theorem t (P : Nat → Prop) (q : Prop) (h : q ∧ ∃ x, P x) : q",
        ]);
        // `(¬ p) = q` is not `¬ (p = q)`.
        apart(
            "theorem t (p q : Prop) : (¬ p) = q",
            "theorem t (p q : Prop) : ¬ p = q",
        );
        // An unknown operator leaves the term as written, parentheses and all.
        apart(
            "theorem t (a b c : Nat) : (a ⊔ b) ⊔ c = 0",
            "theorem t (a b c : Nat) : a ⊔ b ⊔ c = 0",
        );
    }

    #[test]
    fn every_group_of_a_binder_binds() {
        same(&[
            "theorem t (Q : Nat → Prop) (h : ∀ (u : Nat) (v : Nat), Q u → Q v → Q 0) : Q 1",
            "theorem t (Q : Nat → Prop) (h : ∀ (a : Nat) (b : Nat), Q a → Q b → Q 0) : Q 1",
            "theorem t (Q : Nat → Prop) (h : ∀ a b : Nat, Q a → Q b → Q 0) : Q 1",
            "theorem t (Q : Nat → Prop) (h : ∀ a : Nat, ∀ b : Nat, Q a → (Q b → Q 0)) : Q 1",
        ]);
        apart(
            "theorem t (Q : Nat → Prop) (h : ∀ (u : Nat) (v : Nat), Q u → Q v → Q 0) : Q 1",
            "theorem t (Q : Nat → Prop) (h : ∀ (u : Nat) (v : Nat), Q v → Q u → Q 0) : Q 1",
        );
        apart(
            "theorem t (Q : Nat → Prop) (v : Nat) (h : ∀ (u : Nat), Q u → Q v) : Q 1",
            "theorem t (Q : Nat → Prop) (v : Nat) (h : ∀ (u : Nat) (v : Nat), Q u → Q v) : Q 1",
        );
        // In a term this parser leaves raw, too.
        same(&[
            "theorem t (s : Set Nat) (h : ∀ (u : Nat) (v : Nat), u ⊔ v ∈ s) : True",
            "theorem t (s : Set Nat) (h : ∀ (a : Nat) (b : Nat), a ⊔ b ∈ s) : True",
        ]);
        apart(
            "theorem t (s : Set Nat) (h : ∀ (u : Nat) (v : Nat), u ⊔ v ∈ s) : True",
            "theorem t (s : Set Nat) (h : ∀ (u : Nat) (v : Nat), v ⊔ u ∈ s) : True",
        );
    }

    #[test]
    fn ties_are_broken_by_the_least_form() {
        same(&[
            "theorem t (R : Nat → Nat → Prop) (a c b : Nat) (h1 : R a b) (h2 : R b c) (h3 : R c a) : False",
            "theorem t (R : Nat → Nat → Prop) (a b c : Nat) (h1 : R a b) (h2 : R b c) (h3 : R c a) : False",
            "theorem t (R : Nat → Nat → Prop) (c b a : Nat) (h3 : R c a) (h1 : R a b) (h2 : R b c) : False",
        ]);
        // A cycle the other way round is the same cycle renamed; a path is not a cycle.
        same(&[
            "theorem t (R : Nat → Nat → Prop) (a b c : Nat) (h1 : R a b) (h2 : R b c) (h3 : R c a) : False",
            "theorem t (R : Nat → Nat → Prop) (a b c : Nat) (h1 : R b a) (h2 : R c b) (h3 : R a c) : False",
        ]);
        apart(
            "theorem t (R : Nat → Nat → Prop) (a b c : Nat) (h1 : R a b) (h2 : R b c) (h3 : R c a) : False",
            "theorem t (R : Nat → Nat → Prop) (a b c : Nat) (h1 : R a b) (h2 : R b c) (h3 : R a c) : False",
        );
    }

    #[test]
    fn canonical_names_cannot_be_written() {
        apart(
            "theorem t (a : Nat) : a + x0 = 0",
            "theorem t (a : Nat) : a + a = 0",
        );
        apart(
            "theorem t (a : Nat) : (∀ y0, y0 = a) ∧ x0 = 0",
            "theorem t (a : Nat) : (∀ b, b = a) ∧ a = 0",
        );
        apart(
            "theorem t (P : Nat → Prop) : ∀ a, P a ∧ P y0",
            "theorem t (P : Nat → Prop) : ∀ a, P a ∧ P a",
        );
        let form = canonical_statement("theorem t (a : Nat) (h : ∀ b, b = a) : a = 0");
        assert!(form.contains("§x0") && form.contains("§y0"), "{form}");
    }
}
