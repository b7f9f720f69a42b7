//! Lean's LSP diagnostics and what they say about a proof: errors, unsolved goals, `sorry`.
//! They carry the same severities and messages as `lean --json`; verdicts are given by the
//! same rules (`crate::lean::diagnostics`), so every backend classifies a proof alike.

use lsp_types::{DiagnosticSeverity, Position, Range};
use serde::{Deserialize, Serialize};

use crate::lean::diagnostics::{self, Diagnostic, LeanMessage, Severity};
use crate::lean::lsp::text::offset_of;
use crate::lean::source::Pos;

/// Lean's tag for the "unsolved goals" error (`LeanDiagnosticTag.unsolvedGoals`).
const TAG_UNSOLVED_GOALS: u32 = 1;

/// A diagnostic as Lean's server publishes it: the standard LSP fields plus Lean's extensions
/// (`leanTags`, `fullRange`), which the standard type would drop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeanDiagnostic {
    /// The standard LSP diagnostic (range, severity, message, code, ...).
    #[serde(flatten)]
    pub lsp: lsp_types::Diagnostic,
    /// Lean's own tags; `1` marks an "unsolved goals" error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lean_tags: Option<Vec<u32>>,
    /// The whole range the message is about (`range` may be shortened for display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_range: Option<Range>,
}

impl LeanDiagnostic {
    /// True for an error (the only severity that makes a proof fail).
    pub fn is_error(&self) -> bool {
        self.lsp.severity == Some(DiagnosticSeverity::ERROR)
    }

    /// True for Lean's "unsolved goals" error: the proof ran without failing but goals remain.
    pub fn is_unsolved_goals(&self) -> bool {
        self.is_error()
            && (self
                .lean_tags
                .as_deref()
                .unwrap_or(&[])
                .contains(&TAG_UNSOLVED_GOALS)
                || self.lsp.message.starts_with("unsolved goals"))
    }

    /// True for an "unsolved goals" error at the very start of the document (0:0). Lean puts
    /// it there when a parse error inside a `by` block left the block's syntax without
    /// positions: it lists the goals of that theorem, never a header's.
    pub fn is_positionless_unsolved_goals(&self) -> bool {
        self.is_unsolved_goals() && self.start() == Position::default()
    }

    /// True for the warning Lean gives a declaration whose proof uses `sorry` (or `admit`, or
    /// `sorryAx`): elaborated, but not proved.
    pub fn is_sorry_warning(&self) -> bool {
        self.lsp.severity == Some(DiagnosticSeverity::WARNING)
            && diagnostics::is_sorry_warning(&self.lsp.message)
    }

    /// The goals an "unsolved goals" error lists (Lean separates goals by a blank line);
    /// empty for any other diagnostic.
    pub fn unsolved_goals(&self) -> Vec<String> {
        LeanMessage::goals(self)
    }

    /// Where the diagnostic starts.
    pub fn start(&self) -> Position {
        self.lsp.range.start
    }
}

impl LeanDiagnostic {
    /// The diagnostic as `lean --json` prints it for the document `text`: line from 1, column
    /// in characters, no end for a parse error (the server gives it an empty range). Whole-file
    /// checks read every backend's diagnostics alike.
    pub fn to_lean_json(&self, text: &str) -> Diagnostic {
        let pos = |p: Position| {
            let column = offset_of(text, p).map_or(p.character, |byte| {
                let line_start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
                text[line_start..byte].chars().count() as u32
            });
            Pos::new(p.line + 1, column)
        };
        let range = self.full_range.unwrap_or(self.lsp.range);
        let severity = match self.lsp.severity {
            Some(DiagnosticSeverity::ERROR) => Severity::Error,
            Some(DiagnosticSeverity::WARNING) => Severity::Warning,
            Some(DiagnosticSeverity::INFORMATION) => Severity::Information,
            _ => Severity::Other,
        };
        Diagnostic {
            severity,
            pos: pos(range.start),
            end_pos: (range.end != range.start).then(|| pos(range.end)),
            data: self.lsp.message.clone(),
            kind: self
                .is_unsolved_goals()
                .then(|| "Tactic.unsolvedGoals".to_string()),
            file_name: None,
            caption: None,
        }
    }
}

impl LeanMessage for LeanDiagnostic {
    fn is_error(&self) -> bool {
        LeanDiagnostic::is_error(self)
    }
    fn is_unsolved_goals(&self) -> bool {
        LeanDiagnostic::is_unsolved_goals(self)
    }
    fn is_sorry_warning(&self) -> bool {
        LeanDiagnostic::is_sorry_warning(self)
    }
    fn text(&self) -> &str {
        &self.lsp.message
    }
}

