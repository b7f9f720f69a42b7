//! A whole tactic proof → its top-level steps, the units the search and `--then-search`
//! apply one at a time. A step is a line at the block's own indentation with the lines under
//! it (deeper-indented ones, and `|` alternatives and `<;>` continuations at its column);
//! comment-only lines belong to the step before.

/// The top-level steps of `proof` (a dedented tactic block), each possibly several lines.
pub fn split_steps(proof: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let base = proof
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(indent)
        .min()
        .unwrap_or(0);
    let mut steps: Vec<String> = Vec::new();
    for line in proof.lines() {
        let text = line.trim_start();
        let continues = text.is_empty()
            || indent(line) > base
            || text.starts_with('|')
            || text.starts_with("<;>")
            || text.starts_with("--");
        match steps.last_mut() {
            Some(step) if continues => {
                step.push('\n');
                step.push_str(line.get(base..).unwrap_or(text));
            }
            _ if text.is_empty() || text.starts_with("--") => {}
            _ => steps.push(line.get(base..).unwrap_or(text).to_string()),
        }
    }
    steps
        .into_iter()
        .map(|s| s.trim_end().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_blocks_and_alternatives_stay_with_their_step() {
        let proof = "intro h\ncases h with\n| inl hp => exact Or.inr hp\n| inr hq =>\n    exact Or.inl hq\n-- done\nconstructor <;>\n  simp\n· exact a\n· exact b";
        assert_eq!(
            split_steps(proof),
            vec![
                "intro h",
                "cases h with\n| inl hp => exact Or.inr hp\n| inr hq =>\n    exact Or.inl hq\n-- done",
                "constructor <;>\n  simp",
                "· exact a",
                "· exact b",
            ]
        );
    }

    #[test]
    fn one_line_and_empty_proofs() {
        assert_eq!(split_steps("rfl"), vec!["rfl"]);
        assert!(split_steps("").is_empty());
        assert_eq!(split_steps("\n-- only a comment\n"), Vec::<String>::new());
    }
}
