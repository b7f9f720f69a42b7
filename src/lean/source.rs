//! Splitting a Lean 4 source file into its header and its theorems, without running Lean.
//!
//! `proofstep check` attributes Lean's diagnostics to theorems by position, `prove --file
//! --theorem NAME` and eval on Lean files need each theorem's statement, proof and the text
//! before it. A small lexer skips comments (`--`, nested `/- -/`), strings and character
//! literals; a command starts at a command keyword that begins its line (declarations and
//! their modifiers at any indentation, other commands at column 0 or no deeper than the
//! command before). A theorem (`theorem`, `lemma`, `example`) is split at the first `:=` outside
//! brackets that no `let`/`have` of the statement claims.

use std::sync::Arc;

/// A position in a Lean file the way Lean reports it: line from 1, column from 0 in characters
/// (Unicode scalar values, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line number, 1-based.
    pub line: u32,
    /// Column in characters, 0-based.
    pub column: u32,
}

impl Pos {
    /// A position from its parts.
    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Which declaration keyword introduced a theorem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// `theorem NAME ...`
    Theorem,
    /// `lemma NAME ...` (Mathlib's synonym of `theorem`).
    Lemma,
    /// `example ...` (anonymous).
    Example,
}

/// One theorem of a file: where it is and its parts, as text of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theorem {
    /// `theorem`, `lemma` or `example`.
    pub kind: DeclKind,
    /// The name as written (`None` for `example`).
    pub name: Option<String>,
    /// The name Lean gives it: the enclosing namespaces joined with the written name
    /// (`_root_.` removed); `None` for `example`.
    pub full_name: Option<String>,
    /// Doc comment, attributes, modifiers and `... in` prefixes written before the keyword.
    pub modifiers: String,
    /// From the keyword up to (not including) the proof's `:=`, trimmed, e.g.
    /// `theorem t (p : Prop) (h : p) : p`.
    pub statement: String,
    /// Everything after `:=` up to the declaration's last token (`by ...` or a term), trimmed.
    pub proof: String,
    /// The namespaces open at the declaration, joined with `.` (empty at the root): where an
    /// `example` renamed for checking lands.
    pub namespace: String,
    /// Where the declaration begins (its modifiers included).
    pub start: Pos,
    /// Where the keyword is.
    pub keyword: Pos,
    /// Where the proof begins (the first token after `:=`); the keyword's position when the
    /// declaration has no `:=`.
    pub proof_start: Pos,
    /// Just after the declaration's last token.
    pub end: Pos,
    /// Where the next command begins, `None` when the declaration runs to the end of the file.
    /// Diagnostics in `[start, span_end)` are this theorem's.
    pub span_end: Option<Pos>,
    /// Byte offset of `start` in the file.
    pub start_byte: usize,
    /// Byte offset of the keyword.
    pub keyword_byte: usize,
    /// Byte offset where the proof begins (`end_byte` when there is no proof).
    pub proof_byte: usize,
    /// Byte offset just after the last token.
    pub end_byte: usize,
}

impl Theorem {
    /// The name to show and to look it up by: the full name, or `example@L<line>` for an example.
    pub fn display_name(&self) -> String {
        match &self.full_name {
            Some(name) => name.clone(),
            None => format!("example@L{}", self.keyword.line),
        }
    }

    /// True when a diagnostic at `pos` belongs to this theorem.
    pub fn contains(&self, pos: Pos) -> bool {
        pos >= self.start && self.span_end.is_none_or(|end| pos < end)
    }

    /// Whether the name given on a command line designates this theorem (full name, name as
    /// written, or the `example@L<line>` form).
    pub fn answers_to(&self, name: &str) -> bool {
        self.display_name() == name || self.name.as_deref() == Some(name)
    }

