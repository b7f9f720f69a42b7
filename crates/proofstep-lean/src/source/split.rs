//! Splitting a text into commands and theorems, on the lexer's tokens (see the parent module
//! for the rules).

use std::sync::Arc;

use super::keywords::{
    is_command, DECLARATIONS, IN_COMMANDS, MODIFIERS, SCOPES, SCOPE_COMMANDS,
    UNTRACKED_SCOPE_COMMANDS,
};
use super::lexer::lexer_doubt;
use super::lexer::{lex, Token, TokenKind};
use super::{qualified, Command, CommandKind, DeclKind, Pos, SourceFile, Theorem};

/// The brackets whose insides never hold a proof's `:=`.
fn bracket_delta(s: &str) -> i32 {
    match s {
        "(" | "[" | "{" | "⟨" | "⦃" | "⟦" | "@[" | "⁅" => 1,
        ")" | "]" | "]'" | "}" | "⟩" | "⦄" | "⟧" | "⁆" => -1,
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
pub(super) struct Splitter<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    lines: LineIndex,
}

impl<'a> Splitter<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Splitter {
            src,
            tokens: lex(src),
            lines: LineIndex::new(src),
        }
    }

    pub(super) fn text(&self, i: usize) -> &'a str {
        self.tokens[i].text(self.src)
    }

    fn pos(&self, byte: usize) -> Pos {
        self.lines.pos(self.src, byte)
    }

    fn column(&self, i: usize) -> u32 {
        self.pos(self.tokens[i].start).column
    }

    /// The token naming what the declaration keyword at `kw` declares (before `end`), read as
    /// Lean reads it: past the keyword a `class` is followed by (`class inductive`, `class
    /// abbrev`) and past an instance's `(priority := n)`; none for an anonymous one.
    fn declared_name(&self, kw: usize, end: usize) -> Option<usize> {
        let mut at = kw + 1;
        if self.text(kw) == "class"
            && at < end
            && matches!(self.text(at), "inductive" | "structure" | "abbrev")
        {
            at += 1;
        }
        if at < end && self.text(at) == "(" && self.text(kw) == "instance" {
            let mut depth = 0i32;
            while at < end {
                match self.text(at) {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    _ => {}
                }
                at += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        (at < end && self.tokens[at].kind == TokenKind::Word).then_some(at)
    }

    /// After doc comment, attributes and modifiers starting at token `i`: the index of the
    /// token they lead to.
    pub(super) fn skip_modifiers(&self, mut i: usize) -> usize {
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
        // `theorem` and `example` are reserved words that only ever begin a declaration, and
        // the scope commands never stand inside a term or a tactic: Lean reads each as a new
        // command wherever it stands, mid-line included.
        if (matches!(text, "theorem" | "example") || SCOPE_COMMANDS.contains(&text))
            && t.kind == TokenKind::Word
        {
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
                && (DECLARATIONS.contains(&self.text(j)) || (shallow && is_command(self.text(j))));
        }
        shallow && (is_command(text) || (text.starts_with('#') && text.len() > 1))
    }

    pub(super) fn run(self) -> SourceFile {
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
        let mut scopes: Vec<Scope> = Vec::new();
        let mut scope_doubt = [
            literal_doubt(self.src, &self.tokens),
            self.hidden_command(&starts),
            self.scope_changer(),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at);
        let mut declared: Vec<(usize, String)> = Vec::new();
        let mut lean_end = self.src.len();
        for (k, &(s, last)) in groups.iter().enumerate() {
            let end = groups.get(k + 1).map_or(self.tokens.len(), |g| g.0);
            let kw = self.skip_modifiers(last);
            // `local instance` and `scoped instance` declare an instance like `instance`.
            let kw = if kw + 1 < end
                && SCOPES.contains(&self.text(kw))
                && self.text(kw + 1) == "instance"
            {
                kw + 1
            } else {
                kw
            };
            let keyword = if kw < end { self.text(kw) } else { "" };
            if keyword == "#exit" {
                lean_end = self.tokens[s].start;
                break;
            }
            // A scope command as a prefix (`namespace N in theorem ...`): Lean opens it in a
            // section whose anonymous `end` then fails, so `N` stays open past the command.
            for &p in starts.iter().filter(|&&p| s <= p && p < last) {
                let pk = self.skip_modifiers(p);
                if matches!(self.text(pk), "namespace" | "section" | "mutual" | "end") {
                    let at = self.pos(self.tokens[pk].start);
                    earliest(
                        &mut scope_doubt,
                        self.tokens[p].start,
                        format!("`{}` before `in` at line {}", self.text(pk), at.line),
                    );
                }
            }
            let start = self.pos(self.tokens[s].start);
            let next_start = groups.get(k + 1).map(|g| self.pos(self.tokens[g.0].start));
            match keyword {
                "theorem" | "lemma" | "example" => {
                    let theorem = self.theorem(s, kw, end, next_start, &scopes);
                    commands.push(Command {
                        kind: CommandKind::Theorem(theorems.len()),
                        start,
                        start_byte: self.tokens[s].start,
                    });
                    theorems.push(theorem);
                    continue;
                }
                k if DECLARATIONS.contains(&k) => {
                    if let Some(name) = self.declared_name(kw, end) {
                        declared.push((self.tokens[s].start, full_name(&scopes, self.text(name))));
                    }
                }
                "namespace" | "section" | "mutual" | "end" => {
                    let named = kw + 1 < end
                        && self.tokens[kw + 1].kind == TokenKind::Word
                        && !self.tokens[kw + 1].first_on_line
                        && keyword != "mutual";
                    let name = if named { self.text(kw + 1) } else { "" };
                    let doubt = if s != last {
                        Some(format!("`{keyword}` after `... in`"))
                    } else {
                        track_scope(&mut scopes, keyword, name)
                    };
                    if let Some(why) = doubt {
                        let at = self.pos(self.tokens[kw].start);
                        earliest(
                            &mut scope_doubt,
                            self.tokens[s].start,
                            format!("{why} at line {}", at.line),
                        );
                    }
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
            scope_doubt,
            declared,
        }
    }

    /// The first command keyword inside another command, where this splitter does not start a
    /// command but Lean does (`def x := 2variable (h : False)` declares a variable): from
    /// there on, the theorems may not be what Lean checks. Every token but the commands' own
    /// heads (first token to keyword) is looked at, prefixes before `in` included. Not
    /// counted: keywords inside brackets (`attribute [instance] f`); keywords completing a
    /// command's own head (`class inductive`, `deriving instance`, `local notation`, `open
    /// scoped`); `deriving` clauses; and the commands that stand inside a proof before `in`
    /// where a tactic or term may begin (`by open Nat in simp`, `· set_option ... in decide`).
    fn hidden_command(&self, starts: &[usize]) -> Option<(usize, String)> {
        let mut heads = std::collections::HashSet::new();
        for &st in starts {
            heads.extend(
                st..=self
                    .skip_modifiers(st)
                    .min(self.tokens.len().saturating_sub(1)),
            );
        }
        let mut next_start = starts.iter().copied().peekable();
        let mut depth = 0i32;
        let mut command_end = 0;
        for i in 0..self.tokens.len() {
            if next_start.peek() == Some(&i) {
                next_start.next();
                depth = 0;
                command_end = next_start.peek().copied().unwrap_or(self.tokens.len());
            }
            let word = self.text(i);
            depth += bracket_delta(word);
            if heads.contains(&i) || i == 0 || depth > 0 || self.tokens[i].kind != TokenKind::Word {
                continue;
            }
            let keyword = DECLARATIONS.contains(&word)
                || (is_command(word) && word != "deriving" && word != "noncomputable");
            let before = self.text(i - 1);
            let completes_head = heads.contains(&(i - 1))
                && (DECLARATIONS.contains(&before)
                    || SCOPES.contains(&before)
                    || before == "deriving"
                    || (SCOPES.contains(&word) && before == "open"));
            let tactic_may_begin = self.tokens[i].first_on_line
                || matches!(
                    before,
                    "by" | "·" | "." | "(" | ";" | "<;>" | "=>" | ":=" | "|" | "{" | "⟨" | ","
                );
            let before_in = (IN_COMMANDS.contains(&word) || SCOPES.contains(&word))
                && tactic_may_begin
                && self.own_in(i, command_end);
            if keyword && !completes_head && !before_in {
                let at = self.pos(self.tokens[i].start);
                return Some((
                    self.tokens[i].start,
                    format!(
                        "`{word}` inside another command at line {}, which Lean reads as a command of its own",
                        at.line
                    ),
                ));
            }
        }
        None
    }

    /// The first command that changes the scope in a way this splitter does not follow
    /// (`keywords::UNTRACKED_SCOPE_COMMANDS`: `with_weak_namespace N theorem t ...` declares
    /// `N.t`): the theorems after it may not have the names read here.
    fn scope_changer(&self) -> Option<(usize, String)> {
        (0..self.tokens.len())
            .find(|&i| UNTRACKED_SCOPE_COMMANDS.contains(&self.text(i)))
            .map(|i| {
                let at = self.pos(self.tokens[i].start);
                (
                    self.tokens[i].start,
                    format!(
                        "`{}` at line {}, whose scope is not followed here",
                        self.text(i),
                        at.line
                    ),
                )
            })
    }

    /// Whether the command word at token `i` is followed by its own `in` (`open Nat in`): on
    /// its line, outside brackets opened after it, with no `#command` before it, and before
    /// `end`. Another command's `in` further on does not make it a prefix.
    fn own_in(&self, i: usize, end: usize) -> bool {
        let line = self.pos(self.tokens[i].start).line;
        let mut depth = 0i32;
        for j in i + 1..end {
            if self.pos(self.tokens[j].start).line != line || self.text(j).starts_with('#') {
                return false;
            }
            depth += bracket_delta(self.text(j));
            if depth < 0 {
                return false;
            }
            if depth == 0 && self.text(j) == "in" {
                return true;
            }
        }
        false
    }

    /// Builds the theorem whose tokens are `[s, end)` with its keyword at `kw`.
    fn theorem(
        &self,
        s: usize,
        kw: usize,
        end: usize,
        span_end: Option<Pos>,
        scopes: &[Scope],
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
        let namespace = namespace_of(scopes);
        let full_name = name.as_ref().map(|n| full_name(scopes, n));
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
            in_mutual: scopes.iter().any(|s| s.mutual),
        }
    }

    /// Where the statement of the declaration this text begins with ends: the byte offset of its
    /// proof's `:=`, None when the text ends first. A line that starts with `|` is not taken for
    /// a pattern-matching alternative here (a statement may begin a line with `|x|`).
    pub(super) fn statement_end(&self) -> Option<usize> {
        let kw = self.skip_modifiers(0);
        self.separator(kw, self.tokens.len(), false)
            .map(|(at, _)| self.tokens[at].start)
    }

    /// The token of the proof's `:=` (or of a first top-level `|` alternative) and the index
    /// of the token after it.
    pub(super) fn proof_separator(&self, kw: usize, end: usize) -> Option<(usize, usize)> {
        self.separator(kw, end, true)
    }

    /// `proof_separator`, with or without `|` alternatives.
    fn separator(&self, kw: usize, end: usize, alternatives: bool) -> Option<(usize, usize)> {
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
                "|" if alternatives && self.tokens[j].first_on_line => return Some((j, j)),
                _ => {}
            }
        }
        None
    }
}

