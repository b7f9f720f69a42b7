//! Lean's `lean --json` output: one JSON diagnostic per line, and what a theorem's diagnostics
//! say about its proof (a `Verdict`).
//!
//! The rule (see `../shared/docs/lean-in-ci.md` and `../shared/docs/repl-protocol.md`): any error
//! makes it `error`, unless every error is "unsolved goals", which makes it `open`; no error but
//! a "declaration uses sorry" warning (any quote style) or `sorryAx` in the proof makes it
//! `sorry`; nothing of that is `proved`. The caller picks the diagnostics by position.

use serde::Deserialize;

use crate::source::{is_ident_rest, Pos};
use crate::verdict::{Status, Verdict};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes the declaration fail.
    Error,
    /// Does not (a `sorry`, an unused variable, a linter).
    Warning,
    /// Output of `#print`, `#check`, `#eval` and the like.
    Information,
    /// A severity this version of proofstep does not know (treated as harmless).
    #[serde(other)]
    Other,
}

/// One line of `lean --json`. Unknown fields are ignored, missing optional ones tolerated.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Error, warning or information.
    pub severity: Severity,
    /// Where it starts.
    pub pos: Pos,
    /// Where it ends; parse errors have none.
    #[serde(default)]
    pub end_pos: Option<Pos>,
    /// The message text.
    pub data: String,
    /// Lean's name for the kind of message (`Tactic.unsolvedGoals`, `hasSorry`, ...), if given.
    #[serde(default)]
    pub kind: Option<String>,
    /// The file Lean was checking.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Lean's caption (usually empty).
    #[serde(default)]
    pub caption: Option<String>,
}

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            line: u32,
            column: u32,
        }
        let raw = Raw::deserialize(d)?;
        Ok(Pos::new(raw.line, raw.column))
    }
}

impl Diagnostic {
    /// Parses one line of `lean --json` output.
    pub fn parse(line: &str) -> Result<Diagnostic, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// True for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// True for the "unsolved goals" error: the proof ran, goals remain.
    pub fn is_unsolved_goals(&self) -> bool {
        self.is_error()
            && (self.kind.as_deref() == Some("Tactic.unsolvedGoals")
                || self.data.starts_with("unsolved goals"))
    }

    /// True for the warning on a declaration that uses `sorry` (or `admit`, or `sorryAx`).
    pub fn is_sorry_warning(&self) -> bool {
        self.severity == Severity::Warning
            && (self.kind.as_deref() == Some("hasSorry") || is_sorry_warning(&self.data))
    }

    /// True for an "unsolved goals" error placed at the very start of the file (line 1,
    /// column 0). Lean puts it there when a parse error inside a `by` block left the block's
    /// syntax without positions: it lists the goals of that theorem, never a header's.
    pub fn is_positionless_unsolved_goals(&self) -> bool {
        self.is_unsolved_goals() && self.pos == Pos::new(1, 0)
    }

    /// True for an error of the parser (Lean gives those no end position).
    pub fn is_parse_error(&self) -> bool {
        self.is_error() && self.end_pos.is_none()
    }

    /// True for an error that may be the parser's, in any backend: one without an end
    /// position, or one worded as the parser words them ("unexpected token ')'; expected
    /// term", which carries the token's range). What decides whether Lean recovers from it
    /// otherwise than proofstep reads the text (`check`'s desync rule), so it errs on the side of
    /// saying yes.
    pub fn may_be_parse_error(&self) -> bool {
        let text = self.data.trim_start();
        self.is_parse_error()
            || (self.is_error() && (text.starts_with("unexpected") || text.starts_with("expected")))
    }

    /// The goals of an "unsolved goals" error (empty for any other diagnostic).
    pub fn goals(&self) -> Vec<String> {
        LeanMessage::goals(self)
    }
}

/// One of Lean's messages as any backend reports it (a `lean --json` line, an LSP diagnostic,
/// a REPL message): what the verdict rule and goal splitting read. This module owns those
/// rules; each backend only says how its messages answer these questions.
pub trait LeanMessage {
    /// True for an error.
    fn is_error(&self) -> bool;
    /// True for the "unsolved goals" error.
    fn is_unsolved_goals(&self) -> bool;
    /// True for the warning on a declaration that uses `sorry`.
    fn is_sorry_warning(&self) -> bool;
    /// The message text.
    fn text(&self) -> &str;
    /// The goals an "unsolved goals" error lists (empty for any other message).
    fn goals(&self) -> Vec<String> {
        if !self.is_unsolved_goals() {
            return Vec::new();
        }
        let text = self.text();
        split_goals(text.strip_prefix("unsolved goals").unwrap_or(text))
    }
}