    /// The proof as the body of a `by` block: the tactics after `by` with their columns kept
    /// relative to each other, or `exact` followed by the term for a term-mode proof.
    pub fn tactic_block(&self) -> String {
        let proof = self.proof.as_str();
        let first_col = self.proof_start.column as usize;
        if let Some(rest) = strip_word(proof, "by") {
            // Keep the first line's column as it is in the file, so continuation lines indented
            // against it still line up.
            let lead = proof.len() - rest.len();
            let head = proof[..lead].chars().count();
            let first = rest.trim_start_matches([' ', '\t']);
            let skipped = rest.len() - first.len();
            if first.starts_with('\n') || first.starts_with("\r\n") || first.is_empty() {
                return first.trim_start_matches(['\r', '\n']).to_string();
            }
            let column = first_col + head + rest[..skipped].chars().count();
            return format!("{}{}", " ".repeat(column), first);
        }
        let mut out = format!("exact\n{}", " ".repeat(first_col + 2));
        let mut lines = proof.lines();
        if let Some(first) = lines.next() {
            out.push_str(first);
        }
        for line in lines {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str("  ");
                out.push_str(line);
            }
        }
        out
    }
}

/// Strips a leading keyword (`by`) when it is a whole word.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    match rest.chars().next() {
        Some(c) if is_ident_rest(c) => None,
        _ => Some(rest),
    }
}

/// What kind of command a top-level command is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandKind {
    /// A theorem; the index into `SourceFile::theorems`.
    Theorem(usize),
    /// Any other command, named by its keyword (`import`, `def`, `namespace`, `#print`, ...).
    Other(String),
}

/// One top-level command: where it starts and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The command's kind.
    pub kind: CommandKind,
    /// Where it starts (modifiers included).
    pub start: Pos,
    /// Byte offset of `start`.
    pub start_byte: usize,
}

/// Where a position of the file falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Before the first theorem: `prelude`, imports, opens and earlier declarations.
    Header,
    /// Inside the theorem with this index.
    Theorem(usize),
    /// Inside a command that is not a theorem, after the first theorem.
    Between,
}

/// A Lean file split into commands and theorems. The theorems keep positions into the one
/// text, never copies of what precedes them, so memory stays linear in the file's size.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The file's text.
    pub text: Arc<str>,
    /// Every top-level command, in order.
    pub commands: Vec<Command>,
    /// The theorems, lemmas and examples, in order.
    pub theorems: Vec<Theorem>,
    /// Where the file ends.
    pub end: Pos,
    /// Byte offset where Lean stops reading: an `#exit` command, or the end of the text.
    /// Commands after an `#exit` are not listed.
    pub lean_end: usize,
}

impl SourceFile {
    /// Splits `text` (never fails: text Lean would reject still splits somewhere sensible).
    pub fn parse(text: &str) -> SourceFile {
        Splitter::new(text).run()
    }

    /// Everything before the first theorem (the whole text when there is none).
    pub fn header(&self) -> &str {
        let end = self
            .theorems
            .first()
            .map_or(self.text.len(), |t| t.start_byte);
        &self.text[..end]
    }

    /// The theorem answering to `name` (see `Theorem::answers_to`); the first when several do.
    pub fn find(&self, name: &str) -> Option<&Theorem> {
        self.theorems
            .iter()
            .find(|t| t.display_name() == name)
            .or_else(|| self.theorems.iter().find(|t| t.answers_to(name)))
    }

    /// The whole text before theorem `index` (its modifiers excluded): what must be elaborated
    /// first to check it. The whole text when there is no such theorem.
    pub fn text_before(&self, index: usize) -> &str {
        let end = self
            .theorems
            .get(index)
            .map_or(self.text.len(), |t| t.start_byte);
        &self.text[..end]
    }

    /// Which part of the file a diagnostic at `pos` is about.
    pub fn region(&self, pos: Pos) -> Region {
        let i = self.commands.partition_point(|c| c.start <= pos);
        let Some(command) = i.checked_sub(1).map(|i| &self.commands[i]) else {
            return Region::Header;
        };
        match command.kind {
            CommandKind::Theorem(t) => Region::Theorem(t),
            CommandKind::Other(_) => {
                let first = self.theorems.first().map(|t| t.start);
                if first.is_none_or(|f| pos < f) {
                    Region::Header
                } else {
                    Region::Between
                }
            }
        }
    }
}

