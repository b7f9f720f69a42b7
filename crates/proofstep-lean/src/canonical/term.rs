//! Lean terms as far as canonical forms need them: a precedence parser for the core infix
//! operators, `¬`, application, bracket groups and the binders `∀ ∃ fun`, and a printer that
//! writes a term back with only the parentheses its structure needs and every name bound inside
//! it renamed in order of binding. Two spellings of one term (`(a + b) + c`, `a + b + c`) parse
//! to one tree and print alike; a term this parser does not know stays raw tokens.

use std::cell::RefCell;
use std::collections::HashMap;

/// The precedence of a name, a numeral or a bracket group (Lean's `max`).
const LEVEL_MAX: u32 = 1024;
/// The precedence of an application or a binder (Lean's `lead`).
const LEVEL_LEAD: u32 = 1022;

/// How an infix operator groups with itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Assoc {
    Left,
    Right,
    Neither,
}

/// An infix operator of Lean's core notation (`Init.Prelude`, `Init.Core`): its token,
/// precedence and associativity.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Op {
    token: &'static str,
    prec: u32,
    assoc: Assoc,
}

/// Lean's own precedences: `infix:20 " ↔ "`, arrows at 25 to the right, `infixr:30 " ∨ "`,
/// `infixr:35 " ∧ "`, the relations `infix:50`, `infixl:65 " + "`, `infixl:70 " * "`,
/// `infixr:75 " ^ "`, and Mathlib's set operators (`∪` 65, `∩` and `\` 70, `⊂ ⊇ ⊃` 50). Any
/// other operator makes its term raw.
const OPS: &[Op] = &[
    op("↔", 20, Assoc::Neither),
    op("→", 25, Assoc::Right),
    op("∨", 30, Assoc::Right),
    op("∧", 35, Assoc::Right),
    op("×", 35, Assoc::Right),
    op("=", 50, Assoc::Neither),
    op("≠", 50, Assoc::Neither),
    op("==", 50, Assoc::Neither),
    op("<", 50, Assoc::Neither),
    op(">", 50, Assoc::Neither),
    op("≤", 50, Assoc::Neither),
    op("≥", 50, Assoc::Neither),
    op("∣", 50, Assoc::Neither),
    op("∈", 50, Assoc::Neither),
    op("∉", 50, Assoc::Neither),
    op("⊆", 50, Assoc::Neither),
    op("⊂", 50, Assoc::Neither),
    op("⊇", 50, Assoc::Neither),
    op("⊃", 50, Assoc::Neither),
    op("+", 65, Assoc::Left),
    op("-", 65, Assoc::Left),
    op("++", 65, Assoc::Left),
    op("∪", 65, Assoc::Left),
    op("::", 67, Assoc::Right),
    op("*", 70, Assoc::Left),
    op("/", 70, Assoc::Left),
    op("%", 70, Assoc::Left),
    op("∩", 70, Assoc::Left),
    op("\\", 70, Assoc::Neither),
    op("^", 75, Assoc::Right),
    op("∘", 90, Assoc::Right),
];

/// An entry of `OPS`.
const fn op(token: &'static str, prec: u32, assoc: Assoc) -> Op {
    Op { token, prec, assoc }
}

impl Op {
    /// The least precedence its left operand may have (`infixl:65` is `lhs:65 "+" rhs:66`).
    fn lhs_min(&self) -> u32 {
        self.prec + u32::from(self.assoc != Assoc::Left)
    }

    /// The precedence its right operand is read at.
    fn rhs_min(&self) -> u32 {
        self.prec + u32::from(self.assoc != Assoc::Right)
    }

    /// Whether this is the arrow `→`.
    pub(super) fn is_arrow(&self) -> bool {
        self.token == "→"
    }
}

/// The infix operator `t` is, if `OPS` has it.
fn infix(t: &str) -> Option<&'static Op> {
    OPS.iter().find(|o| o.token == t)
}

