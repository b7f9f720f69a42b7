//! How a theorem is written out for Lean to check — the one layout every backend uses: the
//! header, then `statement := by` and the tactics one per line, then optionally a `done` (whose
//! "unsolved goals" lists what is left) and a `#print axioms` probe (which says what the proof
//! rests on). The byte offsets of the parts let diagnostics be told apart (header, statement,
//! proof, probe) in whatever position system a backend's Lean reports. A final check also asks,
//! just before the statement, whether the theorem's name is still free there, as `check` does
//! (`FileProbe::free_name_probe`): a name the header already declared could otherwise answer
//! the probe after the theorem; and, right after the module header and at the end, which
//! reserved names exist (`reserved`): the text must declare none.

use lsp_types::Position;

use crate::axioms::{
    self, example_declaration, example_name, print_axioms_command, print_axioms_here, AxiomPolicy,
    AxiomsAnswer,
};
use crate::backend::proof_text;
use crate::check::untrusted;
use crate::lsp::text::position_at;
use crate::reserved::{self, ReservedAnswers, Side};
use crate::source::{module_header_end, qualified, DeclKind, Pos, SourceFile};
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
    /// Where the reserved-name probes after the module header and at the end start, if the
    /// text has them.
    pub reserved_starts: Option<[usize; 2]>,
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
            reserved_starts: None,
            checked_name: None,
            distrust: None,
        }
    }

    /// The text a final check runs: the reserved-name probes right after the module header,
    /// the rest of the header, `#print axioms _root_.NAME` (which must answer "unknown
    /// constant": the name is free), then `proof` (a tactic block) after the statement, then
    /// `#print axioms` on the theorem, then the reserved-name probes again. An `example` is
    /// checked as a definition of a name of its own, so the probes can name it.
    pub fn for_verify(header: &str, statement: &str, proof: &str) -> Self {
        let imports_end = module_header_end(header);
        let block_start = imports_end + usize::from(imports_end > 0);
        let with_block = format!(
            "{}{}{}{}",
            &header[..imports_end],
            if imports_end > 0 { "\n" } else { "" },
            reserved::probe_block(),
            &header[imports_end..]
        );
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
        let header_and_probe = match (&free_probe, with_block.trim_end()) {
            (Some(probe), "") => probe.clone(),
            (Some(probe), header) => format!("{header}\n{probe}"),
            (None, _) => with_block.clone(),
        };
        let mut layout = TheoremText::new(&header_and_probe, &statement, &[proof.to_string()]);
        if let Some(probe) = &free_probe {
            layout.free_start = Some(layout.statement_start - probe.len() - 1);
        }
        layout.checked_name = checked_name;
        layout.distrust = untrusted(&layout.text)
            .or_else(|| parsed.declares_reserved())
            .or(doubt);
        if let (Some(_), Some(written)) = (&layout.checked_name, probe_name) {
            layout.text.push('\n');
            layout.probe_start = Some(layout.text.len());
            layout.text.push_str(&print_axioms_here(&written));
            layout.text.push('\n');
        }
        layout.reserved_starts = Some([block_start, layout.text.len()]);
        layout.text.push_str(&reserved::probe_block());
        layout
    }

    /// Which probe a message on `line` (from 0, of `text`) may answer, if any.
    pub fn probe_on(&self, line: u32) -> Option<Probe> {
        let reserved = self.reserved_starts.and_then(|starts| {
            [Side::Start, Side::End]
                .into_iter()
                .zip(starts)
                .find_map(|(side, start)| {
                    let k = line.checked_sub(self.line(start))? as usize;
                    (k < reserved::block_lines()).then_some(Probe::Reserved(side, k))
                })
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
            (Some(_), None) if answers.reserved.why_untrusted().is_some() => {
                let why = answers.reserved.why_untrusted().unwrap_or_default();
                refuse(verdict, why)
            }
            (Some(name), None) => match &answers.free {
                Some(AxiomsAnswer::Unknown) => {
                    axioms::judge(verdict, answers.after.as_ref(), policy, name)
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
    /// `#print axioms _root_.NAME` of reserved name `k` (`reserved`), after the module header
    /// or at the end.
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
    /// The answers about the reserved names.
    pub reserved: ReservedAnswers,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers of an honest text: the name free before, nothing rested on after.
    fn clean_answers() -> ProbeAnswers {
        ProbeAnswers {
            free: Some(AxiomsAnswer::Unknown),
            after: Some(AxiomsAnswer::DependsOn(Vec::new())),
            reserved: ReservedAnswers::imports_declare_all(),
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
        let t = TheoremText::for_verify(
            "prelude\nimport Mini\nnamespace Foo",
            "theorem t (p : Prop) (hp : p) : p",
            "exact hp",
        );
        let block = reserved::probe_block();
        let k = reserved::block_lines() as u32;
        assert_eq!(
            t.text,
            format!(
                "prelude\nimport Mini\n{block}\n{}{block}",
                axioms::with_probe_options(
                    "namespace Foo\n#print axioms _root_.Foo.t\ntheorem t (p : Prop) (hp : p) : p := by\n  exact hp\n\n#print axioms t\n"
                )
            )
        );
        assert_eq!(t.pos(t.probe_start.unwrap()), Pos::new(9 + k, 0));
        assert_eq!(t.probe_on(8 + k), Some(Probe::After));
        assert_eq!(t.probe_on(4 + k), Some(Probe::Free));
        assert_eq!(t.probe_on(5 + k), None);
        assert_eq!(t.probe_on(1), None);
        assert_eq!(t.probe_on(2), Some(Probe::Reserved(Side::Start, 0)));
        assert_eq!(t.probe_on(9 + k), Some(Probe::Reserved(Side::End, 0)));
        assert_eq!(
            t.probe_on(8 + 2 * k),
            Some(Probe::Reserved(Side::End, k as usize - 1))
        );
        assert_eq!(t.probe_on(9 + 2 * k), None);
        assert_eq!(t.checked_name.as_deref(), Some("Foo.t"));
        assert_eq!(t.after_header().1, 4 + k);
        assert!(t.after_header().0.starts_with(&axioms::with_probe_options(
            "#print axioms _root_.Foo.t\ntheorem t"
        )));
    }

    #[test]
    fn an_example_is_verified_under_a_name_of_its_own() {
        let t = TheoremText::for_verify("", "example (p : Prop) (hp : p) : p", "exact hp");
        let block = reserved::probe_block();
        assert_eq!(
            t.text,
            format!(
                "{block}{}{block}",
                axioms::with_probe_options(
                    "#print axioms _root_.proofstep_checked_example\nnoncomputable def proofstep_checked_example (p : Prop) (hp : p) : p := by\n  exact hp\n\n#print axioms proofstep_checked_example\n"
                )
            )
        );
        let other = TheoremText::for_verify("", "theorem example_ish : True", "trivial");
        assert_eq!(other.checked_name.as_deref(), Some("example_ish"));
    }

    #[test]
    fn a_text_that_could_answer_the_probe_itself_confirms_nothing() {
        let clean = clean_answers();
        let policy = AxiomPolicy::default();
        let honest = TheoremText::for_verify("prelude", "theorem t : True", "trivial");
        let proved = honest.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(proved.status, Status::Proved);
        let spoof = TheoremText::for_verify(
            "prelude\nmacro_rules | `(#print axioms $_x) => `(#check True)",
            "theorem t : True",
            "trivial",
        );
        let refused = spoof.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error);
        let unnamed = TheoremText::for_verify("prelude", "def d : True", "trivial");
        let refused = unnamed.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error, "only theorems are verified");
    }

    #[test]
    fn a_statement_of_several_commands_proves_nothing() {
        let policy = AxiomPolicy::default();
        let clean = clean_answers();
        let two = TheoremText::for_verify(
            "prelude\nimport Mini\ndef bad : HAdd Nat Nat Nat := ⟨fun _ _ => 5⟩",
            "attribute [instance 2000] bad\ntheorem t : (2 : Nat) + 2 = 5",
            "rfl",
        );
        let refused = two.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(refused.status, Status::Error, "{refused:?}");
        // A theorem's own prefixes, attributes and doc comment are part of it.
        let one = TheoremText::for_verify(
            "prelude\nimport Mini",
            "/-- doc -/\n@[simp] set_option maxRecDepth 100 in\ntheorem t : True",
            "trivial",
        );
        let proved = one.judge(Verdict::of(Status::Proved), &clean, &policy);
        assert_eq!(proved.status, Status::Proved, "{proved:?}");
    }

    #[test]
    fn a_name_declared_before_the_statement_proves_nothing() {
        let t = TheoremText::for_verify("prelude", "theorem t : True", "trivial");
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
        let t = TheoremText::for_verify("prelude\nimport Mini", "theorem t : True", "trivial");
        let policy = AxiomPolicy::default();
        let k = crate::source::keywords::RESERVED_NAMES
            .iter()
            .position(|n| *n == "Lean.reduceBool")
            .unwrap();
        let [start, end] = t.reserved_starts.unwrap();
        let mut answers = clean_answers();
        answers.reserved = ReservedAnswers::default();
        for (k2, name) in crate::source::keywords::RESERVED_NAMES.iter().enumerate() {
            let (line, unknown) = (
                t.line(start) + k2 as u32,
                format!("Unknown constant `_root_.{name}`"),
            );
            assert!(t.read_probe(&mut answers, line, true, false, &unknown));
            let at_end = if k2 == k {
                format!("'{name}' does not depend on any axioms")
            } else {
                unknown
            };
            assert!(t.read_probe(
                &mut answers,
                t.line(end) + k2 as u32,
                k2 != k,
                k2 == k,
                &at_end
            ));
        }
        let refused = t.judge(Verdict::of(Status::Proved), &answers, &policy);
        assert_eq!(refused.status, Status::Error, "{refused:?}");
        assert!(
            refused.errors[0].contains("`Lean.reduceBool`"),
            "{refused:?}"
        );
        // Without the answers after the module header (a REPL's are asked apart), nothing is
        // certified.
        let unanswered = ProbeAnswers {
            reserved: ReservedAnswers::default(),
            ..clean_answers()
        };
        let refused = t.judge(Verdict::of(Status::Proved), &unanswered, &policy);
        assert_eq!(refused.status, Status::Error, "{refused:?}");
    }
}
