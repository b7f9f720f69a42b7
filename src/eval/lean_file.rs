//! The theorems of a Lean source file, each with its header (everything before it), for `prove
//! --file` and for evaluating a Lean file or folder: an adapter from the Lean layer's source
//! splitter (`lean::source`) to evaluation tasks.

use std::path::Path;

use tracing::warn;

use crate::eval::dataset::Task;
use crate::eval::EvalError;
use crate::lean::source::{HeaderText, SourceFile};

/// Every `theorem`/`lemma`/`example` of `text`, in order, named as `lean::source` names them (full
/// name, or `example@L<line>`). `prefix` (a relative path) is put before each name as
/// `prefix:name`, so names stay unique across the files of a folder. Declarations without a `:=`
/// (pattern-matching definitions) have no statement to search and are left out.
pub fn lean_file_theorems(
    path: &Path,
    text: &str,
    prefix: Option<&str>,
) -> Result<Vec<Task>, EvalError> {
    let file = SourceFile::parse(text);
    let mut tasks = Vec::new();
    for (index, theorem) in file.theorems.iter().enumerate() {
        let name = theorem.display_name();
        if !theorem.has_statement() {
            warn!(file = %path.display(), theorem = %name, "no `:=` after the statement; left out");
            continue;
        }
        let id = match prefix {
            Some(p) => format!("{p}:{name}"),
            None => name,
        };
        tasks.push(Task {
            name: id,
            header: HeaderText::of(&file, index),
            statement: file
                .statement_as_written(index)
                .unwrap_or_else(|| theorem.statement.clone()),
            split: None,
        });
    }
    Ok(tasks)
}

/// The theorem `wanted` among a file's `tasks`: by its full name (also when only `«»`
/// quoting differs, as Lean prints `«B».foo` for `B.foo`), or, when `wanted` is a bare last
/// component, by that when exactly one theorem has it. `prove --file` and a dataset record
/// that names its theorem and file both look up through this, so a statement is never
/// searched or checked in the context of another theorem of the same last component.
pub fn theorem_named<'a>(tasks: &'a [Task], wanted: &str) -> Result<&'a Task, Lookup> {
    let unquoted = |n: &str| n.replace(['«', '»'], "");
    let passes: [&dyn Fn(&Task) -> bool; 3] = [
        &|t: &Task| t.name == wanted,
        &|t: &Task| unquoted(&t.name) == unquoted(wanted),
        &|t: &Task| !wanted.contains('.') && t.name.rsplit('.').next() == Some(wanted),
    ];
    for matches in passes {
        let found: Vec<&Task> = tasks.iter().filter(|t| matches(t)).collect();
        match found.as_slice() {
            [] => continue,
            [task] => return Ok(task),
            many => {
                return Err(Lookup::Ambiguous(
                    many.iter().map(|t| t.name.clone()).collect(),
                ))
            }
        }
    }
    Err(Lookup::Missing(
        tasks.iter().map(|t| t.name.clone()).collect(),
    ))
}

/// Why `theorem_named` found no single theorem.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// No theorem has the name; these are the file's theorems.
    Missing(Vec<String>),
    /// Several theorems have the last component and none the full name: these.
    Ambiguous(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "prelude\nimport Mini\n/-- doc\ntheorem not_this : True := trivial -/\n\
theorem a (p : Prop) (hp : p) : p := by\n  exact hp\n\
namespace Foo\n@[simp] protected theorem b : 1 = 1 := rfl\n  theorem indented : True := trivial\n\
section\nlemma c {n : Nat}\n    (h : n = n) : n = n := h\nend\ntheorem _root_.d : True := by trivial\nend Foo\n\
def e : Nat := 1\ntheorem f : \"x := y\" = \"x := y\" := rfl\nexample (p : Prop) (hp : p) : p := hp\n";

    /// A name finds its own theorem, never another of the same last component (a LeanDojo
    /// record `B.foo` had been checked in the context of an earlier `A.foo`).
    #[test]
    fn a_name_finds_its_own_theorem_only() {
        let text = "prelude\nimport Mini\nnamespace A\ndef x : Nat := 5\ntheorem foo : x = 5 := rfl\nend A\nnamespace B\ndef x : Nat := 6\ntheorem foo : x = 5 := sorry\ntheorem bar : True := trivial\nend B\n";
        let tasks = lean_file_theorems(Path::new("F.lean"), text, None).unwrap();
        let found = |wanted: &str| theorem_named(&tasks, wanted).map(|t| t.name.clone());
        assert_eq!(found("B.foo"), Ok("B.foo".to_string()));
        assert!(theorem_named(&tasks, "B.foo")
            .unwrap()
            .header
            .contains("def x : Nat := 6"));
        assert_eq!(found("«B».foo"), Ok("B.foo".to_string()));
        assert_eq!(found("bar"), Ok("B.bar".to_string()));
        assert_eq!(
            found("foo"),
            Err(Lookup::Ambiguous(vec!["A.foo".into(), "B.foo".into()]))
        );
        assert!(matches!(found("C.foo"), Err(Lookup::Missing(_))));
    }

    #[test]
    fn finds_theorems_with_their_headers_and_namespaces() {
        let tasks = lean_file_theorems(Path::new("F.lean"), FILE, None).unwrap();
        let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "Foo.b",
                "Foo.indented",
                "Foo.c",
                "d",
                "f",
                "example@L18"
            ]
        );
        // A theorem's doc comment, attributes, modifiers and `... in` prefixes are part of
        // what is elaborated (a prefix can change what the statement means).
        assert_eq!(
            tasks[0].statement,
            "/-- doc\ntheorem not_this : True := trivial -/\ntheorem a (p : Prop) (hp : p) : p"
        );
        // The doc comment (with a `theorem` inside it) belongs to `a`, not to its header.
        assert_eq!(tasks[0].header.as_str(), "prelude\nimport Mini\n");
        assert_eq!(tasks[1].statement, "@[simp] protected theorem b : 1 = 1");
        assert!(tasks[1].header.ends_with("namespace Foo\n"));
        assert_eq!(
            tasks[3].statement,
            "lemma c {n : Nat}\n    (h : n = n) : n = n"
        );
        assert_eq!(tasks[5].statement, "theorem f : \"x := y\" = \"x := y\"");
        assert!(tasks[5].header.ends_with("def e : Nat := 1\n"));
        assert_eq!(tasks[6].statement, "example (p : Prop) (hp : p) : p");
        let prefixed = lean_file_theorems(Path::new("F.lean"), FILE, Some("dir/F.lean")).unwrap();
        assert_eq!(prefixed[1].name, "dir/F.lean:Foo.b");
    }
}
