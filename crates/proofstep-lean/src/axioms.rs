//! Which axioms a proof may rest on, and reading Lean's `#print axioms` answer.
//!
//! A proof with no error and no `sorry` in its own text can still prove nothing: it may use an
//! earlier lemma whose proof is `sorry` or failed (Lean adds such a lemma with `sorryAx`), a
//! file's own `axiom`, or `native_decide` (`Lean.ofReduceBool`). Every final check therefore
//! asks Lean, in the same command as the proof, which axioms the theorem depends on, and only
//! a theorem whose axioms are all allowed counts as proved.

use std::collections::BTreeSet;

use crate::message::unknown_name;
use crate::source::is_ident_rest;
use crate::verdict::{Status, Verdict};

/// The axioms every proof may use unless the user says otherwise: Lean's own foundations.
pub const DEFAULT_ALLOWED_AXIOMS: [&str; 3] = ["propext", "Classical.choice", "Quot.sound"];

/// The axiom behind `sorry` (never allowed: it proves anything).
pub const SORRY_AXIOM: &str = "sorryAx";

/// The set of axioms a proof may depend on and still count as proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxiomPolicy {
    allowed: BTreeSet<String>,
}

impl Default for AxiomPolicy {
    fn default() -> Self {
        AxiomPolicy {
            allowed: DEFAULT_ALLOWED_AXIOMS
                .iter()
                .map(|a| a.to_string())
                .collect(),
        }
    }
}

impl AxiomPolicy {
    /// The default set plus `extra` (the user's `--allow-axiom NAME`s). `sorryAx` is never
    /// allowed, whatever `extra` says.
    pub fn allowing<S: Into<String>>(extra: impl IntoIterator<Item = S>) -> Self {
        let mut policy = AxiomPolicy::default();
        policy.allowed.extend(
            extra
                .into_iter()
                .map(Into::into)
                .filter(|a| a != SORRY_AXIOM),
        );
        policy
    }

    /// Whether a proof may depend on `axiom`.
    pub fn allows(&self, axiom: &str) -> bool {
        self.allowed.contains(axiom)
    }

    /// The allowed axioms, sorted (for reports and run configurations).
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(String::as_str)
    }
}

/// What Lean answered to `#print axioms NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AxiomsAnswer {
    /// The declaration exists and depends on these axioms (empty: on none).
    DependsOn(Vec<String>),
    /// Lean does not know the name: the declaration was never added.
    Unknown,
    /// An answer about another declaration than the one read from the text (its name as Lean
    /// printed it): the probe, written with the theorem's name as written right after it,
    /// found another declaration, so the text's namespaces or names are not what they seem.
    OtherName(String),
    /// More than one answer to one probe: the name resolved to several declarations (the
    /// theorem and an alias of the same name made by `export`), so which answer is about the
    /// theorem cannot be told.
    Several(usize),
}

/// Adds `next`, read on one probe's line, to what was read there before (see
/// [`AxiomsAnswer::Several`]): every backend reads a probe's answers through this, so a second
/// answer never silently replaces the first.
pub fn add_answer(answer: &mut Option<AxiomsAnswer>, next: AxiomsAnswer) {
    *answer = Some(match answer.take() {
        None => next,
        Some(AxiomsAnswer::Several(n)) => AxiomsAnswer::Several(n + 1),
        Some(_) => AxiomsAnswer::Several(2),
    });
}

/// Reads one message found on a `#print axioms` line about `expected` (the full name asked
/// about): an information message `'NAME' depends on axioms: [..]` or `'NAME' does not depend
/// on any axioms` whose NAME is `expected` (or its private form, `_private.Module.0.expected`),
/// or an "unknown constant" error about `expected` (as asked, `_root_.` and all, or as written
/// relative to a namespace it ends in). `None` for anything else (a parse error that spilled
/// onto the line, an answer about another name), which confirms nothing. The message is read by its
/// shape, never searched for a phrase: an axiom may be named `«does not depend on any axioms»`.
pub fn read_answer(
    is_error: bool,
    is_information: bool,
    text: &str,
    expected: &str,
) -> Option<AxiomsAnswer> {
    if is_information {
        let (name, rest) = split_answer(text.trim())?;
        if !same_name(name, expected) {
            return Some(AxiomsAnswer::OtherName(name.to_string()));
        }
        if rest == "does not depend on any axioms" {
            return Some(AxiomsAnswer::DependsOn(Vec::new()));
        }
        let inner = rest
            .strip_prefix("depends on axioms:")?
            .trim()
            .strip_prefix('[')?
            .strip_suffix(']')?;
        return Some(AxiomsAnswer::DependsOn(names_in_list(inner)));
    }
    let line = text.trim().lines().next().unwrap_or_default();
    let (_, name) = unknown_name(line)?;
    // Asked from the root, the name must be the full one; as written, it may be relative.
    let about_expected = match name.strip_prefix("_root_.") {
        Some(full) => same_name(full, expected),
        None => {
            same_name(name, expected)
                || expected
                    .replace(['«', '»'], "")
                    .ends_with(&format!(".{}", name.replace(['«', '»'], "")))
        }
    };
    (is_error && about_expected).then_some(AxiomsAnswer::Unknown)
}

