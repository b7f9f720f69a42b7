//! One training example in the seed's proof-step format (`proofstep_core::prompt`: input
//! `[GOAL]{state}[PROOFSTEP]`, output `{tactic}<|endoftext|>`), and the exact JSONL line the
//! seed's `data.py` writes (Python `json.dumps`, ASCII-escaped).

use crate::prompt::{completion, prompt};
use serde::{Deserialize, Serialize};

/// One (proof state → next tactic) training example, as the seed stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// `[GOAL]{state}[PROOFSTEP]`: the prompt.
    pub input: String,
    /// `{tactic}<|endoftext|>`: the completion the loss is taken on.
    pub output: String,
}

impl Example {
    /// Formats a (state before, tactic) pair exactly as the seed's `_fmt_proofstep`.
    pub fn proofstep(state_before: &str, tactic: &str) -> Self {
        Example {
            input: prompt(state_before),
            output: completion(tactic),
        }
    }

    /// The line the seed writes for this example: `json.dumps({"input": ..., "output": ...})`
    /// (key order input, output; `", "` and `": "` separators; non-ASCII as `\uXXXX`), without
    /// the newline.
    pub fn to_seed_json(&self) -> String {
        let mut line = String::with_capacity(self.input.len() + self.output.len() + 32);
        line.push_str("{\"input\": ");
        push_python_json_string(&mut line, &self.input);
        line.push_str(", \"output\": ");
        push_python_json_string(&mut line, &self.output);
        line.push('}');
        line
    }
}

/// Appends `s` as a JSON string literal the way Python's `json.dumps` (ensure_ascii=True) writes
/// it: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` by name; every other character outside
/// printable ASCII (space to `~`) as lowercase `\uXXXX`, astral characters as surrogate pairs.
pub fn push_python_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_escapes() {
        let mut s = String::new();
        push_python_json_string(&mut s, "a\"b\\c\nd\te/ ⊢ ℝ 😀 \u{7f}\u{1}");
        assert_eq!(
            s,
            r#""a\"b\\c\nd\te/ \u22a2 \u211d \ud83d\ude00 \u007f\u0001""#
        );
    }

    #[test]
    fn seed_line() {
        let ex = Example::proofstep("x : ℕ\n⊢ x = x", "rfl");
        assert_eq!(
            ex.to_seed_json(),
            r#"{"input": "[GOAL]x : \u2115\n\u22a2 x = x[PROOFSTEP]", "output": "rfl<|endoftext|>"}"#
        );
    }
}