/// The text before a theorem (its header), kept as a range of the file's one shared text: a
/// file of n theorems holds n headers in the memory of one file, not of n.
#[derive(Clone, Debug)]
pub struct HeaderText {
    text: Arc<str>,
    end: usize,
}

impl HeaderText {
    /// The text before theorem `index` of `file` (its modifiers excluded).
    pub fn of(file: &SourceFile, index: usize) -> Self {
        let end = file
            .theorems
            .get(index)
            .map_or(file.text.len(), |t| t.start_byte);
        HeaderText {
            text: file.text.clone(),
            end,
        }
    }

    /// The first `end` bytes of a shared text (clamped to the text and back to a character
    /// boundary).
    pub fn prefix(text: Arc<str>, end: usize) -> Self {
        let mut end = end.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        HeaderText { text, end }
    }

    /// The whole shared text this header is a prefix of, and where the header ends in it: lets a
    /// reader of many headers (a fingerprint, say) read each shared text once.
    pub fn backing(&self) -> (&Arc<str>, usize) {
        (&self.text, self.end)
    }

    /// The header as text.
    pub fn as_str(&self) -> &str {
        &self.text[..self.end]
    }
}

impl PartialEq for HeaderText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for HeaderText {}

impl PartialEq<str> for HeaderText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for HeaderText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::ops::Deref for HeaderText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for HeaderText {
    fn from(text: String) -> Self {
        let end = text.len();
        HeaderText {
            text: Arc::from(text),
            end,
        }
    }
}

impl From<&str> for HeaderText {
    fn from(text: &str) -> Self {
        HeaderText {
            text: Arc::from(text),
            end: text.len(),
        }
    }
}

/// `name` inside `namespace` (empty: the root).
pub fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

/// True when `text` names `sorry`, `admit` or `sorryAx` as a word outside comments and strings.
pub fn mentions_sorry(text: &str) -> bool {
    lex(text)
        .iter()
        .any(|t| matches!(t.text(text), "sorry" | "admit" | "sorryAx"))
}

/// True when `text` names `sorryAx` outside comments and strings (a proof can use it directly).
pub fn mentions_sorry_ax(text: &str) -> bool {
    lex(text).iter().any(|t| t.text(text) == "sorryAx")
}

/// Every top-level command's keyword with the tokens of its text (words, symbols and string
/// literals; comments left out), in order: for questions about what a file declares that a
/// text search would get wrong (a word inside a comment is not there).
pub fn command_tokens(text: &str) -> Vec<(String, Vec<&str>)> {
    let file = SourceFile::parse(text);
    let tokens = lex(text);
    let mut at = 0;
    let mut out = Vec::with_capacity(file.commands.len());
    for (k, command) in file.commands.iter().enumerate() {
        let end = file
            .commands
            .get(k + 1)
            .map_or(text.len(), |c| c.start_byte);
        at += tokens[at..].partition_point(|t| t.start < command.start_byte);
        let keyword = match &command.kind {
            CommandKind::Theorem(i) => match file.theorems[*i].kind {
                DeclKind::Theorem => "theorem",
                DeclKind::Lemma => "lemma",
                DeclKind::Example => "example",
            }
            .to_string(),
            CommandKind::Other(k) => k.clone(),
        };
        let words = tokens[at..]
            .iter()
            .take_while(|t| t.start < end)
            .map(|t| t.text(text))
            .collect();
        out.push((keyword, words));
    }
    out
}

/// A lexical token: a word (identifier, keyword, number, `#command`), a doc comment, or one
/// symbol (`:=` and `@[` count as one).
#[derive(Clone, Copy, Debug)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
    /// No other token begins earlier on the same line.
    first_on_line: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenKind {
    Word,
    DocComment,
    Symbol,
}

impl Token {
    fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c.is_numeric() || is_subscript(c)
}

fn is_ident_rest(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '\'' | '!' | '?') || is_subscript(c)
}

