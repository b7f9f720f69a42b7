//! The OpenAI completions route, `POST /v1/completions` (with `GET /v1/models` naming the
//! served model), so any OpenAI-style client — proofstep's own remote predictor among them —
//! can use the model `serve` holds. A request is checked against the limits below (a refusal
//! names the field and the limit), its prompts are sampled on the batching thread under the
//! request's own options, each choice is cut at the request's stop strings, and the answer has
//! the API's shape (`openai::wire`): per choice its text, its tokens with their
//! log-probabilities (the end token, or the tokens that completed a stop string, last) and why
//! it ended.

use serde_json::{Map, Value};

use crate::model::{Completion, Decoding, GenerateOptions, PromptCompletions};
use crate::openai::wire::{
    Choice, CompletionRequest, CompletionResponse, Logprobs, OneOrMany, Usage,
};
use crate::serve::batcher::CompletionOptions;

/// Prompts one request may hold.
pub const MAX_PROMPTS: usize = 32;
/// Choices per prompt at most (`n`).
pub const MAX_N: usize = 64;
/// Tokens per choice at most (`max_tokens`).
pub const MAX_TOKENS: usize = 2048;
/// Tokens one request may generate in all (prompts × `n` × `max_tokens`): the decoding cache
/// grows with it, so one request cannot take the server's memory.
pub const MAX_WORK: usize = 32_768;
/// Alternatives per token at most (`logprobs`).
pub const MAX_LOGPROBS: usize = 20;
/// Stop strings at most.
pub const MAX_STOPS: usize = 16;

/// What a checked request asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The prompts, each to get `n` choices.
    pub prompts: Vec<String>,
    /// How each is sampled.
    pub options: CompletionOptions,
    /// Whether the answer carries log-probabilities.
    pub logprobs: bool,
    /// Strings that end a choice.
    pub stops: Vec<String>,
}

/// Reads and checks a request body; the error is the reason a 400 gives.
pub fn plan(body: &[u8]) -> Result<Plan, String> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let request: CompletionRequest =
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                format!(
                    "{} (send a JSON object with at least \"prompt\")",
                    e.inner()
                )
            } else {
                format!("field \"{path}\": {}", e.inner())
            }
        })?;
    refuse_unsupported(&request)?;
    let prompts = request.prompt.into_vec();
    if prompts.is_empty() || prompts.len() > MAX_PROMPTS {
        return Err(format!(
            "\"prompt\" must be a string or a list of 1 to {MAX_PROMPTS} strings"
        ));
    }
    if prompts.iter().any(|p| p.is_empty()) {
        return Err("\"prompt\" is empty; send the text to continue".into());
    }
    let n = request.n.unwrap_or(1);
    if !(1..=MAX_N).contains(&n) {
        return Err(format!("\"n\" must be from 1 to {MAX_N}"));
    }
    let max_tokens = request.max_tokens.unwrap_or(16);
    if !(1..=MAX_TOKENS).contains(&max_tokens) {
        return Err(format!("\"max_tokens\" must be from 1 to {MAX_TOKENS}"));
    }
    let work = prompts.len() * n * max_tokens;
    if work > MAX_WORK {
        return Err(format!(
            "prompts × \"n\" × \"max_tokens\" is {work}, over the {MAX_WORK} tokens one request may generate; ask for fewer choices or tokens, or send several requests"
        ));
    }
    let temperature = request.temperature.unwrap_or(1.0);
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err("\"temperature\" must be a number ≥ 0 (0 is greedy)".into());
    }
    let top_p = request.top_p.unwrap_or(1.0);
    if !(top_p > 0.0 && top_p <= 1.0) {
        return Err("\"top_p\" must be in (0, 1]".into());
    }
    if request.logprobs.is_some_and(|k| k > MAX_LOGPROBS) {
        return Err(format!("\"logprobs\" must be from 0 to {MAX_LOGPROBS}"));
    }
    let stops: Vec<String> = request.stop.map(OneOrMany::into_vec).unwrap_or_default();
    if stops.len() > MAX_STOPS || stops.iter().any(String::is_empty) {
        return Err(format!(
            "\"stop\" must be a string or a list of at most {MAX_STOPS} non-empty strings"
        ));
    }
    Ok(Plan {
        prompts,
        options: CompletionOptions {
            generate: GenerateOptions {
                decoding: Decoding::Sample {
                    temperatures: vec![temperature],
                    samples: n,
                    top_p,
                },
                max_new_tokens: max_tokens,
                seed: request.seed.unwrap_or_else(rand::random),
            },
            top_logprobs: request.logprobs.unwrap_or(0),
        },
        logprobs: request.logprobs.is_some(),
        stops,
    })
}

