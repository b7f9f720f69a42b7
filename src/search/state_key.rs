//! The identity of a proof state for the visited set.
//!
//! Two nodes are the same state when their goals print the same up to whitespace: runs of
//! spaces, tabs and newlines collapse to one space. Hygienic names (`a✝`, `h✝¹`) are kept as
//! printed, so states that differ only in an inaccessible name are still told apart.

/// The visited-set key of a list of goals: whitespace collapsed, goals kept in order.
pub fn state_key(goals: &[String]) -> String {
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
    fn whitespace_collapses_but_hygienic_names_stay() {
        let a = vec!["p q : Prop\nhp : p\n⊢ p ∧  q".to_string()];
        let b = vec!["p q : Prop\n  hp : p\n⊢ p ∧ q\n".to_string()];
        assert_eq!(state_key(&a), state_key(&b));
        let c = vec!["a✝ : p\n⊢ p".to_string()];
        let d = vec!["a : p\n⊢ p".to_string()];
        assert_ne!(state_key(&c), state_key(&d));
        assert!(state_key(&c).contains("a✝"));
    }

    #[test]
    fn goal_order_and_boundaries_matter() {
        let ab = vec!["⊢ p".to_string(), "⊢ q".to_string()];
        let ba = vec!["⊢ q".to_string(), "⊢ p".to_string()];
        assert_ne!(state_key(&ab), state_key(&ba));
        assert_ne!(state_key(&ab), state_key(&["⊢ p ⊢ q".to_string()]));
    }

    #[test]
    fn stable_hashes_tell_keys_apart() {
        assert_eq!(stable_hash("x"), stable_hash("x"));
        assert_ne!(stable_hash("x"), stable_hash("y"));
    }
}