/// One open scope, as Lean keeps them: `namespace A.B` opens `A` then `B`.
pub(super) struct Scope {
    /// The component's name (empty for an anonymous `section` or a `mutual` block).
    name: String,
    /// A namespace (its name qualifies declarations), not a section or `mutual`.
    namespace: bool,
    /// A `mutual` block.
    mutual: bool,
}

/// Applies the scope command `keyword` (`namespace`, `section`, `mutual`, `end`) with `name`
/// (dotted; empty when none) to `scopes`, as Lean does when the command succeeds. Returns why
/// Lean may read it otherwise: an `end` whose name is not that of the scopes it would close
/// (Lean then reports an error and closes nothing).
fn track_scope(scopes: &mut Vec<Scope>, keyword: &str, name: &str) -> Option<String> {
    let parts = components(name);
    match keyword {
        "namespace" | "section" if !parts.is_empty() => {
            scopes.extend(parts.iter().map(|p| Scope {
                name: p.to_string(),
                namespace: keyword == "namespace",
                mutual: false,
            }));
            None
        }
        "namespace" => Some("`namespace` without a name".into()),
        "section" | "mutual" => {
            scopes.push(Scope {
                name: String::new(),
                namespace: false,
                mutual: keyword == "mutual",
            });
            None
        }
        _ => {
            let closes = parts.len().max(1);
            let matches = scopes.len() >= closes
                && if parts.is_empty() {
                    scopes.last().is_some_and(|s| s.name.is_empty())
                } else {
                    scopes[scopes.len() - closes..]
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| plain(&s.name) == plain(p))
                };
            if matches {
                scopes.truncate(scopes.len() - closes);
                None
            } else if name.is_empty() {
                Some("`end` that closes no anonymous section".into())
            } else {
                Some(format!(
                    "`end {name}` that closes no open scope of that name"
                ))
            }
        }
    }
}