/// An answer of `#print axioms`'s shape split into the name it is about (as printed) and
/// what follows it (`depends on axioms: [..]` or `does not depend on any axioms`).
fn split_answer(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('\'')?;
    // The name ends at the quote before the answer's fixed words.
    let end = ["' depends on axioms:", "' does not depend on any axioms"]
        .iter()
        .filter_map(|w| body.find(w))
        .min()?;
    Some((&body[..end], body[end + 1..].trim_start()))
}

/// Whether the printed `name` is `expected` or its private form `_private.MODULE.0.expected`;
/// `«»` quoting is ignored on both sides (Lean quotes only where a name needs it). The `0` of a
/// private name is a numeric component, which Lean prints bare: a declaration a text names
/// `_private.m.«0».t` (a string component, printed quoted) is not `t`'s private form.
fn same_name(name: &str, expected: &str) -> bool {
    let unquoted = |s: &str| s.replace(['«', '»'], "");
    let expected = unquoted(expected);
    if unquoted(name) == expected {
        return true;
    }
    let Some(rest) = name.strip_prefix("_private.") else {
        return false;
    };
    // Each `.0.` outside quotes may end the module's part.
    let mut quoted = false;
    rest.char_indices().any(|(i, c)| {
        match c {
            '«' => quoted = true,
            '»' => quoted = false,
            _ => {}
        }
        !quoted
            && i > 0
            && rest[i..].starts_with(".0.")
            && !rest[..i].contains(char::is_whitespace)
            && unquoted(&rest[i + 3..]) == expected
    })
}

/// Whether `text` is a Lean name as `#print axioms` prints one: components of identifier
/// characters (numeric ones too, as in `_private.M.0.x`) or `«»`-quoted, joined by dots.
pub fn is_name(text: &str) -> bool {
    let mut rest = text;
    loop {
        let len = if let Some(quoted) = rest.strip_prefix('«') {
            match quoted.find('»') {
                Some(end) => '«'.len_utf8() + end + '»'.len_utf8(),
                None => return false,
            }
        } else {
            rest.chars()
                .take_while(|&c| is_ident_rest(c))
                .map(char::len_utf8)
                .sum()
        };
        if len == 0 {
            return false;
        }
        rest = &rest[len..];
        match rest.strip_prefix('.') {
            Some(next) => rest = next,
            None => return rest.is_empty(),
        }
    }
}

