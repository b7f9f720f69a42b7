//! The Lake project for Mathlib users (`lean/`): checks that need no Lean. Mathlib declares many
//! root-level theorems, so an example file that declares one outside a namespace can collide
//! with it and stop `lake build`; the repl must be required by the toolchain's own tag.

mod common;

use proofstep::lean::source::SourceFile;

#[test]
fn every_declaration_of_the_example_files_is_inside_a_namespace() {
    let folder = common::repo_root().join("lean/ProofstepExamples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "lean") {
            continue;
        }
        let source = SourceFile::parse(&std::fs::read_to_string(&path).unwrap());
        for theorem in &source.theorems {
            assert!(
                !theorem.namespace.is_empty(),
                "{}: `{}` (line {}) is declared at the root, where Mathlib may already have that name; \
                 put it inside the file's namespace",
                path.display(),
                theorem.display_name(),
                theorem.keyword.line
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "found only {checked} declarations");
}

#[test]
fn mathlib_and_the_repl_are_required_by_the_toolchains_tag() {
    let root = common::repo_root().join("lean");
    let toolchain = std::fs::read_to_string(root.join("lean-toolchain")).unwrap();
    let tag = toolchain.trim().rsplit(':').next().unwrap().to_string();
    let lakefile = std::fs::read_to_string(root.join("lakefile.toml")).unwrap();
    let revs: Vec<&str> = lakefile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("rev = "))
        .map(|r| r.trim_matches('"'))
        .collect();
    assert_eq!(revs, [tag.as_str(), tag.as_str()], "{lakefile}");
}
