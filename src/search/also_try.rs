//! `AlsoTry`: a model's candidates plus a fixed list of tactics at every state, the way provers
//! pair a model with the automation its users trust (`simp_all`, `omega`, `aesop`): the list
//! closes what the automation closes, the model proposes the rest, and the search mixes both.

use crate::model::{Candidate, GenerateOptions, Predictor};

/// The tactics `prove`, `eval` and `iterate` try at every state beside the model unless told
/// otherwise (`--also-try`, `--no-also-try`): core Lean automation and the commutativity,
/// associativity and distributivity rewrites of core Lean's `Nat` (in every Lean project, Mathlib
/// or not). Chosen on both val splits over the model alone and over the automation alone
/// (benchmarks/README.md, "defaults"); the same list as LEMMAS in benchmarks/pipeline/lists.sh.
pub const DEFAULT_ALSO_TRY: [&str; 16] = [
    "assumption",
    "rfl",
    "trivial",
    "constructor",
    "intro h",
    "contradiction",
    "decide",
    "simp_all",
    "rw [Nat.add_comm]",
    "rw [Nat.mul_comm]",
    "rw [Nat.add_assoc]",
    "rw [← Nat.add_assoc]",
    "rw [Nat.mul_assoc]",
    "rw [← Nat.mul_assoc]",
    "rw [Nat.left_distrib]",
    "rw [Nat.right_distrib]",
];

/// A predictor that answers with `inner`'s candidates followed by `tactics` (those the model did
/// not already propose). Each listed tactic gets the score of the model's least likely candidate
/// at that state (0 when the model proposed none), so it never outranks a model candidate and
/// the model's confidence still sets what a step costs the search.
pub struct AlsoTry {
    inner: Box<dyn Predictor>,
    tactics: Vec<String>,
}

impl AlsoTry {
    /// Wraps `inner`; `tactics` are trimmed, and empty or repeated ones skipped when answering.
    pub fn new(inner: Box<dyn Predictor>, tactics: &[String]) -> Self {
        AlsoTry {
            inner,
            tactics: tactics.iter().map(|t| t.trim().to_string()).collect(),
        }
    }
}

impl AlsoTry {
    /// The inner model's answers with the tactics appended to each.
    fn listed(&self, mut answers: Vec<Vec<Candidate>>) -> Vec<Vec<Candidate>> {
        for candidates in &mut answers {
            append_listed(candidates, &self.tactics);
        }
        answers
    }
}

impl Predictor for AlsoTry {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        Ok(self.listed(self.inner.generate(prompts, options)?))
    }

    fn generate_until(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        deadline: std::time::Instant,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        Ok(self.listed(self.inner.generate_until(prompts, options, deadline)?))
    }
}

/// `AlsoTry`'s rule on one state's `candidates`: appends each of `tactics` at the score of the
/// least likely candidate, 0 when there is none, skipping blank ones and ones already present
/// (compared trimmed). Shared with the suggestion engines: the editor's, which caps the model's
/// candidates first, and the llmstep server's, whose candidates complete a prefix.
pub fn append_listed(candidates: &mut Vec<Candidate>, tactics: &[String]) {
    let floor = candidates
        .iter()
        .map(|c| c.score)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0);
    for tactic in tactics {
        let key = tactic.trim();
        if !key.is_empty() && !candidates.iter().any(|c| c.text.trim() == key) {
            candidates.push(Candidate {
                text: tactic.to_string(),
                score: floor,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::prompt;
    use crate::search::ScriptedPredictor;

    #[test]
    fn listed_tactics_follow_the_models_at_its_lowest_score() {
        let model = ScriptedPredictor::new().on("⊢ p", &[("exact hp", -0.2), ("simp_all", -0.9)]);
        let tactics = [
            "decide".to_string(),
            " simp_all ".into(),
            "".into(),
            "decide".into(),
        ];
        let predictor = AlsoTry::new(Box::new(model), &tactics);
        let answer = predictor
            .generate(
                &[prompt("p : Prop\nhp : p\n⊢ p")],
                &GenerateOptions::default(),
            )
            .unwrap();
        let got: Vec<(&str, f64)> = answer[0]
            .iter()
            .map(|c| (c.text.as_str(), c.score))
            .collect();
        assert_eq!(
            got,
            vec![("exact hp", -0.2), ("simp_all", -0.9), ("decide", -0.9)]
        );
    }

    #[test]
    fn without_model_candidates_the_list_costs_nothing() {
        let tactics = ["rfl".to_string(), "decide".into()];
        let predictor = AlsoTry::new(Box::new(ScriptedPredictor::new()), &tactics);
        let answer = predictor
            .generate(
                &[prompt("⊢ 1 = 1"), prompt("⊢ True")],
                &GenerateOptions::default(),
            )
            .unwrap();
        for candidates in answer {
            let got: Vec<(&str, f64)> = candidates
                .iter()
                .map(|c| (c.text.as_str(), c.score))
                .collect();
            assert_eq!(got, vec![("rfl", 0.0), ("decide", 0.0)]);
        }
    }
}