/// Refuses what a request asks that `serve` does not do, rather than answer something else.
fn refuse_unsupported(request: &CompletionRequest) -> Result<(), String> {
    if request.stream == Some(true) {
        return Err("streaming is not supported: send \"stream\": false or leave it out".into());
    }
    if request.echo == Some(true) {
        return Err("\"echo\" is not supported: answers hold the completion only".into());
    }
    if request.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err("\"suffix\" (fill-in-the-middle) is not supported".into());
    }
    if request.best_of.is_some_and(|b| b != request.n.unwrap_or(1)) {
        return Err("\"best_of\" is not supported: leave it out (or equal to \"n\")".into());
    }
    for (name, value) in [
        ("presence_penalty", request.presence_penalty),
        ("frequency_penalty", request.frequency_penalty),
    ] {
        if value.is_some_and(|v| v != 0.0) {
            return Err(format!(
                "\"{name}\" is not supported: proofstep samples without penalties; send 0 or leave it out"
            ));
        }
    }
    if request.logit_bias.as_ref().is_some_and(|b| !b.is_empty()) {
        return Err("\"logit_bias\" is not supported: leave it out".into());
    }
    Ok(())
}

/// The answer to `plan`: its prompts' samples (in order) as choices, each cut at the first
/// stop string.
pub fn answer(
    plan: &Plan,
    results: Vec<PromptCompletions>,
    model: &str,
    id: String,
    created: u64,
) -> CompletionResponse {
    let mut usage = Usage::default();
    let mut choices = Vec::new();
    for result in results {
        usage.prompt_tokens += result.prompt_tokens;
        for completion in result.choices {
            let (completion, stopped) = cut_at_stop(completion, &plan.stops);
            usage.completion_tokens += completion.tokens.len();
            choices.push(Choice {
                index: choices.len(),
                logprobs: plan.logprobs.then(|| logprobs(&completion)),
                finish_reason: Some(
                    if completion.ended || stopped {
                        "stop"
                    } else {
                        "length"
                    }
                    .into(),
                ),
                text: completion.text,
            });
        }
    }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    CompletionResponse {
        id,
        object: "text_completion".into(),
        created,
        model: model.to_string(),
        choices,
        usage: Some(usage),
    }
}

/// The completion as the API reports it: each token's text, log-probability, alternatives and
/// offset (in characters) in the choice's text; the end token's offset is the text's end.
fn logprobs(completion: &Completion) -> Logprobs {
    let mut offset = 0;
    let mut lp = Logprobs::default();
    let text_tokens = completion.tokens.len() - usize::from(completion.ended);
    for (i, token) in completion.tokens.iter().enumerate() {
        lp.tokens.push(token.text.clone());
        lp.token_logprobs.push(Some(token.logprob));
        lp.top_logprobs.push(Some(
            token
                .top
                .iter()
                .map(|(text, logprob)| (text.clone(), Value::from(*logprob)))
                .collect::<Map<String, Value>>(),
        ));
        lp.text_offset.push(offset);
        if i < text_tokens {
            offset += token.text.chars().count();
        }
    }
    lp
}