/// A term: what canonical forms compare. Redundant parentheses leave no trace in it, and
/// `¬ p` is read as what it abbreviates, `p → False`.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    Atom(String),
    /// A function and its arguments.
    App(Vec<Expr>),
    Infix(&'static Op, Box<Expr>, Box<Expr>),
    /// `∀`, `∃` or `fun`, the names it binds, and its body.
    Binder(&'static str, Vec<Bound>, Box<Expr>),
    /// `⟨a, b⟩`, `[a, b]`, `{a, b}`, `(a, b)` or `()`: the opening bracket and the elements.
    Group(&'static str, Vec<Expr>),
    /// `(e : T)`, inside a group.
    Ascription(Box<Expr>, Box<Expr>),
    /// Tokens this parser does not read; names bound in them are still renamed.
    Raw(Vec<String>),
}

/// One name a binder binds: its bracket (`""` for a bare name, `(`, `{`, `⦃` or `[`), the name
/// (empty for an anonymous instance `[C α]`) and its type when given.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Bound {
    pub(super) bracket: &'static str,
    pub(super) name: String,
    pub(super) ty: Option<Expr>,
}

/// The term `toks` spell. When the whole does not parse but starts with a binder whose header
/// does, the binder is kept with the rest (its body, which runs to the end) read the same way;
/// otherwise the tokens stay raw.
pub(super) fn parse_term(toks: &[&str]) -> Expr {
    parse_term_within(toks, 0)
}

/// `parse_term` as the body of `depth` binders kept around a term that did not parse whole.
fn parse_term_within(toks: &[&str], depth: usize) -> Expr {
    if depth >= MAX_DEPTH {
        return Expr::Raw(toks.iter().map(|t| t.to_string()).collect());
    }
    let toks = drop_atom_parens(toks);
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        depth: 0,
    };
    if let Some((e, _)) = p.expr(0) {
        if p.pos == toks.len() {
            return e;
        }
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        depth: 0,
    };
    if let Some(q) = p.peek().and_then(quantifier) {
        p.pos += 1;
        if let Some((items, pred)) = p.header(q) {
            let body = parse_term_within(&toks[p.pos..], depth + 1);
            return match pred {
                None => binder(q, items, body),
                Some((rel, domain)) => with_predicate(q, items, rel, domain, body),
            };
        }
    }
    Expr::Raw(toks.iter().map(|t| t.to_string()).collect())
}

/// `toks` with parentheses around a single name, numeral or literal removed (`(a)` is `a`
/// wherever it stands), so raw terms gain from it too. Not around symbols: `(·)` is a function.
fn drop_atom_parens<'a>(toks: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::with_capacity(toks.len());
    for &t in toks {
        let n = out.len();
        if t == ")" && n >= 2 && out[n - 2] == "(" && is_atom(out[n - 1]) {
            let atom = out[n - 1];
            out.truncate(n - 2);
            out.push(atom);
        } else {
            out.push(t);
        }
    }
    out
}

/// `q` binding `items` over `body`, with a body that is the same binder merged in: `∀ x, ∀ y,
/// p` is `∀ x y, p` (Lean expands the latter to the former).
fn binder(q: &'static str, mut items: Vec<Bound>, body: Expr) -> Expr {
    match body {
        Expr::Binder(inner, more, body) if inner == q => {
            items.extend(more);
            Expr::Binder(q, items, body)
        }
        body => Expr::Binder(q, items, Box::new(body)),
    }
}

/// The binder keyword `t` is (`λ` is read as `fun` before this): the quantifiers, `fun`, and
/// the big operators (`∑ i ∈ s, f i`, `⋃ i, s i`, …), whose bodies a bound name runs through.
fn quantifier(t: &str) -> Option<&'static str> {
    match t {
        "∀" => Some("∀"),
        "∃" => Some("∃"),
        "fun" => Some("fun"),
        "∑" => Some("∑"),
        "∏" => Some("∏"),
        "⋃" => Some("⋃"),
        "⋂" => Some("⋂"),
        "⨆" => Some("⨆"),
        "⨅" => Some("⨅"),
        _ => None,
    }
}

