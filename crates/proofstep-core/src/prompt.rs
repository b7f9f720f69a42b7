//! The seed's proof-step format, the one string training and search must agree on: a prompt
//! `[GOAL]{state}[PROOFSTEP]`, a completion `{tactic}<|endoftext|>`. `[GOAL]` and `[PROOFSTEP]`
//! are ordinary text (as in the seed); `<|endoftext|>` is the end token generation stops on.
//! Data writes examples with it, training tokenizes them, the model's tokenizer knows its end
//! token, search and the editor servers ask the model with it: all from here.

/// Marks the start of the proof state in a prompt.
pub const GOAL: &str = "[GOAL]";
/// Marks the end of the proof state: the tactic follows.
pub const PROOFSTEP: &str = "[PROOFSTEP]";
/// Ends every completion; generation stops on it.
pub const END_OF_TEXT: &str = "<|endoftext|>";
/// The padding token the seed adds to tokenizers that lack one.
pub const PAD: &str = "[PAD]";

/// The model's prompt for a proof state: `[GOAL]{state}[PROOFSTEP]`.
pub fn prompt(state: &str) -> String {
    format!("{GOAL}{state}{PROOFSTEP}")
}

/// The completion the model learns for a tactic: `{tactic}<|endoftext|>`.
pub fn completion(tactic: &str) -> String {
    format!("{tactic}{END_OF_TEXT}")
}

/// The state text inside a prompt made by [`prompt`], or the whole text when it is not one.
pub fn state_of_prompt(prompt: &str) -> &str {
    let text = prompt.strip_prefix(GOAL).unwrap_or(prompt);
    text.strip_suffix(PROOFSTEP).unwrap_or(text)
}

/// The tactic inside a completion made by [`completion`], or the whole text when it is not one.
pub fn tactic_of_completion(completion: &str) -> &str {
    completion.strip_suffix(END_OF_TEXT).unwrap_or(completion)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_and_completions_round_trip() {
        let p = prompt("⊢ p");
        assert_eq!(p, "[GOAL]⊢ p[PROOFSTEP]");
        assert_eq!(state_of_prompt(&p), "⊢ p");
        assert_eq!(state_of_prompt("plain"), "plain");
        let c = completion("exact hp");
        assert_eq!(c, "exact hp<|endoftext|>");
        assert_eq!(tactic_of_completion(&c), "exact hp");
        assert_eq!(tactic_of_completion("rfl"), "rfl");
    }
}
