//! How a theorem is written out for Lean to check — the one layout every backend uses: the
//! header, then `statement := by` and the tactics one per line, then optionally a `done` (whose
//! "unsolved goals" lists what is left) and a `#print axioms` probe (which says what the proof
//! rests on). The byte offsets of the parts let diagnostics be told apart (header, statement,
//! proof, probe) in whatever position system a backend's Lean reports. A final check also asks,
//! just before the statement, whether the theorem's name is still free there, as `check` does
//! (`FileProbe::free_name_probe`): a name the header already declared could otherwise answer
//! the probe after the theorem; and, at the end, whether the guarded names the imports lack
//! (`reserved`: kernel-special names and allowed axioms, asked once per module header) are
//! still unknown: the text must declare none.

use lsp_types::Position;

use crate::axioms::{
    self, example_declaration, example_name, print_axioms_command, print_axioms_here, AxiomPolicy,
    AxiomsAnswer,
};
use crate::backend::proof_text;
use crate::check::untrusted;
use crate::lsp::text::position_at;
use crate::reserved::{ReservedAnswers, Side};
use crate::source::{qualified, DeclKind, Pos, SourceFile};
use crate::verdict::{Status, Verdict};

/// A theorem written out as one Lean text, with where its parts are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TheoremText {
    /// The whole text.
    pub text: String,
    /// Where the statement begins: everything before is the header.
    pub statement_start: usize,
    /// Just after `by`: where the root goals are.
    pub by_end: usize,
    /// Just after the last character of the last tactic (`by_end` when there is none).
    pub proof_end: usize,
    /// Where the trailing `done` line starts, if there is one.
    pub done_start: Option<usize>,
    /// Where the `#print axioms` line starts, if there is one.
    pub probe_start: Option<usize>,
    /// Where the line asking whether the theorem's name is still free starts (just before
    /// the statement), if there is one.
    pub free_start: Option<usize>,
    /// Where the guarded-name probes at the end start, if the text has them.
    pub reserved_start: Option<usize>,
    /// The guarded names (by index into `imports.names()`) those probes ask about, in order:
    /// the ones the imports lack.
    pub reserved_names: Vec<usize>,
    /// What the imports declare among the guarded names (`reserved::ImportsCache`).
    pub imports: ReservedAnswers,
    /// The full name the probe asks about (an `example` is checked under a name of its own).
    pub checked_name: Option<String>,
    /// Why the probe's answer cannot be trusted in this text, if it cannot.
    pub distrust: Option<String>,
}

impl TheoremText {
    /// `header`, then `statement := by`, then `steps` indented as a tactic block.
    pub fn new(header: &str, statement: &str, steps: &[String]) -> Self {
        let mut text = String::with_capacity(header.len() + statement.len() + 64);
        text.push_str(header);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let statement_start = text.len();
        let statement = statement.trim_end();
        text.push_str(statement);
        // A statement ending in a line comment would swallow `:= by`: start a new line then.
        let ends_in_comment = statement.lines().last().is_some_and(|l| l.contains("--"));
        text.push_str(if ends_in_comment {
            "\n    := by"
        } else {
            " := by"
        });
        let by_end = text.len();
        text.push('\n');
        text.push_str(&proof_text(steps));
        let proof_end = if steps.iter().any(|s| !s.trim().is_empty()) {
            text.trim_end().len()
        } else {
            by_end
        };
        TheoremText {
            text,
            statement_start,
            by_end,
            proof_end,
            done_start: None,
            probe_start: None,
            free_start: None,
            reserved_start: None,
            reserved_names: Vec::new(),
            imports: ReservedAnswers::default(),
            checked_name: None,
            distrust: None,
        }
    }

