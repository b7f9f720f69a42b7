//! The suggestion server: llmstep's `POST /` with `{"tactic_state", "prefix", "context"}`
//! answers `{"suggestions": [...]}`, and the OpenAI completions API's `POST /v1/completions`
//! answers any OpenAI-style client (see `handler`). Connections are served by hyper on a small
//! tokio runtime, so a slow client costs a task, not a thread; each connection has deadlines
//! (its request head, then its body, must arrive within `client_timeout`, and each write of the
//! answer must be taken within it), its head is capped in bytes and header count (431), its body
//! in bytes (413), and at most `max_connections` are held at once (a new one pushes out the one
//! waiting longest for its client, see `slots`; it gets 503 when all are with the model), so the
//! server's memory stays bounded whatever clients send. The model runs on the batching thread.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::{oneshot, watch};
use tokio_io_timeout::TimeoutWriter;

use crate::model::{GenerateOptions, Predictor};
use crate::serve::batcher::{BatchOptions, Batcher};
use crate::serve::error::ServeError;
use crate::serve::handler::Handler;
use crate::serve::request::error_body;
use crate::serve::slots::{Slot, Slots};

/// Limits of the HTTP side, and what it adds to the model's answer.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// The largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers) accepted; larger ones get 431.
    pub max_header_bytes: usize,
    /// The most headers a request may have; more get 431.
    pub max_headers: usize,
    /// How long a client may take to send a request's head (counted from the connection or the
    /// previous answer), then its body (408), and to take each write of the answer; a slower
    /// client's connection is closed.
    pub client_timeout: Duration,
    /// Connections held open at once; at the limit a new connection closes the one waiting
    /// longest for its client, or gets 503 when every held one has a request with the model.
    pub max_connections: usize,
    /// How long a request may wait for the model before it gets 503.
    pub timeout: Duration,
    /// Tactics suggested besides the model's at every request (those extending its prefix),
    /// after the model's candidates at the score of the least likely one.
    pub also_try: Vec<String>,
    /// The model's name on the OpenAI routes (`/v1/models` lists it, answers carry it).
    pub model_name: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            client_timeout: Duration::from_secs(10),
            max_connections: 256,
            timeout: Duration::from_secs(30),
            also_try: Vec::new(),
            model_name: "proofstep".to_string(),
        }
    }
}

/// hyper's smallest read buffer; the header limit is enforced on its own below that.
const MIN_READ_BUFFER: usize = 8192;

/// Threads of the async runtime: connections are cheap tasks, the model has its own thread.
const RUNTIME_THREADS: usize = 2;

/// A running suggestion server. Dropping it (or `stop`) closes the socket and every connection,
/// and joins the batching thread.
pub struct SuggestServer {
    runtime: Option<Runtime>,
    address: SocketAddr,
    batcher: Arc<Batcher>,
    stop: watch::Sender<bool>,
    accept: Option<tokio::task::JoinHandle<()>>,
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
        let bind_error = |reason: String| ServeError::Bind {
            address: address.to_string(),
            reason,
        };
        let listener =
            std::net::TcpListener::bind(address).map_err(|e| bind_error(e.to_string()))?;
        let bound = listener
            .local_addr()
            .map_err(|e| bind_error(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| bind_error(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("proofstep-http")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| bind_error(format!("cannot start the async runtime: {e}")))?;
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(listener).map_err(|e| bind_error(e.to_string()))?
        };
        let batcher = Arc::new(Batcher::start(predictor, generate, batch));
        let handler = Arc::new(Handler {
            batcher: batcher.clone(),
            options: http,
        });
        let (stop, stopped) = watch::channel(false);
        let accept = runtime.spawn(accept_loop(listener, handler, stopped));
        Ok(SuggestServer {
            runtime: Some(runtime),
            address: bound,
            batcher,
            stop,
            accept: Some(accept),
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
        if let (Some(runtime), Some(accept)) = (&self.runtime, self.accept.take()) {
            let _ = runtime.block_on(accept);
        }
    }

    /// Stops accepting requests, closes every connection and joins the batching thread.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for SuggestServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(runtime) = self.runtime.take() {
            // Ends the accept loop and drops every connection's task (closing its socket).
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// Accepts connections until `stopped` says so; each gets a task while it holds a place.
async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Slots::new(handler.options.max_connections);
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted: wait
                // a little for descriptors to free instead of spinning.
                tracing::warn!(target: "serve", "cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match slots.take() {
            Some((slot, closing)) => {
                tokio::spawn(serve_connection(stream, handler.clone(), slot, closing));
            }
            None => {
                tokio::spawn(refuse_connection(stream, handler.options.max_connections));
            }
        }
    }
}

/// Serves one connection's requests under the limits, until the client is done, too slow, or
/// its place is taken (`closing`).
async fn serve_connection(
    stream: TcpStream,
    handler: Arc<Handler>,
    slot: Slot,
    closing: oneshot::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let options = &handler.options;
    let mut io = TimeoutWriter::new(stream);
    io.set_timeout(Some(options.client_timeout));
    let io = TokioIo::new(Box::pin(io));
    let service_handler = handler.clone();
    let slot = Arc::new(slot);
    let service = service_fn(move |request| {
        let handler = service_handler.clone();
        let slot = slot.clone();
        async move { Ok::<_, Infallible>(handler.respond(request, &slot).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(options.client_timeout)
        .max_headers(options.max_headers)
        .max_header_size(options.max_header_bytes)
        .max_buf_size(options.max_header_bytes.max(MIN_READ_BUFFER))
        .serve_connection(io, service);
    // The connection first: an answer handed to hyper is written in the same poll that made the
    // connection pushable again, before a push-out is looked at.
    tokio::select! {
        biased;
        served = connection => {
            if let Err(e) = served {
                tracing::debug!(target: "serve", "connection ended: {e}");
            }
        }
        _ = closing => {
            tracing::debug!(target: "serve", "closed a connection waiting for its client to make room for a new one");
        }
    }
}

/// Answers a connection that finds every place taken by a request with the model with 503,
/// and closes it without reading it.
async fn refuse_connection(mut stream: TcpStream, max_connections: usize) {
    let body = error_body(&format!(
        "all {max_connections} connections the server holds (its --max-connections) have \
         requests with the model; try again shortly"
    ))
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \
         {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tracing::info!(target: "serve", max_connections, "refused a connection: too many open");
    let write = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
