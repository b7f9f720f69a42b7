//! Propositional theorems: a random goal over atoms (∧ ∨ → ¬ ↔ True), a proof tree built by
//! introduction rules whose leaves draw on hypotheses made for them (the atom itself, a
//! conjunction holding it, an implication or equivalence leading to it, a contradiction),
//! plus distractor hypotheses; the tree is then written as tactics in randomly chosen styles
//! (`constructor` with or without bullets, `refine ⟨?_, ?_⟩`, anonymous constructors, `apply`
//! vs `exact` terms, `rw` with an equivalence, `assumption`, ...).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{bullet, pick, Draft, GenOptions};

const ATOMS: [&str; 6] = ["p", "q", "r", "s", "t", "u"];
const INTROS: [&str; 10] = ["ha", "hb", "hc", "hd", "he", "hf", "hg", "hi", "hj", "hk"];

/// A propositional formula over `ATOMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum F {
    Atom(usize),
    True,
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Imp(Box<F>, Box<F>),
    Iff(Box<F>, Box<F>),
    Not(Box<F>),
}

impl F {
    fn is_binary(&self) -> bool {
        matches!(self, F::And(..) | F::Or(..) | F::Imp(..) | F::Iff(..))
    }

    fn atoms(&self, out: &mut Vec<usize>) {
        match self {
            F::Atom(i) => out.push(*i),
            F::True => {}
            F::Not(a) => a.atoms(out),
            F::And(a, b) | F::Or(a, b) | F::Imp(a, b) | F::Iff(a, b) => {
                a.atoms(out);
                b.atoms(out);
            }
        }
    }

    fn render(&self) -> String {
        let binary = |a: &F, b: &F, op: &str, right_assoc: bool| {
            let l = if a.is_binary() {
                format!("({})", a.render())
            } else {
                a.render()
            };
            let same = std::mem::discriminant(self) == std::mem::discriminant(b);
            let r = if b.is_binary() && !(right_assoc && same) {
                format!("({})", b.render())
            } else {
                b.render()
            };
            format!("{l} {op} {r}")
        };
        match self {
            F::Atom(i) => ATOMS[*i].to_string(),
            F::True => "True".to_string(),
            F::Not(a) if a.is_binary() || matches!(**a, F::Not(_)) => format!("¬({})", a.render()),
            F::Not(a) => format!("¬{}", a.render()),
            F::And(a, b) => binary(a, b, "∧", true),
            F::Or(a, b) => binary(a, b, "∨", true),
            F::Imp(a, b) => binary(a, b, "→", true),
            F::Iff(a, b) => binary(a, b, "↔", false),
        }
    }
}

/// A proof of a goal, before it is written in some style.
#[derive(Clone, Debug)]
enum Pf {
    /// A term already in the context (`h`, `h.1`, `ha.right`).
    Term(String),
    /// `f : A → goal` applied to a proof of `A`.
    Apply(String, Box<Pf>),
    /// `h.mp`/`h.mpr` of an equivalence applied to a proof of the other side; `rw` names the
    /// rewrite that turns the goal into that side.
    Iff {
        h: String,
        dir: &'static str,
        rw: String,
        arg: Box<Pf>,
    },
    AndI(Box<Pf>, Box<Pf>),
    OrI(bool, Box<Pf>),
    ImpI(String, Box<Pf>),
    IffI(Box<Pf>, Box<Pf>),
    TrueI,
    /// From `pos : X` and `neg : ¬X`.
    Absurd {
        pos: String,
        neg: String,
    },
}

struct Gen<'a> {
    rng: &'a mut StdRng,
    natoms: usize,
    depth: usize,
    /// Complex hypotheses still allowed.
    budget: usize,
    hyps: Vec<(String, F)>,
    names: Vec<usize>,
    intros: usize,
}

