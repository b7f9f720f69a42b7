//! The training examples a found proof teaches: for each step of the proof, the state the
//! search expanded before it (as the model saw it) and the step taken. Read from the search's
//! trace, so the states are exactly what the prover will see again.

use crate::data::format::Example;
use crate::eval::TheoremRecord;

/// The (state, tactic) examples of a proved record whose trace was kept; none for a record
/// without a proof or a trace. A step whose state the trace does not hold (it cannot happen
/// for a proof the search found: every prefix of it was expanded) is skipped.
pub fn proof_examples(record: &TheoremRecord) -> Vec<Example> {
    let (Some(proof), Some(trace)) = (&record.proof, &record.trace) else {
        return Vec::new();
    };
    if !record.proved {
        return Vec::new();
    }
    proof
        .iter()
        .enumerate()
        .filter_map(|(i, tactic)| {
            let before = &proof[..i];
            let node = trace.iter().find(|e| e.steps == before)?;
            Some(Example::proofstep(&node.goals.join("\n\n"), tactic))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::ExpansionTrace;

    fn expansion(steps: &[&str], goals: &[&str]) -> ExpansionTrace {
        serde_json::from_value(serde_json::json!({
            "node": 0, "parent": null, "cost": 0.0,
            "steps": steps, "goals": goals,
            "model_secs": 0.0, "prefetched": false, "retry": null, "candidates": []
        }))
        .unwrap()
    }

    #[test]
    fn each_step_of_a_found_proof_is_paired_with_the_state_it_was_taken_in() {
        let mut record = TheoremRecord::from_error("t", None, String::new(), 0.0);
        record.proved = true;
        record.proof = Some(vec![
            "constructor".into(),
            "exact hp".into(),
            "exact hq".into(),
        ]);
        record.trace = Some(vec![
            expansion(&[], &["⊢ p ∧ q"]),
            expansion(&["constructor"], &["case left\n⊢ p", "case right\n⊢ q"]),
            expansion(&["constructor", "exact hp"], &["case right\n⊢ q"]),
        ]);
        let examples = proof_examples(&record);
        assert_eq!(examples.len(), 3);
        assert_eq!(examples[0], Example::proofstep("⊢ p ∧ q", "constructor"));
        assert_eq!(
            examples[1],
            Example::proofstep("case left\n⊢ p\n\ncase right\n⊢ q", "exact hp")
        );
        record.proved = false;
        assert!(proof_examples(&record).is_empty());
    }
}
