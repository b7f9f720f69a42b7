//! Finding where a declaration's statement ends: the first `:=` outside brackets, comments and
//! strings. Datasets give statements with their proof attached (`formal_statement` ends in
//! `:= by`) or only a position in a source file (LeanDojo), and the search needs the bare
//! statement.

/// The declaration text up to (not including) its first top-level `:=`, trimmed at the end; None
/// when there is none (a pattern-matching definition, or text that is not a declaration).
pub fn statement_part(decl: &str) -> Option<&str> {
    let bytes = decl.as_bytes();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &decl[i..];
        if rest.starts_with("--") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with("/-") {
            i += block_comment_len(rest);
            continue;
        }
        let c = rest.chars().next().expect("i is on a char boundary");
        match c {
            '"' => {
                i += string_len(rest);
                continue;
            }
            '(' | '[' | '{' | '⟨' | '⦃' | '⟦' | '⁅' => depth += 1,
            ')' | ']' | '}' | '⟩' | '⦄' | '⟧' | '⁆' => depth -= 1,
            ':' if depth <= 0 && rest.starts_with(":=") => return Some(decl[..i].trim_end()),
            _ => {}
        }
        i += c.len_utf8();
    }
    None
}

/// Length in bytes of a (nested) block comment at the start of `text`, or all of it if unclosed.
fn block_comment_len(text: &str) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("/-") {
            depth += 1;
            i += 2;
        } else if rest.starts_with("-/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

/// Length in bytes of a string literal at the start of `text` (quotes included).
fn string_len(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i + 1,
            _ => escaped = false,
        }
    }
    text.len()
}

/// Byte offset of a (1-based line, 1-based column) position, columns counted in characters as
/// LeanDojo records them; None when the file is shorter.
pub fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut offset = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.len(), |(i, _)| i);
            return Some(offset + col);
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_top_level_assignment() {
        assert_eq!(
            statement_part("theorem t (p : Prop) : p → p := by\n  intro h"),
            Some("theorem t (p : Prop) : p → p")
        );
        assert_eq!(
            statement_part("theorem t (n : Nat := 3) : n = n :=\n  rfl"),
            Some("theorem t (n : Nat := 3) : n = n")
        );
        assert_eq!(
            statement_part("theorem t -- a := comment\n  /- and := /- nested -/ -/ (s : String := \":=\") : True := trivial"),
            Some("theorem t -- a := comment\n  /- and := /- nested -/ -/ (s : String := \":=\") : True")
        );
        assert_eq!(
            statement_part("theorem t : ∃ x, x = (⟨1, 2⟩ : A).1 := by\n"),
            Some("theorem t : ∃ x, x = (⟨1, 2⟩ : A).1")
        );
        assert_eq!(
            statement_part("def f : Nat → Nat\n  | 0 => 1\n  | n => n"),
            None
        );
    }

    #[test]
    fn offsets_follow_lines_and_characters() {
        let text = "ab\n⊢ cd\nef";
        assert_eq!(offset_of(text, 1, 1), Some(0));
        assert_eq!(offset_of(text, 2, 1), Some(3));
        assert_eq!(&text[offset_of(text, 2, 3).unwrap()..], "cd\nef");
        assert_eq!(offset_of(text, 3, 2), Some(text.len() - 1));
        assert_eq!(offset_of(text, 9, 1), None);
    }
}
