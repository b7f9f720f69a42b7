//! Where a next step goes for a cursor in a tactic block, and the shadow text a candidate is
//! checked in. A cursor on a blank line gets the step on that line (at the block's
//! indentation); a cursor on a line that is only `sorry` gets the step in the `sorry`'s place;
//! a cursor at the end of a tactic line gets it on a new line below. The goal
//! asked for is the one Lean shows at the cursor (the state after the tactic before it).

use lsp_types::{Position, Range};

use crate::lean::lsp::text::{offset_of, position_at};

/// A planned insertion of one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insertion {
    /// Where to ask Lean for the goal the step must act on.
    pub goal_at: Position,
    /// The text range the step replaces (a blank line's whitespace, or the empty range at the
    /// end of a tactic line).
    pub range: Range,
    /// The indentation of the step's lines.
    pub indent: String,
    /// Whether the step starts on a new line after `range` (cursor at the end of a tactic line).
    pub new_line: bool,
    /// The line where the declaration holding the cursor starts (the last line at or above the
    /// cursor that begins in column 0).
    pub declaration_line: u32,
}

impl Insertion {
    /// The replacement text for `range` that inserts `tactic` (continuation lines indented too).
    pub fn new_text(&self, tactic: &str) -> String {
        let mut body = String::new();
        for (i, line) in tactic.trim_end().lines().enumerate() {
            if i > 0 {
                body.push('\n');
            }
            if !line.trim().is_empty() {
                body.push_str(&self.indent);
                body.push_str(if i == 0 { line.trim_start() } else { line });
            }
        }
        if self.new_line {
            format!("\n{body}")
        } else {
            body
        }
    }
}

/// The insertion for `cursor` in `text`, or None when the cursor is not on a blank line, a
/// line that is only `sorry`, nor at the end of a line (other mid-line cursors get no
/// suggestions).
pub fn plan(text: &str, cursor: Position) -> Option<Insertion> {
    let lines: Vec<&str> = text.split('\n').collect();
    let line_no = cursor.line as usize;
    let line = lines.get(line_no)?.trim_end_matches('\r');
    let at = offset_of(text, cursor)?;
    let line_start = offset_of(
        text,
        Position {
            line: cursor.line,
            character: 0,
        },
    )?;
    let column_bytes = at - line_start;
    let after = line.get(column_bytes..).unwrap_or("");
    let end_char = line.encode_utf16().count() as u32;
    let declaration_line = (0..=line_no)
        .rev()
        .find(|&i| lines[i].chars().next().is_some_and(|c| !c.is_whitespace()))
        .unwrap_or(0) as u32;
    // A line that is only `sorry`: the step takes its place, acting on the goal the `sorry`
    // closes (Lean's goal at its first character).
    // The step in place of the whole line, at `indent`.
    let whole_line = |goal_at: Position, indent: String| Insertion {
        goal_at,
        range: Range {
            start: Position {
                line: cursor.line,
                character: 0,
            },
            end: Position {
                line: cursor.line,
                character: end_char,
            },
        },
        indent,
        new_line: false,
        declaration_line,
    };
    if line.trim() == "sorry" {
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let sorry_at = Position {
            line: cursor.line,
            character: indent.encode_utf16().count() as u32,
        };
        return Some(whole_line(sorry_at, indent));
    }
    if line.trim().is_empty() {
        let indent = if !line.is_empty() {
            line.to_string()
        } else {
            let above = lines[..line_no]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())?;
            indent_after(above)
        };
        return Some(whole_line(cursor, indent));
    }
    if !after.trim().is_empty() {
        return None;
    }
    let end = Position {
        line: cursor.line,
        character: end_char,
    };
    Some(Insertion {
        goal_at: end,
        range: Range { start: end, end },
        indent: indent_after(line),
        new_line: true,
        declaration_line,
    })
}

/// The indentation of a step following `line`: the line's own, two more after a `by`.
fn indent_after(line: &str) -> String {
    let own: String = line
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let trimmed = line.trim_end();
    let opens = trimmed.ends_with(" by") || trimmed == "by" || trimmed.ends_with(":= by");
    if opens {
        format!("{own}  ")
    } else {
        own
    }
}

