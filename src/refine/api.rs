//! `ApiModel`: the whole-proof model behind an OpenAI-compatible endpoint — a hosted chat
//! model (`/v1/chat/completions`, the key from an environment variable) or any completions
//! server (`/v1/completions`: vLLM, llama.cpp's server, Ollama, `proofstep serve`). Requests go
//! through `openai::client` (deadlines, retries with backoff); prompts are the templates.

use std::time::{Duration, Instant};

use crate::openai::chat::{ChatMessage, ChatRequest, ChatResponse};
use crate::openai::client::{Client, ClientOptions};
use crate::openai::error::Flags;
use crate::openai::predictor::served_model;
use crate::openai::wire::{CompletionRequest, CompletionResponse, OneOrMany, Usage};
use crate::openai::{Endpoint, RemoteError};
use crate::refine::model::{ProofAsk, Proposal, TokenUsage, WholeProofModel};
use crate::refine::template::PromptTemplates;

/// Which of the API's routes the model is asked through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiKind {
    /// `/v1/chat/completions`: the prompt as one user message (hosted chat models).
    Chat,
    /// `/v1/completions`: the prompt as text the model continues (base models).
    Completions,
}

/// Where a completion model's answer ends: the end of the prompt's code block, or the start
/// of another declaration.
const COMPLETION_STOPS: [&str; 4] = ["```", "\ntheorem ", "\nlemma ", "\n#"];

/// How to reach the model and how it samples.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// The server, as the user gave it.
    pub url: String,
    /// Chat or completions.
    pub kind: ApiKind,
    /// The model's name (default: the one the server lists at /v1/models).
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer`.
    pub api_key: Option<String>,
    /// Sampling temperature.
    pub temperature: f32,
    /// The longest answer, in tokens.
    pub max_tokens: usize,
    /// How long one request may take.
    pub timeout: Duration,
    /// Retries of a request that failed for a reason that may pass.
    pub retries: usize,
}

/// A whole-proof model served over the OpenAI API.
pub struct ApiModel {
    client: Client,
    endpoint: Endpoint,
    model: Option<String>,
    options: ApiOptions,
    templates: PromptTemplates,
}

impl ApiModel {
    /// Checks the URL and, without a model name, asks the server which model it serves.
    pub fn connect(options: ApiOptions, templates: PromptTemplates) -> Result<Self, RemoteError> {
        let endpoint = Endpoint::parse(&options.url, &Flags::API)?;
        let client = Client::new(ClientOptions {
            timeout: options.timeout,
            retries: options.retries,
            api_key: options.api_key.clone(),
            flags: &Flags::API,
        });
        let model = match &options.model {
            Some(name) => Some(name.clone()),
            None => served_model(&client, &endpoint)?,
        };
        Ok(ApiModel {
            client,
            endpoint,
            model,
            options,
            templates,
        })
    }

    /// The model's name as the server knows it, when known.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The prompt for `ask` (`PromptTemplates::prompt`).
    pub fn prompt(&self, ask: &ProofAsk<'_>) -> String {
        self.templates.prompt(ask)
    }

    fn ask_chat(
        &self,
        prompt: &str,
        seed: u64,
        deadline: Instant,
    ) -> Result<Proposal, RemoteError> {
        let url = self.endpoint.chat_completions();
        let request = ChatRequest {
            model: self.model.clone(),
            messages: vec![ChatMessage::new("user", prompt)],
            max_tokens: Some(self.options.max_tokens),
            temperature: Some(self.options.temperature),
            seed: Some(seed),
            extra: Default::default(),
        };
        let body =
            self.client
                .post_json_until(&url, &self.endpoint.models(), &request, Some(deadline))?;
        let answer: ChatResponse = serde_json::from_str(&body).map_err(|e| bad(&url, e))?;
        let Some(choice) = answer.choices.into_iter().next() else {
            return Err(bad(&url, "the answer has no choices"));
        };
        Ok(Proposal {
            text: choice.message.content,
            usage: answer.usage.as_ref().map(tokens),
        })
    }

    fn ask_completions(
        &self,
        prompt: &str,
        seed: u64,
        deadline: Instant,
    ) -> Result<Proposal, RemoteError> {
        let url = self.endpoint.completions();
        let mut request = CompletionRequest::new(prompt);
        request.model = self.model.clone();
        request.max_tokens = Some(self.options.max_tokens);
        request.temperature = Some(self.options.temperature);
        request.n = Some(1);
        request.stop = Some(OneOrMany::Many(
            COMPLETION_STOPS.iter().map(|s| s.to_string()).collect(),
        ));
        request.seed = Some(seed);
        let body =
            self.client
                .post_json_until(&url, &self.endpoint.models(), &request, Some(deadline))?;
        let answer: CompletionResponse = serde_json::from_str(&body).map_err(|e| bad(&url, e))?;
        let Some(choice) = answer.choices.into_iter().next() else {
            return Err(bad(&url, "the answer has no choices"));
        };
        // A server that does not honour stop strings leaves them, and what follows, in.
        let text = COMPLETION_STOPS
            .iter()
            .fold(choice.text.as_str(), |t, stop| {
                t.split(stop).next().unwrap_or_default()
            })
            .to_string();
        Ok(Proposal {
            text,
            usage: answer.usage.as_ref().map(tokens),
        })
    }
}

impl WholeProofModel for ApiModel {
    fn propose(&self, ask: &ProofAsk<'_>, deadline: Instant) -> anyhow::Result<Option<Proposal>> {
        let prompt = self.prompt(ask);
        let answer = match self.options.kind {
            ApiKind::Chat => self.ask_chat(&prompt, ask.seed, deadline),
            ApiKind::Completions => self.ask_completions(&prompt, ask.seed, deadline),
        };
        match answer {
            Ok(proposal) => Ok(Some(proposal)),
            Err(RemoteError::OutOfTime) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} at {}",
            self.model.as_deref().unwrap_or("(not named)"),
            self.endpoint.given()
        )
    }

    fn no_answer_in_time(&self) -> anyhow::Error {
        RemoteError::NoAnswerInTime {
            url: self.endpoint.given().to_string(),
        }
        .into()
    }
}

fn tokens(usage: &Usage) -> TokenUsage {
    TokenUsage {
        prompt: usage.prompt_tokens,
        completion: usage.completion_tokens,
    }
}

fn bad(url: &str, reason: impl ToString) -> RemoteError {
    RemoteError::BadAnswer {
        flags: &Flags::API,
        url: url.to_string(),
        reason: reason.to_string(),
    }
}
