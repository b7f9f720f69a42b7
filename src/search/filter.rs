//! Rejects candidates that cannot be honest proof steps before Lean ever sees them.
//!
//! A generated "tactic" is pasted into a `by` block of a Lean file (or sent to the REPL), so it
//! must neither close goals by fiat (`sorry`, `admit`, `sorryAx`) nor smuggle in a declaration or
//! command (`theorem`, `axiom`, `#eval`, `set_option`, ...) that could change what the file proves.
//! Which words those are is Lean's vocabulary, `lean::source::keywords`, shared with the source
//! splitter.
//! `verify` would still catch most of these, but a prover whose results people trust refuses them
//! outright and says why in the trace.
//!
//! Control characters are refused too: an untrained or broken model emits NUL and other C0/C1
//! bytes, which no tactic contains and which have crashed Lean's server. The only control
//! character a tactic may hold is the line feed (`\n`) of a multi-line tactic; a tab is refused
//! as well (Lean rejects tabs in source: "tabs are not allowed"), and so is a carriage return
//! (the search writes `\n` line ends itself).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lean::source::is_ident_rest;
use crate::lean::source::keywords::{
    is_line_start_command, is_sorry_name, never_in_tactic, uncertifiable,
};

/// Why a candidate was refused without asking Lean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Rejection {
    /// Nothing but whitespace.
    Empty,
    /// `sorry`, `admit` or `sorryAx`: closes a goal without proving it.
    Sorry(String),
    /// A command keyword (a new declaration, `#eval`, `set_option`, ...) that would end the proof
    /// and add a command to the file.
    Command(String),
    /// An option that skips the kernel's check (`debug.skipKernelTC`) or a tactic that runs
    /// code of its own (`run_tac`, `by_elab`): either can make Lean accept what is not a proof.
    Unchecked(String),
    /// A control character other than a line feed (NUL, tab, carriage return, escape, ...),
    /// given as its code point, e.g. `U+0000`.
    Control(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Empty => write!(f, "is empty"),
            Rejection::Sorry(word) => write!(f, "uses `{word}`, which proves nothing"),
            Rejection::Command(word) => {
                write!(f, "would smuggle the command `{word}` into the file")
            }
            Rejection::Unchecked(word) => write!(
                f,
                "uses `{word}`, which {}",
                uncertifiable(word).unwrap_or("cannot be certified")
            ),
            Rejection::Control(code) => {
                write!(
                    f,
                    "holds the control character {code}, which no tactic contains"
                )
            }
        }
    }
}

/// Accepts a candidate or says why it cannot be a proof step. The candidate is expected trimmed.
pub fn check_candidate(tactic: &str) -> Result<(), Rejection> {
    if let Some(c) = tactic.chars().find(|&c| c.is_control() && c != '\n') {
        return Err(Rejection::Control(format!("U+{:04X}", c as u32)));
    }
    if tactic.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    for token in tokens(tactic) {
        let bare = token.trim_matches(|c| c == '«' || c == '»');
        if is_sorry_name(bare) {
            return Err(Rejection::Sorry(bare.to_string()));
        }
        if never_in_tactic(token) {
            return Err(Rejection::Command(token.to_string()));
        }
        if token.starts_with('#') && token.len() > 1 {
            return Err(Rejection::Command(token.to_string()));
        }
        if uncertifiable(token).is_some() {
            return Err(Rejection::Unchecked(token.to_string()));
        }
    }
    for line in tactic.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let start = line.trim_start();
        if start.starts_with("@[") {
            return Err(Rejection::Command("@[".to_string()));
        }
        let first = tokens(start).next().unwrap_or_default();
        if is_line_start_command(first) {
            return Err(Rejection::Command(first.to_string()));
        }
    }
    let first_line = tactic.trim_start();
    if first_line.starts_with("@[") {
        return Err(Rejection::Command("@[".to_string()));
    }
    Ok(())
}