/// The precedence a binder's body is read at: Mathlib's big operators stop theirs at 67
/// (`∑ i ∈ s, f i + 1` is `(∑ i ∈ s, f i) + 1`) and at 60 (`⋃ ⋂ ⨆ ⨅`); the others run as far
/// as they can.
fn body_prec(q: &str) -> u32 {
    match q {
        "∑" | "∏" => 67,
        "⋃" | "⋂" | "⨆" | "⨅" => 60,
        _ => 0,
    }
}

/// The binder of a set-builder term `{x | p x}` (printed back in braces).
pub(super) const SET_BUILDER: &str = "{|";

/// A binder predicate: the relation and the term on its right (`< n` of `∀ x < n,`).
type Predicate = (&'static Op, Expr);

/// The relation a binder predicate or a set-builder domain may use (`in` is the older
/// spelling of `∈` in big operators).
fn relation(t: &str) -> Option<&'static Op> {
    let t = if t == "in" { "∈" } else { t };
    infix(t).filter(|op| op.prec == 50 && !matches!(op.token, "=" | "==" | "∣"))
}

/// `q` binding `items` with the predicate `rel domain` over `body`, as Lean expands it: `∀ x <
/// n, p` is `∀ x, x < n → p`, `∃ x ∈ s, p` is `∃ x, x ∈ s ∧ p` (one name after another); a big
/// operator keeps the domain with its bound name (`∑ i ∈ s, f i`).
fn with_predicate(
    q: &'static str,
    mut items: Vec<Bound>,
    rel: &'static Op,
    domain: Expr,
    body: Expr,
) -> Expr {
    let joint = match q {
        "∀" => infix("→"),
        "∃" => infix("∧"),
        _ => None,
    };
    let Some(joint) = joint else {
        for b in &mut items {
            b.bracket = rel.token;
            b.ty = Some(domain.clone());
        }
        return binder(q, items, body);
    };
    let mut e = body;
    for b in items.into_iter().rev() {
        let pred = Expr::Infix(
            rel,
            Box::new(Expr::Atom(b.name.clone())),
            Box::new(domain.clone()),
        );
        e = Expr::Binder(
            q,
            vec![b],
            Box::new(Expr::Infix(joint, Box::new(pred), Box::new(e))),
        );
    }
    e
}

/// Words of the term language that are not names.
pub(super) fn is_keyword(t: &str) -> bool {
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
            | "do"
            | "calc"
    )
}

/// A token that is a term by itself: a name, a numeral, a string or character literal, or a
/// field access split off a name (`.gcd`).
fn is_atom(t: &str) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some('.') => chars.next().is_some_and(|c| c.is_alphabetic() || c == '_'),
        Some('∅') => t == "∅",
        Some(c) => (c.is_alphanumeric() || matches!(c, '_' | '«' | '"' | '\'')) && !is_keyword(t),
        None => false,
    }
}

/// A token that can be a bound name.
fn is_ident(t: &str) -> bool {
    t.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '«') && !is_keyword(t)
}

/// The closing bracket of `open`.
fn closer(open: &str) -> &'static str {
    match open {
        "(" => ")",
        "{" => "}",
        "[" => "]",
        "⦃" => "⦄",
        _ => "⟩",
    }
}

/// A precedence-climbing reader over tokens. Every method returns `None` where the tokens are
/// not what it knows, and the caller keeps them raw.
struct Parser<'t, 'a> {
    toks: &'t [&'a str],
    pos: usize,
    /// Terms being read inside one another now: past `MAX_DEPTH` the term stays raw, so a
    /// hostile statement cannot exhaust the stack.
    depth: usize,
}

/// How deeply terms may nest before the parser gives up (real statements: a few dozen).
const MAX_DEPTH: usize = 200;