impl Gen<'_> {
    fn formula(&mut self, depth: usize) -> F {
        let atom = F::Atom(self.rng.random_range(0..self.natoms));
        if depth == 0 {
            return atom;
        }
        let sub = |g: &mut Self| {
            let d = g.rng.random_range(0..depth);
            Box::new(g.formula(d))
        };
        match self.rng.random_range(0..20) {
            0..=4 => F::And(sub(self), sub(self)),
            5..=8 => F::Or(sub(self), sub(self)),
            9..=14 => F::Imp(sub(self), sub(self)),
            15..=16 => F::Iff(sub(self), sub(self)),
            17 => F::Not(sub(self)),
            18 => F::True,
            _ => atom,
        }
    }

    fn hyp(&mut self, f: F) -> String {
        let n = self.hyps.len();
        let name = match self.names.get(n) {
            Some(k) => format!("h{k}"),
            None => format!("h{}", n + 1),
        };
        self.hyps.push((name.clone(), f));
        name
    }

    fn intro(&mut self) -> String {
        let name = INTROS[self.intros % INTROS.len()].to_string();
        self.intros += 1;
        name
    }

    fn prove(&mut self, goal: &F, ctx: &[(String, F)]) -> Pf {
        if let Some((name, _)) = ctx.iter().find(|(_, f)| f == goal) {
            if self.rng.random_bool(0.9) {
                return Pf::Term(name.clone());
            }
        }
        match goal {
            F::True => Pf::TrueI,
            F::And(a, b) => Pf::AndI(Box::new(self.prove(a, ctx)), Box::new(self.prove(b, ctx))),
            F::Or(a, b) => {
                let left = self.rng.random_bool(0.5);
                let side = if left { a } else { b };
                Pf::OrI(left, Box::new(self.prove(side, ctx)))
            }
            F::Imp(a, b) => {
                let name = self.intro();
                let mut inner = ctx.to_vec();
                inner.push((name.clone(), (**a).clone()));
                Pf::ImpI(name, Box::new(self.prove(b, &inner)))
            }
            F::Iff(a, b) => {
                let to = self.prove(&F::Imp(a.clone(), b.clone()), ctx);
                let from = self.prove(&F::Imp(b.clone(), a.clone()), ctx);
                Pf::IffI(Box::new(to), Box::new(from))
            }
            F::Not(a) => {
                // ¬a from `hk : a → x` and `hn : ¬x`.
                let name = self.intro();
                let x = F::Atom(self.rng.random_range(0..self.natoms));
                let hk = self.hyp(F::Imp(a.clone(), Box::new(x.clone())));
                let hn = self.hyp(F::Not(Box::new(x)));
                let body = Pf::Apply(
                    hn,
                    Box::new(Pf::Apply(hk, Box::new(Pf::Term(name.clone())))),
                );
                Pf::ImpI(name, Box::new(body))
            }
            F::Atom(i) => self.atom(*i, ctx),
        }
    }

    /// A proof of atom `i`: from the context, or from a hypothesis made for it.
    fn atom(&mut self, i: usize, ctx: &[(String, F)]) -> Pf {
        let target = F::Atom(i);
        for (name, f) in ctx {
            if let F::And(a, b) = f {
                if **a == target && self.rng.random_bool(0.8) {
                    return Pf::Term(format!("{name}.{}", pick(self.rng, &["1", "left"])));
                }
                if **b == target && self.rng.random_bool(0.8) {
                    return Pf::Term(format!("{name}.{}", pick(self.rng, &["2", "right"])));
                }
            }
        }
        if self.budget == 0 || self.rng.random_bool(0.35) {
            return Pf::Term(self.hyp(target));
        }
        self.budget -= 1;
        let other = F::Atom((i + self.rng.random_range(1..self.natoms)) % self.natoms);
        match self.rng.random_range(0..12) {
            0..=2 => {
                let right = self.rng.random_bool(0.5);
                let d = self.rng.random_range(0..2);
                let partner = self.formula(d);
                let (f, field) = if right {
                    (
                        F::And(Box::new(partner), Box::new(target)),
                        pick(self.rng, &["2", "right"]),
                    )
                } else {
                    (
                        F::And(Box::new(target), Box::new(partner)),
                        pick(self.rng, &["1", "left"]),
                    )
                };
                let h = self.hyp(f);
                Pf::Term(format!("{h}.{field}"))
            }
            3..=6 => {
                let d = self.rng.random_range(0..self.depth.min(2));
                let mut premise = self.formula(d);
                if premise.atoms_contains(i) {
                    premise = other;
                }
                let h = self.hyp(F::Imp(Box::new(premise.clone()), Box::new(target)));
                let arg = self.prove(&premise, ctx);
                Pf::Apply(h, Box::new(arg))
            }
            7..=9 => {
                let forward = self.rng.random_bool(0.5);
                let (f, dir, rw) = if forward {
                    (
                        F::Iff(Box::new(other.clone()), Box::new(target)),
                        "mp",
                        "← ",
                    )
                } else {
                    (F::Iff(Box::new(target), Box::new(other.clone())), "mpr", "")
                };
                let h = self.hyp(f);
                let arg = self.prove(&other, ctx);
                Pf::Iff {
                    rw: format!("{rw}{h}"),
                    h,
                    dir,
                    arg: Box::new(arg),
                }
            }
            _ => {
                let d = self.rng.random_range(0..2);
                let x = self.formula(d);
                let pos = self.hyp(x.clone());
                let neg = self.hyp(F::Not(Box::new(x)));
                Pf::Absurd { pos, neg }
            }
        }
    }
}

