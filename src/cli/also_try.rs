//! `--also-try TACTIC`: the fixed list of tactics that `prove`, `eval`, `lsp` and `serve` propose
//! at every state besides the model's candidates (the automation a user trusts: `simp_all`).

use anyhow::bail;

use proofstep::model::Predictor;
use proofstep::search::{check_candidate, AlsoTry};

/// The `--also-try` flag of the commands whose model proposes next steps.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AlsoTryArgs {
    /// A tactic to try at every state besides the model's candidates; repeat the flag for
    /// several (e.g. --also-try simp_all --also-try omega). Each is ranked after the model's
    /// candidates, at the score of its least likely one.
    #[arg(long = "also-try", value_name = "TACTIC")]
    pub tactics: Vec<String>,
}

impl AlsoTryArgs {
    /// Refuses an entry Lean would never be asked to check (empty, `sorry`), naming the fix.
    pub fn check(&self) -> anyhow::Result<()> {
        for tactic in &self.tactics {
            if let Err(reason) = check_candidate(tactic.trim()) {
                bail!("--also-try {tactic:?}: {reason}, which is never checked; give a tactic, e.g. --also-try simp_all");
            }
        }
        Ok(())
    }

    /// The listed tactics, trimmed (for the suggestion engines, which insert them as given).
    pub fn listed(&self) -> Vec<String> {
        self.tactics.iter().map(|t| t.trim().to_string()).collect()
    }

    /// `predictor`, followed at every state by the listed tactics when there are any.
    pub fn wrap(&self, predictor: Box<dyn Predictor>) -> Box<dyn Predictor> {
        if self.tactics.is_empty() {
            predictor
        } else {
            Box::new(AlsoTry::new(predictor, &self.tactics))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(tactics: &[&str]) -> AlsoTryArgs {
        AlsoTryArgs {
            tactics: tactics.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn entries_lean_would_never_check_are_refused_by_name() {
        assert!(args(&[]).check().is_ok());
        assert!(args(&["simp_all", "omega"]).check().is_ok());
        for bad in ["sorry", " ", "admit"] {
            let err = args(&["simp_all", bad]).check().unwrap_err().to_string();
            assert!(
                err.contains(&format!("--also-try {bad:?}")) && err.contains("e.g. --also-try"),
                "{err}"
            );
        }
    }
}