/// True for characters that continue a Lean identifier, a dotted or `«quoted»` name, or a
/// `#command` word.
fn is_ident_char(c: char) -> bool {
    is_ident_rest(c) || matches!(c, '.' | '«' | '»' | '#')
}

/// The identifier-like words of `text` (dotted names stay whole; `#eval` keeps its `#`). String
/// literals and comments are not special-cased: refusing a `sorry` inside one costs nothing.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_ident_char(c))
        .filter(|t| !t.is_empty())
        .flat_map(split_hash)
}

/// `h#eval` is not one word: a `#` inside a token starts a new one.
fn split_hash(token: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in token.char_indices() {
        if c == '#' && i > start {
            parts.push(&token[start..i]);
            start = i;
        }
    }
    parts.push(&token[start..]);
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(t: &str) -> Rejection {
        check_candidate(t).expect_err(t)
    }

    #[test]
    fn ordinary_tactics_pass() {
        for t in [
            "exact h",
            "intro h",
            "rw [← h] at h2",
            "constructor <;> exact hp",
            "exact ⟨hp, hq⟩",
            "cases h with\n  | inl a => exact a\n  | inr b => exact b",
            "simp only [Nat.add_zero]",
            "open Nat in simp",
            "set_option maxRecDepth 1000 in rfl",
            "exact #[1, 2].size",
            "exact h.endpoint",
            "exact sorry_free_lemma",
            "have h₁ : a = b := h",
        ] {
            assert_eq!(check_candidate(t), Ok(()), "{t}");
        }
    }

    #[test]
    fn sorry_in_every_form_is_rejected() {
        assert_eq!(rejected("sorry"), Rejection::Sorry("sorry".into()));
        assert_eq!(rejected("exact sorry"), Rejection::Sorry("sorry".into()));
        assert_eq!(rejected("admit"), Rejection::Sorry("admit".into()));
        assert_eq!(
            rejected("exact sorryAx _ false"),
            Rejection::Sorry("sorryAx".into())
        );
        assert_eq!(
            rejected("exact (sorryAx _ true)"),
            Rejection::Sorry("sorryAx".into())
        );
        assert_eq!(
            rejected("exact _root_.sorryAx _ false"),
            Rejection::Sorry("_root_.sorryAx".into())
        );
        assert_eq!(
            rejected("constructor <;> sorry"),
            Rejection::Sorry("sorry".into())
        );
        assert_eq!(rejected("exact «sorry»"), Rejection::Sorry("sorry".into()));
        assert_eq!(
            rejected("first | rfl | (exact(sorry))"),
            Rejection::Sorry("sorry".into())
        );
    }

    #[test]
    fn smuggled_commands_are_rejected() {
        assert_eq!(
            rejected("rfl\ntheorem x : False := by rfl"),
            Rejection::Command("theorem".into())
        );
        assert_eq!(
            rejected("exact h axiom cheat : False"),
            Rejection::Command("axiom".into())
        );
        assert_eq!(rejected("rfl\n#eval 1"), Rejection::Command("#eval".into()));
        assert_eq!(
            rejected("rfl;#print axioms x"),
            Rejection::Command("#print".into())
        );
        assert_eq!(
            rejected("rfl\n  set_option pp.all true"),
            Rejection::Command("set_option".into())
        );
        assert_eq!(
            rejected("rfl\n  open Foo"),
            Rejection::Command("open".into())
        );
        assert_eq!(
            rejected("rfl\n  @[simp] lemma x : True := trivial"),
            Rejection::Command("lemma".into())
        );
        assert_eq!(rejected("rfl\n  @[simp]"), Rejection::Command("@[".into()));
        assert_eq!(rejected("rfl\nend"), Rejection::Command("end".into()));
        assert_eq!(
            rejected("exact h\nnamespace X"),
            Rejection::Command("namespace".into())
        );
        assert_eq!(
            rejected("rfl\n  instance : Foo := ⟨⟩"),
            Rejection::Command("instance".into())
        );
        assert_eq!(
            rejected("macro \"x\" : tactic => `(tactic| rfl)"),
            Rejection::Command("macro".into())
        );
        assert_eq!(
            rejected("rfl\n  import Foo"),
            Rejection::Command("import".into())
        );
    }

    #[test]
    fn steps_that_skip_the_kernel_or_run_code_are_rejected() {
        for (t, word) in [
            (
                "set_option debug.skipKernelTC true in decide +kernel",
                "debug.skipKernelTC",
            ),
            (
                "(set_option debug.«skipKernelTC» true in decide +kernel)",
                "debug.«skipKernelTC»",
            ),
            (
                "exact (set_option debug.skipKernelTC true in by decide +kernel)",
                "debug.skipKernelTC",
            ),
            ("run_tac do pure ()", "run_tac"),
            ("exact by_elab pure default", "by_elab"),
        ] {
            let r = rejected(t);
            assert_eq!(r, Rejection::Unchecked(word.into()), "{t}");
            assert!(r.to_string().contains("kernel"), "{r}");
        }
        assert!(check_candidate("set_option maxRecDepth 1000 in decide").is_ok());
    }

    #[test]
    fn every_command_the_source_splitter_knows_is_refused_too() {
        assert_eq!(
            rejected("rfl\n  add_decl_doc h"),
            Rejection::Command("add_decl_doc".into())
        );
        assert_eq!(
            rejected("exact h\nprelude"),
            Rejection::Command("prelude".into())
        );
        assert_eq!(
            rejected("rfl\n  nonrec def f := 1"),
            Rejection::Command("nonrec".into())
        );
        assert_eq!(
            rejected("rfl\n  scoped[Foo] attribute [simp] h"),
            Rejection::Command("scoped".into())
        );
        // Inside a line, `local` and `scoped` are an attribute's scope, not a command.
        assert_eq!(check_candidate("attribute [local simp] h in simp"), Ok(()));
    }

    #[test]
    fn control_characters_other_than_line_feeds_are_rejected() {
        let control = |code: &str| Rejection::Control(code.into());
        assert_eq!(rejected("\0"), control("U+0000"));
        assert_eq!(rejected("exact\0hp"), control("U+0000"));
        assert_eq!(rejected("\0\0\0"), control("U+0000"), "not taken for empty");
        assert_eq!(rejected("exact h\t"), control("U+0009"));
        assert_eq!(rejected("rfl\r\n  rfl"), control("U+000D"));
        assert_eq!(rejected("simp\u{1b}[0m"), control("U+001B"));
        assert_eq!(rejected("rfl\u{7f}"), control("U+007F"));
        assert_eq!(rejected("exact \u{85}h"), control("U+0085"));
        assert_eq!(
            rejected("x\u{0}").to_string(),
            "holds the control character U+0000, which no tactic contains"
        );
        // Line feeds of a multi-line tactic, and non-ASCII symbols, are fine.
        assert_eq!(
            check_candidate("cases h with\n  | inl a => exact a\n  | inr b => exact b"),
            Ok(())
        );
        assert_eq!(check_candidate("exact ⟨hp, hq⟩ -- ∀ x, ¬p x → ⊥"), Ok(()));
    }

    #[test]
    fn continuation_lines_at_the_tactics_own_column_are_accepted_but_never_a_command() {
        // The search writes every line of a step two columns in, so a continuation at column 0
        // stays inside the proof: match alternatives and bullets, as extraction records them.
        assert_eq!(
            check_candidate("cases h₁ with\n| intro b hs => exact ⟨b, hs.left⟩"),
            Ok(())
        );
        assert_eq!(
            check_candidate("constructor\n· exact hp\n· exact hq"),
            Ok(())
        );
        assert_eq!(
            rejected("exact h\ntheorem cheat : False := by trivial"),
            Rejection::Command("theorem".into())
        );
        assert_eq!(
            rejected("exact h\nset_option maxHeartbeats 0 in"),
            Rejection::Command("set_option".into())
        );
        assert_eq!(rejected("   "), Rejection::Empty);
    }
}