impl<'t, 'a> Parser<'t, 'a> {
    /// The next token, not consumed.
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).copied()
    }

    /// The next token, consumed.
    fn next(&mut self) -> Option<&'a str> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    /// Consumes `t`, or fails.
    fn expect(&mut self, t: &str) -> Option<()> {
        (self.next()? == t).then_some(())
    }

    /// A term read at precedence `min`, with the precedence it has: infix operators of at
    /// least `min` extend it. Fails where Lean would refuse (`a = b = c`).
    fn expr(&mut self, min: u32) -> Option<(Expr, u32)> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let read = self.expr_within(min);
        self.depth -= 1;
        read
    }

    /// `expr` below the depth check.
    fn expr_within(&mut self, min: u32) -> Option<(Expr, u32)> {
        let (mut lhs, mut level) = self.leading()?;
        while let Some(op) = self.peek().and_then(infix) {
            if op.prec < min {
                break;
            }
            if level < op.lhs_min() {
                return None;
            }
            self.pos += 1;
            let (rhs, _) = self.expr(op.rhs_min())?;
            lhs = Expr::Infix(op, Box::new(lhs), Box::new(rhs));
            level = op.prec;
        }
        Some((lhs, level))
    }

    /// What starts a term: `¬ p` (`notation:max "¬" p:40`, read as `p → False`), a binder
    /// (its body runs as far as it can), or an application of bracket groups and atoms.
    fn leading(&mut self) -> Option<(Expr, u32)> {
        let t = self.peek()?;
        if t == "¬" {
            self.pos += 1;
            let (p, _) = self.expr(40)?;
            let arrow = infix("→").expect("in OPS");
            let not = Expr::Infix(arrow, Box::new(p), Box::new(Expr::Atom("False".into())));
            return Some((not, LEVEL_MAX));
        }
        if let Some(q) = quantifier(t) {
            self.pos += 1;
            let (items, pred) = self.header(q)?;
            let (body, _) = self.expr(body_prec(q))?;
            let e = match pred {
                None => binder(q, items, body),
                Some((rel, domain)) => with_predicate(q, items, rel, domain, body),
            };
            return Some((e, LEVEL_LEAD));
        }
        let head = self.primary()?;
        let mut args = Vec::new();
        while self.peek().is_some_and(starts_primary) {
            args.push(self.primary()?);
        }
        if args.is_empty() {
            return Some((head, LEVEL_MAX));
        }
        let mut items = match head {
            Expr::App(items) => items,
            head => vec![head],
        };
        items.extend(args);
        Some((Expr::App(items), LEVEL_LEAD))
    }

    /// An atom or a bracket group; a parenthesized term is the term itself.
    fn primary(&mut self) -> Option<Expr> {
        match self.next()? {
            open @ ("(" | "⟨" | "[" | "{") => self.group(open),
            t if is_atom(t) => Some(Expr::Atom(t.to_string())),
            _ => None,
        }
    }

    /// The rest of a bracket group opened by `open`: comma-separated terms, with `(e : T)`
    /// read as an ascription. `( e )` alone is `e`: its parentheses are only grouping.
    fn group(&mut self, open: &str) -> Option<Expr> {
        let close = closer(open);
        let open = match open {
            "(" => "(",
            "⟨" => "⟨",
            "[" => "[",
            _ => "{",
        };
        let mut items = Vec::new();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Some(Expr::Group(open, items));
        }
        if open == "{" {
            if let Some(set) = self.set_builder() {
                return Some(set);
            }
        }
        loop {
            let (mut e, _) = self.expr(0)?;
            if open == "(" && self.peek() == Some(":") {
                self.pos += 1;
                let (ty, _) = self.expr(0)?;
                e = Expr::Ascription(Box::new(e), Box::new(ty));
            }
            items.push(e);
            match self.next()? {
                "," => continue,
                t if t == close => break,
                _ => return None,
            }
        }
        if open == "(" && items.len() == 1 && !matches!(items[0], Expr::Ascription(..)) {
            return items.pop();
        }
        Some(Expr::Group(open, items))
    }

    /// The rest of a set-builder term after its `{`: `x | p x`, `x : T | p x` or `x ∈ s | p x`,
    /// read as a binder (`SET_BUILDER`) of `x` over `p x`. None (nothing consumed) for any other
    /// brace group.
    fn set_builder(&mut self) -> Option<Expr> {
        // Only a group with a `|` of its own is tried (a look ahead, not a parse: reading each
        // nested `{` twice would take time exponential in the nesting).
        let mut depth = 0i32;
        let bar = self.toks[self.pos..].iter().find_map(|t| {
            if depth == 0 && *t == "|" {
                return Some(true);
            }
            depth += super::bracket(t);
            (depth < 0).then_some(false)
        });
        if bar != Some(true) {
            return None;
        }
        let start = self.pos;
        let read = |p: &mut Self| -> Option<Expr> {
            let name = p.next().filter(|t| is_ident(t))?.to_string();
            let (bracket, ty) = match p.next()? {
                "|" => ("", None),
                ":" => {
                    let (ty, _) = p.expr(0)?;
                    p.expect("|")?;
                    ("(", Some(ty))
                }
                t => {
                    let rel = relation(t)?;
                    let (domain, _) = p.expr(0)?;
                    p.expect("|")?;
                    (rel.token, Some(domain))
                }
            };
            let (body, _) = p.expr(0)?;
            p.expect("}")?;
            let bound = Bound { bracket, name, ty };
            Some(Expr::Binder(SET_BUILDER, vec![bound], Box::new(body)))
        };
        let set = read(self);
        if set.is_none() {
            self.pos = start;
        }
        set
    }

    /// A binder's header up to its `,` (`=>` for `fun`): bare names, `x y : T`, or bracketed
    /// groups. `x : T` is the same as `(x : T)`. Bare names may end with a binder predicate
    /// (`x < n`, `i ∈ s`, `i in s`), returned apart: the relation and its right side.
    fn header(&mut self, q: &str) -> Option<(Vec<Bound>, Option<Predicate>)> {
        let end = if q == "fun" { "=>" } else { "," };
        let mut items: Vec<Bound> = Vec::new();
        loop {
            match self.next()? {
                t if t == end => break,
                t if q != "fun" && relation(t).is_some() => {
                    if items.is_empty() || items.iter().any(|b| !b.bracket.is_empty()) {
                        return None;
                    }
                    let rel = relation(t)?;
                    let (domain, _) = self.expr(0)?;
                    self.expect(end)?;
                    return Some((items, Some((rel, domain))));
                }
                ":" => {
                    if items.is_empty() || items.iter().any(|b| !b.bracket.is_empty()) {
                        return None;
                    }
                    let (ty, _) = self.expr(0)?;
                    for b in &mut items {
                        b.bracket = "(";
                        b.ty = Some(ty.clone());
                    }
                    self.expect(end)?;
                    break;
                }
                open @ ("(" | "{" | "⦃" | "[") => items.extend(self.binder_group(open)?),
                t if is_ident(t) => items.push(Bound {
                    bracket: "",
                    name: t.to_string(),
                    ty: None,
                }),
                _ => return None,
            }
        }
        (!items.is_empty()).then_some((items, None))
    }

    /// The rest of a bracketed binder group: `(x y : T)`, `{x}`, `[inst : C]` or `[C α]`.
    fn binder_group(&mut self, open: &str) -> Option<Vec<Bound>> {
        let close = closer(open);
        let bracket = match open {
            "(" => "(",
            "{" => "{",
            "⦃" => "⦃",
            _ => "[",
        };
        if bracket == "[" && self.toks.get(self.pos + 1) != Some(&":") {
            let (ty, _) = self.expr(0)?;
            self.expect(close)?;
            return Some(vec![Bound {
                bracket,
                name: String::new(),
                ty: Some(ty),
            }]);
        }
        let mut names = Vec::new();
        while let Some(t) = self.peek().filter(|t| is_ident(t)) {
            names.push(t.to_string());
            self.pos += 1;
        }
        if names.is_empty() {
            return None;
        }
        let ty = if self.peek() == Some(":") {
            self.pos += 1;
            Some(self.expr(0)?.0)
        } else {
            None
        };
        self.expect(close)?;
        let bracket = if bracket == "(" && ty.is_none() {
            ""
        } else {
            bracket
        };
        Some(
            names
                .into_iter()
                .map(|name| Bound {
                    bracket,
                    name,
                    ty: ty.clone(),
                })
                .collect(),
        )
    }
}

