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

mod files;
mod header;
pub mod keywords;
mod lexer;
mod split;

pub use files::{lean_files_below, WalkError};
pub use header::HeaderText;
use keywords::is_sorry_name;
pub use lexer::is_ident_rest;
use lexer::lex;
use split::Splitter;

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

    /// The byte offset of this position in `text` (see [`offset_at`]); None for line 0 or a
    /// line past the end.
    pub fn offset_in(self, text: &str) -> Option<usize> {
        let line = (self.line as usize).checked_sub(1)?;
        offset_at(text, line, self.column as usize, |_| 1)
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
    /// Inside a `mutual ... end` block, where no other command may stand.
    pub in_mutual: bool,
}

impl Theorem {
    /// The name to show and to look it up by: the full name, or `example@L<line>` for an example.
    pub fn display_name(&self) -> String {
        match &self.full_name {
            Some(name) => name.clone(),
            None => format!("example@L{}", self.keyword.line),
        }
    }

    /// The name a `#print axioms` placed right after the declaration, in its scope, asks about
    /// (`axioms::print_axioms_here`): the name as written, which Lean resolves in the
    /// namespace it is really in; a `protected` one behind its namespace's last component (a
    /// protected name is not reachable by itself). `None` for an example.
    pub fn probe_name(&self) -> Option<String> {
        let name = self.name.as_ref()?;
        let protected = self.modifiers.split_whitespace().any(|w| w == "protected");
        let last = self.namespace.rsplit('.').next().unwrap_or_default();
        Some(if protected && !last.is_empty() && !name.contains('.') {
            format!("{last}.{name}")
        } else {
            name.clone()
        })
    }

    /// True when a diagnostic at `pos` belongs to this theorem.
    pub fn contains(&self, pos: Pos) -> bool {
        pos >= self.start && self.span_end.is_none_or(|end| pos < end)
    }

    /// Whether the proof is a tactic block: `by` followed by whitespace or nothing (not a term,
    /// nor an identifier such as `byContra`).
    pub fn is_tactic_proof(&self) -> bool {
        let proof = self.proof.trim_start();
        proof
            .strip_prefix("by")
            .is_some_and(|rest| rest.chars().next().is_none_or(char::is_whitespace))
    }

    /// Whether a `:=` ends the statement, so that there is a statement to search (a
    /// pattern-matching definition has none).
    pub fn has_statement(&self) -> bool {
        self.proof_start != self.keyword && !self.statement.is_empty()
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
    /// The first scope command (`namespace`, `section`, `end`) that Lean may read otherwise
    /// than this splitter (an `end` that closes no open scope of that name, a scope command
    /// after `... in`), with why: from its byte offset on, full names are guesses, so no
    /// theorem after it can be asked about by name.
    pub scope_doubt: Option<(usize, String)>,
    /// Every other declaration (`def`, `abbrev`, `instance`, `axiom`, ...) with a name: where
    /// it begins and its full name as this splitter reads it.
    pub declared: Vec<(usize, String)>,
}

impl SourceFile {
    /// Splits `text` (never fails: text Lean would reject still splits somewhere sensible).
    pub fn parse(text: &str) -> SourceFile {
        Splitter::new(text).run()
    }

    /// Why theorem `index`'s full name cannot be trusted to be Lean's, if it cannot: a scope
    /// command before it that Lean may read otherwise (`scope_doubt`), or an earlier
    /// declaration of the same full name (Lean would refuse the second, so this reading differs
    /// from Lean's somewhere; for a theorem in a `mutual` block, asked about at the end of the
    /// file, any other one). The entry of [`SourceFile::name_doubts`], the one copy of the rule.
    pub fn name_doubt(&self, index: usize) -> Option<String> {
        self.name_doubts().into_iter().nth(index).flatten()
    }