/// The names of a printed axiom list (`a, b.c, «x, y»`): split at commas outside `«»`.
fn names_in_list(list: &str) -> Vec<String> {
    let mut names = Vec::new();
    let (mut current, mut quoted) = (String::new(), false);
    for c in list.chars() {
        match c {
            '«' => quoted = true,
            '»' => quoted = false,
            ',' if !quoted => {
                names.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    names.push(current);
    names
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The final verdict on a theorem: its own diagnostics' verdict, corrected by what `#print
/// axioms` said. No answer at all means Lean never got to the question (an unterminated
/// comment or `#exit` cut the text short), so nothing confirms the proof. A `sorryAx`
/// dependency makes a proof `Sorry`; any other axiom outside `policy` makes it `Axiom`, with
/// the axioms named in `axioms` and in an error that says how to allow them.
pub fn judge(
    verdict: Verdict,
    answer: Option<&AxiomsAnswer>,
    policy: &AxiomPolicy,
    name: &str,
) -> Verdict {
    judge_in(verdict, answer, policy, name, &|_| false)
}

/// [`judge`] for a text that declares the names `declared_here` says it does: an axiom outside
/// the policy that the text declares itself gets the advice that fits it (no `--allow-axiom`
/// accepts it), not the flag. The verdict is the same either way.
pub fn judge_in(
    mut verdict: Verdict,
    answer: Option<&AxiomsAnswer>,
    policy: &AxiomPolicy,
    name: &str,
    declared_here: &dyn Fn(&str) -> bool,
) -> Verdict {
    let axioms = match answer {
        Some(AxiomsAnswer::DependsOn(axioms)) => axioms,
        _ if verdict.status == Status::Error => return verdict,
        Some(AxiomsAnswer::OtherName(other)) => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean's answer about `{name}` names `{other}`: the text's namespaces or names are not what they seem here, so what `{name}` rests on cannot be checked"
            ));
            return verdict;
        }
        Some(AxiomsAnswer::Several(n)) => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean's `#print axioms` found {n} declarations named `{name}` (an alias made by `export` or `open` has the theorem's name), so which one is the theorem cannot be told; rename it"
            ));
            return verdict;
        }
        Some(AxiomsAnswer::Unknown) => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean never added `{name}` to the environment (an earlier parse error may have swallowed it)"
            ));
            return verdict;
        }
        None => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean stopped before confirming `{name}` (an unterminated comment or string, or `#exit`, cut the text short)"
            ));
            return verdict;
        }
    };
    if let Some(odd) = axioms.iter().find(|a| !is_name(a)) {
        verdict.status = Status::Error;
        verdict.errors.push(format!(
            "Lean listed `{odd}` among the axioms `{name}` rests on, which is not a name (an option of the text decorates what `#print axioms` prints), so what it rests on cannot be checked"
        ));
        return verdict;
    }
    let sorry = axioms.iter().any(|a| a == SORRY_AXIOM);
    let foreign: Vec<String> = axioms
        .iter()
        .filter(|a| *a != SORRY_AXIOM && !policy.allows(a))
        .cloned()
        .collect();
    if sorry && verdict.status == Status::Proved {
        verdict.status = Status::Sorry;
        verdict.errors.push(format!(
            "`{name}` depends on `sorryAx`: it uses `sorry`, or a lemma whose proof is `sorry` or failed"
        ));
    }
    if !foreign.is_empty() && verdict.status == Status::Proved {
        verdict.status = Status::Axiom;
        let list = foreign
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let flags = foreign
            .iter()
            .map(|a| format!("--allow-axiom {a}"))
            .collect::<Vec<_>>()
            .join(" ");
        verdict.errors.push(if foreign.iter().any(|a| declared_here(a)) {
            format!(
                "`{name}` depends on {list}, outside the allowed axioms, and the checked text declares it itself: no flag accepts an axiom the text declares (it could state anything); prove it as a theorem, or declare it in an imported module and pass `{flags}`"
            )
        } else {
            format!(
                "`{name}` depends on {list}, outside the allowed axioms; pass `{flags}` if you mean to accept it (an axiom of the imported libraries: one the checked text declares itself is never accepted)"
            )
        });
    }
    if !foreign.is_empty() {
        verdict.axioms = foreign;
    }
    verdict
}

/// The name a checked `example` gets, so that `#print axioms` can ask about it; `tag` keeps
/// several examples of one text apart (their line, say).
pub fn example_name(tag: &str) -> String {
    format!("proofstep_checked_example{tag}")
}

/// The declaration an `example` is checked as: a definition (Lean elaborates an `example` as a
/// definition, so a `def` accepts exactly what the `example` accepts), never compiled.
pub fn example_declaration(tag: &str) -> String {
    format!("noncomputable def {}", example_name(tag))
}

/// The options every probe runs under: `#print axioms` prints a name relative to the current
/// namespace and to open namespaces (inside `namespace Bar`, the file's own `Bar.propext` is
/// printed `propext`, the allowed axiom's name), a private name without its prefix, and, under
/// a text's own `pp.exprSizes`, `pp.universes` or `pp.all`, decorated (`[size 1/1/1] sorryAx`,
/// `sorryAx.{u}`). With them, every name is printed in full and bare, as the policy compares
/// them; an entry that is still no name is refused (`judge`).
pub const PROBE_OPTIONS: &str = "set_option pp.all false in set_option pp.exprSizes false in \
set_option pp.universes false in set_option pp.fullNames true in set_option pp.privateNames true in ";

/// The command that asks Lean for the axioms behind `full_name`, resolved from the root so that
/// any open namespace reaches it.
pub fn print_axioms_command(full_name: &str) -> String {
    format!("{PROBE_OPTIONS}#print axioms _root_.{full_name}")
}

/// The command that asks Lean, right after a declaration and in its scope, for the axioms
/// behind `written` (the name as the declaration writes it, `probe_name`): Lean resolves it
/// in the namespace it is really in, and prints the name it found, which must then be the
/// full name read from the text (`read_answer`).
pub fn print_axioms_here(written: &str) -> String {
    format!("{PROBE_OPTIONS}#print axioms {written}")
}

