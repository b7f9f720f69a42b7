//! `ScriptedPredictor`: a test stand-in for a trained model. It answers each prompt with the
//! tactics a test scripted for goals containing a given text, and counts how often each goal
//! was asked about, so tests can drive the real search over real Lean deterministically.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::{Candidate, Decoding, GenerateOptions, Predictor};
use crate::prompt::state_of_prompt;
use crate::search::state_key::printed_key;

/// A predictor that returns scripted candidates: the first rule whose pattern occurs in the
/// goal text (whitespace collapsed), and whose temperature if it has one is the one asked
/// for, answers. It stands in for a trained model in tests only.
#[derive(Default)]
pub struct ScriptedPredictor {
    rules: Vec<Rule>,
    calls: Mutex<HashMap<String, usize>>,
}

/// One scripted answer.
struct Rule {
    pattern: String,
    /// Answer only when sampling at exactly this one temperature.
    temperature: Option<f32>,
    candidates: Vec<Candidate>,
}

impl ScriptedPredictor {
    /// An empty script: every goal gets no candidates.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule: goals whose text contains `pattern` get these `(tactic, score)` candidates
    /// (scores are log-probabilities, ≤ 0), best score first as the `Predictor` seam promises.
    pub fn on(self, pattern: &str, candidates: &[(&str, f64)]) -> Self {
        self.rule(pattern, None, candidates)
    }

    /// Adds a rule that answers only when candidates are sampled at `temperature` alone (what
    /// a search's retry asks for), so tests can script what fresh samples bring.
    pub fn on_at(self, temperature: f32, pattern: &str, candidates: &[(&str, f64)]) -> Self {
        self.rule(pattern, Some(temperature), candidates)
    }

    fn rule(mut self, pattern: &str, temperature: Option<f32>, candidates: &[(&str, f64)]) -> Self {
        let pattern = printed_key(&[pattern.to_string()]);
        let mut list: Vec<Candidate> = candidates
            .iter()
            .map(|(t, s)| Candidate {
                text: t.to_string(),
                score: *s,
            })
            .collect();
        list.sort_by(|a, b| b.score.total_cmp(&a.score));
        self.rules.push(Rule {
            pattern,
            temperature,
            candidates: list,
        });
        self
    }

    /// How many times a goal (by its whitespace-collapsed text) was asked about.
    pub fn calls(&self) -> HashMap<String, usize> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The total number of prompts answered.
    pub fn total_calls(&self) -> usize {
        self.calls().values().sum()
    }
}

impl Predictor for ScriptedPredictor {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let temperature = match &options.decoding {
            Decoding::Sample { temperatures, .. } if temperatures.len() == 1 => {
                Some(temperatures[0])
            }
            _ => None,
        };
        let mut out = Vec::with_capacity(prompts.len());
        for prompt in prompts {
            let goal = printed_key(&[state_of_prompt(prompt).to_string()]);
            *self
                .calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(goal.clone())
                .or_default() += 1;
            let answer = self
                .rules
                .iter()
                .find(|r| {
                    goal.contains(r.pattern.as_str())
                        && r.temperature.is_none_or(|t| Some(t) == temperature)
                })
                .map(|r| r.candidates.clone())
                .unwrap_or_default();
            out.push(answer);
        }
        Ok(out)
    }
}