/// Whether `t` can start an argument of an application.
fn starts_primary(t: &str) -> bool {
    matches!(t, "(" | "⟨" | "[" | "{") || is_atom(t)
}

/// The precedence `e` has when written without parentheses around it.
fn level(e: &Expr) -> u32 {
    match e {
        Expr::Atom(_) | Expr::Group(..) | Expr::Ascription(..) => LEVEL_MAX,
        Expr::Binder(q, ..) if *q == SET_BUILDER => LEVEL_MAX,
        Expr::App(_) | Expr::Binder(..) => LEVEL_LEAD,
        Expr::Infix(op, ..) => op.prec,
        Expr::Raw(_) => 0,
    }
}

/// The least precedence of an operator that, written right after `e`, would be read into `e`
/// (its last operand, or a binder's body) rather than take `e` whole.
fn absorbs(e: &Expr) -> u32 {
    match e {
        Expr::Infix(op, _, r) if level(r) >= op.rhs_min() => op.rhs_min().min(absorbs(r)),
        Expr::Infix(op, ..) => op.rhs_min(),
        Expr::Binder(q, ..) if *q == SET_BUILDER => u32::MAX,
        Expr::Binder(q, ..) => body_prec(q),
        Expr::Raw(_) => 0,
        _ => u32::MAX,
    }
}