impl LeanMessage for Diagnostic {
    fn is_error(&self) -> bool {
        Diagnostic::is_error(self)
    }
    fn is_unsolved_goals(&self) -> bool {
        Diagnostic::is_unsolved_goals(self)
    }
    fn is_sorry_warning(&self) -> bool {
        Diagnostic::is_sorry_warning(self)
    }
    fn text(&self) -> &str {
        &self.data
    }
}

impl LeanMessage for crate::repl::protocol::Message {
    fn is_error(&self) -> bool {
        crate::repl::protocol::Message::is_error(self)
    }
    fn is_unsolved_goals(&self) -> bool {
        self.is_error() && self.data.starts_with("unsolved goals")
    }
    fn is_sorry_warning(&self) -> bool {
        !self.is_error() && is_sorry_warning(&self.data)
    }
    fn text(&self) -> &str {
        &self.data
    }
}

/// What `lean --json` printed: the diagnostics, and any line that was not one (a crash
/// message, a panic) kept as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonOutput {
    /// The diagnostics in the order Lean printed them.
    pub diagnostics: Vec<Diagnostic>,
    /// Non-empty lines that are not diagnostics.
    pub other: Vec<String>,
}

/// Splits `lean --json` output into diagnostics and other lines.
pub fn parse_output(stdout: &str) -> JsonOutput {
    let mut out = JsonOutput::default();
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match Diagnostic::parse(line) {
            Ok(d) => out.diagnostics.push(d),
            Err(_) => out.other.push(line.to_string()),
        }
    }
    out
}

/// True for Lean's "declaration uses 'sorry'" warning text in any quote style (it changed at
/// v4.28.0-rc1), matched on meaning.
pub fn is_sorry_warning(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words
        .windows(3)
        .any(|w| w[0] == "declaration" && w[1] == "uses" && w[2] == "sorry")
}

/// Splits the text after `unsolved goals` into one entry per goal. Lean separates goals by a
/// blank line; a `case` tag after a goal's `⊢` line also begins a new goal.
pub fn split_goals(text: &str) -> Vec<String> {
    let mut goals = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut seen_target = false;
    let flush = |current: &mut Vec<&str>, goals: &mut Vec<String>| {
        if current.iter().any(|l| !l.trim().is_empty()) {
            goals.push(current.join("\n").trim_end().to_string());
        }
        current.clear();
    };
    for line in text.trim_start_matches(['\n', '\r']).lines() {
        if line.trim().is_empty() {
            flush(&mut current, &mut goals);
            seen_target = false;
            continue;
        }
        if seen_target && line.starts_with("case ") {
            flush(&mut current, &mut goals);
            seen_target = false;
        }
        if line.starts_with('⊢') {
            seen_target = true;
        }
        current.push(line);
    }
    flush(&mut current, &mut goals);
    goals
}

/// What a message says is unknown: an identifier as written (`exact h₁`) or a constant asked
/// for by its full name (`#print axioms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// `Unknown identifier`.
    Identifier,
    /// `Unknown constant`.
    Constant,
}

/// The name a message line says is unknown (`Unknown identifier `h₁`` in Lean 4.35,
/// `unknown identifier 'h₁'` before; `unknown constant` likewise), with which kind of name it
/// was; `None` for any other line. The one reader of that message, for the axiom probe and the
/// search's name repair.
pub fn unknown_name(line: &str) -> Option<(Unknown, &str)> {
    let line = line.trim();
    let lower = line.to_lowercase();
    let (kind, prefix) = [
        (Unknown::Constant, "unknown constant"),
        (Unknown::Identifier, "unknown identifier"),
    ]
    .into_iter()
    .find(|(_, p)| lower.starts_with(p))?;
    let quoted = line[prefix.len()..].trim();
    let quote = quoted.chars().next().filter(|c| matches!(c, '`' | '\''))?;
    let name = quoted[1..].strip_suffix(quote)?;
    (!name.is_empty()).then_some((kind, name))
}

