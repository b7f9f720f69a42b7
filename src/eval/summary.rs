//! The summary of an evaluation (printed, and written as JSON beside the results): pass rate
//! with its Wilson 95% interval, mean time and expansions, model vs Lean time, and the pass rate
//! at each smaller expansion budget; for a refine run, the pass rate by whole-proof model
//! calls and the tokens they cost.

use serde::{Deserialize, Serialize};

use crate::eval::record::TheoremRecord;
use crate::eval::stats::{budgets, proved_by_budget, wilson_interval};

/// Pass rate at one expansion budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetPoint {
    /// Expansions allowed.
    pub expansions: usize,
    /// Theorems proved within that many expansions.
    pub proved: usize,
    /// `proved / theorems`.
    pub pass_rate: f64,
    /// Wilson 95% interval of the pass rate.
    pub ci95: (f64, f64),
}

/// The numbers of one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Theorems with a result line.
    pub theorems: usize,
    /// Theorems proved.
    pub proved: usize,
    /// Theorems that could not be searched (statement did not elaborate, ...).
    pub errors: usize,
    /// Of those, the ones Lean or the model server failed on (`TheoremRecord::retry`): a rerun
    /// tries them again.
    #[serde(default)]
    pub lean_failures: usize,
    /// Of the proved ones, those whose file adds hypotheses their statement does not write
    /// (`TheoremRecord::context`): proved as Lean reads them there.
    #[serde(default)]
    pub proved_with_context: usize,
    /// `proved / theorems`.
    pub pass_rate: f64,
    /// Wilson 95% interval of the pass rate.
    pub ci95: (f64, f64),
    /// Mean wall time per theorem, seconds.
    pub mean_time_secs: f64,
    /// Mean expansions per theorem.
    pub mean_expansions: f64,
    /// Total wall time in the model, seconds.
    pub model_secs: f64,
    /// Total wall time in Lean, seconds.
    pub lean_secs: f64,
    /// The model's share of model + Lean time.
    pub model_share: f64,
    /// The expansion budget of the run.
    pub max_expansions: usize,
    /// Pass rate at budgets 1, 2, 4, … up to `max_expansions`.
    pub by_budget: Vec<BudgetPoint>,
    /// The whole-proof model's numbers (`eval --mode refine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineSummary>,
}

/// Theorems proved within a number of whole-proof model calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallsPoint {
    /// Model calls allowed.
    pub calls: usize,
    /// Theorems proved within that many.
    pub proved: usize,
    /// `proved / theorems`.
    pub pass_rate: f64,
    /// Wilson 95% interval of the pass rate.
    pub ci95: (f64, f64),
}

/// The numbers of a refine run: the pass rate by model calls — pass@k for a run with
/// `--rounds 0` (k independent whole proofs), refine@k otherwise (k calls, repairs included) —
/// and what the calls cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefineSummary {
    /// Pass rate at 1, 2, 4, … model calls, up to the most any theorem made.
    pub by_model_calls: Vec<CallsPoint>,
    /// Calls made over all theorems.
    pub model_calls: usize,
    /// Prompt tokens over all theorems (as the model reported them).
    pub prompt_tokens: usize,
    /// Answer tokens over all theorems.
    pub completion_tokens: usize,
    /// Prompt and answer tokens per theorem, on average.
    pub mean_tokens: f64,
    /// Theorems proved by the search after an accepted prefix (counted at their last call).
    pub by_prefix_search: usize,
}

