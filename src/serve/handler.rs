//! One request in, one answer out: checks the path, the method and the body (its size, and
//! that it arrives within the read deadline), hands the prompts to the batching thread and
//! awaits their answers without blocking the server's async threads. Routes: llmstep's
//! `POST /`, and the OpenAI completions API's `POST /v1/completions` and `GET /v1/models`
//! (`completions`). Every failure is a JSON error — llmstep's `{"error": reason}`, or on the
//! `/v1/` routes OpenAI's `{"error": {"message", "type"}}` — with a 4xx status when the client
//! caused it, 5xx when the model failed, is busy or too slow; an error answer also ends the
//! connection, so an unread body is never waited for.

use std::sync::Arc;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::openai::wire;
use crate::serve::batcher::Batcher;
use crate::serve::completions;
use crate::serve::http::HttpOptions;
use crate::serve::request::{append_listed_completions, error_body, parse_request, response_body};
use crate::serve::slots::Slot;

/// What every connection's requests are answered with: the batching thread and the limits.
pub(crate) struct Handler {
    pub(crate) batcher: Arc<Batcher>,
    pub(crate) options: HttpOptions,
}

impl Handler {
    /// The HTTP answer to `request`, which came on the connection holding `slot`; never panics
    /// on anything the client sends.
    pub(crate) async fn respond(
        &self,
        request: Request<Incoming>,
        slot: &Slot,
    ) -> Response<Full<Bytes>> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let (status, mut body) = self.answer(request, slot).await;
        slot.waiting();
        if status.as_u16() >= 400 {
            tracing::info!(target: "serve", status = status.as_u16(), %method, path, "refused: {}", body["error"]);
            if path.starts_with("/v1/") {
                let kind = if status.is_client_error() {
                    "invalid_request_error"
                } else {
                    "server_error"
                };
                body = wire::error_body(body["error"].as_str().unwrap_or_default(), kind);
            }
        }
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if status == StatusCode::METHOD_NOT_ALLOWED {
            let allowed = if path == "/v1/models" { "GET" } else { "POST" };
            headers.insert(ALLOW, HeaderValue::from_static(allowed));
        }
        if status.as_u16() >= 400 {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    /// The status and JSON body for a request.
    async fn answer(&self, request: Request<Incoming>, slot: &Slot) -> (StatusCode, Value) {
        let path = request.uri().path();
        let wanted = match path {
            "/" | "/v1/completions" => Method::POST,
            "/v1/models" => Method::GET,
            _ => {
                return refuse(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no such path {path:?}: llmstep's protocol is POST / with a JSON body; the \
                         OpenAI completions API is POST /v1/completions (and GET /v1/models)"
                    ),
                )
            }
        };
        if request.method() != wanted {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "method {} is not allowed: use {wanted} {path}",
                    request.method()
                ),
            );
        }
        match path {
            "/v1/models" => (StatusCode::OK, self.models()),
            "/v1/completions" => self.complete(request, slot).await,
            _ => self.suggest(request, slot).await,
        }
    }

    /// llmstep's `POST /`: suggestions for a tactic state and prefix.
    async fn suggest(&self, request: Request<Incoming>, slot: &Slot) -> (StatusCode, Value) {
        let body = match self.read_body(request).await {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        slot.busy();
        let parsed = match parse_request(&body) {
            Ok(r) => r,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
        };
        let receiver = match self.batcher.submit(parsed.prompt()) {
            Ok(r) => r,
            Err(busy) => return refuse(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()),
        };
        match tokio::time::timeout(self.options.timeout, receiver).await {
            Ok(Ok(Ok(mut candidates))) => {
                append_listed_completions(&parsed.prefix, &mut candidates, &self.options.also_try);
                (StatusCode::OK, response_body(&parsed.prefix, &candidates))
            }
            Ok(Ok(Err(reason))) => refuse(StatusCode::INTERNAL_SERVER_ERROR, reason),
            Ok(Err(_)) => model_thread_stopped(),
            Err(_) => self.too_slow(),
        }
    }

    /// The OpenAI completions API's `POST /v1/completions`.
    async fn complete(&self, request: Request<Incoming>, slot: &Slot) -> (StatusCode, Value) {
        let body = match self.read_body(request).await {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        slot.busy();
        let plan = match completions::plan(&body) {
            Ok(plan) => plan,
            Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
        };
        let mut receivers = Vec::with_capacity(plan.prompts.len());
        for prompt in &plan.prompts {
            match self
                .batcher
                .submit_completion(prompt.clone(), plan.options.clone())
            {
                Ok(r) => receivers.push(r),
                Err(busy) => return refuse(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()),
            }
        }
        let all = async {
            let mut results = Vec::with_capacity(receivers.len());
            for receiver in receivers {
                results.push(receiver.await);
            }
            results
        };
        let results = match tokio::time::timeout(self.options.timeout, all).await {
            Ok(results) => results,
            Err(_) => return self.too_slow(),
        };
        let mut done = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(Ok(completions)) => done.push(completions),
                Ok(Err(reason)) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, reason),
                Err(_) => return model_thread_stopped(),
            }
        }
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let id = format!("cmpl-{:016x}", rand::random::<u64>());
        let answer = completions::answer(&plan, done, &self.options.model_name, id, created);
        match serde_json::to_value(answer) {
            Ok(value) => (StatusCode::OK, value),
            Err(e) => refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot write the answer: {e}"),
            ),
        }
    }

    /// The OpenAI API's `GET /v1/models`: the one model served.
    fn models(&self) -> Value {
        serde_json::json!({
            "object": "list",
            "data": [{"id": self.options.model_name, "object": "model", "created": 0, "owned_by": "proofstep"}],
        })
    }

    /// The answer to a request the model did not answer within `timeout`.
    fn too_slow(&self) -> (StatusCode, Value) {
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the model did not answer within {:.1} s (the server's --timeout); try again \
                 or ask for fewer samples",
                self.options.timeout.as_secs_f64()
            ),
        )
    }

    /// The whole body, at most `max_body_bytes` of it, arrived within the read deadline; a
    /// declared length over the limit is refused before a byte of the body is read.
    async fn read_body(&self, request: Request<Incoming>) -> Result<Bytes, (StatusCode, Value)> {
        let limit = self.options.max_body_bytes;
        let too_large = || {
            refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes (the server's --max-body-bytes)"),
            )
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let deadline = self.options.client_timeout;
        let reading = Limited::new(request.into_body(), limit).collect();
        match tokio::time::timeout(deadline, reading).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
            Ok(Err(e)) => Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            )),
            Err(_) => Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {:.1} s (the server's --client-timeout); send \
                     the whole request at once",
                    deadline.as_secs_f64()
                ),
            )),
        }
    }
}

fn model_thread_stopped() -> (StatusCode, Value) {
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the model thread stopped; see the server log".into(),
    )
}

fn refuse(status: StatusCode, reason: String) -> (StatusCode, Value) {
    (status, error_body(&reason))
}