/// The components of a dotted name as written, split at dots outside `«»` (`«A.B».c` is two).
fn components(name: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in name.char_indices() {
        match c {
            '«' => quoted = true,
            '»' => quoted = false,
            '.' if !quoted => {
                parts.push(&name[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&name[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// A component as Lean compares it: `«x»` is `x` when `x` needs no quotes.
fn plain(component: &str) -> &str {
    match component
        .strip_prefix('«')
        .and_then(|c| c.strip_suffix('»'))
    {
        Some(inner)
            if !inner.is_empty()
                && inner.chars().all(super::lexer::is_ident_rest)
                && !inner.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            inner
        }
        _ => component,
    }
}

/// The open namespaces joined with `.` (empty at the root).
fn namespace_of(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .filter(|s| s.namespace)
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The name Lean gives a declaration written `name` inside `scopes`: `_root_.` (or
/// `«_root_».`) puts it at the root.
fn full_name(scopes: &[Scope], name: &str) -> String {
    let parts = components(name);
    match parts.split_first() {
        Some((first, rest)) if plain(first) == "_root_" => rest.join("."),
        _ => qualified(&namespace_of(scopes), name),
    }
}

/// Where the lexer may read the text otherwise than Lean (`lexer_doubt`), as a scope doubt:
/// from there on, what this splitter sees as commands may not be Lean's.
fn literal_doubt(src: &str, tokens: &[Token]) -> Option<(usize, String)> {
    lexer_doubt(src, tokens).map(|(at, what)| {
        let line = src[..at].matches('\n').count() + 1;
        (
            at,
            format!("{what} at line {line}, which Lean may read otherwise than this reading"),
        )
    })
}

/// Keeps the earlier of `doubt` and a doubt `why` at byte `at`: the theorems after the first
/// place where the reading may part from Lean's are all uncertain.
fn earliest(doubt: &mut Option<(usize, String)>, at: usize, why: String) {
    if doubt.as_ref().is_none_or(|(first, _)| at < *first) {
        *doubt = Some((at, why));
    }
}
