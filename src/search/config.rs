//! The knobs of one search: decoding options and the budgets that end it.

use std::time::Duration;

use crate::model::GenerateOptions;

/// How to search one theorem. The per-tactic timeout is not here: it belongs to the backend,
/// which kills a Lean that takes too long (see the CLI's backend factory).
#[derive(Clone, Debug)]
pub struct SearchConfig {
    /// Stop after expanding this many nodes (the seed's `max_iters`).
    pub max_expansions: usize,
    /// Stop when this much wall time has passed since the search began.
    pub time_limit: Duration,
    /// How the predictor decodes candidates at each expansion (its seed is mixed with a hash of
    /// the state, so a state always gets the same candidates).
    pub generate: GenerateOptions,
    /// How many candidates are checked by the backend at once.
    pub check_threads: usize,
    /// Generate candidates for the next best node while the current node's candidates are being
    /// checked.
    pub pipeline: bool,
    /// When the queue empties before the budget is spent, nodes already expanded are expanded
    /// again, cheapest first, once per temperature of this list, sampling fresh candidates
    /// (tactics already tried at a node are not checked again); each counts as an expansion.
    /// Empty: the search stops when the queue empties, as the seed's does.
    pub retry_temperatures: Vec<f32>,
    /// At most this many name repairs (`name_repair`) checked per expansion; 0 turns name
    /// repair off.
    pub name_repairs: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            max_expansions: 100,
            time_limit: Duration::from_secs(600),
            generate: GenerateOptions::default(),
            check_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            pipeline: true,
            retry_temperatures: Vec::new(),
            name_repairs: 0,
        }
    }
}