/// A document text with a candidate inserted, cut after the declaration that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadow {
    /// The text Lean checks.
    pub text: String,
    /// Where the candidate starts (after its indentation).
    pub start: Position,
    /// Where it ends.
    pub end: Position,
}

/// Applies the insertion of `tactic` to `text`, and drops everything from the first line after
/// the candidate that starts in column 0 (the next command: it cannot change the verdict on
/// this declaration, and leaving it out saves Lean the work).
pub fn shadow(text: &str, ins: &Insertion, tactic: &str) -> Option<Shadow> {
    let a = offset_of(text, ins.range.start)?;
    let b = offset_of(text, ins.range.end)?;
    let new_text = ins.new_text(tactic);
    let mut out = String::with_capacity(text.len() + new_text.len());
    out.push_str(&text[..a]);
    let lead = if ins.new_line { 1 } else { 0 } + ins.indent.len();
    let start_byte = a + lead;
    out.push_str(&new_text);
    let end_byte = out.len();
    let rest = &text[b..];
    let mut kept = 0;
    let mut first = true;
    for piece in rest.split_inclusive('\n') {
        if !first && piece.chars().next().is_some_and(|c| !c.is_whitespace()) {
            break;
        }
        first = false;
        kept += piece.len();
    }
    out.push_str(&rest[..kept]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Some(Shadow {
        start: position_at(&out, start_byte),
        end: position_at(&out, end_byte),
        text: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "prelude\nimport Mini\ntheorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n  \n\ntheorem u : True := by\n  trivial\n";

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn blank_line_gets_the_step_in_place() {
        let ins = plan(DOC, pos(4, 2)).unwrap();
        assert_eq!(ins.indent, "  ");
        assert!(!ins.new_line);
        assert_eq!(ins.declaration_line, 2);
        let s = shadow(DOC, &ins, "exact hp").unwrap();
        assert_eq!(
            s.text,
            "prelude\nimport Mini\ntheorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n  exact hp\n\n"
        );
        assert_eq!((s.start, s.end), (pos(4, 2), pos(4, 10)));
    }

    #[test]
    fn a_sorry_line_gets_the_step_in_the_sorrys_place() {
        let doc = "prelude\nimport Mini\ntheorem t (p : Prop) (hp : p) : p := by\n  sorry\n";
        for character in [0, 2, 5, 7] {
            let ins = plan(doc, pos(3, character)).unwrap();
            assert_eq!(ins.goal_at, pos(3, 2));
            assert!(!ins.new_line);
            let s = shadow(doc, &ins, "exact hp").unwrap();
            assert_eq!(
                s.text,
                "prelude\nimport Mini\ntheorem t (p : Prop) (hp : p) : p := by\n  exact hp\n"
            );
            assert_eq!((s.start, s.end), (pos(3, 2), pos(3, 10)));
        }
        // `sorry` beside other text is a mid-line cursor as before.
        let doc = "theorem t : True := by\n  skip; sorry\n";
        assert!(plan(doc, pos(1, 8)).is_none());
    }

    #[test]
    fn end_of_a_tactic_line_gets_a_new_line() {
        let ins = plan(DOC, pos(3, 13)).unwrap();
        assert!(ins.new_line);
        assert_eq!(ins.goal_at, pos(3, 13));
        assert_eq!(ins.new_text("exact hp"), "\n  exact hp");
        let s = shadow(DOC, &ins, "exact hp").unwrap();
        assert!(s.text.contains("  constructor\n  exact hp\n  \n"));
        assert_eq!((s.start, s.end), (pos(4, 2), pos(4, 10)));
        let after_by = plan(DOC, pos(2, 56)).unwrap();
        assert_eq!(after_by.indent, "  ");
    }

    #[test]
    fn empty_line_takes_the_indent_above_and_multiline_steps_keep_it() {
        let doc = "theorem t : p := by\n    intro h\n\n";
        let ins = plan(doc, pos(2, 0)).unwrap();
        assert_eq!(ins.indent, "    ");
        assert_eq!(
            ins.new_text("cases h with\n  | inl a => exact a"),
            "    cases h with\n      | inl a => exact a"
        );
    }

    #[test]
    fn mid_line_cursors_get_nothing() {
        assert_eq!(plan(DOC, pos(3, 4)), None);
        assert_eq!(plan(DOC, pos(40, 0)), None);
    }
}
