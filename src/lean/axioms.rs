//! Which axioms a proof may rest on, and reading Lean's `#print axioms` answer.
//!
//! A proof with no error and no `sorry` in its own text can still prove nothing: it may use an
//! earlier lemma whose proof is `sorry` or failed (Lean adds such a lemma with `sorryAx`), a
//! file's own `axiom`, or `native_decide` (`Lean.ofReduceBool`). Every final check therefore
//! asks Lean, in the same command as the proof, which axioms the theorem depends on, and only
//! a theorem whose axioms are all allowed counts as proved.

use std::collections::BTreeSet;

use crate::lean::verdict::{Status, Verdict};

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
}

/// Reads one message found on a `#print axioms` line: an information message listing the
/// axioms, or an "unknown constant" error. `None` for anything else (e.g. a parse error that
/// spilled onto the line), which confirms nothing.
pub fn read_answer(is_error: bool, is_information: bool, text: &str) -> Option<AxiomsAnswer> {
    if is_information {
        if text.contains("does not depend on any axioms") {
            return Some(AxiomsAnswer::DependsOn(Vec::new()));
        }
        let (_, list) = text.split_once("depends on axioms:")?;
        let list = list.trim();
        let inner = list.strip_prefix('[')?.strip_suffix(']')?;
        let axioms = inner
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        return Some(AxiomsAnswer::DependsOn(axioms));
    }
    let lower = text.to_lowercase();
    (is_error && (lower.starts_with("unknown constant") || lower.starts_with("unknown identifier")))
        .then_some(AxiomsAnswer::Unknown)
}

/// The final verdict on a theorem: its own diagnostics' verdict, corrected by what `#print
/// axioms` said. No answer at all means Lean never got to the question (an unterminated
/// comment or `#exit` cut the text short), so nothing confirms the proof. A `sorryAx`
/// dependency makes a proof `Sorry`; any other axiom outside `policy` makes it `Axiom`, with
/// the axioms named in `axioms` and in an error that says how to allow them.
pub fn judge(
    mut verdict: Verdict,
    answer: Option<&AxiomsAnswer>,
    policy: &AxiomPolicy,
    name: &str,
) -> Verdict {
    let axioms = match answer {
        Some(AxiomsAnswer::DependsOn(axioms)) => axioms,
        _ if verdict.status == Status::Error => return verdict,
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
        verdict.errors.push(format!(
            "`{name}` depends on {list}, outside the allowed axioms; pass `{flags}` if you mean to accept it"
        ));
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

/// The command that asks Lean for the axioms behind `full_name`, resolved from the root so that
/// any open namespace reaches it.
pub fn print_axioms_command(full_name: &str) -> String {
    format!("#print axioms _root_.{full_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proved() -> Verdict {
        Verdict::of(Status::Proved)
    }

    #[test]
    fn answers_as_lean_4_35_prints_them() {
        assert_eq!(
            read_answer(false, true, "'t1' depends on axioms: [sorryAx]"),
            Some(AxiomsAnswer::DependsOn(vec!["sorryAx".into()]))
        );
        assert_eq!(
            read_answer(
                false,
                true,
                "'t' depends on axioms: [propext,\n Classical.choice, Quot.sound]"
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
                "'_private.T.0.t4' does not depend on any axioms"
            ),
            Some(AxiomsAnswer::DependsOn(Vec::new()))
        );
        assert_eq!(
            read_answer(true, false, "Unknown constant `_root_.nope`"),
            Some(AxiomsAnswer::Unknown)
        );
        assert_eq!(
            read_answer(true, false, "unexpected token '#print'; expected term"),
            None
        );
        assert_eq!(read_answer(false, false, "declaration uses `sorry`"), None);
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