    /// [`SourceFile::name_doubt`] of every theorem, in one pass (a name set, not a scan of
    /// everything before each theorem).
    pub fn name_doubts(&self) -> Vec<Option<String>> {
        let mut first_declared: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(self.declared.len());
        for (at, n) in &self.declared {
            let first = first_declared.entry(n.as_str()).or_insert(*at);
            *first = (*first).min(*at);
        }
        let mut theorem_names = std::collections::HashSet::with_capacity(self.theorems.len());
        let mut named = std::collections::HashMap::<&str, usize>::new();
        for name in self.theorems.iter().filter_map(|t| t.full_name.as_deref()) {
            *named.entry(name).or_default() += 1;
        }
        self.theorems
            .iter()
            .map(|theorem| {
                let twice = theorem.full_name.as_deref().is_some_and(|name| {
                    let declared_before = first_declared
                        .get(name)
                        .is_some_and(|at| *at < theorem.keyword_byte || theorem.in_mutual);
                    let seen = !theorem_names.insert(name);
                    seen || declared_before || (theorem.in_mutual && named[name] > 1)
                });
                self.doubt(theorem, twice)
            })
            .collect()
    }

    /// The doubt about `theorem`'s full name: the scope doubt before it, or else its name
    /// declared `twice`.
    fn doubt(&self, theorem: &Theorem, twice: bool) -> Option<String> {
        if let Some((at, why)) = &self.scope_doubt {
            if *at < theorem.keyword_byte {
                return Some(format!(
                    "the full name of `{}` cannot be worked out for sure ({why}), so what it rests on cannot be checked; fix that command",
                    theorem.display_name()
                ));
            }
        }
        let name = theorem.full_name.as_ref()?;
        twice.then(|| {
            format!(
                "`{name}` is declared twice as this file reads, so which one Lean checked cannot be told; rename one"
            )
        })
    }

    /// What [`ReadOn::lean_reads_on_otherwise`] needs of this file, worked out once (its
    /// tokens and where its lines start), so that asking about each of Lean's errors costs a
    /// search, not a pass over the file.
    pub fn read_on(&self) -> ReadOn<'_> {
        let text: &str = &self.text;
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        ReadOn {
            source: self,
            tokens: lex(text),
            line_starts,
        }
    }

    /// Why no proof in this text can be certified by name, if none can: it declares a name of
    /// `keywords::RESERVED_NAMES` (an allowed axiom's, or a `Nat` operation the kernel computes
    /// natively).
    pub fn declares_reserved(&self) -> Option<String> {
        self.declares_one_of(keywords::RESERVED_NAMES)
    }

    /// Why no proof in this text can be certified by name, if none can: it declares one of
    /// `names` (`reserved::guarded_names`: the reserved names and the allowed axioms), as this
    /// reading sees declarations.
    pub fn declares_one_of<S: AsRef<str>>(&self, names: &[S]) -> Option<String> {
        let unquoted = |n: &str| n.replace(['«', '»'], "");
        self.declared
            .iter()
            .map(|(_, n)| n.as_str())
            .chain(self.theorems.iter().filter_map(|t| t.full_name.as_deref()))
            .find(|n| names.iter().any(|g| unquoted(g.as_ref()) == unquoted(n)))
            .map(|n| {
                format!(
                    "this text declares `{n}`, a name Lean's kernel or the allowed axioms stand for, so no proof in it can be certified; rename it"
                )
            })
    }

    /// Where the `mutual` block holding theorem `index` begins (byte offset of its `mutual`
    /// command), if the theorem is in one.
    pub fn mutual_start(&self, index: usize) -> Option<usize> {
        let t = self.theorems.get(index).filter(|t| t.in_mutual)?;
        self.commands
            .iter()
            .rev()
            .find(|c| c.start_byte <= t.start_byte && c.kind == CommandKind::Other("mutual".into()))
            .map(|c| c.start_byte)
    }

