//! The identity of a proof state for the visited set.
//!
//! Two nodes are the same state when their goals print the same up to whitespace (runs of
//! spaces, tabs and newlines collapse to one space) and up to the names of their locals
//! (`canonical::goal_up_to_renaming`): `intro h₁` and `intro h2` lead to one state, expanded
//! once, not once per name the model writes. Inaccessible names (`a✝`) are renamed apart from
//! accessible ones, so a state that can name a hypothesis is never merged with one that
//! cannot. Only identifiers that are locals are renamed (not fields, metavariables or literals;
//! a goal with `:=` stays as printed), so merged states have the same proofs up to those names;
//! and a proof still counts only after the final check.

use crate::lean::canonical::goal_up_to_renaming;

/// The visited-set key of a list of goals: each goal's locals renamed, whitespace collapsed,
/// goals kept in order.
pub fn state_key(goals: &[String]) -> String {
    let renamed: Vec<String> = goals.iter().map(|g| goal_up_to_renaming(g)).collect();
    printed_key(&renamed)
}

/// The goals as printed, whitespace collapsed, in order: what a state's sampling seed is drawn
/// from, so states the model sees alike get the same samples, and what scripted predictors
/// match on.
pub fn printed_key(goals: &[String]) -> String {
    let mut key = String::new();
    for (i, goal) in goals.iter().enumerate() {
        if i > 0 {
            key.push_str(" ;; ");
        }
        let mut first = true;
        for word in goal.split_whitespace() {
            if !first {
                key.push(' ');
            }
            key.push_str(word);
            first = false;
        }
    }
    key
}

/// A stable 64-bit hash (FNV-1a) of a key, used to derive a per-state sampling seed that does not
/// depend on the Rust version or on the order in which states are expanded.
pub fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_local_names_do_not_matter_but_accessibility_does() {
        let a = vec!["p q : Prop\nhp : p\n⊢ p ∧  q".to_string()];
        let b = vec!["p q : Prop\nhp :\n  p\n⊢ p ∧ q\n".to_string()];
        assert_eq!(state_key(&a), state_key(&b));
        let renamed = vec!["p q : Prop\nh₁ : p\n⊢ p ∧ q".to_string()];
        assert_eq!(state_key(&a), state_key(&renamed));
        assert_ne!(printed_key(&a), printed_key(&renamed));
        let other = vec!["p q : Prop\nhq : q\n⊢ p ∧ q".to_string()];
        assert_ne!(state_key(&a), state_key(&other));
        let c = vec!["a✝ : p\n⊢ p".to_string()];
        let d = vec!["a : p\n⊢ p".to_string()];
        assert_ne!(state_key(&c), state_key(&d));
        assert!(printed_key(&c).contains("a✝"));
    }

    #[test]
    fn goal_order_and_boundaries_matter() {
        let ab = vec!["⊢ p".to_string(), "⊢ q".to_string()];
        let ba = vec!["⊢ q".to_string(), "⊢ p".to_string()];
        assert_ne!(state_key(&ab), state_key(&ba));
        assert_ne!(state_key(&ab), state_key(&["⊢ p ⊢ q".to_string()]));
        assert_ne!(printed_key(&ab), printed_key(&ba));
    }

    #[test]
    fn stable_hashes_tell_keys_apart() {
        assert_eq!(stable_hash("x"), stable_hash("x"));
        assert_ne!(stable_hash("x"), stable_hash("y"));
    }
}
