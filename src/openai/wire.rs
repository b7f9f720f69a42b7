//! The OpenAI completions API's JSON, one copy for both sides: the request the remote
//! predictor sends and `serve` reads, the response `serve` writes and the remote predictor
//! reads. Reading is lenient (servers differ in what they fill in: a missing or null field is
//! its default), and the log-probabilities are read in either shape servers answer with: the
//! completions API's parallel lists (`tokens`, `token_logprobs`) or the chat API's `content`
//! entries (llama.cpp's own server). Fields proofstep neither sends nor answers are ignored.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// `prompt` or `stop`: one string or a list of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, in order.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A `POST /v1/completions` body. The fields after `seed` are read only to refuse what
/// `serve` cannot honour (streaming, echo, penalties, ...); the remote predictor never sends
/// them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The served model's name (some servers insist on it, others ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The prompt, or several (each gets `n` choices).
    pub prompt: OneOrMany,
    /// The most tokens each choice may have (the API's default is 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Sampling temperature (0: greedy; the API's default is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus mass kept when sampling (the API's default is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Choices per prompt (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Strings that end a choice (not included in its text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<OneOrMany>,
    /// Ask for each token's log-probability and this many most likely alternatives per step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<usize>,
    /// Seed of the sampler: the same request and seed give the same choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Server-sent events instead of one answer.
    #[serde(default, skip_serializing)]
    pub stream: Option<bool>,
    /// Return the prompt before each choice's text.
    #[serde(default, skip_serializing)]
    pub echo: Option<bool>,
    /// Sample this many and return the best `n`.
    #[serde(default, skip_serializing)]
    pub best_of: Option<usize>,
    /// Text after the insertion point (fill-in-the-middle).
    #[serde(default, skip_serializing)]
    pub suffix: Option<String>,
    /// Penalty on tokens already present.
    #[serde(default, skip_serializing)]
    pub presence_penalty: Option<f32>,
    /// Penalty on tokens by how often they appeared.
    #[serde(default, skip_serializing)]
    pub frequency_penalty: Option<f32>,
    /// Additive biases on chosen tokens' logits.
    #[serde(default, skip_serializing)]
    pub logit_bias: Option<Map<String, Value>>,
    /// Fields of a particular server (llama.cpp's `repeat_penalty`, vLLM's `top_k`, ...):
    /// sent as given; read and ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The fields the remote predictor sets itself (`--predictor-extra` may not).
pub const SET_BY_PROOFSTEP: [&str; 9] = [
    "model",
    "prompt",
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "logprobs",
    "seed",
];

impl CompletionRequest {
    /// A request for `prompt` with every option unset.
    pub fn new(prompt: &str) -> CompletionRequest {
        CompletionRequest {
            model: None,
            prompt: OneOrMany::One(prompt.to_string()),
            max_tokens: None,
            temperature: None,
            top_p: None,
            n: None,
            stop: None,
            logprobs: None,
            seed: None,
            stream: None,
            echo: None,
            best_of: None,
            suffix: None,
            presence_penalty: None,
            frequency_penalty: None,
            logit_bias: None,
            extra: Map::new(),
        }
    }
}

/// A `/v1/completions` answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionResponse {
    /// The answer's id (`cmpl-...`).
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    /// Always `text_completion`.
    #[serde(default, deserialize_with = "or_default")]
    pub object: String,
    /// When it was made, in seconds since the Unix epoch.
    #[serde(default, deserialize_with = "or_default")]
    pub created: u64,
    /// The model that answered.
    #[serde(default, deserialize_with = "or_default")]
    pub model: String,
    /// The choices: `n` per prompt, the prompts' in order.
    #[serde(default, deserialize_with = "or_default")]
    pub choices: Vec<Choice>,
    /// Tokens read and written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One generated continuation of an answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The text, without the prompt and without the stop string or end token.
    #[serde(default, deserialize_with = "or_default")]
    pub text: String,
    /// Its place among the answer's choices.
    #[serde(default, deserialize_with = "or_default")]
    pub index: usize,
    /// Its tokens' log-probabilities, when they were asked for.
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    /// `stop` (an end token or stop string ended it) or `length` (the token limit did).
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The tokens of a choice and their log-probabilities. `serve` writes the completions API's
/// parallel lists, the end token (or the tokens of a stop string) last after the text's
/// tokens; a reader takes either those lists or the chat API's `content`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Logprobs {
    /// Each token's text.
    #[serde(default, deserialize_with = "or_default")]
    pub tokens: Vec<String>,
    /// Each token's log-probability (null for a token without one, as echoed prompts have).
    #[serde(default, deserialize_with = "or_default")]
    pub token_logprobs: Vec<Option<f64>>,
    /// The most likely alternatives at each step, best first.
    #[serde(default, deserialize_with = "or_default")]
    pub top_logprobs: Vec<Option<Map<String, Value>>>,
    /// Where each token starts in the choice's text, in characters.
    #[serde(default, deserialize_with = "or_default")]
    pub text_offset: Vec<usize>,
    /// The chat API's shape, which some servers use for completions too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<TokenLogprob>>,
}