/// The names a goal's hypotheses can be referred to by, in the order Lean prints them (one
/// line per group, `h₁ h₂ : p`, before `⊢`); inaccessible names (`h✝`) are left out, since no
/// tactic can name them. `goal` is one goal as Lean pretty-prints it (a `case` line first or
/// not).
pub fn hypothesis_names(goal: &str) -> Vec<String> {
    local_names(goal)
        .into_iter()
        .filter(|n| !n.contains(INACCESSIBLE))
        .collect()
}

/// The mark Lean's pretty-printer puts after an inaccessible (hygienic) name: `h✝`, `a✝¹`.
pub const INACCESSIBLE: char = '✝';

/// Every local name a goal declares, in the order Lean prints them: the hypotheses'
/// (`hypothesis_names`) and the inaccessible ones (`h✝`, `a✝¹`) among them.
pub fn local_names(goal: &str) -> Vec<String> {
    declarations(goal).flat_map(|(names, _)| names).collect()
}

/// Every local a goal declares with the first line of its type (`…` when the type starts on
/// the next line), in the order Lean prints them.
pub fn typed_locals(goal: &str) -> Vec<(String, String)> {
    declarations(goal)
        .flat_map(|(names, ty)| {
            let ty = if ty.is_empty() { "…" } else { ty.trim_end() };
            names.into_iter().map(move |n| (n, ty.to_string()))
        })
        .collect()
}

/// The goal's hypotheses that are types, not proofs or values (`p q : Prop`, `α : Type u`,
/// `β : Sort _`), in the order Lean prints them: a name a tactic rarely means where it wrote
/// an unknown one.
pub fn type_names(goal: &str) -> Vec<String> {
    declarations(goal)
        .filter(|(_, ty)| {
            let head = ty.split_whitespace().next().unwrap_or("");
            matches!(head, "Prop" | "Type" | "Sort" | "Type*" | "Sort*")
        })
        .flat_map(|(names, _)| names)
        .collect()
}

/// Each hypothesis line of a goal before `⊢`: its names (`h₁ h₂ : p` declares two) and the
/// first line of their type (empty when the type is too long for the line and goes on the
/// next lines, after `h :`).
fn declarations(goal: &str) -> impl Iterator<Item = (Vec<String>, &str)> {
    goal.lines()
        .take_while(|line| !line.starts_with('⊢'))
        .filter(|line| !line.starts_with(char::is_whitespace) && !line.starts_with("case "))
        .filter_map(|line| {
            let (group, ty) = line
                .split_once(" : ")
                .or_else(|| line.strip_suffix(" :").map(|group| (group, "")))?;
            let names = group_words(group)
                .filter(|n| {
                    (n.starts_with('«') && n.ends_with('»'))
                        || (n.chars().all(is_local_name_char)
                            && !n.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
                })
                .map(str::to_string)
                .collect();
            Some((names, ty))
        })
}

/// The words of a hypothesis line's names, a `«quoted name»` (which may hold spaces) as one.
fn group_words(group: &str) -> impl Iterator<Item = &str> {
    let mut rest = group.trim_start();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = if rest.starts_with('«') {
            rest.find('»').map_or(rest.len(), |i| i + '»'.len_utf8())
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        let (word, tail) = rest.split_at(end);
        rest = tail.trim_start();
        Some(word)
    })
}

/// A character of a local name as Lean prints it: an identifier's, a `.`, or an inaccessible
/// name's mark and superscript index (`h✝¹`).
fn is_local_name_char(c: char) -> bool {
    is_ident_rest(c) || c == '.' || c == INACCESSIBLE || is_superscript_digit(c)
}

/// A superscript digit: the index Lean prints after an inaccessible name's mark (`h✝¹`).
pub(crate) fn is_superscript_digit(c: char) -> bool {
    matches!(c, '⁰' | '¹' | '²' | '³' | '⁴'..='⁹')
}

