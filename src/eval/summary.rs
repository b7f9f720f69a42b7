//! The summary of an evaluation (printed, and written as JSON beside the results): pass rate
//! with its Wilson 95% interval, mean time and expansions, model vs Lean time, and the pass rate
//! at each smaller expansion budget.

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
}

impl Summary {
    /// Summarizes the records of a run whose expansion budget was `max_expansions`.
    pub fn of(records: &[TheoremRecord], max_expansions: usize) -> Self {
        let n = records.len();
        let proved = records.iter().filter(|r| r.proved).count();
        let errors = records.iter().filter(|r| r.error.is_some()).count();
        let mean = |f: &dyn Fn(&TheoremRecord) -> f64| {
            if n == 0 {
                0.0
            } else {
                records.iter().map(f).sum::<f64>() / n as f64
            }
        };
        let model_secs: f64 = records.iter().map(|r| r.model_secs).sum();
        let lean_secs: f64 = records.iter().map(|r| r.lean_secs).sum();
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
        }
    }

    /// A few lines for the terminal.
    pub fn text(&self) -> String {
        format!(
            "proved {}/{} = {:.1}% (95% CI {:.1}–{:.1}%), {} could not be searched\n\
             mean {:.2} s and {:.1} expansions per theorem; model {:.1} s, Lean {:.1} s ({:.0}% model)\n",
            self.proved,
            self.theorems,
            100.0 * self.pass_rate,
            100.0 * self.ci95.0,
            100.0 * self.ci95.1,
            self.errors,
            self.mean_time_secs,
            self.mean_expansions,
            self.model_secs,
            self.lean_secs,
            100.0 * self.model_share,
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
