//! Lean's command and declaration keywords and the words that prove nothing: the one list the
//! source splitter, the whole-file check's probe guard and the search's candidate filter all
//! read, so they never disagree about what begins a command.

use crate::axioms::SORRY_AXIOM;

/// Keywords that introduce a declaration (recognized at any indentation).
pub const DECLARATIONS: &[&str] = &[
    "theorem",
    "lemma",
    "example",
    "def",
    "abbrev",
    "instance",
    "structure",
    "class",
    "inductive",
    "coinductive",
    "axiom",
    "opaque",
];

/// Words that may precede a declaration keyword.
pub const MODIFIERS: &[&str] = &[
    "private",
    "protected",
    "noncomputable",
    "unsafe",
    "partial",
    "nonrec",
    "public",
    "meta",
];

/// Commands that define syntax, macros or elaborators.
pub const SYNTAX_COMMANDS: &[&str] = &[
    "macro",
    "macro_rules",
    "syntax",
    "elab",
    "elab_rules",
    "notation",
    "infix",
    "infixl",
    "infixr",
    "prefix",
    "postfix",
];

/// Words that give the command after them local or scoped effect (`local notation`, `scoped
/// instance`); inside a proof they appear in attribute brackets (`attribute [local simp] x in`).
pub const SCOPES: &[&str] = &["local", "scoped"];

/// Commands that also stand inside a proof, before `in` (`open Nat in simp`, `set_option
/// maxRecDepth 1000 in rfl`).
pub const IN_COMMANDS: &[&str] = &[
    "open",
    "set_option",
    "attribute",
    "export",
    "omit",
    "include",
];

/// The other commands.
pub const OTHER_COMMANDS: &[&str] = &[
    "prelude",
    "import",
    "namespace",
    "section",
    "end",
    "variable",
    "universe",
    "mutual",
    "deriving",
    "initialize",
    "builtin_initialize",
    "declare_syntax_cat",
    "add_decl_doc",
];

/// The commands that open and close namespaces and sections: never part of a term or a
/// tactic, so Lean reads them at any indentation.
pub const SCOPE_COMMANDS: &[&str] = &["namespace", "section", "end"];

/// Commands that change the namespace or scope in ways the splitter does not follow
/// (`with_weak_namespace N theorem t ...` declares `N.t`; `end_local_scope` closes scopes).
pub const UNTRACKED_SCOPE_COMMANDS: &[&str] = &["with_weak_namespace", "end_local_scope"];

/// Words that close a goal without proving it: the `sorry` and `admit` tactics and terms, and
/// the axiom they elaborate to.
pub const SORRY_WORDS: &[&str] = &["sorry", "admit", SORRY_AXIOM];

/// Options under which Lean adds a declaration without its kernel check, so that an
/// ill-typed proof is accepted and `#print axioms` still finds nothing wrong
/// (`set_option debug.skipKernelTC true in decide +kernel` proves `False`).
pub const UNCHECKED_OPTIONS: &[&str] = &["debug.skipKernelTC"];

/// Commands, tactics and attributes that run code of the text's own inside Lean: such code can
/// add declarations to the environment without the kernel's check, so nothing in a text that
/// uses them can be certified.
pub const CODE_RUNNERS: &[&str] = &[
    "#eval",
    "#eval!",
    "run_cmd",
    "run_elab",
    "run_meta",
    "run_tac",
    "by_elab",
    "elab",
    "elab_rules",
    "command_elab",
    "term_elab",
    "tactic_elab",
    "simproc",
    "dsimproc",
    "simproc_decl",
    "dsimproc_decl",
];

/// Commands that hide Lean's messages about what they wrap, errors included (`#guard_msgs (drop
/// error) in theorem t ...` reports nothing when `t` fails): no checker could see the failure.
pub const MESSAGE_HIDERS: &[&str] = &["#guard_msgs"];

/// Attributes that register a declaration of the text's own as code Lean runs while it
/// elaborates what follows (`@[tactic exact] def t : Tactic := ...` replaces `exact`; a
/// `@[simproc]` runs inside `simp`): like `CODE_RUNNERS`, such code can add declarations
/// without the kernel's check. Any attribute starting with `builtin_` counts too.
pub const CODE_ATTRIBUTES: &[&str] = &[
    "tactic",
    "command_elab",
    "term_elab",
    "simproc",
    "dsimproc",
    "sevalproc",
    "delab",
    "app_delab",
];