    /// The theorems of the `mutual` block whose `mutual` keyword stands at `pos` (none when no
    /// block begins there).
    pub fn mutual_block_at(&self, pos: Pos) -> Vec<usize> {
        let Ok(k) = self.commands.binary_search_by(|c| c.start.cmp(&pos)) else {
            return Vec::new();
        };
        if self.commands[k].kind != CommandKind::Other("mutual".into()) {
            return Vec::new();
        }
        let start = self.commands[k].start_byte;
        (0..self.theorems.len())
            .filter(|&i| self.mutual_start(i) == Some(start))
            .collect()
    }

    /// Theorem `index`'s statement as Lean elaborates it: its `... in` prefixes, doc comment,
    /// attributes and modifiers as written, then `statement`. Searching or checking the
    /// statement alone would check another theorem wherever a prefix changes what it means
    /// (`omit h in`, `set_option autoImplicit false in`, `attribute [-instance] i in`).
    pub fn statement_as_written(&self, index: usize) -> Option<String> {
        let t = self.theorems.get(index)?;
        Some(format!(
            "{}{}",
            &self.text[t.start_byte..t.keyword_byte],
            t.statement
        ))
    }

    /// Everything before the first theorem (the whole text when there is none).
    pub fn header(&self) -> &str {
        let end = self
            .theorems
            .first()
            .map_or(self.text.len(), |t| t.start_byte);
        &self.text[..end]
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

/// The declaration text up to its proof's `:=` (the first one outside brackets, comments and
/// strings that no `let`/`have` of the statement claims), trimmed at the end: the statement a
/// search starts from. None when there is none (a pattern-matching definition, or text that is
/// not a declaration). Datasets give statements with their proof attached (`formal_statement`
/// ends in `:= by`) or only a position in a source file (LeanDojo), whose text then runs on to
/// the end of the file: a growing prefix is read, never more than the statement needs.
pub fn statement_part(decl: &str) -> Option<&str> {
    // A `:=` this far before the end of a prefix is lexed as it would be in the whole text
    // (the lexer looks at most a few characters ahead of a token).
    const MARGIN: usize = 64;
    let mut window = 4096;
    loop {
        let mut end = window.min(decl.len());
        while !decl.is_char_boundary(end) {
            end -= 1;
        }
        let whole = end == decl.len();
        match Splitter::new(&decl[..end]).statement_end() {
            Some(at) if whole || at + MARGIN <= end => return Some(decl[..at].trim_end()),
            None if whole => return None,
            _ => window *= 4,
        }
    }
}

/// The byte offset in `text` of column `column` of line `line` (both from 0), the column counted
/// in the units `width` gives each character (1 for characters; `char::len_utf16` for LSP's
/// UTF-16 code units). A column past the end of its line maps to the end of that line; a line
/// past the end of the text is None. The one conversion behind `Pos::offset_in` and the LSP's
/// `lsp::text::offset_of`.
pub fn offset_at(
    text: &str,
    line: usize,
    column: usize,
    width: impl Fn(char) -> usize,
) -> Option<usize> {
    let mut line_start = 0;
    for _ in 0..line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= column {
            return Some(line_start + i);
        }
        units += width(c);
    }
    Some(line_end)
}

/// `name` inside `namespace` (empty: the root).
pub fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

/// True when `text` names `sorry`, `admit` or `sorryAx` (as a name or a name's component,
/// `keywords::is_sorry_name`) outside comments and strings.
pub fn mentions_sorry(text: &str) -> bool {
    lex(text).iter().any(|t| is_sorry_name(t.text(text)))
}

/// Whether `pos` lies inside what this reading takes for a string, character literal or
/// comment of `text`.
/// One file's tokens and line starts, for asking where Lean reads on after its errors
/// (made by [`SourceFile::read_on`]).
pub struct ReadOn<'a> {
    source: &'a SourceFile,
    tokens: Vec<lexer::Token>,
    line_starts: Vec<usize>,
}

