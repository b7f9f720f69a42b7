//! llmstep's request and response shapes: `{"tactic_state", "prefix", "context"}` in,
//! `{"suggestions": [prefix + completion, ...]}` out, and the prompt `[GOAL]{s}[PROOFSTEP]{p}`.

use serde_json::{json, Value};

use crate::model::Candidate;
use crate::prompt::prompt;
use crate::search::{append_listed, check_candidate};

/// One suggestion request as llmstep's Lean tactic sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuggestRequest {
    /// The pretty-printed goals at the tactic (`⊢ ...`), the text after `[GOAL]`.
    pub tactic_state: String,
    /// What the user already typed of the step (`llmstep "exact"`); every suggestion starts with it.
    pub prefix: String,
    /// The file's text before the theorem; llmstep's newer clients send it. The seed's models
    /// do not read it, so it is accepted and not used.
    pub context: Option<String>,
}

impl SuggestRequest {
    /// The model's prompt: `[GOAL]{tactic_state}[PROOFSTEP]{prefix}`.
    pub fn prompt(&self) -> String {
        format!("{}{}", prompt(&self.tactic_state), self.prefix)
    }
}

/// Why a request body is not an llmstep request (answered with HTTP 400 and this text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not valid UTF-8 JSON.
    #[error("the body is not JSON ({0}); send {{\"tactic_state\": ..., \"prefix\": ...}}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body must be a JSON object with \"tactic_state\" and \"prefix\"")]
    NotObject,
    /// A required field is absent.
    #[error("missing field \"{0}\" (a string)")]
    Missing(&'static str),
    /// A field has the wrong type.
    #[error("field \"{0}\" must be a string")]
    NotString(&'static str),
    /// The tactic state is empty: there is nothing to suggest for.
    #[error("\"tactic_state\" is empty; send the goals at the cursor")]
    EmptyState,
}

/// Parses and checks a request body.
pub fn parse_request(body: &[u8]) -> Result<SuggestRequest, RequestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| RequestError::NotJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(RequestError::NotObject);
    };
    let tactic_state = match map.get("tactic_state") {
        None | Some(Value::Null) => return Err(RequestError::Missing("tactic_state")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(RequestError::NotString("tactic_state")),
    };
    if tactic_state.trim().is_empty() {
        return Err(RequestError::EmptyState);
    }
    let prefix = match map.get("prefix") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(RequestError::NotString("prefix")),
    };
    let context = match map.get("context") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(RequestError::NotString("context")),
    };
    Ok(SuggestRequest {
        tactic_state,
        prefix,
        context,
    })
}

/// The response body: the suggestions (prefix + completion, best first, duplicates removed),
/// and their scores (mean log-probabilities) beside them for clients that want them. A
/// suggestion that cannot be a proof step (the candidate filter's: `sorry` words, a command
/// after the step, control characters) is left out, as the search and `lsp` leave it out,
/// whether a local model or a server behind `--predictor-url` proposed it.
pub fn response_body(prefix: &str, candidates: &[Candidate]) -> Value {
    let mut seen = std::collections::HashSet::new();
    let mut suggestions = Vec::new();
    let mut scores = Vec::new();
    for c in candidates {
        let text = format!("{prefix}{}", c.text);
        if check_candidate(text.trim()).is_err() || !seen.insert(text.clone()) {
            continue;
        }
        suggestions.push(Value::String(text));
        scores.push(json!(c.score));
    }
    json!({"suggestions": suggestions, "scores": scores})
}

/// Appends the listed tactics (`serve --also-try`) that extend `prefix` to the model's
/// completions after it, by `append_listed`'s rule, compared as whole tactics (prefix +
/// completion, trimmed): the model's `exact` + `hp` is `exacthp` and does not hide a listed
/// `exact hp`, while its `exact` + ` hp` does. A tactic equal to the prefix adds nothing.
pub fn append_listed_completions(
    prefix: &str,
    candidates: &mut Vec<Candidate>,
    tactics: &[String],
) {
    let extending: Vec<String> = tactics
        .iter()
        .map(|t| t.trim())
        .filter(|t| {
            t.strip_prefix(prefix)
                .is_some_and(|rest| !rest.trim().is_empty())
        })
        .map(str::to_string)
        .collect();
    let mut whole: Vec<Candidate> = candidates
        .drain(..)
        .map(|c| Candidate {
            text: format!("{prefix}{}", c.text),
            score: c.score,
        })
        .collect();
    append_listed(&mut whole, &extending);
    candidates.extend(whole.into_iter().map(|c| Candidate {
        text: c.text[prefix.len()..].to_string(),
        score: c.score,
    }));
}

