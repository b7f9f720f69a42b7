//! The OpenAI chat completions API's JSON (`POST /v1/chat/completions`): what a whole-proof
//! model behind a hosted chat endpoint is sent and answers. Only the fields proofstep sends
//! and reads are here; reading is lenient as in `wire` (a missing or null field is its
//! default), and the token counts reuse `wire::Usage`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::openai::wire::{or_default, Usage};

/// One message of a conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    #[serde(default, deserialize_with = "or_default")]
    pub role: String,
    /// The text (null in some answers, e.g. a refusal; read as empty).
    #[serde(default, deserialize_with = "or_default")]
    pub content: String,
}

impl ChatMessage {
    /// A message of `role` saying `content`.
    pub fn new(role: &str, content: &str) -> ChatMessage {
        ChatMessage {
            role: role.to_string(),
            content: content.to_string(),
        }
    }
}

/// A `POST /v1/chat/completions` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The served model's name (hosted APIs insist on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// The most tokens the answer may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Sampling temperature (0: greedy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Seed of the sampler, where the server honours one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Fields of a particular server, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `/v1/chat/completions` answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answers (one unless `n` was asked for).
    #[serde(default, deserialize_with = "or_default")]
    pub choices: Vec<ChatChoice>,
    /// Tokens read and written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One answer of a chat completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChoice {
    /// The assistant's message.
    #[serde(default, deserialize_with = "or_default")]
    pub message: ChatMessage,
    /// `stop` or `length`.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hosted_answer_reads_with_its_token_counts_and_a_null_content_reads_empty() {
        let body = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":"```lean\nexact hp\n```"},
            "finish_reason":"stop"}],"usage":{"prompt_tokens":50,"completion_tokens":7,"total_tokens":57}}"#;
        let answer: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(answer.choices[0].message.content, "```lean\nexact hp\n```");
        assert_eq!(answer.usage.unwrap().completion_tokens, 7);
        let refusal = r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#;
        let answer: ChatResponse = serde_json::from_str(refusal).unwrap();
        assert_eq!(answer.choices[0].message.content, "");
        assert!(answer.usage.is_none());
    }

    #[test]
    fn a_request_leaves_out_what_is_unset() {
        let request = ChatRequest {
            model: None,
            messages: vec![ChatMessage::new("user", "prove it")],
            max_tokens: Some(100),
            temperature: None,
            seed: None,
            extra: Map::new(),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"messages": [{"role": "user", "content": "prove it"}], "max_tokens": 100})
        );
    }
}
