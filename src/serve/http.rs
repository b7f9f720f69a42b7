//! The llmstep-compatible HTTP server: `POST /` with `{"tactic_state", "prefix", "context"}`
//! answers `{"suggestions": [...]}`. Handler threads validate requests (method, path, size,
//! JSON shape) and hand prompts to the batching thread; every failure is a JSON `{"error"}`
//! with a 4xx status when the client caused it, 503 when the model is busy or too slow.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::model::{GenerateOptions, Predictor};
use crate::serve::batcher::{BatchOptions, Batcher};
use crate::serve::error::ServeError;
use crate::serve::request::{append_listed_completions, error_body, parse_request, response_body};

/// Limits of the HTTP side, and what it adds to the model's answer.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// The largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// How long a request may wait for the model before it gets 503.
    pub timeout: Duration,
    /// Threads reading and answering requests (each waits on the model for its request).
    pub handler_threads: usize,
    /// Tactics suggested besides the model's at every request (those extending its prefix),
    /// after the model's candidates at the score of the least likely one.
    pub also_try: Vec<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body_bytes: 64 * 1024,
            timeout: Duration::from_secs(30),
            handler_threads: 16,
            also_try: Vec::new(),
        }
    }
}

/// A running suggestion server. Dropping it (or `stop`) closes the socket and joins its threads.
pub struct SuggestServer {
    server: Arc<Server>,
    address: SocketAddr,
    batcher: Arc<Batcher>,
    handlers: Vec<JoinHandle<()>>,
}

impl SuggestServer {
    /// Binds `address` (e.g. `127.0.0.1:6000`; port 0 picks a free one) and starts serving
    /// suggestions from `predictor`.
    pub fn start(
        address: &str,
        predictor: Arc<dyn Predictor>,
        generate: GenerateOptions,
        batch: BatchOptions,
        http: HttpOptions,
    ) -> Result<SuggestServer, ServeError> {
        let server = Server::http(address).map_err(|e| ServeError::Bind {
            address: address.to_string(),
            reason: e.to_string(),
        })?;
        let bound = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| ServeError::Bind {
                address: address.to_string(),
                reason: "not an IP address".into(),
            })?;
        let server = Arc::new(server);
        let batcher = Arc::new(Batcher::start(predictor, generate, batch));
        let http = Arc::new(http);
        let handlers = (0..http.handler_threads.max(1))
            .map(|i| {
                let server = server.clone();
                let batcher = batcher.clone();
                let http = http.clone();
                std::thread::Builder::new()
                    .name(format!("proofstep-http-{i}"))
                    .spawn(move || {
                        while let Ok(request) = server.recv() {
                            handle(request, &batcher, &http);
                        }
                    })
                    .expect("spawning an HTTP handler thread")
            })
            .collect();
        Ok(SuggestServer {
            server,
            address: bound,
            batcher,
            handlers,
        })
    }

    /// The address actually bound (the port chosen when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The batching thread (its counters show how requests were grouped).
    pub fn batcher(&self) -> &Batcher {
        &self.batcher
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        for h in self.handlers.drain(..) {
            let _ = h.join();
        }
    }

    /// Stops accepting requests and joins the handler threads.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for SuggestServer {
    fn drop(&mut self) {
        for _ in 0..self.handlers.len() {
            self.server.unblock();
        }
        for h in self.handlers.drain(..) {
            let _ = h.join();
        }
    }
}

/// Answers one request; never panics on anything the client sends.
fn handle(mut request: Request, batcher: &Batcher, http: &HttpOptions) {
    let (status, body) = answer(&mut request, batcher, http);
    if status >= 400 {
        tracing::info!(target: "serve", status, method = %request.method(), url = request.url(), "refused: {}", body["error"]);
    }
    let mut response = Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(json_header());
    if status == 405 {
        response = response
            .with_header(Header::from_bytes(&b"Allow"[..], &b"POST"[..]).expect("a valid header"));
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(target: "serve", "client went away before the answer: {e}");
    }
}

fn json_header() -> Header {
    Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("a valid header")
}

/// The status and JSON body for a request.
fn answer(request: &mut Request, batcher: &Batcher, http: &HttpOptions) -> (u16, Value) {
    let path = request.url().split('?').next().unwrap_or("");
    if path != "/" {
        return (
            404,
            error_body(&format!(
                "no such path {path:?}: llmstep's protocol is POST / with a JSON body"
            )),
        );
    }
    if request.method() != &Method::Post {
        return (
            405,
            error_body(&format!(
                "method {} is not allowed: use POST / with a JSON body",
                request.method()
            )),
        );
    }
    let limit = http.max_body_bytes;
    let too_large = || {
        (
            413,
            error_body(&format!(
                "the body is larger than {limit} bytes (the server's --max-body-bytes)"
            )),
        )
    };
    if request.body_length().is_some_and(|n| n > limit) {
        return too_large();
    }
    let mut body = Vec::new();
    if let Err(e) = request
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
    {
        return (400, error_body(&format!("cannot read the body: {e}")));
    }
    if body.len() > limit {
        return too_large();
    }
    let parsed = match parse_request(&body) {
        Ok(r) => r,
        Err(e) => return (400, error_body(&e.to_string())),
    };
    let receiver = match batcher.submit(parsed.prompt()) {
        Ok(r) => r,
        Err(busy) => return (503, error_body(&busy.to_string())),
    };
    match receiver.recv_timeout(http.timeout) {
        Ok(Ok(mut candidates)) => {
            append_listed_completions(&parsed.prefix, &mut candidates, &http.also_try);
            (200, response_body(&parsed.prefix, &candidates))
        }
        Ok(Err(reason)) => (500, error_body(&reason)),
        Err(RecvTimeoutError::Timeout) => (
            503,
            error_body(&format!(
                "the model did not answer within {:.1} s (the server's --timeout); try again or \
                 ask for fewer samples",
                http.timeout.as_secs_f64()
            )),
        ),
        Err(RecvTimeoutError::Disconnected) => (
            500,
            error_body("the model thread stopped; see the server log"),
        ),
    }
}
