//! LeanDojo Benchmark 4 split files (`{train,val,test}.json`: one JSON array of theorems), read
//! one theorem at a time so memory stays bounded by the largest theorem, not the file.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::DataError;

/// One traced theorem of a split file. Fields the conversion does not use (`url`, `commit`,
/// `start`, `end`, `annotated_tactic`) are skipped while parsing.
#[derive(Clone, Debug)]
pub struct Theorem {
    /// Fully qualified name, e.g. `Box.withBotCoe_inj`.
    pub full_name: String,
    /// The Lean file the theorem is in, relative to the repository.
    pub file_path: String,
    /// Tactic steps in proof order; empty for term-mode proofs.
    pub traced_tactics: Vec<TracedTactic>,
}

/// The fields of a theorem record the conversion reads, in the order [`FieldCounts`] counts them.
pub const THEOREM_FIELDS: [&str; 3] = ["full_name", "file_path", "traced_tactics"];

/// How many records a split file held and how many lacked each of [`THEOREM_FIELDS`]: a file of
/// records that are not LeanDojo theorems parses (unknown fields are skipped) but lacks them all,
/// and the error for it names what is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldCounts {
    /// Records read.
    pub records: usize,
    /// Records without each of [`THEOREM_FIELDS`] (absent or null), in that order.
    pub missing: [usize; 3],
}

impl FieldCounts {
    /// Adds another file's counts.
    pub fn add(&mut self, other: &FieldCounts) {
        self.records += other.records;
        for (mine, theirs) in self.missing.iter_mut().zip(other.missing) {
            *mine += theirs;
        }
    }

    /// The fields no record had (none when there were no records).
    pub fn missing_from_every_record(&self) -> Vec<&'static str> {
        THEOREM_FIELDS
            .iter()
            .zip(self.missing)
            .filter(|&(_, n)| self.records > 0 && n == self.records)
            .map(|(&field, _)| field)
            .collect()
    }
}

/// A theorem as it comes from the file, each field possibly missing.
#[derive(Deserialize)]
struct RawTheorem {
    full_name: Option<String>,
    file_path: Option<String>,
    traced_tactics: Option<Vec<TracedTactic>>,
}

/// One tactic step of a traced proof.
#[derive(Clone, Debug, Deserialize)]
pub struct TracedTactic {
    /// The tactic text as written in the source.
    pub tactic: String,
    /// The pretty-printed goals before the tactic ran.
    pub state_before: String,
    /// The goals after it ran (`no goals` at the end of a proof).
    #[serde(default)]
    pub state_after: String,
}

/// Reads a JSON array of theorems from `reader`, calling `each` on every theorem in order
/// without holding more than one in memory (a missing field reads as empty). Returns how many
/// records lacked each field. `path` only names the file in errors.
pub fn for_each_theorem<R: Read>(
    reader: R,
    path: &Path,
    each: impl FnMut(Theorem),
) -> Result<FieldCounts, DataError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let bad = |e: serde_json::Error| DataError::BadSplitFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let counts = de.deserialize_seq(EachTheorem { each }).map_err(bad)?;
    de.end().map_err(bad)?;
    Ok(counts)
}

/// A serde visitor that hands each element of the array to a closure instead of collecting.
struct EachTheorem<F> {
    each: F,
}

impl<'de, F: FnMut(Theorem)> Visitor<'de> for EachTheorem<F> {
    type Value = FieldCounts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of LeanDojo theorems")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<FieldCounts, A::Error> {
        let mut counts = FieldCounts::default();
        while let Some(raw) = seq.next_element_seed(TheoremSeed)? {
            counts.records += 1;
            let present = [
                raw.full_name.is_some(),
                raw.file_path.is_some(),
                raw.traced_tactics.is_some(),
            ];
            for (missing, present) in counts.missing.iter_mut().zip(present) {
                *missing += usize::from(!present);
            }
            (self.each)(Theorem {
                full_name: raw.full_name.unwrap_or_default(),
                file_path: raw.file_path.unwrap_or_default(),
                traced_tactics: raw.traced_tactics.unwrap_or_default(),
            });
        }
        Ok(counts)
    }
}

/// Deserializes one record (a seed so the visitor above stays generic over the closure).
struct TheoremSeed;

impl<'de> DeserializeSeed<'de> for TheoremSeed {
    type Value = RawTheorem;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawTheorem, D::Error> {
        RawTheorem::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_in_order_and_skips_unused_fields() {
        let text = r#"[
          {"url": "u", "commit": "c", "file_path": "A.lean", "full_name": "a", "start": [1, 0], "end": [2, 3],
           "traced_tactics": [{"tactic": "simp", "annotated_tactic": ["simp", []], "state_before": "⊢ True", "state_after": "no goals"}]},
          {"url": "u", "commit": "c", "file_path": "B.lean", "full_name": "b", "start": [1, 0], "end": [2, 3], "traced_tactics": []}
        ]"#;
        let mut names = Vec::new();
        let counts = for_each_theorem(text.as_bytes(), Path::new("t.json"), |t| {
            names.push((t.full_name, t.traced_tactics.len()))
        })
        .unwrap();
        assert_eq!(names, vec![("a".to_string(), 1), ("b".to_string(), 0)]);
        assert_eq!(counts.records, 2);
        assert!(counts.missing_from_every_record().is_empty());
    }

    #[test]
    fn records_that_are_not_theorems_are_counted_by_missing_field() {
        let text = r#"[{"name": "a", "steps": ["simp"]}, {"name": "b", "file_path": "B.lean"}]"#;
        let counts = for_each_theorem(text.as_bytes(), Path::new("t.json"), |_| {}).unwrap();
        assert_eq!(counts.records, 2);
        assert_eq!(counts.missing, [2, 1, 2]);
        assert_eq!(
            counts.missing_from_every_record(),
            ["full_name", "traced_tactics"]
        );
        assert!(FieldCounts::default()
            .missing_from_every_record()
            .is_empty());
    }

    #[test]
    fn rejects_non_array_and_trailing_garbage() {
        let p = Path::new("t.json");
        assert!(for_each_theorem(&b"{\"a\": 1}"[..], p, |_| {}).is_err());
        assert!(for_each_theorem(&b"[] x"[..], p, |_| {}).is_err());
        assert!(
            for_each_theorem(&b"[{\"traced_tactics\": [{\"tactic\": 1}]}]"[..], p, |_| {}).is_err()
        );
    }
}