/// `e` written as tokens joined by spaces, with the fewest parentheses that keep its structure
/// and bound names renamed `§y0`, `§y1`, ... in order of binding; other names as `naming`
/// says, or as they are.
pub(super) fn print(e: &Expr, naming: &dyn Fn(&str) -> Option<String>) -> String {
    let mut p = Printer {
        naming,
        scopes: Vec::new(),
        locals: 0,
        out: Vec::new(),
    };
    p.expr(e);
    p.out.join(" ")
}

/// The names `e` uses without binding them, in order of first use (with every other token
/// not bound in `e`).
pub(super) fn free_names(e: &Expr) -> Vec<String> {
    let seen: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let record = |t: &str| {
        let mut seen = seen.borrow_mut();
        if !seen.iter().any(|s| s == t) {
            seen.push(t.to_string());
        }
        None
    };
    print(e, &record);
    seen.into_inner()
}

/// `e` with every occurrence of the name `from`, bound or free, written `to`: renaming a
/// binder's name throughout its body when `to` occurs nowhere.
pub(super) fn rename(e: &mut Expr, from: &str, to: &str) {
    match e {
        Expr::Atom(t) => {
            if t == from {
                *t = to.to_string();
            }
        }
        Expr::App(items) | Expr::Group(_, items) => {
            items.iter_mut().for_each(|i| rename(i, from, to));
        }
        Expr::Infix(_, l, r) | Expr::Ascription(l, r) => {
            rename(l, from, to);
            rename(r, from, to);
        }
        Expr::Binder(_, items, body) => {
            rename_bound(items, from, to);
            rename(body, from, to);
        }
        Expr::Raw(toks) => toks
            .iter_mut()
            .filter(|t| *t == from)
            .for_each(|t| *t = to.to_string()),
    }
}

