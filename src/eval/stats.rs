//! The statistics of an evaluation: pass rate with its Wilson 95% interval, and the pass rate
//! a smaller expansion budget would have reached.

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `k` successes out of `n` trials at 95%, as (low, high).
/// Unlike the normal approximation it stays inside [0, 1] and is sensible at k = 0 or k = n.
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denom;
    let half = Z95 * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// The budgets to report: powers of two up to `max`, and `max` itself.
pub fn budgets(max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut b = 1;
    while b < max {
        out.push(b);
        b *= 2;
    }
    if max > 0 {
        out.push(max);
    }
    out
}

/// For each budget, how many theorems were proved within that many expansions. Best-first
/// search is deterministic given its seed, so a proof found at expansion `e` under a large budget
/// is found the same way under any budget ≥ `e` (the wall-time limit aside).
pub fn proved_by_budget(proved_at: &[usize], budgets: &[usize]) -> Vec<usize> {
    budgets
        .iter()
        .map(|&b| proved_at.iter().filter(|&&e| e <= b).count())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_known_values() {
        // 68/244 (the reference model on miniF2F-test): 27.9% [22.6%, 33.8%] (Wilson).
        let (lo, hi) = wilson_interval(68, 244);
        assert!((lo - 0.2262).abs() < 5e-4, "{lo}");
        assert!((hi - 0.3380).abs() < 5e-4, "{hi}");
        let (lo, hi) = wilson_interval(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 5e-4, "{hi}");
        let (lo, hi) = wilson_interval(10, 10);
        assert!((lo - 0.7225).abs() < 5e-4, "{lo}");
        assert!((hi - 1.0).abs() < 1e-12);
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    #[test]
    fn budgets_and_counts() {
        assert_eq!(budgets(100), vec![1, 2, 4, 8, 16, 32, 64, 100]);
        assert_eq!(budgets(8), vec![1, 2, 4, 8]);
        assert_eq!(budgets(1), vec![1]);
        assert_eq!(
            proved_by_budget(&[1, 3, 3, 9], &[1, 2, 4, 8, 16]),
            vec![1, 1, 3, 3, 4]
        );
    }
}
