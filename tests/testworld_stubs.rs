//! The stub checker of the test prelude: every native-backed stub in `lean/mini/Mini.lean` (a
//! parser, macro or unexpander declared only by its `Init` name) must have its compiled symbol in
//! the test world's `libleanshared.so`. A misspelt macro stub makes `lean` crash and a misspelt
//! parser stub silently registers a bogus parser, so this runs before anything trusts the prelude.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

/// Attributes whose declarations are replaced at run time by compiled code of the same name.
const NATIVE_ATTRS: &[&str] = &[
    "tactic_parser",
    "term_parser",
    "command_parser",
    "macro",
    "app_unexpander",
];

/// One native-backed stub found in the prelude.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stub {
    /// Fully qualified Lean name, with «» kept around components that need them.
    name: String,
    /// 1-based line of its `def`.
    line: usize,
}

/// Splits a Lean name into components: dots separate them except inside «», and the «» are dropped.
fn name_components(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in name.chars() {
        match ch {
            '«' => quoted = true,
            '»' => quoted = false,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Lean's C-symbol mangling of one name component: ASCII letters and digits stay, `_` is doubled,
/// other characters become `_xHH`, `_uHHHH` or `_UHHHHHHHH`.
fn mangle_component(comp: &str) -> String {
    let mut out = String::new();
    for ch in comp.chars() {
        let code = ch as u32;
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if ch == '_' {
            out.push_str("__");
        } else if code < 0x100 {
            out.push_str(&format!("_x{code:02x}"));
        } else if code < 0x10000 {
            out.push_str(&format!("_u{code:04x}"));
        } else {
            out.push_str(&format!("_U{code:08x}"));
        }
    }
    out
}

/// The C symbol of a Lean declaration: `l_` + mangled components joined by `_`.
fn mangle(name: &str) -> String {
    let comps: Vec<String> = name_components(name)
        .iter()
        .map(|c| mangle_component(c))
        .collect();
    format!("l_{}", comps.join("_"))
}

/// True when an attribute list such as `macro rwSeq` or `tactic_parser` marks a native-backed stub.
fn is_native_attr_list(attrs: &str) -> bool {
    attrs.split(',').any(|attr| {
        let head = attr.split_whitespace().next().unwrap_or("");
        NATIVE_ATTRS.contains(&head)
    })
}

/// Finds every native-backed stub in a prelude source, with its namespace prefix applied.
/// Understands `namespace X` / `section` / `end`, and attributes on the line before the `def`.
fn find_stubs(src: &str) -> Vec<Stub> {
    let mut scopes: Vec<Option<String>> = Vec::new();
    let mut pending_native = false;
    let mut stubs = Vec::new();
    for (idx, raw) in src.lines().enumerate() {
        let mut line = raw.trim();
        if let Some(rest) = line.strip_prefix("namespace ") {
            scopes.push(Some(rest.trim().to_string()));
            continue;
        }
        if line == "section" || line.starts_with("section ") {
            scopes.push(None);
            continue;
        }
        if line == "end" || line.starts_with("end ") {
            scopes.pop();
            continue;
        }
        if let Some(rest) = line.strip_prefix("@[") {
            let Some(close) = rest.find(']') else {
                continue;
            };
            pending_native = is_native_attr_list(&rest[..close]);
            line = rest[close + 1..].trim();
            if line.is_empty() {
                continue;
            }
        }
        if pending_native {
            let decl = line
                .strip_prefix("protected ")
                .unwrap_or(line)
                .strip_prefix("def ");
            if let Some(decl) = decl {
                let name = decl
                    .split(|c: char| c.is_whitespace() || c == ':')
                    .next()
                    .unwrap_or("");
                let prefix: Vec<&str> = scopes.iter().flatten().map(String::as_str).collect();
                let full = if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{}.{name}", prefix.join("."))
                };
                stubs.push(Stub {
                    name: full,
                    line: idx + 1,
                });
            }
        }
        pending_native = false;
    }
    stubs
}

/// The dynamic symbols defined by a shared library, from `nm -D --defined-only`.
fn defined_symbols(lib: &Path) -> HashSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `nm` ({e}); install binutils (Debian: apt-get install binutils)")
        });
    assert!(
        out.status.success(),
        "nm -D --defined-only {} failed: {}",
        lib.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect()
}