impl ReadOn<'_> {
    /// Whether Lean, after a parse error at `pos`, may read what follows otherwise than this
    /// reading: Lean reads on from that very place, and there this reading sees a string,
    /// character literal or comment (no code at all), or a command keyword that it took for
    /// part of another command (Lean starts a command there: `exact (variable (h : False)`).
    pub fn lean_reads_on_otherwise(&self, pos: Pos) -> bool {
        let source = self.source;
        let text: &str = &source.text;
        let Some(at) = self.offset(pos) else {
            return false;
        };
        let word: String = text[at..]
            .chars()
            .take_while(|&c| is_ident_rest(c))
            .collect();
        let keyword =
            keywords::DECLARATIONS.contains(&word.as_str()) || keywords::is_command(&word);
        let read_as_command = source
            .commands
            .binary_search_by(|c| c.start.cmp(&pos))
            .is_ok()
            || source
                .theorems
                .binary_search_by(|t| t.keyword.cmp(&pos))
                .is_ok();
        if keyword && !read_as_command {
            return true;
        }
        self.inside_literal_or_comment(at)
    }

    /// Whether Lean, after an error at `pos` (`parse`: one that may be the parser's, as
    /// `message::Diagnostic::may_be_parse_error` tells), may read on otherwise than this
    /// reading: an error
    /// at a place `lean_reads_on_otherwise` names; any error outside the theorems (a parse
    /// error there need not look like one); or a parse error inside a theorem whose rest, as
    /// raw text, holds a quote, a `/-` or a
    /// command keyword. Lean recovers from a parse error by skipping to what its own token
    /// table reads as the next command, and a token this reading has not (`''` or `⟦` without
    /// Mathlib) makes it read strings, characters and comments otherwise; without a quote,
    /// a `/-` or a keyword in the rest it can neither start a command there nor read past
    /// the theorem's end.
    pub fn error_reads_on_otherwise(&self, pos: Pos, parse: bool) -> bool {
        if self.lean_reads_on_otherwise(pos) {
            return true;
        }
        let source = self.source;
        let text: &str = &source.text;
        let end = match source.region(pos) {
            Region::Theorem(i) if parse => source.theorems[i].end_byte.min(text.len()),
            Region::Theorem(_) => return false,
            Region::Header | Region::Between => return true,
        };
        let Some(at) = self.offset(pos) else {
            return true;
        };
        let rest = &text[at.min(end)..end];
        if rest.contains('"') || rest.contains("/-") {
            return true;
        }
        // A keyword counts with anything but a letter before it (`1_2variable` is a number
        // then `variable`) and no identifier character after it.
        let command_at = |at: usize, word: &str| {
            let before = rest[..at].chars().next_back();
            let after = rest[at + word.len()..].chars().next();
            before.is_none_or(|c| !is_ident_rest(c) || c.is_ascii_digit())
                && !after.is_some_and(is_ident_rest)
        };
        if keywords::COMMAND_LISTS
            .iter()
            .flat_map(|list| list.iter())
            .any(|word| rest.match_indices(word).any(|(at, _)| command_at(at, word)))
        {
            return true;
        }
        false
    }

    /// The byte offset of `pos` (as [`Pos::offset_in`], without walking the lines before it).
    fn offset(&self, pos: Pos) -> Option<usize> {
        let text: &str = &self.source.text;
        let line_start = *self.line_starts.get((pos.line as usize).checked_sub(1)?)?;
        offset_at(&text[line_start..], 0, pos.column as usize, |_| 1).map(|i| line_start + i)
    }

    /// Whether byte `at` lies inside a string, character literal or doc comment, or in text
    /// the lexer skipped (a comment).
    fn inside_literal_or_comment(&self, at: usize) -> bool {
        let text: &str = &self.source.text;
        let k = self.tokens.partition_point(|t| t.start <= at);
        let Some(token) = k.checked_sub(1).map(|k| self.tokens[k]) else {
            return !text[..at].trim().is_empty();
        };
        if at < token.end {
            let word = token.text(text);
            return at > token.start
                && (word.starts_with(['"', '\''])
                    || word.contains('"')
                    || token.kind == lexer::TokenKind::DocComment);
        }
        !text[token.end..at].trim().is_empty()
    }
}