    /// The text a final check runs: the header, `#print axioms _root_.NAME` (which must answer
    /// "unknown constant": the name is free), then `proof` (a tactic block) after the statement,
    /// then `#print axioms` on the theorem, then a probe of each guarded name `imports` (what
    /// the header's imports declare, `reserved::ImportsCache`) lacks. An `example` is checked as
    /// a definition of a name of its own, so the probes can name it.
    pub fn for_verify(
        header: &str,
        statement: &str,
        proof: &str,
        imports: &ReservedAnswers,
    ) -> Self {
        let bare = TheoremText::new(header, statement, &[]);
        let parsed = SourceFile::parse(&bare.text);
        let index = parsed
            .theorems
            .iter()
            .rposition(|t| t.start_byte >= bare.statement_start);
        let theorem = index.map(|i| &parsed.theorems[i]);
        // A statement is one theorem: a command before it in the statement (`attribute
        // [instance] bad` then the theorem) would change what it means unseen in the results.
        let extra = theorem.and_then(|t| {
            parsed
                .commands
                .iter()
                .any(|c| c.start_byte >= bare.statement_start && c.start_byte < t.start_byte)
                .then(|| {
                    "the statement holds another command before its theorem; put commands in the header (the theorem's context), not in the statement".to_string()
                })
        });
        let doubt = index.and_then(|i| parsed.name_doubt(i)).or(extra);
        let (statement, checked_name, probe_name) = match theorem {
            Some(t) if t.kind == DeclKind::Example => {
                let kw = t.keyword_byte - bare.statement_start;
                let named = format!(
                    "{}{}{}",
                    &statement[..kw],
                    example_declaration(""),
                    &statement[kw + "example".len()..]
                );
                (
                    named,
                    Some(qualified(&t.namespace, &example_name(""))),
                    Some(example_name("")),
                )
            }
            Some(t) => (statement.to_string(), t.full_name.clone(), t.probe_name()),
            None => (statement.to_string(), None, None),
        };
        let free_probe = checked_name.as_deref().map(print_axioms_command);
        let header_and_probe = match (&free_probe, header.trim_end()) {
            (Some(probe), "") => probe.clone(),
            (Some(probe), header) => format!("{header}\n{probe}"),
            (None, _) => header.to_string(),
        };
        let mut layout = TheoremText::new(&header_and_probe, &statement, &[proof.to_string()]);
        if let Some(probe) = &free_probe {
            layout.free_start = Some(layout.statement_start - probe.len() - 1);
        }
        layout.checked_name = checked_name;
        layout.distrust = untrusted(&layout.text)
            .or_else(|| parsed.declares_one_of(imports.names()))
            .or(doubt);
        if let (Some(_), Some(written)) = (&layout.checked_name, probe_name) {
            layout.text.push('\n');
            layout.probe_start = Some(layout.text.len());
            layout.text.push_str(&print_axioms_here(&written));
            layout.text.push('\n');
        }
        layout.reserved_names = imports.lacking();
        layout.reserved_start = Some(layout.text.len());
        layout.text.push_str(&imports.end_block());
        layout.imports = imports.clone();
        layout
    }

    /// Which probe a message on `line` (from 0, of `text`) may answer, if any.
    pub fn probe_on(&self, line: u32) -> Option<Probe> {
        let reserved = self.reserved_start.and_then(|start| {
            let j = line.checked_sub(self.line(start))? as usize;
            let k = *self.reserved_names.get(j)?;
            Some(Probe::Reserved(Side::End, k))
        });
        if reserved.is_some() {
            reserved
        } else if self.probe_start.is_some_and(|b| self.line(b) == line) {
            Some(Probe::After)
        } else if self.free_start.is_some_and(|b| self.line(b) == line) {
            Some(Probe::Free)
        } else {
            None
        }
    }

    /// Reads a message on `line` (from 0) of `text` into `answers`; true when it was a probe's
    /// answer (and so is not one of the theorem's messages). Every backend reads its messages
    /// through this.
    pub fn read_probe(
        &self,
        answers: &mut ProbeAnswers,
        line: u32,
        is_error: bool,
        is_information: bool,
        message: &str,
    ) -> bool {
        let Some(which) = self.probe_on(line) else {
            return false;
        };
        if let Probe::Reserved(side, k) = which {
            if answers.reserved.names().is_empty() {
                answers.reserved = ReservedAnswers::after(&self.imports);
            }
            return answers
                .reserved
                .read(side, k, is_error, is_information, message);
        }
        let name = self.checked_name.as_deref().unwrap_or_default();
        let Some(answer) = axioms::read_answer(is_error, is_information, message, name) else {
            return false;
        };
        match which {
            Probe::After => axioms::add_answer(&mut answers.after, answer),
            Probe::Free => axioms::add_answer(&mut answers.free, answer),
            Probe::Reserved(..) => unreachable!("read above"),
        }
        true
    }