/// An error body: `{"error": reason}`.
pub fn error_body(reason: &str) -> Value {
    json!({ "error": reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llmstep_requests_parse() {
        let r =
            parse_request(br#"{"tactic_state": "\u22a2 p", "prefix": "exact", "context": "x"}"#)
                .unwrap();
        assert_eq!(r.tactic_state, "⊢ p");
        assert_eq!(r.prefix, "exact");
        assert_eq!(r.context.as_deref(), Some("x"));
        assert_eq!(r.prompt(), "[GOAL]⊢ p[PROOFSTEP]exact");
        let old = parse_request(br#"{"tactic_state": "s", "prefix": ""}"#).unwrap();
        assert_eq!(old.context, None);
        assert_eq!(old.prompt(), "[GOAL]s[PROOFSTEP]");
    }

    #[test]
    fn bad_requests_say_why() {
        assert!(matches!(
            parse_request(b"hello"),
            Err(RequestError::NotJson(_))
        ));
        assert!(matches!(
            parse_request(b"\xff\xfe"),
            Err(RequestError::NotJson(_))
        ));
        assert_eq!(parse_request(b"[1]"), Err(RequestError::NotObject));
        assert_eq!(
            parse_request(br#"{"prefix": "x"}"#),
            Err(RequestError::Missing("tactic_state"))
        );
        assert_eq!(
            parse_request(br#"{"tactic_state": 3}"#),
            Err(RequestError::NotString("tactic_state"))
        );
        assert_eq!(
            parse_request(br#"{"tactic_state": "s", "prefix": []}"#),
            Err(RequestError::NotString("prefix"))
        );
        assert_eq!(
            parse_request(br#"{"tactic_state": "  "}"#),
            Err(RequestError::EmptyState)
        );
    }

    #[test]
    fn responses_prepend_the_prefix_and_drop_duplicates() {
        let c = |t: &str, s: f64| Candidate {
            text: t.into(),
            score: s,
        };
        let body = response_body("exact ", &[c("h", -0.1), c("h", -0.5), c("hq", -0.7)]);
        assert_eq!(body["suggestions"], json!(["exact h", "exact hq"]));
        assert_eq!(body["scores"], json!([-0.1, -0.7]));
        // What cannot be a proof step is left out, wherever it came from.
        let hostile = [
            c("sorry", -0.1),
            c("rfl\ntheorem bad : False := sorry", -0.2),
            c("h", -0.3),
            c("hq\n#exit", -0.4),
            c("h \u{1b}[2J", -0.5),
        ];
        let body = response_body("exact ", &hostile);
        assert_eq!(body["suggestions"], json!(["exact h"]));
    }

    #[test]
    fn listed_tactics_complete_the_prefix_they_extend() {
        let c = |t: &str, s: f64| Candidate {
            text: t.into(),
            score: s,
        };
        let texts = |cs: &[Candidate]| cs.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
        let listed = ["exact hp", " simp_all ", "exact", "exactly"].map(String::from);
        let mut after_exact = vec![c(" hq", -0.2)];
        append_listed_completions("exact", &mut after_exact, &listed);
        assert_eq!(texts(&after_exact), [" hq", " hp", "ly"]);
        assert!(after_exact.iter().all(|c| c.score == -0.2));
        let mut after_nothing = vec![];
        append_listed_completions("", &mut after_nothing, &listed);
        assert_eq!(
            texts(&after_nothing),
            ["exact hp", "simp_all", "exact", "exactly"]
        );
    }

    #[test]
    fn listed_tactics_are_compared_with_the_models_as_whole_tactics() {
        let c = |t: &str| Candidate {
            text: t.into(),
            score: -0.5,
        };
        let listed = ["exact hp".to_string()];
        let mut glued = vec![c("hp")];
        append_listed_completions("exact", &mut glued, &listed);
        assert_eq!(glued.len(), 2, "`exacthp` is not `exact hp`: {glued:?}");
        assert_eq!(glued[1].text, " hp");
        let mut same = vec![c(" hp ")];
        append_listed_completions("exact", &mut same, &listed);
        assert_eq!(
            same.len(),
            1,
            "` hp ` completes `exact` to `exact hp`: {same:?}"
        );
    }
}