/// `completion` cut at the earliest of `stops` in its text: the text before it, the tokens up
/// to the one that completed the stop string (which ended the choice, as an end token does);
/// and whether a stop string was found.
fn cut_at_stop(mut completion: Completion, stops: &[String]) -> (Completion, bool) {
    let Some((at, stop)) = stops
        .iter()
        .filter_map(|s| completion.text.find(s.as_str()).map(|at| (at, s)))
        .min_by_key(|(at, _)| *at)
    else {
        return (completion, false);
    };
    let end = at + stop.len();
    let text_tokens = completion.tokens.len() - usize::from(completion.ended);
    let mut start = 0;
    let mut keep = 0;
    for token in &completion.tokens[..text_tokens] {
        if start >= end {
            break;
        }
        start += token.text.len();
        keep += 1;
    }
    completion.tokens.truncate(keep);
    completion.text.truncate(at);
    completion.ended = false;
    (completion, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CompletionToken;

    fn token(text: &str, logprob: f64) -> CompletionToken {
        CompletionToken {
            text: text.into(),
            logprob,
            top: Vec::new(),
        }
    }

    #[test]
    fn a_choice_is_cut_at_the_first_stop_string_with_the_tokens_that_made_it() {
        let completion = Completion {
            text: "exact hp\nrfl".into(),
            tokens: vec![
                token("exact", -0.1),
                token(" hp", -0.2),
                token("\nr", -0.3),
                token("fl", -0.4),
                token("<|endoftext|>", -0.5),
            ],
            ended: true,
        };
        let (cut, stopped) = cut_at_stop(completion.clone(), &["fl".into(), "\n".into()]);
        assert!(stopped);
        assert_eq!(cut.text, "exact hp");
        let kept: Vec<&str> = cut.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(kept, ["exact", " hp", "\nr"]);
        let (same, stopped) = cut_at_stop(completion.clone(), &["simp".into()]);
        assert!(!stopped);
        assert_eq!(same, completion);
        let lp = logprobs(&completion);
        assert_eq!(lp.text_offset, [0, 5, 8, 10, 12]);
        assert_eq!(lp.tokens.last().unwrap(), "<|endoftext|>");
    }

    #[test]
    fn requests_are_read_with_the_apis_defaults() {
        let plan = plan(br#"{"prompt": "[GOAL]p[PROOFSTEP]", "seed": 3}"#).unwrap();
        assert_eq!(plan.prompts, ["[GOAL]p[PROOFSTEP]"]);
        assert_eq!(
            plan.options.generate,
            GenerateOptions {
                decoding: Decoding::Sample {
                    temperatures: vec![1.0],
                    samples: 1,
                    top_p: 1.0
                },
                max_new_tokens: 16,
                seed: 3,
            }
        );
        assert!(!plan.logprobs);
        let plan = plan_of(
            r#"{"prompt": ["a", "b"], "n": 4, "logprobs": 0, "stop": "\n", "temperature": 0, "model": "x", "user": "ignored"}"#,
        );
        assert_eq!(plan.prompts.len(), 2);
        assert!(plan.logprobs);
        assert_eq!(plan.stops, ["\n"]);
    }

    fn plan_of(body: &str) -> Plan {
        plan(body.as_bytes()).unwrap()
    }

    #[test]
    fn requests_serve_cannot_honour_are_refused_by_field() {
        for (body, says) in [
            (r#"{"n": 2}"#, "missing field `prompt`"),
            (r#"{"prompt": 3}"#, "field \"prompt\""),
            (r#"{"prompt": "a", "n": "2"}"#, "field \"n\""),
            (r#"{"prompt": "a", "n": 0}"#, "\"n\" must be from 1 to 64"),
            (r#"{"prompt": "a", "max_tokens": 100000}"#, "\"max_tokens\""),
            (r#"{"prompt": "a", "temperature": -1}"#, "\"temperature\""),
            (r#"{"prompt": "a", "top_p": 0}"#, "\"top_p\""),
            (r#"{"prompt": "a", "logprobs": 50}"#, "\"logprobs\""),
            (r#"{"prompt": "a", "stop": [""]}"#, "\"stop\""),
            (r#"{"prompt": []}"#, "\"prompt\" must be"),
            (r#"{"prompt": ""}"#, "\"prompt\" is empty"),
            (r#"{"prompt": "a", "stream": true}"#, "streaming"),
            (r#"{"prompt": "a", "echo": true}"#, "\"echo\""),
            (r#"{"prompt": "a", "best_of": 3}"#, "\"best_of\""),
            (
                r#"{"prompt": "a", "frequency_penalty": 0.5}"#,
                "\"frequency_penalty\"",
            ),
            (
                r#"{"prompt": "a", "logit_bias": {"50256": -100}}"#,
                "\"logit_bias\"",
            ),
            ("not json", "expected"),
        ] {
            let err = plan(body.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }
}
