//! Splitting an evaluation across machines: `--shard I/N` searches the theorems whose name
//! hashes to `I` modulo `N`. The hash is SHA-256 of the name, so the partition depends on the
//! names alone — not on the dataset's order, the machine, the Rust version or which other
//! theorems are in the dataset — and every shard of one run agrees on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One part of a partition of a dataset into `count` parts, numbered from 0 (so that a Slurm
/// array `--array=0-(N-1)` and a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` give it as is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Which part, `0 ≤ index < count`.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// The whole dataset as one part: what an unsharded run searches.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// The part a theorem belongs to in a partition into `count` parts.
    pub fn index_of(name: &str, count: usize) -> usize {
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % count.max(1) as u64) as usize
    }

    /// Whether the theorem named `name` is in this part.
    pub fn holds(&self, name: &str) -> bool {
        Shard::index_of(name, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, e.g. `0/4` … `3/4`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = |why: &str| {
            format!(
                "{why}: give I/N, the I-th of N shards counted from 0 (e.g. 0/4 … 3/4; in a Slurm \
                 array --array=0-3: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"
            )
        };
        let (index, count) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| usage(&format!("`{text}` is not a shard")))?;
        let number = |part: &str| {
            part.trim()
                .parse::<usize>()
                .map_err(|_| usage(&format!("`{part}` in `{text}` is not a whole number")))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 {
            return Err(usage("there is no partition into 0 shards"));
        }
        if index >= count {
            return Err(usage(&format!(
                "shard {index} of {count} does not exist (they are numbered 0 to {})",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_i_over_n_counted_from_zero() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 0/1 ".parse::<Shard>(), Ok(Shard::WHOLE));
        for (bad, says) in [
            ("4/4", "numbered 0 to 3"),
            ("1/0", "0 shards"),
            ("x/2", "not a whole number"),
            ("3", "not a shard"),
            ("-1/2", "not a whole number"),
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(
                err.contains(says) && err.contains("SLURM_ARRAY_TASK_ID"),
                "{bad}: {err}"
            );
        }
        assert_eq!(Shard { index: 1, count: 3 }.to_string(), "1/3");
    }

    #[test]
    fn every_theorem_is_in_exactly_one_shard_and_the_parts_are_even() {
        let names: Vec<String> = (0..3000).map(|i| format!("Mathlib.thm_{i}")).collect();
        let count = 7;
        let mut sizes = vec![0usize; count];
        for name in &names {
            let holders: Vec<usize> = (0..count)
                .filter(|&index| Shard { index, count }.holds(name))
                .collect();
            assert_eq!(holders.len(), 1, "{name}");
            sizes[holders[0]] += 1;
        }
        // 3000 / 7 ≈ 429 each; a hash that is not uniform would show here.
        assert!(sizes.iter().all(|&n| (370..490).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn the_partition_is_pinned_so_shards_of_old_runs_still_merge() {
        // SHA-256 of the name, first 8 bytes big-endian, modulo N: changing any of it would
        // put theorems of runs already on disk in other shards than their results say.
        let index = |name: &str| Shard::index_of(name, 1000);
        // The values are Python's: int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % 1000.
        assert_eq!(
            [index("test_thm"), index("and_swap"), index("Nat.add_comm")],
            [457, 362, 489]
        );
        assert_eq!(Shard::index_of("anything", 1), 0);
    }
}