impl Logprobs {
    /// The log-probabilities of the choice's tokens, from whichever shape the server used
    /// (entries without one are skipped).
    pub fn values(&self) -> Vec<f64> {
        let listed: Vec<f64> = self.token_logprobs.iter().flatten().copied().collect();
        if !listed.is_empty() {
            return listed;
        }
        self.content
            .iter()
            .flatten()
            .filter_map(|t| t.logprob)
            .collect()
    }
}

/// One token in the chat API's log-probability shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token's text.
    #[serde(default, deserialize_with = "or_default")]
    pub token: String,
    /// Its log-probability.
    #[serde(default)]
    pub logprob: Option<f64>,
}

/// Tokens an answer read and wrote.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompts (each counted once, whatever `n`).
    #[serde(default, deserialize_with = "or_default")]
    pub prompt_tokens: usize,
    /// Tokens generated over all choices.
    #[serde(default, deserialize_with = "or_default")]
    pub completion_tokens: usize,
    /// The two together.
    #[serde(default, deserialize_with = "or_default")]
    pub total_tokens: usize,
}

/// An OpenAI-style error body: `{"error": {"message", "type", "code"}}`.
pub fn error_body(message: &str, kind: &str) -> Value {
    serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

/// The message of an error body in OpenAI's shape (`error.message`), llmstep's
/// (`error` as a string) or FastAPI's (`detail`), if the body is one.
pub fn error_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match (&value["error"], &value["detail"]) {
        (Value::Object(e), _) => e.get("message").and_then(text),
        (Value::String(s), _) => Some(s.clone()),
        (_, detail) => text(detail),
    }
}

/// A field that a server may send as null reads as its default.
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_either_log_probability_shape_give_their_values() {
        let listed: CompletionResponse = serde_json::from_str(
            r#"{"choices": [{"text": " hp", "index": 0, "finish_reason": "stop",
                "logprobs": {"tokens": [" hp", "<|endoftext|>"], "token_logprobs": [-0.5, -0.25],
                             "top_logprobs": null, "text_offset": null}}]}"#,
        )
        .unwrap();
        let lp = listed.choices[0].logprobs.as_ref().unwrap();
        assert_eq!(lp.values(), vec![-0.5, -0.25]);
        let chat: CompletionResponse = serde_json::from_str(
            r#"{"id": null, "choices": [{"text": "rfl", "logprobs": {"content": [
                {"token": "r", "logprob": -1.0}, {"token": "fl", "logprob": -0.5}]}}]}"#,
        )
        .unwrap();
        assert_eq!(
            chat.choices[0].logprobs.as_ref().unwrap().values(),
            vec![-1.0, -0.5]
        );
        assert!(chat.usage.is_none());
    }

    #[test]
    fn requests_carry_only_what_is_set_and_read_one_prompt_or_many() {
        let mut request = CompletionRequest::new("[GOAL]⊢ p[PROOFSTEP]");
        request.n = Some(4);
        request.stream = Some(true);
        request
            .extra
            .insert("repeat_penalty".into(), serde_json::json!(1.0));
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"prompt": "[GOAL]⊢ p[PROOFSTEP]", "n": 4, "repeat_penalty": 1.0}),
            "unset fields and the refused ones are not sent; extra ones are"
        );
        let many: CompletionRequest =
            serde_json::from_str(r#"{"prompt": ["a", "b"], "stop": "\n", "stream": false}"#)
                .unwrap();
        assert_eq!(many.prompt.into_vec(), ["a", "b"]);
        assert_eq!(many.stop.unwrap().into_vec(), ["\n"]);
        assert_eq!(many.stream, Some(false));
    }

    #[test]
    fn error_messages_are_read_from_each_servers_shape() {
        assert_eq!(
            error_message(r#"{"error": {"message": "no such model", "type": "x"}}"#).as_deref(),
            Some("no such model")
        );
        assert_eq!(
            error_message(r#"{"error": "busy"}"#).as_deref(),
            Some("busy")
        );
        assert_eq!(
            error_message(r#"{"detail": "Not Found"}"#).as_deref(),
            Some("Not Found")
        );
        assert_eq!(error_message("<html>"), None);
    }
}