/// `e` with generalized field notation on a variable of known type written as the function it
/// stands for, as Lean elaborates it: `m.gcd n` (the tokens `m .gcd n`) with `m : Nat` is
/// `Nat.gcd m n`. `types` maps each variable in scope to the head constant of its type, none
/// when it is not known; a name bound inside `e` counts with its own type in its scope (none
/// when no type is written, or when it ranges over a domain: `∑ i ∈ s`).
pub(super) fn resolve_fields(e: &mut Expr, types: &HashMap<String, Option<String>>) {
    match e {
        Expr::Atom(_) | Expr::Raw(_) => {}
        Expr::App(items) => {
            if let [Expr::Atom(var), Expr::Atom(field), ..] = items.as_slice() {
                if field.starts_with('.') {
                    if let Some(Some(ty)) = types.get(var) {
                        let var = items[0].clone();
                        items[0] = Expr::Atom(ty.clone());
                        items.insert(2, var);
                    }
                }
            }
            // An argument written `v.f` (split into `v`, `.f`) is the application `T.f v`.
            let mut i = 1;
            while i + 1 < items.len() {
                let resolved = match (&items[i], &items[i + 1]) {
                    (Expr::Atom(var), Expr::Atom(field)) if field.starts_with('.') => {
                        match types.get(var) {
                            Some(Some(ty)) => Some(Expr::App(vec![
                                Expr::Atom(ty.clone()),
                                items[i + 1].clone(),
                                items[i].clone(),
                            ])),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(app) = resolved {
                    items.splice(i..i + 2, [app]);
                }
                i += 1;
            }
            items.iter_mut().for_each(|i| resolve_fields(i, types));
        }
        Expr::Group(_, items) => items.iter_mut().for_each(|i| resolve_fields(i, types)),
        Expr::Infix(_, l, r) | Expr::Ascription(l, r) => {
            resolve_fields(l, types);
            resolve_fields(r, types);
        }
        Expr::Binder(_, items, body) => {
            let mut inner = types.clone();
            for b in items.iter_mut() {
                if let Some(ty) = &mut b.ty {
                    resolve_fields(ty, &inner);
                }
                let head = match &b.ty {
                    Some(ty) if relation(b.bracket).is_none() => type_head(ty, &inner),
                    _ => None,
                };
                inner.insert(b.name.clone(), head);
            }
            resolve_fields(body, &inner);
        }
    }
}

/// The constant at the head of a type (`Nat`, `List` in `List α`), where field notation on a
/// term of that type looks its function up; none for a variable (a name in `types`, known type
/// or not) or any other shape.
pub(super) fn type_head(ty: &Expr, types: &HashMap<String, Option<String>>) -> Option<String> {
    let head = match ty {
        Expr::Atom(t) => t,
        Expr::App(items) => match items.first() {
            Some(Expr::Atom(t)) if !items.get(1).is_some_and(is_field) => t,
            _ => return None,
        },
        _ => return None,
    };
    (is_ident(head) && !types.contains_key(head)).then(|| head.clone())
}

/// A field access split off a name (`.gcd`).
fn is_field(e: &Expr) -> bool {
    matches!(e, Expr::Atom(t) if t.starts_with('.'))
}

/// `rename` over binder items: their names and types.
pub(super) fn rename_bound(items: &mut [Bound], from: &str, to: &str) {
    for b in items {
        if b.name == from {
            b.name = to.to_string();
        }
        if let Some(ty) = &mut b.ty {
            rename(ty, from, to);
        }
    }
}

/// Writes terms out for `print`.
struct Printer<'n> {
    naming: &'n dyn Fn(&str) -> Option<String>,
    /// Names bound where the printer is, innermost last: the name as written and as printed.
    scopes: Vec<(String, String)>,
    locals: usize,
    out: Vec<String>,
}

impl Printer<'_> {
    /// A token that may be a name: bound here, named by `naming`, or as it is.
    fn name(&mut self, t: &str) {
        let printed = self
            .scopes
            .iter()
            .rev()
            .find(|(written, _)| written == t)
            .map(|(_, printed)| printed.clone())
            .or_else(|| (self.naming)(t))
            .unwrap_or_else(|| t.to_string());
        self.out.push(printed);
    }

    /// The printed name of the next bound name `written` (`_` stays `_`).
    fn bind(&mut self, written: &str) -> String {
        if written == "_" || written.is_empty() {
            return written.to_string();
        }
        let printed = format!("§y{}", self.locals);
        self.locals += 1;
        printed
    }

    /// `e` in parentheses when `parens`.
    fn wrapped(&mut self, e: &Expr, parens: bool) {
        if parens {
            self.out.push("(".into());
        }
        self.expr(e);
        if parens {
            self.out.push(")".into());
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Atom(t) => self.name(t),
            Expr::App(items) => {
                for item in items {
                    self.wrapped(item, level(item) < LEVEL_MAX);
                }
            }
            Expr::Infix(op, l, r) => {
                let bare = level(l) >= op.lhs_min() && absorbs(l) > op.prec;
                self.wrapped(l, !bare);
                self.out.push(op.token.into());
                self.wrapped(r, level(r) < op.rhs_min());
            }
            Expr::Binder(q, items, body) if *q == SET_BUILDER => {
                let depth = self.scopes.len();
                self.out.push("{".into());
                items.iter().for_each(|b| self.bound(b));
                self.out.push("|".into());
                self.expr(body);
                self.out.push("}".into());
                self.scopes.truncate(depth);
            }
            Expr::Binder(q, items, body) => {
                let depth = self.scopes.len();
                self.out.push(q.to_string());
                for b in items {
                    self.bound(b);
                }
                self.out
                    .push(if *q == "fun" { "=>" } else { "," }.to_string());
                self.wrapped(body, level(body) < body_prec(q));
                self.scopes.truncate(depth);
            }
            Expr::Group(open, items) => {
                self.out.push(open.to_string());
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(",".into());
                    }
                    self.expr(item);
                }
                self.out.push(closer(open).into());
            }
            Expr::Ascription(e, ty) => {
                self.expr(e);
                self.out.push(":".into());
                self.expr(ty);
            }
            Expr::Raw(toks) => self.raw(toks),
        }
    }

    /// One bound name with its bracket and type; in scope from the next item on.
    fn bound(&mut self, b: &Bound) {
        let printed = self.bind(&b.name);
        if b.bracket.is_empty() {
            self.out.push(printed.clone());
        } else if relation(b.bracket).is_some() {
            // A big operator's or a set-builder's domain: `i ∈ s`.
            self.out.push(printed.clone());
            self.out.push(b.bracket.into());
            if let Some(ty) = &b.ty {
                self.expr(ty);
            }
        } else {
            self.out.push(b.bracket.into());
            if !printed.is_empty() {
                self.out.push(printed.clone());
            }
            if let Some(ty) = &b.ty {
                if !printed.is_empty() {
                    self.out.push(":".into());
                }
                self.expr(ty);
            }
            self.out.push(closer(b.bracket).into());
        }
        if !printed.is_empty() && printed != "_" {
            self.scopes.push((b.name.clone(), printed));
        }
    }

    /// Raw tokens, with the names binders among them bind (`∀ x y,`, `∃ (u : T) (v : U),`,
    /// `fun z =>`: bare names and names before a group's `:`) renamed from there to the end.
    fn raw(&mut self, toks: &[String]) {
        let depth_at_start = self.scopes.len();
        let mut header: Option<i32> = None;
        let mut names_ok = false;
        let mut typed = false;
        let mut depth = 0i32;
        let mut set_name: Option<&String> = None;
        for (i, t) in toks.iter().enumerate() {
            let step = super::bracket(t);
            if set_name.is_some_and(|n| std::ptr::eq(n, t)) {
                // The name a set-builder term binds (`{x | …}`, `{x : T | …}`, `{x ∈ s | …}`).
                set_name = None;
                let printed = self.bind(t);
                self.out.push(printed.clone());
                if printed != "_" {
                    self.scopes.push((t.clone(), printed));
                }
                continue;
            }
            if t == "{" {
                if let [name, after, ..] = &toks[i + 1..] {
                    let binds = after == "|" || after == ":" || relation(after).is_some();
                    if binds && is_ident(name) {
                        set_name = Some(name);
                    }
                }
            }
            if quantifier(t).is_some() {
                (header, names_ok, typed) = (Some(depth), true, false);
            } else if let Some(h) = header {
                if depth == h && matches!(t.as_str(), "," | "=>") {
                    header = None;
                } else if t == ":" {
                    names_ok = false;
                    typed |= depth == h;
                } else if depth == h && infix(t).is_some_and(|op| op.prec == 50) {
                    // A binder predicate (`∀ x < n,`): what follows is a term, not names,
                    // brackets and all.
                    names_ok = false;
                    typed = true;
                } else if (step > 0 && depth == h) || (step < 0 && depth == h + 1) {
                    // A group of the header opens (its names come first) or closes.
                    names_ok = !typed;
                } else if names_ok && is_ident(t) {
                    let printed = self.bind(t);
                    self.out.push(printed.clone());
                    if printed != "_" {
                        self.scopes.push((t.clone(), printed));
                    }
                    continue;
                }
            }
            depth += step;
            self.name(t);
        }
        self.scopes.truncate(depth_at_start);
    }
}