impl F {
    fn atoms_contains(&self, i: usize) -> bool {
        let mut v = Vec::new();
        self.atoms(&mut v);
        v.contains(&i)
    }
}

/// Wraps a term in parentheses when it is not a single token or anonymous constructor.
fn paren(t: String) -> String {
    if t.contains(' ') && !t.starts_with('⟨') {
        format!("({t})")
    } else {
        t
    }
}

fn term(pf: &Pf) -> String {
    match pf {
        Pf::Term(t) => t.clone(),
        Pf::Apply(f, arg) => format!("{f} {}", paren(term(arg))),
        Pf::Iff { h, dir, arg, .. } => format!("{h}.{dir} {}", paren(term(arg))),
        Pf::AndI(a, b) | Pf::IffI(a, b) => format!("⟨{}, {}⟩", term(a), term(b)),
        Pf::OrI(left, a) => {
            format!(
                "Or.{} {}",
                if *left { "inl" } else { "inr" },
                paren(term(a))
            )
        }
        Pf::ImpI(n, body) => format!("fun {n} => {}", term(body)),
        Pf::TrueI => "trivial".to_string(),
        Pf::Absurd { pos, neg } => format!("absurd {pos} {neg}"),
    }
}

/// Terms longer than this are written as tactics instead.
const SHORT: usize = 48;