fn is_subscript(c: char) -> bool {
    matches!(c, '\u{2080}'..='\u{209C}' | '\u{1D62}'..='\u{1D6A}' | '\u{2071}' | '\u{207F}')
}

/// Splits `src` into tokens, skipping whitespace, comments, strings and character literals.
fn lex(src: &str) -> Vec<Token> {
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
                if src[i..].starts_with("/--") && !src[i..].starts_with("/--/") {
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
            c if is_ident_start(c) => {
                let end = word_end(src, i);
                push(&mut tokens, TokenKind::Word, i, end, &mut line_has_token);
                i = end;
            }
            ':' if next == Some('=') => {
                push(
                    &mut tokens,
                    TokenKind::Symbol,
                    i,
                    i + 2,
                    &mut line_has_token,
                );
                i += 2;
            }
            '@' if next == Some('[') => {
                push(
                    &mut tokens,
                    TokenKind::Symbol,
                    i,
                    i + 2,
                    &mut line_has_token,
                );
                i += 2;
            }
            c => {
                push(
                    &mut tokens,
                    TokenKind::Symbol,
                    i,
                    i + c.len_utf8(),
                    &mut line_has_token,
                );
                i += c.len_utf8();
            }
        }
    }
    tokens
}

/// The end of the nested block comment starting at `start` (`/-`), or the end of the text.
fn block_comment_end(src: &str, start: usize) -> usize {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
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

/// `r"..."` or `r#"..."#` at `i`: the number of `#` and where the body starts.
fn raw_string_start(src: &str, i: usize) -> Option<(usize, usize)> {
    if i > 0 && src[..i].chars().next_back().is_some_and(is_ident_rest) {
        return None;
    }
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
        let close = rest[1..].find('\'')?;
        return (close <= 10).then_some(i + 1 + 1 + close + 1);
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

/// Keywords that introduce a declaration (recognized at any indentation).
const DECLARATIONS: &[&str] = &[
    "theorem",
    "lemma",
    "example",
    "def",
    "abbrev",
    "instance",
    "structure",
    "class",
    "inductive",
    "axiom",
    "opaque",
];

/// Words that may precede a declaration keyword.
const MODIFIERS: &[&str] = &[
    "private",
    "protected",
    "noncomputable",
    "unsafe",
    "partial",
    "nonrec",
    "public",
];

/// Other command keywords (recognized at column 0, or no deeper than the previous command).
const COMMANDS: &[&str] = &[
    "prelude",
    "import",
    "namespace",
    "section",
    "end",
    "open",
    "export",
    "variable",
    "universe",
    "set_option",
    "attribute",
    "mutual",
    "macro",
    "macro_rules",
    "syntax",
    "notation",
    "infix",
    "infixl",
    "infixr",
    "prefix",
    "postfix",
    "elab",
    "elab_rules",
    "deriving",
    "initialize",
    "builtin_initialize",
    "declare_syntax_cat",
    "add_decl_doc",
    "local",
    "scoped",
    "omit",
    "include",
    "noncomputable",
];

/// The brackets whose insides never hold a proof's `:=`.
fn bracket_delta(s: &str) -> i32 {
    match s {
        "(" | "[" | "{" | "⟨" | "⦃" | "⟦" | "@[" | "⁅" => 1,
        ")" | "]" | "}" | "⟩" | "⦄" | "⟧" | "⁆" => -1,
        _ => 0,
    }
}

/// Maps byte offsets to `Pos`.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn pos(&self, text: &str, byte: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= byte) - 1;
        let column = text[self.starts[line]..byte].chars().count();
        Pos::new(line as u32 + 1, column as u32)
    }
}

