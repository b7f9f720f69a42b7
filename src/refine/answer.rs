//! A model's answer → the tactic proof in it. Chat models wrap proofs in ```lean fences and
//! often repeat the statement (`theorem t … := by`) before the tactics; completion models
//! continue the prompt's `:= by` directly. What comes out is the tactic block alone, its
//! common indentation removed, ready for the candidate filter and Lean.

use crate::lean::source::statement_part;

/// The tactic proof in `answer`.
pub fn proof_from_answer(answer: &str) -> String {
    let code = fenced(answer).unwrap_or(answer);
    let tactics = after_statement(code).unwrap_or(code);
    dedent(tactics)
}

/// The first fenced block's contents (one tagged `lean` preferred); a block the token limit
/// cut off runs to the end.
fn fenced(answer: &str) -> Option<&str> {
    let mut blocks = Vec::new();
    let mut rest = answer;
    let mut offset = 0;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let line_end = after.find('\n').map_or(after.len(), |i| i + 1);
        let tag = after[..line_end].trim();
        let body = &after[line_end..];
        let close = body.find("```").unwrap_or(body.len());
        blocks.push((tag.to_string(), &body[..close]));
        let consumed = open + 3 + line_end + (close + 3).min(body.len());
        offset += consumed;
        rest = &answer[offset.min(answer.len())..];
    }
    blocks
        .iter()
        .find(|(tag, _)| tag == "lean" || tag == "lean4")
        .or(blocks.first())
        .map(|(_, body)| *body)
}

/// What follows `:= by` when `code` starts with a declaration (the model repeated the
/// statement), or a bare leading `by`.
fn after_statement(code: &str) -> Option<&str> {
    let trimmed = code.trim_start();
    if let Some(rest) = trimmed.strip_prefix("by") {
        if rest.starts_with(char::is_whitespace) {
            return Some(
                rest.trim_start_matches([' ', '\t'])
                    .trim_start_matches('\n'),
            );
        }
    }
    let first = trimmed.split_whitespace().next()?;
    if !matches!(first, "theorem" | "lemma" | "example") {
        return None;
    }
    let statement = statement_part(trimmed)?;
    let body = trimmed[statement.len()..].trim_start().strip_prefix(":=")?;
    let body = body.trim_start_matches([' ', '\t']);
    let body = body.strip_prefix("by")?;
    Some(
        body.trim_start_matches([' ', '\t'])
            .trim_start_matches('\n'),
    )
}

/// `text` without blank lines at either end, its common indentation removed.
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let lines = &lines[first..=last];
    let indent = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_answer_gives_the_tactics_of_its_lean_block_without_the_statement() {
        let answer = "Here is the proof:\n\n```lean\ntheorem t (p : Prop) (hp : p) : p ∧ p := by\n  constructor\n  · exact hp\n  · exact hp\n```\nIt works because…";
        assert_eq!(
            proof_from_answer(answer),
            "constructor\n· exact hp\n· exact hp"
        );
    }

    #[test]
    fn a_continuation_of_the_prompt_is_taken_as_it_is_dedented() {
        assert_eq!(
            proof_from_answer("  intro h\n  exact h.left\n"),
            "intro h\nexact h.left"
        );
        assert_eq!(
            proof_from_answer("```\n  rfl\n"),
            "rfl",
            "cut off by the limit"
        );
        assert_eq!(proof_from_answer("by\n  simp"), "simp");
        assert_eq!(proof_from_answer("by simp"), "simp");
    }

    #[test]
    fn a_lean_block_is_preferred_over_another_and_a_term_proof_is_left_for_lean_to_judge() {
        let answer = "```text\nnot this\n```\n```lean\nexact hp\n```";
        assert_eq!(proof_from_answer(answer), "exact hp");
        assert_eq!(
            proof_from_answer("theorem t : True := trivial"),
            "theorem t : True := trivial",
            "kept whole, so the filter refuses the declaration"
        );
        assert_eq!(proof_from_answer("   \n"), "");
    }
}
