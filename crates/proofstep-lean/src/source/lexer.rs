//! The lexer under the source splitter: words (identifiers, keywords, numbers, `#command`s),
//! doc comments and symbols, with whitespace, comments, strings and character literals
//! skipped or kept whole, so a keyword inside a comment or a string is never taken for one.

/// A lexical token: a word (identifier, keyword, number, `#command`), a doc comment, or one
/// symbol (`:=` and `@[` count as one).
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) start: usize,
    pub(super) end: usize,
    /// No other token begins earlier on the same line.
    pub(super) first_on_line: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    Word,
    DocComment,
    Symbol,
}

impl Token {
    pub(super) fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }
}

/// Symbol tokens of Lean and Mathlib that end in `'` (`xs[i]'h`, `α ⊕' β`, `α ×' β`,
/// Mathlib's preimage `f ⁻¹' s`).
const QUOTE_ENDED_TOKENS: &[&str] = &["]'", "⊕'", "×'", "⁻¹'"];

/// Lean's `isIdFirst`: an ASCII letter, `_`, or a letter-like character. Not every Unicode
/// letter: `λ`, `Π` and `Σ` are Lean's own symbols, and `λ'"'` is `λ` then a character
/// literal, never a word `λ'` then a string.
pub(super) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || is_letter_like(c)
}

/// True for a character that continues a Lean identifier (after its first): Lean's
/// `isIdRest`.
pub fn is_ident_rest(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '\'' | '!' | '?')
        || is_letter_like(c)
        || is_subscript(c)
}

/// Lean's `isLetterLike`: Greek but `λ`, `Π` and `Σ`, Coptic, Greek Extended, the letter-like
/// symbols (`ℕ`, `ℝ`, ...) and the script, double-struck and Fraktur Latin letters.
fn is_letter_like(c: char) -> bool {
    let v = c as u32;
    ((0x3b1..=0x3c9).contains(&v) && v != 0x3bb)
        || ((0x391..=0x3a9).contains(&v) && v != 0x3a0 && v != 0x3a3)
        || (0x3ca..=0x3fb).contains(&v)
        || (0x1f00..=0x1ffe).contains(&v)
        || (0x2100..=0x214f).contains(&v)
        || (0x1d49c..=0x1d59f).contains(&v)
}

/// Lean's `isSubScriptAlnum`: subscript digits, letters and `ᵢ`-like letters.
fn is_subscript(c: char) -> bool {
    matches!(c, '\u{2080}'..='\u{2089}' | '\u{2090}'..='\u{209C}' | '\u{1D62}'..='\u{1D6A}')
}

/// The end of the number literal at `i`, as Lean's number reader takes it (`takeDigitsFn`,
/// `decimalNumberFn`): `0x`/`0b`/`0o` and their digits, or decimal digits with an optional
/// `.` (a bare trailing dot too, not `..`) and digits, and `e[+-]digits`; every run of digits
/// may hold `_` separators (`1_000`, `0x_ff`, `1e1_0`). What follows is a token of its own:
/// `1_2variable` is `1_2` then the command `variable`. A digit right after `.` is a field index
/// (`h.1.2`): its digits only.
fn number_end(src: &str, i: usize) -> usize {
    let bytes = src.as_bytes();
    let run = |mut at: usize, digit: fn(&u8) -> bool| {
        while bytes.get(at).is_some_and(|b| digit(b) || *b == b'_') {
            at += 1;
        }
        at
    };
    if i > 0 && bytes[i - 1] == b'.' {
        let mut at = i;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        return at;
    }
    let prefixed: Option<fn(&u8) -> bool> = match (bytes.get(i), bytes.get(i + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) => Some(u8::is_ascii_hexdigit),
        (Some(b'0'), Some(b'b' | b'B')) => Some(|b| matches!(b, b'0' | b'1')),
        (Some(b'0'), Some(b'o' | b'O')) => Some(|b| matches!(b, b'0'..=b'7')),
        _ => None,
    };
    if let Some(digit) = prefixed {
        if bytes.get(i + 2).is_some_and(|b| digit(b) || *b == b'_') {
            return run(i + 2, digit);
        }
    }
    let mut at = run(i, u8::is_ascii_digit);
    if bytes.get(at) == Some(&b'.') && bytes.get(at + 1) != Some(&b'.') {
        at = run(at + 1, u8::is_ascii_digit);
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        if bytes.get(at + 1 + sign).is_some_and(u8::is_ascii_digit) {
            at = run(at + 1 + sign, u8::is_ascii_digit);
        }
    }
    at
}