/// `text` with every `#print axioms` run under `PROBE_OPTIONS`, as the probes are written: the
/// tests write the texts they expect without them.
#[cfg(test)]
pub(crate) fn with_probe_options(text: &str) -> String {
    text.replace("#print axioms", &format!("{PROBE_OPTIONS}#print axioms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proved() -> Verdict {
        Verdict::of(Status::Proved)
    }

    /// A text's own `pp.exprSizes` or `pp.universes` had decorated the names (`[size 1/1/1]
    /// sorryAx`), so `sorryAx` went unseen and `--allow-axiom '[size 1/1/1] sorryAx'` proved
    /// `False`: an entry that is not a name proves nothing, whatever is allowed.
    #[test]
    fn an_axiom_list_entry_that_is_no_name_proves_nothing() {
        for odd in ["[size 1/1/1] sorryAx", "sorryAx.{u}", "propext, x y"] {
            let policy = AxiomPolicy::allowing([odd]);
            let answer = AxiomsAnswer::DependsOn(vec![odd.to_string()]);
            let v = judge(proved(), Some(&answer), &policy, "t");
            assert_eq!(v.status, Status::Error, "{odd}: {v:?}");
        }
        assert!(is_name(
            "_private.«external:file:///tmp/x.lean».0.Bar.Quot.sound"
        ));
        assert!(is_name("Classical.choice") && is_name("h₁'") && !is_name("a..b"));
    }

    #[test]
    fn answers_as_lean_4_35_prints_them() {
        assert_eq!(
            read_answer(false, true, "'t1' depends on axioms: [sorryAx]", "t1"),
            Some(AxiomsAnswer::DependsOn(vec!["sorryAx".into()]))
        );
        assert_eq!(
            read_answer(
                false,
                true,
                "'A.t' depends on axioms: [propext,\n Classical.choice, Quot.sound]",
                "A.t"
            ),
            Some(AxiomsAnswer::DependsOn(vec![
                "propext".into(),
                "Classical.choice".into(),
                "Quot.sound".into()
            ]))
        );
        assert_eq!(
            read_answer(
                false,
                true,
                "'_private.T.0.t4' does not depend on any axioms",
                "t4"
            ),
            Some(AxiomsAnswer::DependsOn(Vec::new()))
        );
        assert_eq!(
            read_answer(false, true, "'t'' does not depend on any axioms", "t'"),
            Some(AxiomsAnswer::DependsOn(Vec::new()))
        );
        assert_eq!(
            read_answer(true, false, "Unknown constant `_root_.nope`", "nope"),
            Some(AxiomsAnswer::Unknown)
        );
        assert_eq!(
            read_answer(true, false, "unknown constant '_root_.A.t'", "A.t"),
            Some(AxiomsAnswer::Unknown)
        );
        // As written after a theorem inside a namespace.
        assert_eq!(
            read_answer(true, false, "Unknown identifier `t`", "A.t"),
            Some(AxiomsAnswer::Unknown)
        );
        // An "unknown" error about another name than asked says nothing of this one.
        for other in [
            "Unknown constant `_root_.Nat.powx`",
            "Unknown constant `_root_.pow`",
            "Unknown constant `Nat.pow.x`",
            "Unknown constant `x.Nat.pow`",
            "Unknown constant",
            "unknown constant 'Nat.pow",
        ] {
            assert_eq!(read_answer(true, false, other, "Nat.pow"), None, "{other}");
        }
        assert_eq!(
            read_answer(true, false, "unexpected token '#print'; expected term", "t"),
            None
        );
        assert_eq!(
            read_answer(false, false, "declaration uses `sorry`", "t"),
            None
        );
    }

    #[test]
    fn an_answer_is_read_by_its_shape_and_its_name() {
        // An axiom named after the "clean" answer is still an axiom.
        assert_eq!(
            read_answer(
                false,
                true,
                "'bogus' depends on axioms: [«does not depend on any axioms»]",
                "bogus"
            ),
            Some(AxiomsAnswer::DependsOn(vec![
                "«does not depend on any axioms»".into()
            ]))
        );
        // A comma inside a quoted name does not split it into allowed names.
        assert_eq!(
            read_answer(
                false,
                true,
                "'t' depends on axioms: [«propext, Quot.sound»]",
                "t"
            ),
            Some(AxiomsAnswer::DependsOn(
                vec!["«propext, Quot.sound»".into()]
            ))
        );
        // An answer about another declaration confirms nothing: it says the names differ.
        assert_eq!(
            read_answer(false, true, "'A.t' does not depend on any axioms", "t"),
            Some(AxiomsAnswer::OtherName("A.t".into()))
        );
        // A private name's `0` is numeric and printed bare; a quoted `«0»` is a name of the
        // text's own.
        for (printed, expected, same) in [
            ("_private.Mathlib.Foo.0.A.t", "A.t", true),
            ("_private.«my file».0.t", "t", false),
            ("_private.M.0.«A.t»", "A.t", true),
            ("_private.foo.«0».A.t", "A.t", false),
            ("_private.«a.0.b».t", "b.t", false),
            ("_private.0.t", "t", false),
        ] {
            assert_eq!(same_name(printed, expected), same, "{printed} / {expected}");
        }
        let mut answer = None;
        add_answer(&mut answer, AxiomsAnswer::DependsOn(vec!["bad".into()]));
        assert_eq!(answer, Some(AxiomsAnswer::DependsOn(vec!["bad".into()])));
        add_answer(&mut answer, AxiomsAnswer::DependsOn(Vec::new()));
        add_answer(&mut answer, AxiomsAnswer::DependsOn(Vec::new()));
        assert_eq!(answer, Some(AxiomsAnswer::Several(3)));
        let several = judge(
            Verdict::of(Status::Proved),
            answer.as_ref(),
            &AxiomPolicy::default(),
            "A.t",
        );
        assert_eq!(several.status, Status::Error);
        let other = judge(
            Verdict::of(Status::Proved),
            Some(&AxiomsAnswer::OtherName("A.t".into())),
            &AxiomPolicy::default(),
            "t",
        );
        assert_eq!(other.status, Status::Error);
        assert!(other.errors[0].contains("`A.t`"), "{other:?}");
        assert_eq!(
            read_answer(
                false,
                true,
                "'t' does not depend on any axioms, really",
                "t"
            ),
            None
        );
        assert_eq!(
            read_answer(false, true, "note: 't' does not depend on any axioms", "t"),
            None
        );
    }

    #[test]
    fn only_allowed_axioms_leave_a_proof_proved() {
        let policy = AxiomPolicy::default();
        let depends =
            |a: &[&str]| AxiomsAnswer::DependsOn(a.iter().map(|s| s.to_string()).collect());
        let fine = judge(
            proved(),
            Some(&depends(&["propext", "Quot.sound"])),
            &policy,
            "t",
        );
        assert_eq!(fine, proved());

        let sorry = judge(proved(), Some(&depends(&["sorryAx"])), &policy, "t");
        assert_eq!(sorry.status, Status::Sorry);
        assert!(sorry.errors[0].contains("sorryAx"));

        let here = judge_in(proved(), Some(&depends(&["cheat"])), &policy, "t", &|a| {
            a == "cheat"
        });
        assert_eq!(here.status, Status::Axiom);
        assert!(
            here.errors[0].contains("the checked text declares it itself"),
            "{here:?}"
        );
        let cheat = judge(
            proved(),
            Some(&depends(&["propext", "cheat"])),
            &policy,
            "t",
        );
        assert_eq!(cheat.status, Status::Axiom);
        assert_eq!(cheat.axioms, ["cheat"]);
        assert!(cheat.errors[0].contains("--allow-axiom cheat"), "{cheat:?}");

        let native = judge(
            proved(),
            Some(&depends(&["Lean.ofReduceBool"])),
            &policy,
            "t",
        );
        assert_eq!(native.status, Status::Axiom);

        let allowed = AxiomPolicy::allowing(["cheat", "sorryAx"]);
        assert!(!allowed.allows("sorryAx"), "sorryAx can never be allowed");
        assert_eq!(
            judge(proved(), Some(&depends(&["cheat"])), &allowed, "t"),
            proved()
        );
        let still = judge(proved(), Some(&depends(&["sorryAx"])), &allowed, "t");
        assert_eq!(still.status, Status::Sorry);
    }

    #[test]
    fn no_answer_confirms_nothing() {
        let policy = AxiomPolicy::default();
        assert_eq!(judge(proved(), None, &policy, "t").status, Status::Error);
        assert_eq!(
            judge(proved(), Some(&AxiomsAnswer::Unknown), &policy, "t").status,
            Status::Error
        );
        let mut open = proved();
        open.status = Status::Open;
        let open_sorry = judge(
            open.clone(),
            Some(&AxiomsAnswer::DependsOn(vec!["sorryAx".into()])),
            &policy,
            "t",
        );
        assert_eq!(open_sorry.status, Status::Open, "open goals stay open");
    }
}