/// Where `text`'s module header ends (`module`, `prelude`, then `import`s, each maybe `public`
/// or `meta`, maybe `import all`): the byte after its last token, 0 when there is none. Lean
/// elaborates no command before it, so a probe placed there sees only what the imports declare.
pub fn module_header_end(text: &str) -> usize {
    let tokens = lex(text);
    let word = |i: usize| tokens.get(i).map(|t| t.text(text));
    let (mut end, mut i) = (0, 0);
    for keyword in ["module", "prelude"] {
        if word(i) == Some(keyword) {
            end = tokens[i].end;
            i += 1;
        }
    }
    loop {
        let mut k = i;
        while matches!(word(k), Some("public" | "meta")) {
            k += 1;
        }
        if word(k) != Some("import") {
            return end;
        }
        k += 1;
        if word(k) == Some("all") {
            k += 1;
        }
        match tokens.get(k) {
            Some(t) if t.kind == lexer::TokenKind::Word => {
                end = t.end;
                i = k + 1;
            }
            _ => return end,
        }
    }
}

/// The tokens of `text` (words, symbols, string literals; comments and whitespace left out), as
/// Lean's lexer would split them closely enough for comparing statements.
pub fn tokens(text: &str) -> Vec<&str> {
    lex(text).iter().map(|t| t.text(text)).collect()
}

/// Where `name` occurs in `text` as a whole identifier or as the head of a dotted one (`h` in
/// `h`, `h.mp`, `h.1`; not in `hp`, `Or.h` or a comment), as byte ranges of `name` itself: for
/// replacing a name in a tactic without touching other words.
pub fn name_occurrences(text: &str, name: &str) -> Vec<std::ops::Range<usize>> {
    lex(text)
        .iter()
        .filter(|t| t.kind == lexer::TokenKind::Word)
        .filter(|t| !text[..t.start].ends_with('.'))
        .filter(|t| {
            let word = t.text(text);
            word == name || word.strip_prefix(name).is_some_and(|r| r.starts_with('.'))
        })
        .map(|t| t.start..t.start + name.len())
        .collect()
}