/// Splits `src` into tokens, skipping whitespace, comments, strings and character literals.
pub(super) fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line_has_token = false;
    let push = |tokens: &mut Vec<Token>, kind, start, end, line_has_token: &mut bool| {
        tokens.push(Token {
            kind,
            start,
            end,
            first_on_line: !*line_has_token,
        });
        *line_has_token = true;
    };
    while i < src.len() {
        let c = src[i..].chars().next().expect("in bounds");
        let next = src[i + c.len_utf8()..].chars().next();
        match c {
            '\n' => {
                line_has_token = false;
                i += 1;
            }
            c if c.is_whitespace() => i += c.len_utf8(),
            '-' if next == Some('-') => {
                i = src[i..].find('\n').map_or(src.len(), |n| i + n);
            }
            '/' if next == Some('-') => {
                let end = block_comment_end(src, i);
                if src[i..].starts_with("/--") {
                    push(
                        &mut tokens,
                        TokenKind::DocComment,
                        i,
                        end,
                        &mut line_has_token,
                    );
                }
                if src[i..end].contains('\n') {
                    // What follows the comment on its last line starts that line for our purposes.
                    line_has_token = false;
                }
                i = end;
            }
            '"' => {
                let end = string_end(bytes, i + 1);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            'r' if raw_string_start(src, i).is_some() => {
                let (hashes, body) = raw_string_start(src, i).expect("checked");
                let closing = format!("\"{}", "#".repeat(hashes));
                let end = src[body..]
                    .find(&closing)
                    .map_or(src.len(), |n| body + n + closing.len());
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            // `:=` and `@[` are one symbol each; so is `''` (Mathlib's image), which Lean never
            // reads as a character literal.
            c if matches!(
                (c, next),
                (':', Some('=')) | ('@', Some('[')) | ('\'', Some('\''))
            ) =>
            {
                push(
                    &mut tokens,
                    TokenKind::Symbol,
                    i,
                    i + 2,
                    &mut line_has_token,
                );
                i += 2;
            }
            '\'' => {
                let end = char_literal_end(src, i).unwrap_or(i + 1);
                push(&mut tokens, TokenKind::Symbol, i, end, &mut line_has_token);
                i = end;
            }
            '«' => {
                let end = word_end(src, i);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            '#' if next.is_some_and(|n| n.is_alphabetic()) => {
                let end = word_end(src, i + 1);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            c if c.is_ascii_digit() => {
                let end = number_end(src, i);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            c if is_ident_start(c) => {
                let end = word_end(src, i);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            c => {
                // Tokens that end in `'` (`xs[i]'h`, Mathlib's preimage `f ⁻¹' s`) are read whole,
                // as Lean's token table reads them, not as a `'` opening a character literal.
                let len = QUOTE_ENDED_TOKENS
                    .iter()
                    .find(|t| src[i..].starts_with(**t))
                    .map_or(c.len_utf8(), |t| t.len());
                push(
                    &mut tokens,
                    TokenKind::Symbol,
                    i,
                    i + len,
                    &mut line_has_token,
                );
                i += len;
            }
        }
    }
    tokens
}

/// The first place where this lexer may read `src` otherwise than Lean's, with what is there:
/// a string literal holding `{` (Lean reads the strings of `s!`, `m!`, `dbg_trace`,
/// `throwError` and others as interpolated, with terms, comments and strings inside the
/// braces) or a lone `'` that is no character literal (Lean also reads `'` + a line break +
/// `'` as one). Words after such a place cannot be trusted to be what Lean sees.
pub(super) fn lexer_doubt(src: &str, tokens: &[Token]) -> Option<(usize, &'static str)> {
    tokens.iter().find_map(|t| {
        let text = t.text(src);
        if t.kind == TokenKind::Word
            && (text.starts_with('"') || text.starts_with('r'))
            && text.contains('"')
            && text.contains('{')
        {
            Some((t.start, "a string literal holding `{`"))
        } else if t.kind == TokenKind::Symbol && text == "'" {
            Some((t.start, "a `'` that is no character literal"))
        } else {
            None
        }
    })
}

/// The end of the nested block comment starting at `start` (`/-`), or the end of the text. As
/// in Lean, the `-` of a doc comment's `/--` (and the `!` of `/-!`) belongs to its opening, so
/// `/--/` opens a doc comment and does not close it.
fn block_comment_end(src: &str, start: usize) -> usize {
    let bytes = src.as_bytes();
    let mut depth = 1usize;
    let mut i = start + 2;
    if matches!(bytes.get(i), Some(b'-' | b'!')) {
        i += 1;
    }
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'-' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'-' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    src.len()
}

/// The end of a string literal whose body starts at `i` (just after the opening quote).
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `r"..."` or `r#"..."#` at `i`, a token's start (as for Lean, which reads `2r"x"` as the
/// number `2` then a raw string): the number of `#` and where the body starts.
fn raw_string_start(src: &str, i: usize) -> Option<(usize, usize)> {
    let rest = &src[i + 1..];
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    rest[hashes..]
        .starts_with('"')
        .then_some((hashes, i + 2 + hashes))
}

/// The end of a character literal (`'a'`, `'\n'`, `'\x41'`) at `i`, if there is one.
fn char_literal_end(src: &str, i: usize) -> Option<usize> {
    let rest = &src[i + 1..];
    let mut chars = rest.char_indices();
    let (_, c) = chars.next()?;
    if c == '\\' {
        // The escaped character (`\'` is a quote) is never the closing one.
        let escaped = rest[1..].chars().next()?.len_utf8();
        let close = rest[1 + escaped..].find('\'')?;
        return (close <= 10).then_some(i + 1 + 1 + escaped + close + 1);
    }
    let (at, close) = chars.next()?;
    (close == '\'' && c != '\n').then_some(i + 1 + at + 1)
}

/// The end of the identifier at `i`: components joined by `.`, each plain or `«...»`.
fn word_end(src: &str, mut i: usize) -> usize {
    loop {
        if src[i..].starts_with('«') {
            i = src[i..]
                .find('»')
                .map_or(src.len(), |n| i + n + '»'.len_utf8());
        } else {
            let len: usize = src[i..]
                .chars()
                .take_while(|&c| is_ident_rest(c))
                .map(char::len_utf8)
                .sum();
            i += len.max(src[i..].chars().next().map_or(0, char::len_utf8));
        }
        let mut after = src[i..].chars();
        match (after.next(), after.next()) {
            (Some('.'), Some(c)) if is_ident_start(c) || c == '«' => i += 1,
            _ => return i,
        }
    }
}