fn tactics(pf: &Pf, rng: &mut StdRng) -> Vec<String> {
    let short = |p: &Pf| term(p).chars().count() <= SHORT;
    let mut out = Vec::new();
    match pf {
        Pf::Term(t) => {
            let plain = !t.contains('.');
            if plain && rng.random_bool(0.25) {
                out.push("assumption".into());
            } else {
                out.push(format!("exact {t}"));
            }
        }
        Pf::Apply(f, arg) => match rng.random_range(0..3) {
            0 if short(pf) => out.push(format!("exact {}", term(pf))),
            1 => {
                out.push(format!("refine {f} ?_"));
                out.extend(tactics(arg, rng));
            }
            _ => {
                out.push(format!("apply {f}"));
                out.extend(tactics(arg, rng));
            }
        },
        Pf::Iff { h, dir, rw, arg } => match rng.random_range(0..3) {
            0 if short(pf) => out.push(format!("exact {}", term(pf))),
            1 => {
                out.push(format!("rw [{rw}]"));
                out.extend(tactics(arg, rng));
            }
            _ => {
                out.push(format!("apply {h}.{dir}"));
                out.extend(tactics(arg, rng));
            }
        },
        Pf::AndI(a, b) | Pf::IffI(a, b) => {
            let intro = if matches!(pf, Pf::AndI(..)) {
                "And.intro"
            } else {
                "Iff.intro"
            };
            match rng.random_range(0..5) {
                0 if short(pf) => out.push(format!("exact {}", term(pf))),
                1 => {
                    out.push("constructor".into());
                    out.extend(tactics(a, rng));
                    out.extend(tactics(b, rng));
                }
                2 => {
                    out.push("refine ⟨?_, ?_⟩".into());
                    out.extend(bullet(tactics(a, rng)));
                    out.extend(bullet(tactics(b, rng)));
                }
                3 => {
                    out.push(format!("apply {intro}"));
                    out.extend(bullet(tactics(a, rng)));
                    out.extend(bullet(tactics(b, rng)));
                }
                _ => {
                    out.push("constructor".into());
                    out.extend(bullet(tactics(a, rng)));
                    out.extend(bullet(tactics(b, rng)));
                }
            }
        }
        Pf::OrI(left, a) => match rng.random_range(0..3) {
            0 if short(pf) => out.push(format!("exact {}", term(pf))),
            1 => {
                out.push(format!("apply Or.{}", if *left { "inl" } else { "inr" }));
                out.extend(tactics(a, rng));
            }
            _ => {
                out.push(if *left { "left" } else { "right" }.into());
                out.extend(tactics(a, rng));
            }
        },
        Pf::ImpI(..) => {
            let mut names = Vec::new();
            let mut body = pf;
            while let Pf::ImpI(n, b) = body {
                names.push(n.clone());
                body = b;
            }
            match rng.random_range(0..3) {
                0 if short(pf) => out.push(format!("exact {}", term(pf))),
                1 => {
                    for n in &names {
                        out.push(format!("intro {n}"));
                    }
                    out.extend(tactics(body, rng));
                }
                _ => {
                    out.push(format!("intro {}", names.join(" ")));
                    out.extend(tactics(body, rng));
                }
            }
        }
        Pf::TrueI => out.push(pick(rng, &["trivial", "exact True.intro"]).to_string()),
        Pf::Absurd { pos, neg } => match rng.random_range(0..4) {
            0 => out.push(format!("exact absurd {pos} {neg}")),
            1 => {
                out.push("exfalso".into());
                out.push(format!("exact {neg} {pos}"));
            }
            2 => out.push("contradiction".into()),
            _ => out.push(format!("exact ({neg} {pos}).elim")),
        },
    }
    out
}

/// One propositional theorem.
pub fn draft(rng: &mut StdRng, options: &GenOptions) -> Draft {
    let natoms = rng.random_range(2..=ATOMS.len().min(2 + options.depth));
    let mut names: Vec<usize> = (1..=(9 + options.hypotheses * 2 + options.distractors)).collect();
    names.shuffle(rng);
    let depth = options.depth.max(1);
    let mut gen = Gen {
        rng,
        natoms,
        depth,
        budget: options.hypotheses,
        hyps: Vec::new(),
        names,
        intros: 0,
    };
    let d = gen.rng.random_range(1..=depth);
    let mut goal = gen.formula(d);
    while matches!(goal, F::True | F::Atom(_)) {
        goal = gen.formula(d);
    }
    let pf = gen.prove(&goal, &[]);
    let ndistract = gen.rng.random_range(0..=options.distractors);
    for _ in 0..ndistract {
        let d = gen.rng.random_range(0..2);
        let f = gen.formula(d);
        gen.hyp(f);
    }
    let mut hyps = std::mem::take(&mut gen.hyps);
    hyps.shuffle(gen.rng);
    let proof = tactics(&pf, gen.rng);
    let mut used = Vec::new();
    goal.atoms(&mut used);
    for (_, f) in &hyps {
        f.atoms(&mut used);
    }
    used.sort_unstable();
    used.dedup();
    let mut parts = Vec::new();
    if !used.is_empty() {
        let atoms: Vec<&str> = used.iter().map(|&i| ATOMS[i]).collect();
        parts.push(format!("({} : Prop)", atoms.join(" ")));
    }
    for (name, f) in &hyps {
        parts.push(format!("({name} : {})", f.render()));
    }
    let binders = parts.join(" ");
    Draft {
        binders,
        goal: goal.render(),
        proof,
    }
}