#[test]
fn mangler_gives_the_known_symbols() {
    let cases = [
        ("Lean.Parser.Tactic.exact", "l_Lean_Parser_Tactic_exact"),
        ("Lean.Parser.Tactic.tacticTry_", "l_Lean_Parser_Tactic_tacticTry__"),
        ("«term_∧_»", "l_term___u2227__"),
        ("«term¬_»", "l_term_xac__"),
        (
            "Lean.Parser.Tactic.«tacticExists_,,»",
            "l_Lean_Parser_Tactic_tacticExists___x2c_x2c",
        ),
        (
            "«_aux_Init_Notation___macroRules_term_∧__1»",
            "l___aux__Init__Notation______macroRules__term___u2227____1",
        ),
        (
            "Lean.Parser.Tactic.«_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tactic_<;>__1»",
            "l_Lean_Parser_Tactic___aux__Init__Tactics______macroRules__Lean__Parser__Tactic__tactic___x3c_x3b_x3e____1",
        ),
        ("x.«a.b»", "l_x_a_x2eb"),
        ("«𝔽»", "l__U0001d53d"),
    ];
    for (name, sym) in cases {
        assert_eq!(mangle(name), sym, "mangling {name}");
    }
}

#[test]
fn stub_finder_reads_namespaces_and_split_attributes() {
    let src = "prelude\n\
        @[tactic_parser] def Lean.cdot : Lean.ParserDescr := .native\n\
        namespace Lean.Parser.Tactic\n\
        @[macro rwSeq]\n\
        def _aux_x_1 : Lean.Macro :=\n  fun _ _ _ => ()\n\
        @[reducible] def notAStub : Nat := 0\n\
        @[tactic_parser] def «show» : Lean.ParserDescr := .native\n\
        end Lean.Parser.Tactic\n\
        @[app_unexpander And]\ndef top : Lean.PrettyPrinter.Unexpander := fun _ _ _ => ()\n";
    let names: Vec<String> = find_stubs(src).into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "Lean.cdot",
            "Lean.Parser.Tactic._aux_x_1",
            "Lean.Parser.Tactic.«show»",
            "top"
        ]
    );
}

#[test]
fn every_prelude_stub_has_its_native_symbol() {
    let Some(lean) = common::test_lean("every_prelude_stub_has_its_native_symbol") else {
        return;
    };
    let root = common::repo_root();
    let src = std::fs::read_to_string(root.join("lean/mini/Mini.lean")).unwrap();
    let stubs = find_stubs(&src);
    // The prelude declares dozens of stubs; far fewer means the finder stopped seeing them.
    assert!(
        stubs.len() >= 80,
        "only {} stubs found in Mini.lean",
        stubs.len()
    );
    let lib = lean
        .lean
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("lib/lean/libleanshared.so");
    let syms = defined_symbols(&lib);
    assert!(syms.len() > 1000, "nm listed only {} symbols", syms.len());
    // A misspelt name must be caught, or this check proves nothing.
    assert!(!syms.contains(&mangle("Lean.Parser.Tactic.exactt")));
    let missing: Vec<String> = stubs
        .iter()
        .filter(|s| !syms.contains(&mangle(&s.name)))
        .map(|s| {
            format!(
                "Mini.lean:{}: {} (no symbol {})",
                s.line,
                s.name,
                mangle(&s.name)
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "stubs without a native symbol in {} (misspelt, or written for another Lean version):\n{}",
        lib.display(),
        missing.join("\n")
    );
}