impl RefineSummary {
    /// The refine numbers of `records`, None when none has any.
    fn of(records: &[TheoremRecord]) -> Option<RefineSummary> {
        let refined: Vec<_> = records.iter().filter_map(|r| r.refine.as_ref()).collect();
        if refined.is_empty() {
            return None;
        }
        let n = records.len();
        let max_calls = refined
            .iter()
            .map(|r| r.outcome.model_calls)
            .max()
            .unwrap_or(0);
        let proved_at: Vec<usize> = refined
            .iter()
            .filter_map(|r| r.outcome.calls_to_proof)
            .collect();
        let points = budgets(max_calls.max(1));
        let by_model_calls = proved_by_budget(&proved_at, &points)
            .into_iter()
            .zip(&points)
            .map(|(k, &calls)| CallsPoint {
                calls,
                proved: k,
                pass_rate: rate(k, n),
                ci95: wilson_interval(k, n),
            })
            .collect();
        let prompt_tokens = refined
            .iter()
            .map(|r| r.outcome.tokens.prompt)
            .sum::<usize>();
        let completion_tokens = refined
            .iter()
            .map(|r| r.outcome.tokens.completion)
            .sum::<usize>();
        Some(RefineSummary {
            by_model_calls,
            model_calls: refined.iter().map(|r| r.outcome.model_calls).sum(),
            prompt_tokens,
            completion_tokens,
            mean_tokens: (prompt_tokens + completion_tokens) as f64 / n as f64,
            by_prefix_search: refined
                .iter()
                .filter(|r| r.outcome.found_by == Some(crate::refine::FoundBy::PrefixSearch))
                .count(),
        })
    }

    /// Lines for the terminal.
    fn text(&self) -> String {
        let mut text = String::from(
            "proved within k whole-proof model calls (pass@k with --rounds 0, refine@k otherwise):
",
        );
        for p in &self.by_model_calls {
            text.push_str(&format!(
                "  k = {:>3}: {} = {:.1}% (95% CI {:.1}–{:.1}%)
",
                p.calls,
                p.proved,
                100.0 * p.pass_rate,
                100.0 * p.ci95.0,
                100.0 * p.ci95.1
            ));
        }
        text.push_str(&format!(
            "{} model calls, {} prompt + {} answer tokens ({:.0} per theorem); {} proved by the search after a prefix\n",
            self.model_calls, self.prompt_tokens, self.completion_tokens, self.mean_tokens, self.by_prefix_search
        ));
        text
    }
}

impl Summary {
    /// Summarizes the records of a run whose expansion budget was `max_expansions`.
    pub fn of(records: &[TheoremRecord], max_expansions: usize) -> Self {
        let n = records.len();
        let proved = records.iter().filter(|r| r.proved).count();
        let errors = records.iter().filter(|r| r.error.is_some()).count();
        let lean_failures = records.iter().filter(|r| r.retry).count();
        let mean = |f: &dyn Fn(&TheoremRecord) -> f64| {
            if n == 0 {
                0.0
            } else {
                records.iter().map(f).sum::<f64>() / n as f64
            }
        };
        // `+ 0.0`: the sum of no floats is -0.0, printed "-0.0 s".
        let model_secs: f64 = records.iter().map(|r| r.model_secs).sum::<f64>() + 0.0;
        let lean_secs: f64 = records.iter().map(|r| r.lean_secs).sum::<f64>() + 0.0;
        let proved_at: Vec<usize> = records
            .iter()
            .filter(|r| r.proved)
            .map(|r| r.expansions)
            .collect();
        let max_seen = proved_at.iter().copied().max().unwrap_or(0);
        let points = budgets(max_expansions.max(max_seen).max(1));
        let by_budget = proved_by_budget(&proved_at, &points)
            .into_iter()
            .zip(&points)
            .map(|(k, &b)| BudgetPoint {
                expansions: b,
                proved: k,
                pass_rate: rate(k, n),
                ci95: wilson_interval(k, n),
            })
            .collect();
        Summary {
            theorems: n,
            proved,
            errors,
            lean_failures,
            proved_with_context: records
                .iter()
                .filter(|r| r.proved && !r.context.is_empty())
                .count(),
            pass_rate: rate(proved, n),
            ci95: wilson_interval(proved, n),
            mean_time_secs: mean(&|r| r.time_secs),
            mean_expansions: mean(&|r| r.expansions as f64),
            model_secs,
            lean_secs,
            model_share: if model_secs + lean_secs > 0.0 {
                model_secs / (model_secs + lean_secs)
            } else {
                0.0
            },
            max_expansions,
            by_budget,
            refine: RefineSummary::of(records),
        }
    }

