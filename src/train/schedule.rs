//! Learning-rate schedules with linear warmup, as transformers' `get_scheduler` computes them:
//! the rate of optimizer update `s` (0-based) is `base × factor(s)`.

use serde::{Deserialize, Serialize};

/// The shape of the schedule after warmup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerKind {
    /// Half a cosine from the base rate down to 0 at the last step.
    Cosine,
    /// Straight line from the base rate down to 0 at the last step.
    Linear,
    /// The base rate after warmup (transformers' `constant_with_warmup`; with no warmup, `constant`).
    Constant,
}

/// A schedule: its kind, base rate, warmup and total number of optimizer updates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The shape after warmup.
    pub kind: SchedulerKind,
    /// The peak learning rate.
    pub base_lr: f64,
    /// Updates of linear warmup from 0.
    pub warmup_steps: usize,
    /// All updates of the run.
    pub total_steps: usize,
}

impl Schedule {
    /// A schedule whose warmup is `ceil(warmup_ratio × total_steps)` updates (transformers' rule).
    pub fn new(kind: SchedulerKind, base_lr: f64, warmup_ratio: f64, total_steps: usize) -> Self {
        let warmup_steps = (warmup_ratio * total_steps as f64).ceil() as usize;
        Schedule {
            kind,
            base_lr,
            warmup_steps,
            total_steps,
        }
    }

    /// The learning rate of update `step` (0-based).
    pub fn lr(&self, step: usize) -> f64 {
        self.base_lr * self.factor(step)
    }

    fn factor(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return step as f64 / self.warmup_steps.max(1) as f64;
        }
        let decay = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let progress = (step - self.warmup_steps) as f64 / decay;
        match self.kind {
            SchedulerKind::Constant => 1.0,
            SchedulerKind::Linear => (1.0 - progress).max(0.0),
            SchedulerKind::Cosine => {
                (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_decay_like_transformers() {
        let s = Schedule::new(SchedulerKind::Cosine, 1e-3, 0.1, 100);
        assert_eq!(s.warmup_steps, 10);
        assert_eq!(s.lr(0), 0.0);
        assert!((s.lr(5) - 5e-4).abs() < 1e-12);
        assert!((s.lr(10) - 1e-3).abs() < 1e-12);
        assert!((s.lr(55) - 5e-4).abs() < 1e-12);
        assert!(s.lr(100).abs() < 1e-12);
        let l = Schedule::new(SchedulerKind::Linear, 1.0, 0.0, 10);
        assert_eq!((l.lr(0), l.lr(5), l.lr(10)), (1.0, 0.5, 0.0));
        let c = Schedule::new(SchedulerKind::Constant, 2.0, 0.03, 100);
        assert_eq!(
            (c.warmup_steps, c.lr(1), c.lr(3), c.lr(99)),
            (3, 2.0 / 3.0, 2.0, 2.0)
        );
    }
}
