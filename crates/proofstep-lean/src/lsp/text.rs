//! LSP positions in a text: zero-based lines, characters counted in UTF-16 code units (the LSP
//! default, which Lean's server uses), so `⊢`, `∧` and `⟨` land where Lean says they are.

use lsp_types::Position;

use crate::source::offset_at;

/// The position of byte offset `offset` of `text` (clamped to the text, and back to a char
/// boundary).
pub fn position_at(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = before[line_start..].encode_utf16().count() as u32;
    Position { line, character }
}

/// The position just after the last character of `text`.
pub fn end_position(text: &str) -> Position {
    position_at(text, text.len())
}

/// The byte offset of an LSP position in `text`, or None when the line does not exist.
/// A character past the end of its line maps to the end of that line.
pub fn offset_of(text: &str, pos: Position) -> Option<usize> {
    offset_at(
        text,
        pos.line as usize,
        pos.character as usize,
        char::len_utf16,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_utf16_units_on_the_line() {
        let text = "prelude\ntheorem t : p ∧ q := by\n  exact ⟨hp, hq⟩\n";
        let by = text.find("by").unwrap();
        assert_eq!(
            position_at(text, by),
            Position {
                line: 1,
                character: 21
            }
        );
        let end = text.rfind('⟩').unwrap() + '⟩'.len_utf8();
        assert_eq!(
            position_at(text, end),
            Position {
                line: 2,
                character: 16
            }
        );
        assert_eq!(
            end_position(text),
            Position {
                line: 3,
                character: 0
            }
        );
        assert_eq!(
            offset_of(
                text,
                Position {
                    line: 2,
                    character: 16
                }
            ),
            Some(end)
        );
        assert_eq!(
            offset_of(
                text,
                Position {
                    line: 1,
                    character: 21
                }
            ),
            Some(by)
        );
        assert_eq!(
            offset_of(
                text,
                Position {
                    line: 9,
                    character: 0
                }
            ),
            None
        );
    }

    #[test]
    fn astral_chars_take_two_units() {
        let text = "a𝔸b";
        assert_eq!(
            position_at(text, text.len()),
            Position {
                line: 0,
                character: 4
            }
        );
        assert_eq!(
            position_at(text, 2),
            Position {
                line: 0,
                character: 1
            }
        );
    }
}