    /// The final verdict on a text made by `for_verify`: the theorem's own `verdict`, corrected
    /// by the probes' `answers` under `policy` (see `axioms::judge`): a name already declared
    /// before the statement proves nothing, whatever the probe after it says, and neither does a
    /// text that declares a reserved name (`ReservedAnswers::why_untrusted`).
    pub fn judge(&self, verdict: Verdict, answers: &ProbeAnswers, policy: &AxiomPolicy) -> Verdict {
        let refuse = |mut verdict: Verdict, why: String| {
            if verdict.status == Status::Proved {
                verdict.status = Status::Error;
                verdict.errors.push(why);
            }
            verdict
        };
        match (&self.checked_name, &self.distrust) {
            (None, _) => refuse(
                verdict,
                "the statement is not a `theorem`, `lemma` or `example`, so what it rests on cannot be checked".into(),
            ),
            (Some(_), Some(why)) => refuse(verdict, why.clone()),
            (Some(_), None) if self.declares_reserved(answers).is_some() => {
                let why = self.declares_reserved(answers).unwrap_or_default();
                refuse(verdict, why)
            }
            (Some(name), None) => match &answers.free {
                Some(AxiomsAnswer::Unknown) => {
                    let declared = SourceFile::parse(&self.text).declared;
                    let here = |axiom: &str| declared.iter().any(|(_, d)| d == axiom);
                    axioms::judge_in(verdict, answers.after.as_ref(), policy, name, &here)
                }
                Some(_) => refuse(
                    verdict,
                    format!("`{name}` is already declared before the theorem (in its header), so Lean's answers about that name cannot be the theorem's; rename the theorem"),
                ),
                None => refuse(
                    verdict,
                    format!("Lean did not answer whether `{name}` was free before the theorem (the header may end inside a comment or an unfinished command), so what the theorem rests on cannot be checked; fix the header"),
                ),
            },
        }
    }

    /// Why the text cannot be certified for the guarded names, if it cannot: the answers at
    /// its end read against what the imports declare.
    fn declares_reserved(&self, answers: &ProbeAnswers) -> Option<String> {
        if answers.reserved.names().is_empty() {
            ReservedAnswers::after(&self.imports).why_untrusted()
        } else {
            answers.reserved.why_untrusted()
        }
    }

    /// The same text with `done` after the tactics: Lean then reports the goals left as
    /// "unsolved goals" at the `done` line.
    pub fn with_done(mut self) -> Self {
        debug_assert!(self.probe_start.is_none(), "`done` goes before the probe");
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.done_start = Some(self.text.len());
        self.text.push_str("  done\n");
        self
    }

    /// Where `by` begins: diagnostics before it are about the statement.
    pub fn by_start(&self) -> usize {
        self.by_end - "by".len()
    }

    /// The Lean position (line from 1, column in characters) of a byte offset.
    pub fn pos(&self, byte: usize) -> Pos {
        let before = &self.text[..byte.min(self.text.len())];
        let line = before.matches('\n').count() as u32 + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos::new(line, before[start..].chars().count() as u32)
    }

    /// The LSP position (line from 0, UTF-16 character) of a byte offset.
    pub fn position(&self, byte: usize) -> Position {
        position_at(&self.text, byte)
    }

    /// The line (from 0) of a byte offset.
    pub fn line(&self, byte: usize) -> u32 {
        self.text[..byte.min(self.text.len())].matches('\n').count() as u32
    }

    /// The text from the free-name probe (or the statement) on, for a REPL, which gets the
    /// header as an environment, and how many lines come before it.
    pub fn after_header(&self) -> (&str, u32) {
        let start = self.free_start.unwrap_or(self.statement_start);
        (&self.text[start..], self.line(start))
    }
}

/// The probes of a verification text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `#print axioms _root_.NAME` of reserved name `k` (`reserved`) at the end.
    Reserved(Side, usize),
    /// `#print axioms _root_.NAME` before the statement: the name must still be free.
    Free,
    /// `#print axioms NAME` after the theorem: what it rests on.
    After,
}