/// The state of one split.
struct Splitter<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    lines: LineIndex,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str) -> Self {
        Splitter {
            src,
            tokens: lex(src),
            lines: LineIndex::new(src),
        }
    }

    fn text(&self, i: usize) -> &'a str {
        self.tokens[i].text(self.src)
    }

    fn pos(&self, byte: usize) -> Pos {
        self.lines.pos(self.src, byte)
    }

    fn column(&self, i: usize) -> u32 {
        self.pos(self.tokens[i].start).column
    }

    /// After doc comment, attributes and modifiers starting at token `i`: the index of the
    /// token they lead to.
    fn skip_modifiers(&self, mut i: usize) -> usize {
        while i < self.tokens.len() {
            let t = self.tokens[i];
            if t.kind == TokenKind::DocComment || MODIFIERS.contains(&self.text(i)) {
                i += 1;
            } else if self.text(i) == "@[" {
                let mut depth = 0;
                while i < self.tokens.len() {
                    depth += bracket_delta(self.text(i));
                    i += 1;
                    if depth <= 0 {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        i
    }

    /// Whether token `i` starts a command, given the column of the previous command start.
    fn starts_command(&self, i: usize, last_column: u32) -> bool {
        let t = self.tokens[i];
        let text = self.text(i);
        // `theorem` and `example` are reserved words that only ever begin a declaration.
        if matches!(text, "theorem" | "example") && t.kind == TokenKind::Word {
            return true;
        }
        if !t.first_on_line {
            return false;
        }
        let leads = t.kind == TokenKind::DocComment || text == "@[" || MODIFIERS.contains(&text);
        let shallow = self.column(i) == 0 || self.column(i) <= last_column;
        if DECLARATIONS.contains(&text) {
            return true;
        }
        if leads {
            let j = self.skip_modifiers(i);
            return j < self.tokens.len()
                && (DECLARATIONS.contains(&self.text(j))
                    || (shallow && COMMANDS.contains(&self.text(j))));
        }
        shallow && (COMMANDS.contains(&text) || (text.starts_with('#') && text.len() > 1))
    }

    fn run(self) -> SourceFile {
        let mut starts = Vec::new();
        let mut last_column = 0;
        let mut i = 0;
        while i < self.tokens.len() {
            if self.starts_command(i, last_column) {
                starts.push(i);
                if self.tokens[i].first_on_line {
                    last_column = self.column(i);
                }
                // A declaration's own modifiers and keyword are not separate commands.
                i = self.skip_modifiers(i) + 1;
            } else {
                i += 1;
            }
        }
        // `open Foo in` / `set_option x y in` before a command belong to that command: a group
        // is (first token, token of its last command).
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut prefix: Option<usize> = None;
        for (k, &s) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(self.tokens.len());
            let group_start = prefix.take().unwrap_or(s);
            if end - 1 > s && self.text(end - 1) == "in" && k + 1 < starts.len() {
                prefix = Some(group_start);
            } else {
                groups.push((group_start, s));
            }
        }

        let mut commands = Vec::new();
        let mut theorems = Vec::new();
        let mut namespaces: Vec<Vec<String>> = Vec::new();
        let mut lean_end = self.src.len();
        for (k, &(s, last)) in groups.iter().enumerate() {
            let end = groups.get(k + 1).map_or(self.tokens.len(), |g| g.0);
            let kw = self.skip_modifiers(last);
            let keyword = if kw < end { self.text(kw) } else { "" };
            if keyword == "#exit" {
                lean_end = self.tokens[s].start;
                break;
            }
            let start = self.pos(self.tokens[s].start);
            let next_start = groups.get(k + 1).map(|g| self.pos(self.tokens[g.0].start));
            match keyword {
                "theorem" | "lemma" | "example" => {
                    let theorem = self.theorem(s, kw, end, next_start, &namespaces);
                    commands.push(Command {
                        kind: CommandKind::Theorem(theorems.len()),
                        start,
                        start_byte: self.tokens[s].start,
                    });
                    theorems.push(theorem);
                    continue;
                }
                "namespace" => {
                    let name = if kw + 1 < end { self.text(kw + 1) } else { "" };
                    namespaces.push(name.split('.').map(str::to_string).collect());
                }
                "section" | "mutual" => namespaces.push(Vec::new()),
                "end" => {
                    namespaces.pop();
                }
                _ => {}
            }
            commands.push(Command {
                kind: CommandKind::Other(keyword.to_string()),
                start,
                start_byte: self.tokens[s].start,
            });
        }
        SourceFile {
            text: Arc::from(self.src),
            commands,
            theorems,
            end: self.pos(self.src.len()),
            lean_end,
        }
    }

    /// Builds the theorem whose tokens are `[s, end)` with its keyword at `kw`.
    fn theorem(
        &self,
        s: usize,
        kw: usize,
        end: usize,
        span_end: Option<Pos>,
        namespaces: &[Vec<String>],
    ) -> Theorem {
        let src = self.src;
        let kind = match self.text(kw) {
            "theorem" => DeclKind::Theorem,
            "lemma" => DeclKind::Lemma,
            _ => DeclKind::Example,
        };
        let name = (kind != DeclKind::Example
            && kw + 1 < end
            && self.tokens[kw + 1].kind == TokenKind::Word)
            .then(|| self.text(kw + 1).to_string());
        let namespace = namespaces
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        let full_name = name.as_ref().map(|n| match n.strip_prefix("_root_.") {
            Some(root) => root.to_string(),
            None => qualified(&namespace, n),
        });
        let assign = self.proof_separator(kw, end);
        let last = self.tokens[end - 1].end;
        let (statement_end, proof_from) = match assign {
            Some((at, after)) => (self.tokens[at].start, Some(after)),
            None => (last, None),
        };
        let proof_byte = proof_from
            .filter(|&p| p < end)
            .map(|p| self.tokens[p].start);
        let start_byte = self.tokens[s].start;
        let kw_byte = self.tokens[kw].start;
        Theorem {
            kind,
            name,
            full_name,
            modifiers: src[start_byte..kw_byte].trim().to_string(),
            statement: src[kw_byte..statement_end].trim().to_string(),
            proof: proof_byte.map_or(String::new(), |p| src[p..last].trim().to_string()),
            namespace,
            start: self.pos(start_byte),
            keyword: self.pos(kw_byte),
            proof_start: self.pos(proof_byte.unwrap_or(kw_byte)),
            end: self.pos(last),
            span_end,
            start_byte,
            keyword_byte: kw_byte,
            proof_byte: proof_byte.unwrap_or(last),
            end_byte: last,
        }
    }

    /// The token of the proof's `:=` (or of a first top-level `|` alternative) and the index
    /// of the token after it.
    fn proof_separator(&self, kw: usize, end: usize) -> Option<(usize, usize)> {
        let mut depth = 0i32;
        let mut pending_binds = 0usize;
        for j in kw + 1..end {
            let text = self.text(j);
            depth += bracket_delta(text);
            if depth != 0 {
                continue;
            }
            match text {
                "let" | "have" => pending_binds += 1,
                ":=" if pending_binds > 0 => pending_binds -= 1,
                ":=" => return Some((j, j + 1)),
                "|" if self.tokens[j].first_on_line => return Some((j, j)),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(file: &SourceFile) -> Vec<String> {
        file.theorems.iter().map(Theorem::display_name).collect()
    }

    #[test]
    fn header_and_theorems_of_a_plain_file() {
        let text = "prelude\nimport Mini\n/-! doc -/\n\ntheorem a (p : Prop) (h : p) : p := by\n  exact h\n\ntheorem b : 1 = 1 := rfl\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["a", "b"]);
        assert_eq!(f.header(), "prelude\nimport Mini\n/-! doc -/\n\n");
        let a = &f.theorems[0];
        assert_eq!(a.statement, "theorem a (p : Prop) (h : p) : p");
        assert_eq!(a.proof, "by\n  exact h");
        assert_eq!(a.start, Pos::new(5, 0));
        assert_eq!(a.proof_start, Pos::new(5, 36));
        assert_eq!(a.end, Pos::new(6, 9));
        assert_eq!(a.span_end, Some(Pos::new(8, 0)));
        let b = &f.theorems[1];
        assert_eq!(b.statement, "theorem b : 1 = 1");
        assert_eq!(b.proof, "rfl");
        assert_eq!(f.text_before(1), &text[..text.find("theorem b").unwrap()]);
        assert_eq!(b.span_end, None);
    }

    #[test]
    fn comments_and_strings_hide_keywords() {
        let text = "prelude\n-- theorem fake : x := y\n/- outer /- theorem nested := 1 -/ still\ntheorem fake2 : p := q -/\ndef s := \"theorem in string := \\\" here\"\ndef c := 'a'\ntheorem real (h' : p) : p := h' -- := trailing\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["real"]);
        assert_eq!(f.theorems[0].statement, "theorem real (h' : p) : p");
        assert_eq!(f.theorems[0].proof, "h'");
        assert!(f.header().contains("def c := 'a'"));
    }

    #[test]
    fn modifiers_attributes_and_doc_comments_belong_to_the_theorem() {
        let text = "prelude\nimport Mini\n/-- The doc. -/\n@[simp, reducible]\nprivate theorem p1 : True := trivial\nprotected theorem Foo.p2 : True := trivial\n@[simp] lemma p3 : True := trivial\nnoncomputable def d := 1\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["p1", "Foo.p2", "p3"]);
        let p1 = &f.theorems[0];
        assert_eq!(p1.modifiers, "/-- The doc. -/\n@[simp, reducible]\nprivate");
        assert_eq!(p1.statement, "theorem p1 : True");
        assert_eq!(p1.start, Pos::new(3, 0));
        assert_eq!(f.text_before(0), "prelude\nimport Mini\n");
        assert_eq!(f.theorems[2].kind, DeclKind::Lemma);
        assert_eq!(f.theorems[2].modifiers, "@[simp]");
        assert_eq!(f.theorems[2].span_end, Some(Pos::new(8, 0)));
    }

    #[test]
    fn namespaces_and_sections_qualify_names() {
        let text = "namespace A.B\ntheorem x : True := trivial\nsection S\ntheorem y : True := trivial\nend S\nend A.B\ntheorem _root_.z : True := trivial\nnamespace C\n  theorem w : True := trivial\n  open D\nend C\ntheorem v : True := trivial\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["A.B.x", "A.B.y", "z", "C.w", "v"]);
        assert_eq!(f.theorems[3].span_end, Some(Pos::new(10, 2)));
        assert!(f.find("w").is_some());
        assert!(f.find("C.w").is_some());
        assert!(f.find("nope").is_none());
    }

    #[test]
    fn statements_over_several_lines_and_assignments_inside_brackets() {
        let text = "theorem long {α : Sort u} (a : α)\n    (h : Eq a a := rfl)\n    (f : α → α := fun x => x) :\n    f a = a := by\n  rfl\nexample (n : Nat) : let m := n; m = n := by\n  rfl\ntheorem named : Eq.rec (motive := fun x _ => x) a h = a :=\n  rfl\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["long", "example@L6", "named"]);
        assert_eq!(
            f.theorems[0].statement,
            "theorem long {α : Sort u} (a : α)\n    (h : Eq a a := rfl)\n    (f : α → α := fun x => x) :\n    f a = a"
        );
        assert_eq!(f.theorems[0].proof, "by\n  rfl");
        assert_eq!(
            f.theorems[1].statement,
            "example (n : Nat) : let m := n; m = n"
        );
        assert_eq!(f.theorems[1].kind, DeclKind::Example);
        assert_eq!(
            f.theorems[2].statement,
            "theorem named : Eq.rec (motive := fun x _ => x) a h = a"
        );
        assert_eq!(f.theorems[2].proof, "rfl");
    }

    #[test]
    fn open_in_prefix_joins_the_theorem() {
        let text = "prelude\nimport Mini\nopen Nat in\ntheorem t : True := trivial\nset_option x 1 in\nopen Y in\nexample : True := trivial\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["t", "example@L7"]);
        assert_eq!(f.theorems[0].modifiers, "open Nat in");
        assert_eq!(f.theorems[0].start, Pos::new(3, 0));
        assert_eq!(f.text_before(0), "prelude\nimport Mini\n");
        assert_eq!(f.theorems[1].start, Pos::new(5, 0));
        assert_eq!(f.theorems[1].statement, "example : True");
    }

    #[test]
    fn tactics_that_look_like_commands_stay_in_the_proof() {
        let text = "theorem t (p : Prop) (hp : p) : p := by\n  open Foo in\n  have h : p := hp\n  exact h\ntheorem u : True := trivial\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["t", "u"]);
        assert_eq!(
            f.theorems[0].proof,
            "by\n  open Foo in\n  have h : p := hp\n  exact h"
        );
        assert_eq!(f.commands.len(), 2);
    }

    #[test]
    fn regions_follow_commands() {
        let text = "prelude\nimport Mini\ntheorem a : True := trivial\ndef d := 1\ntheorem b : True := by\n  trivial\n";
        let f = SourceFile::parse(text);
        assert_eq!(f.region(Pos::new(1, 0)), Region::Header);
        assert_eq!(f.region(Pos::new(2, 3)), Region::Header);
        assert_eq!(f.region(Pos::new(3, 20)), Region::Theorem(0));
        assert_eq!(f.region(Pos::new(4, 0)), Region::Between);
        assert_eq!(f.region(Pos::new(6, 2)), Region::Theorem(1));
        // Parse errors at the end of the input belong to the last command.
        assert_eq!(f.region(Pos::new(9, 0)), Region::Theorem(1));
        assert!(f.theorems[1].contains(Pos::new(40, 0)));
        assert!(!f.theorems[0].contains(Pos::new(4, 0)));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "theorem t (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  exact ⟨h.2, h.1⟩\n";
        let f = SourceFile::parse(text);
        let t = &f.theorems[0];
        assert_eq!(t.proof_start, Pos::new(1, 46));
        assert_eq!(t.end, Pos::new(2, 18));
    }

    #[test]
    fn tactic_blocks_keep_relative_columns() {
        let f = SourceFile::parse("theorem t : p := by\n  constructor\n  · exact a\n");
        assert_eq!(f.theorems[0].tactic_block(), "  constructor\n  · exact a");
        let f = SourceFile::parse("theorem t : p := by constructor\n                    exact a\n");
        assert_eq!(
            f.theorems[0].tactic_block(),
            "                    constructor\n                    exact a"
        );
        let f = SourceFile::parse("theorem t : p :=\n  ⟨a,\n   b⟩\n");
        assert_eq!(f.theorems[0].tactic_block(), "exact\n    ⟨a,\n     b⟩");
    }

    #[test]
    fn sorry_words_outside_comments() {
        assert!(mentions_sorry("exact sorry"));
        assert!(mentions_sorry("· admit"));
        assert!(mentions_sorry_ax("exact sorryAx _ false"));
        assert!(!mentions_sorry("exact h -- sorry"));
        assert!(!mentions_sorry("exact not_sorry"));
        assert!(!mentions_sorry("exact h.sorry_free"));
        assert!(!mentions_sorry_ax("exact sorry"));
    }

    #[test]
    fn declarations_sharing_a_line() {
        let f = SourceFile::parse(
            "theorem a : True := trivial theorem b : True := trivial example : True := trivial\n",
        );
        assert_eq!(names(&f), ["a", "b", "example@L1"]);
        assert_eq!(f.theorems[0].proof, "trivial");
        assert_eq!(f.theorems[1].start, Pos::new(1, 28));
    }

    #[test]
    fn nothing_after_exit_counts() {
        let text = "theorem a : True := trivial\n#exit\ntheorem b : True := trivial\n";
        let f = SourceFile::parse(text);
        assert_eq!(names(&f), ["a"]);
        assert_eq!(&text[..f.lean_end], "theorem a : True := trivial\n");
        assert_eq!(f.theorems[0].span_end, Some(Pos::new(2, 0)));
        assert_eq!(
            SourceFile::parse("theorem a : True := trivial").lean_end,
            27
        );
    }

    #[test]
    fn unterminated_comment_hides_the_rest() {
        let f = SourceFile::parse(
            "theorem a : True := trivial\n/- open\ntheorem b : True := trivial\n",
        );
        assert_eq!(names(&f), ["a"]);
    }
}