/// Where the identifiers of `text` stand, as byte ranges, dotted names whole (`h.mp`, `Nat.succ`):
/// the words Lean's lexer reads that start like a name, not numbers, string literals,
/// `#commands` or `«quoted»` names.
pub fn identifier_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    lex(text)
        .iter()
        .filter(|t| t.kind == lexer::TokenKind::Word)
        .filter(|t| {
            let word = t.text(text);
            word.starts_with(lexer::is_ident_start) && !word.contains('"')
        })
        .map(|t| t.start..t.end)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers as Lean 4.35 reads them (each checked with the test world's Lean: `#check
    /// (1_2)` is `12`, `0x_1` is `1`, `2.` and `2.e3` are scientific, `2..3` is a range),
    /// and a raw string at any token's start: what follows is a token of its own.
    #[test]
    fn a_reserved_name_is_seen_however_it_is_declared() {
        for text in [
            "class inductive Nat.pow : Nat → Nat → Prop where\n  | mk : Nat.pow 1 1\n",
            "instance (priority := 100) Nat.pow : Foo := ⟨⟩\n",
            "class abbrev Nat.add := Foo\n",
            "namespace Nat\nclass inductive pow : Prop\nend Nat\n",
            "@[reducible] local instance (priority := 5) Nat.pow (a b : Nat) : C a b := ⟨b⟩\n",
            "namespace Nat\nscoped instance pow (a b : Nat) : C a b := ⟨b⟩\nend Nat\n",
        ] {
            assert!(
                SourceFile::parse(text).declares_reserved().is_some(),
                "{text}"
            );
        }
        assert!(
            SourceFile::parse("instance : Foo := ⟨⟩\nclass inductive Bar : Prop\n")
                .declares_reserved()
                .is_none()
        );
    }

    #[test]
    fn numbers_and_raw_strings_end_where_lean_ends_them() {
        assert_eq!(tokens("1_2variable"), ["1_2", "variable"]);
        assert_eq!(
            tokens("1__2 0x1_f 0x_1 0b1_0 0o7_7"),
            ["1__2", "0x1_f", "0x_1", "0b1_0", "0o7_7"]
        );
        assert_eq!(tokens("2.e3variable"), ["2.e3", "variable"]);
        assert_eq!(tokens("2. x"), ["2.", "x"]);
        assert_eq!(tokens("1_000.0_1e1_0 y"), ["1_000.0_1e1_0", "y"]);
        assert_eq!(tokens("2..3"), ["2", ".", ".", "3"]);
        assert_eq!(tokens("h.1.2"), ["h", ".", "1", ".", "2"]);
        assert_eq!(
            tokens("def s : Nat := 2r\"\\\" variable (h : False) --\"\n"),
            [
                "def", "s", ":", "Nat", ":=", "2", "r\"\\\"", "variable", "(", "h", ":", "False",
                ")"
            ]
        );
    }

    fn names(file: &SourceFile) -> Vec<String> {
        file.theorems.iter().map(Theorem::display_name).collect()
    }

    #[test]
    fn the_module_header_ends_after_its_last_import() {
        fn end(t: &str) -> &str {
            &t[..module_header_end(t)]
        }
        assert_eq!(
            end("prelude\nimport Mini -- the world\ntheorem t : True := trivial\n"),
            "prelude\nimport Mini"
        );
        assert_eq!(
            end("module\n\npublic import A.B\nmeta import all «C D»\nimport E\nopen A\n"),
            "module\n\npublic import A.B\nmeta import all «C D»\nimport E"
        );
        assert_eq!(end("/- import X -/ theorem t : True := trivial\n"), "");
        assert_eq!(end("prelude\nimport"), "prelude");
        assert_eq!(end(""), "");
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

    /// The full names of the theorems of `text` as read.
    fn full_names(text: &str) -> Vec<String> {
        SourceFile::parse(text)
            .theorems
            .iter()
            .map(|t| t.display_name())
            .collect()
    }

    #[test]
    fn scopes_are_followed_as_lean_follows_them() {
        let full = full_names;
        // An indented `namespace` is still a command.
        assert_eq!(
            full("theorem t : True := trivial\n  namespace A\ntheorem t : True := trivial\n"),
            ["t", "A.t"]
        );
        // `end B` closes only `B` of `namespace A.B`.
        assert_eq!(
            full("namespace A.B\nend B\ntheorem t : True := trivial\nend A\ntheorem u : True := trivial\n"),
            ["A.t", "u"]
        );
        // `/--/` opens a doc comment, as in Lean; `'\''` is one character literal.
        assert_eq!(
            full("theorem A.t : True := trivial\n/--/\nnamespace A\n-/\ntheorem t : True := trivial\n"),
            ["A.t", "t"]
        );
        assert_eq!(
            full("def c := '\\''\nnamespace A\ntheorem t : True := trivial\n"),
            ["A.t"]
        );
        // `λ` and digits start no identifier in Lean: `λ'"'` and `0'"'` end in a character
        // literal, not in a string that would hide what follows.
        for opening in ["λ'\"' => 0", "0'\"'"] {
            let text = format!(
                "theorem first : True := by\n  try exact {opening}\n  trivial\ntheorem t : True := trivial\n/-\"\ntheorem u : False := by exact nonsense -/\n"
            );
            assert_eq!(full(&text), ["first", "t"], "{opening}");
        }
    }

    #[test]
    fn scope_commands_mid_line_quoted_names_and_root() {
        let full = full_names;
        assert_eq!(
            full("theorem ok : True := trivial namespace A\ntheorem t : True := trivial\n"),
            ["ok", "A.t"]
        );
        assert_eq!(
            full("namespace «A.B»\ntheorem t : True := trivial\nend «A.B»\nnamespace «C»\ntheorem u : True := trivial\nend C\n"),
            ["«A.B».t", "«C».u"]
        );
        assert_eq!(
            full("namespace A\ntheorem «_root_».t : True := trivial\nend A\n"),
            ["t"]
        );
        let def_first = SourceFile::parse("def t : True := trivial\ntheorem t : True := trivial\n");
        assert!(def_first.name_doubt(0).expect("doubted").contains("twice"));
        let interpolated =
            SourceFile::parse("def x := dbg_trace \"{1}\"; 0\ntheorem t : True := trivial\n");
        assert!(interpolated
            .name_doubt(0)
            .expect("doubted")
            .contains("string literal"));
    }

    #[test]
    fn names_that_lean_may_give_otherwise_are_doubted() {
        let bare_end = SourceFile::parse("namespace A\nend\ntheorem t : True := trivial\n");
        let why = bare_end.name_doubt(0).expect("doubted");
        assert!(why.contains("line 2"), "{why}");
        let in_end = SourceFile::parse(
            "namespace A\nset_option pp.all true in\nend A\ntheorem t : True := trivial\n",
        );
        assert!(in_end.name_doubt(0).is_some());
        let twice = SourceFile::parse("theorem t : True := trivial\ntheorem t : True := trivial\n");
        assert_eq!(twice.name_doubt(0), None);
        assert!(twice.name_doubt(1).expect("doubted").contains("twice"));
        // What Mathlib and Batteries write is read without doubt: `xs[i]'h`, `f '' s`,
        // `α ⊕' β`, `open scoped`, `local notation`, `attribute [instance]`, `class inductive`,
        // `deriving instance`, `meta import`.
        let library = SourceFile::parse(
            "public import A\nmeta import B\nopen scoped Real\nlocal notation \"π\" => 3\nattribute [local instance] f\nclass inductive C | c\nderiving instance Repr for C\ntheorem a (xs : List Nat) (h : 0 < xs.length) : xs[0]'h = xs[0]'h := rfl\ntheorem b : f '' s = f ⁻¹' s ∧ (α ⊕' β) := sorry\n",
        );
        assert_eq!(library.scope_doubt, None);
        assert_eq!((library.name_doubt(0), library.name_doubt(1)), (None, None));
        let fine = SourceFile::parse(
            "namespace A\nsection\ntheorem t : True := trivial\nend\nend A\ntheorem t : True := trivial\n",
        );
        assert_eq!((fine.name_doubt(0), fine.name_doubt(1)), (None, None));
        assert_eq!(fine.scope_doubt, None);
    }

    #[test]
    fn a_name_declared_twice_is_doubted_where_lean_may_have_checked_the_other() {
        // Which theorems are doubted: a later one of a name declared before it; in a `mutual`
        // block (asked about at the end of the file), one whose name is declared anywhere else.
        for (text, doubted) in [
            ("def t : True := trivial\ntheorem t : True := trivial\ntheorem u : True := trivial\n", vec![true, false]),
            ("theorem t : True := trivial\ntheorem t : True := trivial\nexample : True := trivial\n", vec![false, true, false]),
            ("theorem t : True := trivial\ndef t := 0\ntheorem t : True := trivial\n", vec![false, true]),
            ("namespace A\ntheorem t : True := trivial\nend\ntheorem t : True := trivial\n", vec![false, true]),
            ("namespace A\ntheorem t : True := trivial\nend A\ntheorem A.t : True := trivial\n", vec![false, true]),
            ("mutual\ntheorem t : True := trivial\nend\nabbrev t : True := trivial\n", vec![true]),
            ("mutual\ntheorem t : True := trivial\nend\ntheorem t : True := trivial\n", vec![true, true]),
        ] {
            let file = SourceFile::parse(text);
            let all: Vec<bool> = file.name_doubts().iter().map(Option::is_some).collect();
            assert_eq!(all, doubted, "{text}");
            let one_by_one: Vec<bool> = (0..file.theorems.len())
                .map(|i| file.name_doubt(i).is_some())
                .collect();
            assert_eq!(one_by_one, doubted, "{text}");
        }
    }

    #[test]
    fn where_lean_reads_on_is_found_by_position() {
        let text =
            "def s := \"a\" -- note\n/-- doc -/\ntheorem t : True := (variable (h : False)\n";
        let file = SourceFile::parse(text);
        let read_on = file.read_on();
        assert!(
            read_on.lean_reads_on_otherwise(Pos::new(1, 10)),
            "in a string"
        );
        assert!(
            read_on.lean_reads_on_otherwise(Pos::new(1, 17)),
            "in a comment"
        );
        assert!(
            read_on.lean_reads_on_otherwise(Pos::new(2, 5)),
            "in a doc comment"
        );
        assert!(
            read_on.lean_reads_on_otherwise(Pos::new(3, 21)),
            "at a command keyword"
        );
        assert!(
            !read_on.lean_reads_on_otherwise(Pos::new(3, 0)),
            "at the theorem"
        );
        assert!(!read_on.lean_reads_on_otherwise(Pos::new(1, 4)), "at code");
        assert!(
            !read_on.lean_reads_on_otherwise(Pos::new(9, 0)),
            "past the end"
        );
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
        assert!(mentions_sorry("exact sorryAx _ false"));
        assert!(mentions_sorry("exact _root_.sorryAx _ false"));
        assert!(mentions_sorry("exact «sorry»"));
        assert!(!mentions_sorry("exact h -- sorry"));
        assert!(!mentions_sorry("exact \"sorry\""));
        assert!(!mentions_sorry("exact not_sorry"));
        assert!(!mentions_sorry("exact h.sorry_free"));
    }

    #[test]
    fn a_coinductive_declaration_ends_the_theorem_before_it() {
        let text = "theorem a : True := trivial\ncoinductive S : Prop where\n  | mk : S → S\n";
        let f = SourceFile::parse(text);
        assert_eq!(f.theorems[0].proof, "trivial");
        assert_eq!(f.theorems[0].span_end, Some(Pos::new(2, 0)));
        assert_eq!(f.region(Pos::new(3, 4)), Region::Between);
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
        let offset = |line, column| Pos::new(line, column).offset_in(text);
        assert_eq!(offset(1, 0), Some(0));
        assert_eq!(offset(2, 0), Some(3));
        assert_eq!(&text[offset(2, 2).unwrap()..], "cd\nef");
        assert_eq!(offset(3, 1), Some(text.len() - 1));
        assert_eq!(offset(2, 99), Some(text.find("\nef").unwrap()));
        assert_eq!(offset(9, 0), None);
        assert_eq!(offset(0, 0), None);
    }

    #[test]
    fn a_statement_is_found_however_long_the_text_after_it() {
        let proof = "  simp\n".repeat(5000);
        let text = format!("theorem t (p : Prop) : p → p := by\n{proof}");
        assert_eq!(statement_part(&text), Some("theorem t (p : Prop) : p → p"));
        let long_statement = format!("theorem t : {} = 0 := rfl", "0 + ".repeat(3000));
        assert_eq!(
            statement_part(&long_statement),
            long_statement.strip_suffix(" := rfl")
        );
        assert_eq!(
            statement_part("theorem t : let x := 1; x = 1 := rfl"),
            Some("theorem t : let x := 1; x = 1")
        );
        // ProofNet's exercise_1_13: an absolute value begins the statement's second line.
        assert_eq!(
            statement_part("theorem e (x y : ℂ) :\n  |(abs x) - (abs y)| ≤ abs (x - y) :="),
            Some("theorem e (x y : ℂ) :\n  |(abs x) - (abs y)| ≤ abs (x - y)")
        );
    }
}
