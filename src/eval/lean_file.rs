//! The theorems of a Lean source file, each with its header (everything before it), for `prove
//! --file` and for evaluating a Lean file or folder. Declarations are found at the start of a
//! line, outside comments and strings; their names are qualified by the enclosing namespaces.

use std::path::Path;

use crate::eval::dataset::Task;
use crate::eval::statement::statement_part;
use crate::eval::EvalError;

/// Modifiers that may precede the declaration keyword.
const MODIFIERS: &[&str] = &[
    "private",
    "protected",
    "noncomputable",
    "nonrec",
    "unsafe",
    "partial",
];

/// Every `theorem`/`lemma` of `text`, in order. `prefix` (a relative path) is put before each name
/// as `prefix:name`, so names stay unique across the files of a folder.
pub fn lean_file_theorems(
    path: &Path,
    text: &str,
    prefix: Option<&str>,
) -> Result<Vec<Task>, EvalError> {
    let mut tasks = Vec::new();
    let mut scopes: Vec<Option<String>> = Vec::new();
    let mut offset = 0;
    let code_lines = code_line_starts(text);
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if !code_lines.contains(&start) {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("namespace") => scopes.push(words.get(1).map(|s| s.to_string())),
            Some("section") => scopes.push(None),
            Some("end") => {
                scopes.pop();
            }
            _ => {}
        }
        let Some((keyword_at, name)) = declaration(line) else {
            continue;
        };
        let decl_start = start + keyword_at;
        let statement = statement_part(&text[decl_start..]).ok_or_else(|| EvalError::Dataset {
            path: path.to_path_buf(),
            reason: format!("cannot find where the statement of `{name}` ends (no `:=` after it)"),
        })?;
        let mut full = String::new();
        let root = name.strip_prefix("_root_.");
        if root.is_none() {
            for scope in scopes.iter().flatten() {
                full.push_str(scope);
                full.push('.');
            }
        }
        full.push_str(root.unwrap_or(name));
        let id = match prefix {
            Some(p) => format!("{p}:{full}"),
            None => full,
        };
        tasks.push(Task {
            name: id,
            header: text[..start].to_string(),
            statement: statement.to_string(),
            split: None,
        });
    }
    Ok(tasks)
}

/// If `line` declares a theorem or lemma (after attributes and modifiers), the byte offset of the
/// keyword within the line and the declared name.
fn declaration(line: &str) -> Option<(usize, &str)> {
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        if trimmed.len() != rest.len() && rest.len() == line.len() {
            return None; // indented: not at the start of a line
        }
        rest = trimmed;
        if rest.starts_with("@[") {
            rest = &rest[matching_bracket(rest)?..];
            continue;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if MODIFIERS.contains(&word) {
            rest = &rest[word_end..];
            continue;
        }
        if word == "theorem" || word == "lemma" {
            let keyword_at = line.len() - rest.len();
            let after = rest[word_end..].trim_start();
            let name_end = after
                .find(|c: char| c.is_whitespace() || c == '(' || c == '{' || c == '[' || c == ':');
            let name = &after[..name_end.unwrap_or(after.len())];
            return (!name.is_empty()).then_some((keyword_at, name));
        }
        return None;
    }
}

/// The offset just past the `]` that closes the `@[` at the start of `text`.
fn matching_bracket(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Byte offsets of the lines that begin in code (not inside a block comment or a string).
fn code_line_starts(text: &str) -> std::collections::HashSet<usize> {
    let mut starts = std::collections::HashSet::new();
    let mut comment_depth = 0usize;
    let mut in_string = false;
    let mut at_line_start = true;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if at_line_start && comment_depth == 0 && !in_string {
            starts.insert(i);
        }
        at_line_start = false;
        let c = rest.chars().next().expect("char boundary");
        if in_string {
            if c == '\\' {
                i += 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            if c == '"' {
                in_string = false;
            }
        } else if rest.starts_with("/-") {
            comment_depth += 1;
            i += 2;
            continue;
        } else if comment_depth > 0 && rest.starts_with("-/") {
            comment_depth -= 1;
            i += 2;
            continue;
        } else if comment_depth == 0 && rest.starts_with("--") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        } else if comment_depth == 0 && c == '"' {
            in_string = true;
        }
        if c == '\n' {
            at_line_start = true;
        }
        i += c.len_utf8();
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "prelude\nimport Mini\n/-- doc\ntheorem not_this : True := trivial -/\n\
theorem a (p : Prop) (hp : p) : p := by\n  exact hp\n\
namespace Foo\n@[simp] protected theorem b : 1 = 1 := rfl\n  theorem indented : True := trivial\n\
section\nlemma c {n : Nat}\n    (h : n = n) : n = n := h\nend\ntheorem _root_.d : True := by trivial\nend Foo\n\
def e : Nat := 1\ntheorem f : \"x := y\" = \"x := y\" := rfl\n";

    #[test]
    fn finds_theorems_with_their_headers_and_namespaces() {
        let tasks = lean_file_theorems(Path::new("F.lean"), FILE, None).unwrap();
        let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "Foo.b", "Foo.c", "d", "f"]);
        assert_eq!(tasks[0].statement, "theorem a (p : Prop) (hp : p) : p");
        assert!(tasks[0]
            .header
            .ends_with("theorem not_this : True := trivial -/\n"));
        assert_eq!(tasks[1].statement, "theorem b : 1 = 1");
        assert!(tasks[1].header.ends_with("namespace Foo\n"));
        assert_eq!(
            tasks[2].statement,
            "lemma c {n : Nat}\n    (h : n = n) : n = n"
        );
        assert_eq!(tasks[4].statement, "theorem f : \"x := y\" = \"x := y\"");
        assert!(tasks[4].header.ends_with("def e : Nat := 1\n"));
        let prefixed = lean_file_theorems(Path::new("F.lean"), FILE, Some("dir/F.lean")).unwrap();
        assert_eq!(prefixed[1].name, "dir/F.lean:Foo.b");
    }
}
