//! How the server backend writes a theorem into a document, and where its parts land: the
//! header first, then `statement := by` and the tactics, one per line. The positions let
//! diagnostics be told apart (header or theorem) and goals be asked at the end of the proof.

use lsp_types::Position;

use crate::lean::backend::proof_text;
use crate::lean::lsp::text::position_at;

/// A theorem written out as a document, with the positions the backend needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TheoremText {
    /// The whole document.
    pub text: String,
    /// The first line of the theorem (everything above is the header).
    pub theorem_line: u32,
    /// Just after `by`: where the root goals are.
    pub by_end: Position,
    /// Just after the last character of the last tactic (`by_end` when there is none).
    pub proof_end: Position,
}

impl TheoremText {
    /// Writes `header`, then `statement := by`, then `steps` indented as a tactic block.
    pub fn new(header: &str, statement: &str, steps: &[String]) -> Self {
        let mut text = String::with_capacity(header.len() + statement.len() + 64);
        text.push_str(header);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let theorem_line = position_at(&text, text.len()).line;
        let statement = statement.trim_end();
        text.push_str(statement);
        // A statement ending in a line comment would swallow `:= by`: start a new line then.
        let ends_in_comment = statement.lines().last().is_some_and(|l| l.contains("--"));
        text.push_str(if ends_in_comment {
            "\n    := by"
        } else {
            " := by"
        });
        let by_end = position_at(&text, text.len());
        text.push('\n');
        text.push_str(&proof_text(steps));
        let proof_end = if steps.iter().any(|s| !s.trim().is_empty()) {
            position_at(&text, text.trim_end().len())
        } else {
            by_end
        };
        TheoremText {
            text,
            theorem_line,
            by_end,
            proof_end,
        }
    }

    /// True when a diagnostic starting at `pos` is about the header rather than the theorem.
    pub fn in_header(&self, pos: Position) -> bool {
        pos.line < self.theorem_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_the_parts() {
        let steps = vec!["constructor".to_string(), "· exact ⟨hp, hq⟩".to_string()];
        let t = TheoremText::new("prelude\nimport Mini", "theorem t : p ∧ q  ", &steps);
        assert_eq!(
            t.text,
            "prelude\nimport Mini\ntheorem t : p ∧ q := by\n  constructor\n  · exact ⟨hp, hq⟩\n"
        );
        assert_eq!(t.theorem_line, 2);
        assert_eq!(
            t.by_end,
            Position {
                line: 2,
                character: 23
            }
        );
        assert_eq!(
            t.proof_end,
            Position {
                line: 4,
                character: 18
            }
        );
        assert!(t.in_header(Position {
            line: 1,
            character: 0
        }));
        assert!(!t.in_header(Position {
            line: 2,
            character: 0
        }));
    }

    #[test]
    fn a_trailing_line_comment_does_not_swallow_by() {
        let t = TheoremText::new("", "theorem t : True -- why", &["trivial".to_string()]);
        assert_eq!(t.text, "theorem t : True -- why\n    := by\n  trivial\n");
        assert_eq!(
            t.by_end,
            Position {
                line: 1,
                character: 9
            }
        );
    }

    #[test]
    fn no_steps_ends_at_by() {
        let t = TheoremText::new("", "theorem t : True", &[]);
        assert_eq!(t.text, "theorem t : True := by\n");
        assert_eq!(t.theorem_line, 0);
        assert_eq!(t.proof_end, t.by_end);
    }
}