    /// A few lines for the terminal.
    pub fn text(&self) -> String {
        format!(
            "proved {}/{} = {:.1}% (95% CI {:.1}–{:.1}%), {} could not be searched{}\n\
             mean {:.2} s and {:.1} expansions per theorem; model {:.1} s, Lean {:.1} s ({:.0}% model)\n",
            self.proved,
            self.theorems,
            100.0 * self.pass_rate,
            100.0 * self.ci95.0,
            100.0 * self.ci95.1,
            self.errors,
            if self.lean_failures > 0 {
                format!(
                    " ({} because Lean or the model server failed: `eval` again with the same --out and flags searches them again)",
                    self.lean_failures
                )
            } else {
                String::new()
            },
            self.mean_time_secs,
            self.mean_expansions,
            self.model_secs,
            self.lean_secs,
            100.0 * self.model_share,
        ) + &self.context_text()
            + &self.refine.as_ref().map(RefineSummary::text).unwrap_or_default()
    }

    /// The line on proved theorems that assume more than their statements write, when any
    /// does (empty otherwise).
    pub fn context_text(&self) -> String {
        if self.proved_with_context == 0 {
            return String::new();
        }
        format!(
            "{} of the proved theorems assume hypotheses their statements do not write (the \
             file's `variable`s or names bound automatically; `context` in their result lines)\n",
            self.proved_with_context
        )
    }
}

fn rate(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, proved: bool, expansions: usize) -> TheoremRecord {
        let mut r = TheoremRecord::from_error(name, None, String::new(), 1.0);
        r.error = None;
        r.proved = proved;
        r.expansions = expansions;
        r.model_secs = 0.25;
        r.lean_secs = 0.75;
        r
    }

    #[test]
    fn a_refine_run_is_summarized_by_model_calls_with_its_tokens() {
        let refined = |name: &str, calls: usize, to_proof: Option<usize>| {
            let mut r = rec(name, to_proof.is_some(), 0);
            r.refine = Some(crate::eval::record::RefineRecord {
                outcome: crate::refine::result::RefineOutcome {
                    model_calls: calls,
                    calls_to_proof: to_proof,
                    found_by: to_proof.map(|_| crate::refine::FoundBy::Model),
                    attempt: None,
                    round: None,
                    tokens: crate::refine::result::TokenTotals {
                        prompt: 100 * calls,
                        completion: 10 * calls,
                        unreported: 0,
                    },
                },
                stop: None,
                rounds: None,
            });
            r
        };
        let records = vec![
            refined("a", 1, Some(1)),
            refined("b", 3, Some(3)),
            refined("c", 6, None),
        ];
        let s = Summary::of(&records, 8).refine.unwrap();
        let points: Vec<(usize, usize)> = s
            .by_model_calls
            .iter()
            .map(|p| (p.calls, p.proved))
            .collect();
        assert_eq!(points, [(1, 1), (2, 1), (4, 2), (6, 2)]);
        assert_eq!(s.by_model_calls[3].ci95, wilson_interval(2, 3));
        assert_eq!(
            (s.model_calls, s.prompt_tokens, s.completion_tokens),
            (10, 1000, 100)
        );
        assert!((s.mean_tokens - 1100.0 / 3.0).abs() < 1e-9);
        assert!(Summary::of(&records[..0], 8).refine.is_none());
        assert!(Summary::of(&[rec("x", true, 1)], 8).refine.is_none());
    }

    #[test]
    fn counts_rates_and_budgets() {
        let records = vec![
            rec("a", true, 1),
            rec("b", true, 3),
            rec("c", false, 8),
            rec("d", false, 8),
        ];
        let s = Summary::of(&records, 8);
        assert_eq!((s.theorems, s.proved, s.errors), (4, 2, 0));
        assert_eq!(s.pass_rate, 0.5);
        assert_eq!(s.ci95, wilson_interval(2, 4));
        assert_eq!(s.mean_expansions, 5.0);
        assert_eq!(s.model_share, 0.25);
        let points: Vec<(usize, usize)> = s
            .by_budget
            .iter()
            .map(|p| (p.expansions, p.proved))
            .collect();
        assert_eq!(points, [(1, 1), (2, 1), (4, 2), (8, 2)]);
        assert!(s.text().contains("proved 2/4 = 50.0%"));
    }
}
