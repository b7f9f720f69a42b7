//! One llmstep request in, one answer out: checks the path, the method and the body (its size,
//! and that it arrives within the read deadline), hands the prompt to the batching thread and
//! awaits its answer without blocking the server's async threads. Every failure is a JSON
//! `{"error"}` with a 4xx status when the client caused it, 5xx when the model failed, is busy or
//! too slow; an error answer also ends the connection, so an unread body is never waited for.

use std::sync::Arc;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::serve::batcher::Batcher;
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
        let (status, body) = self.answer(request, slot).await;
        slot.waiting();
        if status.as_u16() >= 400 {
            tracing::info!(target: "serve", status = status.as_u16(), %method, path, "refused: {}", body["error"]);
        }
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if status == StatusCode::METHOD_NOT_ALLOWED {
            headers.insert(ALLOW, HeaderValue::from_static("POST"));
        }
        if status.as_u16() >= 400 {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    /// The status and JSON body for a request.
    async fn answer(&self, request: Request<Incoming>, slot: &Slot) -> (StatusCode, Value) {
        let path = request.uri().path();
        if path != "/" {
            return refuse(
                StatusCode::NOT_FOUND,
                format!("no such path {path:?}: llmstep's protocol is POST / with a JSON body"),
            );
        }
        if request.method() != Method::POST {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "method {} is not allowed: use POST / with a JSON body",
                    request.method()
                ),
            );
        }
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
            Ok(Err(_)) => refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the model thread stopped; see the server log".into(),
            ),
            Err(_) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the model did not answer within {:.1} s (the server's --timeout); try again \
                     or ask for fewer samples",
                    self.options.timeout.as_secs_f64()
                ),
            ),
        }
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

fn refuse(status: StatusCode, reason: String) -> (StatusCode, Value) {
    (status, error_body(&reason))
}