/// What Lean answered to a verification text's probes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeAnswers {
    /// The answer before the statement ("unknown constant" when the name is free).
    pub free: Option<AxiomsAnswer>,
    /// The answer after the theorem.
    pub after: Option<AxiomsAnswer>,
    /// The answers about the guarded names at the end (with what the imports declare).
    pub reserved: ReservedAnswers,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reserved;

    /// The text of a final check under imports that declare every reserved name (as `Init`
    /// does): no probe of them at the end.
    fn verify_text(header: &str, statement: &str, proof: &str) -> TheoremText {
        TheoremText::for_verify(
            header,
            statement,
            proof,
            &ReservedAnswers::imports_declare_all(),
        )
    }

    /// The answers of an honest text: the name free before, nothing rested on after.
    fn clean_answers() -> ProbeAnswers {
        ProbeAnswers {
            free: Some(AxiomsAnswer::Unknown),
            after: Some(AxiomsAnswer::DependsOn(Vec::new())),
            reserved: ReservedAnswers::default(),
        }
    }

    #[test]
    fn positions_of_the_parts() {
        let steps = vec!["constructor".to_string(), "· exact ⟨hp, hq⟩".to_string()];
        let t = TheoremText::new("prelude\nimport Mini", "theorem t : p ∧ q  ", &steps);
        assert_eq!(
            t.text,
            "prelude\nimport Mini\ntheorem t : p ∧ q := by\n  constructor\n  · exact ⟨hp, hq⟩\n"
        );
        assert_eq!(t.line(t.statement_start), 2);
        assert_eq!(t.position(t.by_end), Position::new(2, 23));
        assert_eq!(t.pos(t.by_end), Pos::new(3, 23));
        assert_eq!(t.position(t.proof_end), Position::new(4, 18));
        let done = t.with_done();
        assert_eq!(done.pos(done.done_start.unwrap()), Pos::new(6, 0));
        assert!(done.text.ends_with("  done\n"));
    }

    #[test]
    fn a_trailing_line_comment_does_not_swallow_by() {
        let t = TheoremText::new("", "theorem t : True -- why", &["trivial".to_string()]);
        assert_eq!(t.text, "theorem t : True -- why\n    := by\n  trivial\n");
        assert_eq!(t.position(t.by_end), Position::new(1, 9));
    }

    #[test]
    fn no_steps_ends_at_by() {
        let t = TheoremText::new("", "theorem t : True", &[]);
        assert_eq!(t.text, "theorem t : True := by\n");
        assert_eq!(t.statement_start, 0);
        assert_eq!(t.proof_end, t.by_end);
    }

    #[test]
    fn verification_asks_right_after_the_theorem_by_its_written_name() {
        let t = verify_text(
            "prelude\nimport Mini\nnamespace Foo",
            "theorem t (p : Prop) (hp : p) : p",
            "exact hp",
        );
        assert_eq!(
            t.text,
            axioms::with_probe_options(
                "prelude\nimport Mini\nnamespace Foo\n#print axioms _root_.Foo.t\ntheorem t (p : Prop) (hp : p) : p := by\n  exact hp\n\n#print axioms t\n"
            )
        );
        assert_eq!(t.pos(t.probe_start.unwrap()), Pos::new(8, 0));
        assert_eq!(t.probe_on(7), Some(Probe::After));
        assert_eq!(t.probe_on(3), Some(Probe::Free));
        assert_eq!(t.probe_on(4), None);
        assert_eq!(t.probe_on(8), None);
        assert_eq!(t.checked_name.as_deref(), Some("Foo.t"));
        assert_eq!(t.after_header().1, 3);
        assert!(t.after_header().0.starts_with(&axioms::with_probe_options(
            "#print axioms _root_.Foo.t\ntheorem t"
        )));
    }

    #[test]
    fn an_example_is_verified_under_a_name_of_its_own() {
        let t = verify_text("", "example (p : Prop) (hp : p) : p", "exact hp");
        assert_eq!(
            t.text,
            axioms::with_probe_options(
                "#print axioms _root_.proofstep_checked_example\nnoncomputable def proofstep_checked_example (p : Prop) (hp : p) : p := by\n  exact hp\n\n#print axioms proofstep_checked_example\n"
            )
        );
        let other = verify_text("", "theorem example_ish : True", "trivial");
        assert_eq!(other.checked_name.as_deref(), Some("example_ish"));
    }

    #[test]
    fn a_text_that_could_answer_the_probe_itself_confirms_nothing() {
        let clean = clean_answers();
        let policy = AxiomPolicy::default();
        let honest = verify_text("prelude", "theorem t : True", "trivial");
        let proved = honest.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(proved.status, Status::Proved);
        let spoof = verify_text(
            "prelude\nmacro_rules | `(#print axioms $_x) => `(#check True)",
            "theorem t : True",
            "trivial",
        );
        let refused = spoof.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error);
        let unnamed = verify_text("prelude", "def d : True", "trivial");
        let refused = unnamed.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error, "only theorems are verified");
    }

    #[test]
    fn a_statement_of_several_commands_proves_nothing() {
        let policy = AxiomPolicy::default();
        let clean = clean_answers();
        let two = verify_text(
            "prelude\nimport Mini\ndef bad : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩",
            "attribute [instance 2000] bad\ntheorem t : (2 : Nat) + 2 = 5",
            "rfl",
        );
        let refused = two.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error, "{refused:?}");
        // A theorem's own prefixes, attributes and doc comment are part of it.
        let one = verify_text(
            "prelude\nimport Mini",
            "/-- doc -/\n@[simp] set_option maxRecDepth 100 in\ntheorem t : True",
            "trivial",
        );
        let proved = one.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(proved.status, Status::Proved, "{proved:?}");
    }

    #[test]
    fn a_name_declared_before_the_statement_proves_nothing() {
        let t = verify_text("prelude", "theorem t : True", "trivial");
        let policy = AxiomPolicy::default();
        let taken = ProbeAnswers {
            free: Some(AxiomsAnswer::DependsOn(Vec::new())),
            ..clean_answers()
        };
        let refused = t.judge(Verdict::of(Status::Proved), &taken, &policy);
        assert_eq!(refused.status, Status::Error);
        assert!(
            refused.errors[0].contains("already declared"),
            "{refused:?}"
        );
        let mut answers = ProbeAnswers::default();
        let free_line = t.line(t.free_start.unwrap());
        assert!(t.read_probe(&mut answers, free_line, true, false, "unknown constant 't'"));
        assert_eq!(answers.free, Some(AxiomsAnswer::Unknown));
        assert!(!t.read_probe(
            &mut answers,
            free_line + 1,
            true,
            false,
            "unknown constant 't'"
        ));
    }

    #[test]
    fn a_reserved_name_the_text_declares_proves_nothing() {
        let names = crate::source::keywords::RESERVED_NAMES;
        let k = names.iter().position(|n| *n == "Lean.reduceBool").unwrap();
        // Imports that declare every reserved name but `Lean.reduceBool`.
        let mut imports = ReservedAnswers::new(reserved::guarded_names(&AxiomPolicy::default()));
        for (i, name) in names.iter().enumerate() {
            let answer = if i == k {
                format!("Unknown constant `_root_.{name}`")
            } else {
                format!("'{name}' does not depend on any axioms")
            };
            assert!(imports.read(Side::Start, i, i == k, i != k, &answer));
        }
        let t = TheoremText::for_verify(
            "prelude\nimport Mini",
            "theorem t : True",
            "trivial",
            &imports,
        );
        // Only the name the imports lack is asked about at the end.
        assert_eq!(t.reserved_names, [k]);
        assert!(t
            .text
            .ends_with(&reserved::probe_block(&[names[k].to_string()])));
        let end = t.line(t.reserved_start.unwrap());
        assert_eq!(t.probe_on(end), Some(Probe::Reserved(Side::End, k)));
        assert_eq!(t.probe_on(end + 1), None);
        let policy = AxiomPolicy::default();
        let judged = |message: &str, is_error: bool| {
            let mut answers = clean_answers();
            assert!(t.read_probe(&mut answers, end, is_error, !is_error, message));
            t.judge(Verdict::of(Status::Proved), &answers, &policy)
        };
        let still_unknown = judged("Unknown constant `_root_.Lean.reduceBool`", true);
        assert_eq!(still_unknown.status, Status::Proved, "{still_unknown:?}");
        let declared = judged("'Lean.reduceBool' does not depend on any axioms", false);
        assert_eq!(declared.status, Status::Error, "{declared:?}");
        assert!(
            declared.errors[0].contains("`Lean.reduceBool`"),
            "{declared:?}"
        );
        // No answer at the end: nothing is certified.
        let unanswered = t.judge(Verdict::of(Status::Proved), &clean_answers(), &policy);
        assert_eq!(unanswered.status, Status::Error, "{unanswered:?}");
        // Nor without the answers about what the imports declare.
        let unasked = TheoremText::for_verify(
            "prelude",
            "theorem t : True",
            "trivial",
            &ReservedAnswers::default(),
        );
        let refused = unasked.judge(Verdict::of(Status::Proved), &clean_answers(), &policy);
        assert_eq!(refused.status, Status::Error, "{refused:?}");
    }
}
