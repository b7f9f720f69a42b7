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
#[derive(Clone, Debug, Deserialize)]
pub struct Theorem {
    /// Fully qualified name, e.g. `Box.withBotCoe_inj`.
    #[serde(default)]
    pub full_name: String,
    /// The Lean file the theorem is in, relative to the repository.
    #[serde(default)]
    pub file_path: String,
    /// Tactic steps in proof order; empty for term-mode proofs.
    #[serde(default)]
    pub traced_tactics: Vec<TracedTactic>,
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
/// without holding more than one in memory. `path` only names the file in errors.
pub fn for_each_theorem<R: Read>(
    reader: R,
    path: &Path,
    each: impl FnMut(Theorem),
) -> Result<(), DataError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let bad = |e: serde_json::Error| DataError::BadSplitFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    de.deserialize_seq(EachTheorem { each }).map_err(bad)?;
    de.end().map_err(bad)
}

/// A serde visitor that hands each element of the array to a closure instead of collecting.
struct EachTheorem<F> {
    each: F,
}

impl<'de, F: FnMut(Theorem)> Visitor<'de> for EachTheorem<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of LeanDojo theorems")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(theorem) = seq.next_element_seed(TheoremSeed)? {
            (self.each)(theorem);
        }
        Ok(())
    }
}

/// Deserializes one theorem (a seed so the visitor above stays generic over the closure).
struct TheoremSeed;

impl<'de> DeserializeSeed<'de> for TheoremSeed {
    type Value = Theorem;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Theorem, D::Error> {
        Theorem::deserialize(d)
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
        for_each_theorem(text.as_bytes(), Path::new("t.json"), |t| {
            names.push((t.full_name, t.traced_tactics.len()))
        })
        .unwrap();
        assert_eq!(names, vec![("a".to_string(), 1), ("b".to_string(), 0)]);
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
