//! Where the tactic steps of a proof are: the lines of its `by` block, one tactic per line
//! at the block's column; deeper lines (and `|` alternatives) continue the tactic above, so a
//! multi-line tactic (`induction … with` and its cases, a long `calc`) stays whole; a `·`
//! bullet's block is entered and its tactics are steps of their own.

use crate::lean::source::{Pos, Theorem};

/// One tactic step as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The tactic's text; continuation lines keep their indentation relative to the first.
    pub text: String,
    /// Where the tactic begins (1-based line, column in characters).
    pub start: Pos,
    /// Just after its last character.
    pub end: Pos,
    /// Where to ask Lean for the goals the tactic is applied to: the start of its line when
    /// only indentation precedes it, else `start`. At the tactic's first character Lean
    /// reports the innermost state, which for `case inl h => tac` is the goal inside, already
    /// focused and renamed; between tactics it reports the goals a search would see.
    pub before_at: Pos,
    /// Where to ask for the goals after it: the start of the next line when that line holds
    /// the next tactic of the same block, i.e. between the two (at `end`, a `case` step
    /// reports its inner 'no goals'); else `end` (the last tactic of the proof or of a `·`
    /// block, whose goals after are those of its focus, as LeanDojo records them).
    pub after_at: Pos,
}

/// The tactic steps of `theorem` in `text` (the whole file); empty for a term-mode proof.
pub fn tactic_steps(text: &str, theorem: &Theorem) -> Vec<Step> {
    if !theorem.is_tactic_proof() {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let last = (theorem.end.line as usize).min(lines.len());
    let by_line = theorem.proof_start.line as usize;
    let after_by = theorem.proof_start.column as usize + 2;
    let Some(line) = lines.get(by_line - 1) else {
        return Vec::new();
    };
    let rest: String = line.chars().skip(after_by).collect();
    let lead = rest.chars().take_while(|c| c.is_whitespace()).count();
    let (first_line, column) = if is_code(&rest) {
        (by_line, after_by + lead)
    } else {
        match (by_line + 1..=last).find(|&l| is_code(lines[l - 1])) {
            Some(l) => (l, indent(lines[l - 1])),
            None => return Vec::new(),
        }
    };
    let mut steps = Vec::new();
    block(&lines, first_line, column, last, &mut steps);
    for step in &mut steps {
        let next = (step.end.line as usize + 1..=last).find(|&l| is_code(lines[l - 1]));
        if let Some(l) = next.filter(|&l| indent(lines[l - 1]) == step.start.column as usize) {
            step.after_at = Pos::new(l as u32, 0);
        }
    }
    steps
}

/// True when a line holds something other than blanks and a line comment.
fn is_code(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with("--")
}

/// The line without a trailing ` -- comment` (a heuristic: `--` inside a string is rare in proofs).
fn code_part(line: &str) -> &str {
    match line.find(" --") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

fn indent(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
}

/// The tactics of the block whose first tactic starts at (`first`, `column`), up to line `last`.
fn block(lines: &[&str], first: usize, column: usize, last: usize, out: &mut Vec<Step>) {
    // Each tactic: its first line and the lines it spans.
    let mut spans: Vec<(usize, usize)> = vec![(first, first)];
    for l in first + 1..=last {
        let line = lines[l - 1];
        if !is_code(line) {
            continue;
        }
        let col = indent(line);
        if col < column {
            break;
        }
        let starts_alt = line.trim_start().starts_with('|');
        if col == column && !starts_alt {
            spans.push((l, l));
        } else if let Some(span) = spans.last_mut() {
            span.1 = l;
        }
    }
    for (i, &(from, to)) in spans.iter().enumerate() {
        let start_col = if i == 0 {
            column
        } else {
            indent(lines[from - 1])
        };
        let head: String = code_part(lines[from - 1]).chars().skip(start_col).collect();
        if let Some(inner) = head.strip_prefix('·').or_else(|| head.strip_prefix(". ")) {
            let bullet_width = head.chars().count() - inner.chars().count();
            let gap = inner.chars().take_while(|c| *c == ' ').count();
            if is_code(inner) {
                block(lines, from, start_col + bullet_width + gap, to, out);
            }
            continue;
        }
        let mut text = head.trim_end().to_string();
        let mut end_line = from;
        for l in from + 1..=to {
            let line = code_part(lines[l - 1]);
            if !is_code(line) {
                continue;
            }
            let keep: String = line.chars().skip(start_col.min(indent(line))).collect();
            text.push('\n');
            text.push_str(keep.trim_end());
            end_line = l;
        }
        let end_col = code_part(lines[end_line - 1]).trim_end().chars().count() as u32;
        let start = Pos::new(from as u32, start_col as u32);
        let end = Pos::new(end_line as u32, end_col);
        let indented = indent(lines[from - 1]) == start_col;
        out.push(Step {
            text,
            start,
            end,
            before_at: if indented {
                Pos::new(from as u32, 0)
            } else {
                start
            },
            after_at: end,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lean::source::SourceFile;

    /// A step as (text, start (line, column), end (line, column)).
    type Step = (String, (u32, u32), (u32, u32));

    fn steps(src: &str) -> Vec<Step> {
        let file = SourceFile::parse(src);
        tactic_steps(src, &file.theorems[0])
            .into_iter()
            .map(|s| {
                (
                    s.text,
                    (s.start.line, s.start.column),
                    (s.end.line, s.end.column),
                )
            })
            .collect()
    }

    #[test]
    fn one_tactic_per_line() {
        let src =
            "theorem t (p : Prop) (h : p) : p ∧ p := by\n  constructor\n  exact h\n  exact h\n";
        assert_eq!(
            steps(src),
            vec![
                ("constructor".into(), (2, 2), (2, 13)),
                ("exact h".into(), (3, 2), (3, 9)),
                ("exact h".into(), (4, 2), (4, 9)),
            ]
        );
    }

    #[test]
    fn bullets_are_entered_and_alternatives_kept_whole() {
        let src = "theorem t : X := by\n  constructor\n  · intro h\n    exact h\n  · induction n with\n    | zero => rfl\n    | succ k ih =>\n      rw [ih]\n";
        let got = steps(src);
        assert_eq!(got[0].0, "constructor");
        assert_eq!(got[1], ("intro h".into(), (3, 4), (3, 11)));
        assert_eq!(got[2], ("exact h".into(), (4, 4), (4, 11)));
        assert_eq!(
            got[3].0,
            "induction n with\n| zero => rfl\n| succ k ih =>\n  rw [ih]"
        );
        assert_eq!(got[3].1, (5, 4));
        assert_eq!(got[3].2, (8, 13));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn goals_are_asked_between_tactics_of_a_block_and_at_the_tactic_inside_a_bullet() {
        let src = "theorem t : X := by\n  cases h\n  case inl a => exact a\n  case inr b => exact b\n  constructor\n  · intro h\n    exact h\n";
        let file = SourceFile::parse(src);
        let got: Vec<(u32, u32, u32, u32)> = tactic_steps(src, &file.theorems[0])
            .into_iter()
            .map(|s| {
                (
                    s.before_at.line,
                    s.before_at.column,
                    s.after_at.line,
                    s.after_at.column,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 0, 3, 0),
                (3, 0, 4, 0),
                (4, 0, 5, 0),
                (5, 0, 6, 0),
                (6, 4, 7, 0),
                (7, 0, 7, 11),
            ]
        );
    }

    #[test]
    fn same_line_by_and_term_proofs() {
        assert_eq!(
            steps("theorem t : 2 + 2 = 4 := by rfl\n"),
            vec![("rfl".into(), (1, 28), (1, 31))]
        );
        assert!(steps("theorem t : True := trivial\n").is_empty());
        let src = "theorem t (p : Prop) (h : p) : p := by\n  -- a comment\n\n  exact h -- done\n";
        assert_eq!(steps(src), vec![("exact h".into(), (4, 2), (4, 9))]);
    }
}