/// The verdict on one theorem from its own messages (any backend's). `sorry_elsewhere` says
/// whether a `sorry` is known without a warning: the proof text names `sorryAx`, or the REPL
/// listed a sorry.
pub fn verdict<'a, M: LeanMessage + 'a>(
    diagnostics: impl IntoIterator<Item = &'a M>,
    sorry_elsewhere: bool,
) -> Verdict {
    let mut errors = Vec::new();
    let mut goals = Vec::new();
    let mut all_unsolved = true;
    let mut sorry = sorry_elsewhere;
    for d in diagnostics {
        if d.is_error() {
            errors.push(d.text().trim_end().to_string());
            if d.is_unsolved_goals() {
                goals.extend(d.goals());
            } else {
                all_unsolved = false;
            }
        } else if d.is_sorry_warning() {
            sorry = true;
        }
    }
    let status = if errors.is_empty() {
        if sorry {
            Status::Sorry
        } else {
            Status::Proved
        }
    } else if all_unsolved {
        // The goals say it all; the "unsolved goals" texts would repeat them.
        errors.clear();
        Status::Open
    } else {
        Status::Error
    };
    Verdict {
        status,
        goals,
        errors,
        axioms: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines exactly as Lean 4.35.0 printed them for `lean/mini/examples/Mixed.lean`.
    const MIXED: &str = r#"{"caption":"","data":"unsolved goals\ncase right\np q : Prop\nhp : p\n⊢ q","endPos":{"column":10,"line":10},"fileName":"examples/Mixed.lean","isSilent":false,"keepFullRange":false,"kind":"Tactic.unsolvedGoals","pos":{"column":52,"line":8},"severity":"error"}
{"caption":"","data":"Type mismatch\n  hp\nhas type\n  p\nbut is expected to have type\n  q","endPos":{"column":10,"line":13},"fileName":"examples/Mixed.lean","isSilent":false,"keepFullRange":false,"kind":"[anonymous]","pos":{"column":2,"line":13},"severity":"error"}
{"caption":"","data":"declaration uses `sorry`","endPos":{"column":19,"line":15},"fileName":"examples/Mixed.lean","isSilent":false,"keepFullRange":false,"kind":"hasSorry","pos":{"column":8,"line":15},"severity":"warning"}
{"caption":"","data":"unknown tactic","endPos":null,"fileName":"examples/ParseError.lean","isSilent":false,"keepFullRange":true,"kind":"[anonymous]","pos":{"column":3,"line":10},"severity":"error"}
INTERNAL PANIC: something
"#;

    #[test]
    fn parses_lean_json_lines_and_keeps_the_rest() {
        let out = parse_output(MIXED);
        assert_eq!(out.diagnostics.len(), 4);
        assert_eq!(out.other, ["INTERNAL PANIC: something"]);
        let d = &out.diagnostics[0];
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.pos, Pos::new(8, 52));
        assert_eq!(d.end_pos, Some(Pos::new(10, 10)));
        assert_eq!(d.kind.as_deref(), Some("Tactic.unsolvedGoals"));
        assert_eq!(d.file_name.as_deref(), Some("examples/Mixed.lean"));
        assert!(d.is_unsolved_goals());
        assert_eq!(d.goals(), ["case right\np q : Prop\nhp : p\n⊢ q"]);
        assert!(!out.diagnostics[1].is_unsolved_goals());
        assert!(out.diagnostics[2].is_sorry_warning());
        assert!(out.diagnostics[3].is_parse_error());
        assert!(!out.diagnostics[1].is_parse_error());
    }

    #[test]
    fn tolerates_unknown_fields_and_missing_optional_ones() {
        let d = Diagnostic::parse(
            r#"{"severity":"hint","pos":{"line":1,"column":0},"data":"x","futureField":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(d.severity, Severity::Other);
        assert_eq!(d.kind, None);
        assert_eq!(d.end_pos, None);
        assert!(Diagnostic::parse(r#"{"severity":"error","data":"no position"}"#).is_err());
    }

    #[test]
    fn sorry_warning_in_every_quote_style() {
        for text in [
            "declaration uses `sorry`",
            "declaration uses 'sorry'",
            "declaration uses ‘sorry’",
            "Declaration uses sorry",
        ] {
            assert!(is_sorry_warning(text), "{text}");
        }
        assert!(!is_sorry_warning("unused variable `sorry`"));
        assert!(!is_sorry_warning("declaration uses sorryless_lemma"));
        let untagged = Diagnostic::parse(
            r#"{"severity":"warning","pos":{"line":3,"column":8},"data":"declaration uses 'sorry'"}"#,
        )
        .unwrap();
        assert!(untagged.is_sorry_warning());
    }

    #[test]
    fn goals_split_on_blank_lines_and_case_tags() {
        let text = "\ncase left\np : Prop\nh : p\n⊢ p\n\ncase right\np : Prop\nh : p\n⊢ p";
        assert_eq!(
            split_goals(text),
            [
                "case left\np : Prop\nh : p\n⊢ p",
                "case right\np : Prop\nh : p\n⊢ p"
            ]
        );
        let glued = "case a\nx : Nat\n⊢ x = x\ncase b\n⊢ True";
        assert_eq!(
            split_goals(glued),
            ["case a\nx : Nat\n⊢ x = x", "case b\n⊢ True"]
        );
        let long = "h : a = b ∧\n    c = d\n⊢ a =\n    b";
        assert_eq!(split_goals(long), [long]);
        assert!(split_goals("\n\n").is_empty());
    }

    fn diags(lines: &str) -> Vec<Diagnostic> {
        parse_output(lines).diagnostics
    }

    #[test]
    fn classification() {
        let all = diags(MIXED);
        let open = verdict(&all[0..1], false);
        assert_eq!(open.status, Status::Open);
        assert_eq!(open.goals.len(), 1);
        assert!(open.errors.is_empty());

        let error = verdict(&all[1..2], false);
        assert_eq!(error.status, Status::Error);
        assert!(error.errors[0].starts_with("Type mismatch"));

        let unsolved_and_other = verdict(&all[0..2], false);
        assert_eq!(unsolved_and_other.status, Status::Error);
        assert_eq!(unsolved_and_other.errors.len(), 2);
        assert_eq!(unsolved_and_other.goals.len(), 1);

        assert_eq!(verdict(&all[2..3], false).status, Status::Sorry);
        assert_eq!(
            verdict(&all[1..3], false).status,
            Status::Error,
            "error and sorry is error"
        );
        assert_eq!(
            verdict(&all[3..4], false).status,
            Status::Error,
            "parse error"
        );
        assert_eq!(verdict(&[] as &[Diagnostic], false).status, Status::Proved);
        assert_eq!(
            verdict(&[] as &[Diagnostic], true).status,
            Status::Sorry,
            "sorryAx in the proof"
        );
        assert_eq!(verdict(&all[0..1], true).status, Status::Open);
    }

    /// A goal as Lean prints it: a `case` line, grouped names, a type too long for its line
    /// (Lean's `ppGoal`: `h :` then the type indented on the next lines), a `let` value,
    /// inaccessible names, then the target (whose `:` is not a hypothesis).
    #[test]
    fn hypothesis_names_are_the_names_a_tactic_can_write() {
        let goal = "case inr.h\np q r : Prop\nh₁ :\n  p ∧\n    q\nn : Nat := 5\nh✝ a✝ : q\nhx' : (x : Nat) → x = x\n⊢ ∀ (y : Nat), y = y";
        assert_eq!(hypothesis_names(goal), ["p", "q", "r", "h₁", "n", "hx'"]);
        assert!(hypothesis_names("⊢ True").is_empty());
        assert_eq!(
            local_names(goal),
            ["p", "q", "r", "h₁", "n", "h✝", "a✝", "hx'"]
        );
        let types = "α : Type u\nβ : Sort _\np q : Prop\nP : α → Prop\nh : p\nγ : Type\n⊢ p";
        assert_eq!(type_names(types), ["α", "β", "p", "q", "γ"]);
    }

    #[test]
    fn unknown_names_are_read_in_both_spellings() {
        assert_eq!(
            unknown_name("Unknown identifier `h₁.mp`"),
            Some((Unknown::Identifier, "h₁.mp"))
        );
        assert_eq!(
            unknown_name("unknown constant 'Nat.foo'"),
            Some((Unknown::Constant, "Nat.foo"))
        );
        assert_eq!(unknown_name("Unknown identifier ``"), None);
        assert_eq!(unknown_name("type mismatch: unknown identifier"), None);
    }
}