/// What the diagnostics of one theorem say, before deciding a `Verdict` or an `Outcome`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProofReport {
    /// Error messages other than the proof's own "unsolved goals" (a nested block's are here).
    pub errors: Vec<String>,
    /// The goals of the proof's own "unsolved goals" errors, in order.
    pub unsolved: Vec<String>,
    /// Whether the proof's own "unsolved goals" error was reported at all (it can list zero
    /// parsable goals).
    pub has_unsolved: bool,
    /// Whether Lean warned that the declaration uses `sorry`.
    pub uses_sorry: bool,
}

impl ProofReport {
    /// Summarizes the diagnostics that belong to one theorem whose `by` ends at `by_end`.
    /// Lean reports the goals the whole proof leaves at its `by`; an "unsolved goals" error
    /// that starts after `by_end` belongs to a focused block inside the proof (`· tac`,
    /// `case h => tac`) that did not close its goal. Lean admits that goal and goes on, so it
    /// is a failed step, never open goals of the proof.
    pub fn of<'a>(diags: impl IntoIterator<Item = &'a LeanDiagnostic>, by_end: Position) -> Self {
        let mut r = ProofReport::default();
        for d in diags {
            if d.is_unsolved_goals() && d.start() <= by_end {
                r.has_unsolved = true;
                r.unsolved.extend(d.unsolved_goals());
            } else if d.is_error() {
                r.errors.push(d.lsp.message.clone());
            } else if d.is_sorry_warning() {
                r.uses_sorry = true;
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lean::verdict::Status;
    use serde_json::json;

    fn diag(v: serde_json::Value) -> LeanDiagnostic {
        serde_json::from_value(v).unwrap()
    }

    fn at(line: u32) -> serde_json::Value {
        json!({"start": {"line": line, "character": 0}, "end": {"line": line, "character": 4}})
    }

    #[test]
    fn parses_lean_extensions_and_splits_goals() {
        let d = diag(json!({
            "range": at(3), "fullRange": at(4), "leanTags": [1], "severity": 1, "source": "Lean 4",
            "message": "unsolved goals\ncase left\np q : Prop\n⊢ p\n\ncase right\np q : Prop\n⊢ q"
        }));
        assert!(d.is_unsolved_goals());
        assert_eq!(d.full_range.unwrap().start.line, 4);
        assert_eq!(
            d.unsolved_goals(),
            vec!["case left\np q : Prop\n⊢ p", "case right\np q : Prop\n⊢ q"]
        );
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back["leanTags"], json!([1]));
    }

    #[test]
    fn classifies_each_status() {
        let err = diag(json!({"range": at(5), "severity": 1, "message": "Type mismatch\n  hp"}));
        let open = diag(
            json!({"range": at(3), "severity": 1, "leanTags": [1], "message": "unsolved goals\n⊢ q"}),
        );
        let sorry =
            diag(json!({"range": at(3), "severity": 2, "message": "declaration uses `sorry`"}));
        let info =
            diag(json!({"range": at(3), "severity": 3, "message": "unsolved goals? no: an info"}));
        let v = |ds: &[&LeanDiagnostic]| diagnostics::verdict(ds.iter().copied(), false);
        assert_eq!(v(&[&err]).status, Status::Error);
        assert_eq!(v(&[&open]).status, Status::Open);
        assert_eq!(v(&[&open]).goals, vec!["⊢ q"]);
        assert_eq!(v(&[&sorry]).status, Status::Sorry);
        assert_eq!(v(&[&info]).status, Status::Proved);
        assert_eq!(v(&[&sorry, &err, &open]).status, Status::Error);
        assert_eq!(v(&[&sorry, &open]).status, Status::Open);
        let by_end = Position {
            line: 3,
            character: 9,
        };
        let report = ProofReport::of([&sorry, &err, &open], by_end);
        assert!(report.uses_sorry && report.has_unsolved && report.errors.len() == 1);
        // An "unsolved goals" error inside the proof is a block that failed, not open goals.
        let block = diag(
            json!({"range": at(4), "severity": 1, "leanTags": [1], "message": "unsolved goals\n⊢ p"}),
        );
        let report = ProofReport::of([&block], by_end);
        assert!(!report.has_unsolved && report.unsolved.is_empty());
        assert_eq!(report.errors, vec!["unsolved goals\n⊢ p"]);
    }
}