/// Names a checked text may not declare: the axioms allowed by default (a file of its own
/// could declare `axiom Classical.choice : False`, and only the name is allowed), the `Nat`
/// operations the kernel computes natively on literals, recognised by name (a `Nat.pow` of
/// the file's own, disagreeing with the kernel's arithmetic, proves `False`; so does a `class
/// inductive Nat.pow`), and the other names the kernel gives a meaning of its own (`Nat` and
/// its constructors for literals, the constants string literals unfold to, native reduction).
pub const RESERVED_NAMES: &[&str] = &[
    "propext",
    "Classical.choice",
    "Quot.sound",
    "Nat.add",
    "Nat.sub",
    "Nat.mul",
    "Nat.div",
    "Nat.mod",
    "Nat.gcd",
    "Nat.beq",
    "Nat.ble",
    "Nat.land",
    "Nat.lor",
    "Nat.xor",
    "Nat.shiftLeft",
    "Nat.shiftRight",
    "Nat.pow",
    "Nat.log2",
    "Nat",
    "Nat.zero",
    "Nat.succ",
    "String",
    "String.mk",
    "String.ofList",
    "Char",
    "Char.ofNat",
    "List.nil",
    "List.cons",
    "Lean.reduceBool",
    "Lean.reduceNat",
];

/// Why the word `word` (a name, plain or with `«quoted»` components) makes a text's proofs
/// impossible to certify, if it does: it names an option that skips the kernel's check, or
/// runs code of the text's own (`UNCHECKED_OPTIONS`, `CODE_RUNNERS`).
pub fn uncertifiable(word: &str) -> Option<&'static str> {
    let bare: String = word.chars().filter(|&c| c != '«' && c != '»').collect();
    if UNCHECKED_OPTIONS.contains(&bare.as_str()) {
        Some("turns off the kernel's check of the proof")
    } else if CODE_RUNNERS.contains(&bare.as_str()) {
        Some("runs code that can add declarations without the kernel's check")
    } else if MESSAGE_HIDERS.contains(&bare.as_str()) {
        Some("hides Lean's messages, its errors included")
    } else {
        None
    }
}

/// True for a keyword that begins a command other than a declaration (at column 0, or no
/// deeper than the command before): `noncomputable section` too.
pub fn is_command(word: &str) -> bool {
    word == "noncomputable"
        || [SYNTAX_COMMANDS, SCOPES, IN_COMMANDS, OTHER_COMMANDS]
            .iter()
            .any(|list| list.contains(&word))
}

/// Every word that can begin a command or a declaration: what a raw-text scan for a command
/// Lean may start looks for.
pub const COMMAND_LISTS: &[&[&str]] = &[
    DECLARATIONS,
    MODIFIERS,
    SYNTAX_COMMANDS,
    SCOPES,
    IN_COMMANDS,
    OTHER_COMMANDS,
    UNTRACKED_SCOPE_COMMANDS,
];

/// True for a word that only ever begins a command or a declaration, wherever it stands: never
/// part of a tactic.
pub fn never_in_tactic(word: &str) -> bool {
    [DECLARATIONS, MODIFIERS, SYNTAX_COMMANDS, OTHER_COMMANDS]
        .iter()
        .any(|list| list.contains(&word))
}

/// True for a word that begins a command where it begins a line, though inside a tactic it has
/// other uses (before `in`, inside attribute brackets).
pub fn is_line_start_command(word: &str) -> bool {
    IN_COMMANDS.contains(&word) || SCOPES.contains(&word)
}

/// True when the name `word` (components joined by `.`, each plain or `«quoted»`) has a
/// component that closes goals without a proof: `sorry`, `_root_.sorryAx`, `«admit»`.
pub fn is_sorry_name(word: &str) -> bool {
    word.split('.')
        .any(|part| SORRY_WORDS.contains(&part.trim_matches(|c| c == '«' || c == '»')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_keyword_is_in_one_class() {
        let all: Vec<&str> = COMMAND_LISTS
            .iter()
            .flat_map(|l| l.iter().copied())
            .collect();
        for word in &all {
            assert_eq!(all.iter().filter(|w| *w == word).count(), 1, "{word}");
        }
        assert!(is_command("noncomputable") && is_command("set_option"));
        assert!(!is_command("theorem"));
        assert!(never_in_tactic("coinductive") && !never_in_tactic("open"));
        assert!(is_line_start_command("scoped") && !is_line_start_command("end"));
    }

    #[test]
    fn kernel_switches_and_code_runners_are_uncertifiable() {
        for word in [
            "debug.skipKernelTC",
            "«debug».skipKernelTC",
            "debug.«skipKernelTC»",
            "#eval",
            "run_tac",
            "elab",
        ] {
            assert!(uncertifiable(word).is_some(), "{word}");
        }
        for word in [
            "debug",
            "skipKernelTC",
            "maxHeartbeats",
            "decide",
            "eval",
            "elaborate",
        ] {
            assert!(uncertifiable(word).is_none(), "{word}");
        }
    }

    #[test]
    fn sorry_names_are_found_in_any_component() {
        for word in [
            "sorry",
            "admit",
            "sorryAx",
            "_root_.sorryAx",
            "«sorry»",
            "Foo.«admit»",
        ] {
            assert!(is_sorry_name(word), "{word}");
        }
        for word in ["sorry_free", "h.sorry_free", "not_sorry", "sorryAxiom"] {
            assert!(!is_sorry_name(word), "{word}");
        }
    }
}
