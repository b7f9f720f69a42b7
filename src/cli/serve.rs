//! `proofstep serve`: the suggestion server on localhost:6000 — llmstep's `POST /` and the
//! OpenAI completions API's `POST /v1/completions` — from a model folder or a served model.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use proofstep::model::Predictor;
use proofstep::serve::{BatchOptions, HttpOptions, SuggestServer};

use crate::cli::args::{
    load_model_dir, seconds, AlsoTryArgs, DecodingArgs, ModelOrDefault, RemoteArgs,
};

/// The smallest `--max-header-bytes` that still fits an llmstep request's head.
const MIN_HEADER_BYTES: usize = 1024;

/// Arguments of `proofstep serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Address to listen on. The default serves this machine only; use 0.0.0.0 to serve others
    /// (anyone who can reach the port can then use the model). llmstep's client and server
    /// read LLMSTEP_HOST too.
    #[arg(long, env = "LLMSTEP_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (llmstep's default; its client and server read LLMSTEP_PORT too). 0
    /// picks a free one.
    #[arg(long, env = "LLMSTEP_PORT", default_value_t = 6000)]
    pub port: u16,
    #[command(flatten)]
    pub decoding: DecodingArgs,
    #[command(flatten)]
    pub also_try: AlsoTryArgs,
    /// The largest request body accepted, in bytes; larger requests get 413.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers), in bytes; larger ones get 431.
    #[arg(long, default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// Seconds a client has to send a request's head, then its body (408 when late), and to
    /// take each write of the answer; a slower client's connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = seconds)]
    pub client_timeout: f64,
    /// Connections held open at once; at the limit a new one closes the one waiting longest for
    /// its client (a slow or idle one), or gets 503 when all have requests with the model.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Seconds a request may wait for the model before it gets 503.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = seconds)]
    pub timeout: f64,
    /// Milliseconds the first request of a batch waits for others to join it.
    #[arg(long, default_value_t = 5)]
    pub batch_window_ms: u64,
    /// The most requests decoded together.
    #[arg(long, default_value_t = 16)]
    pub max_batch: usize,
}

/// Runs `proofstep serve` until the process is stopped.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let generate = args.decoding.options()?;
    if args.max_body_bytes == 0 {
        bail!("--max-body-bytes must be at least 1");
    }
    if args.max_header_bytes < MIN_HEADER_BYTES {
        bail!("--max-header-bytes must be at least {MIN_HEADER_BYTES} (a request line and a few headers)");
    }
    if args.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    args.also_try.check()?;
    args.remote.refuse_beam(args.decoding.beam)?;
    let (predictor, model_name) = match args.remote.connect()? {
        Some(remote) => {
            let name = remote.model().unwrap_or("remote").to_string();
            (Box::new(remote) as Box<dyn Predictor>, name)
        }
        None => {
            let dir = args.model.dir()?;
            let mut name = dir
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "proofstep".into());
            // Reduced weights are another model to a client (and to an eval's fingerprint).
            let weights = args.model.weights()?;
            if weights.is_reduced() {
                name = format!("{name}-{weights}");
            }
            (load_model_dir(&dir, weights, args.model.device)?, name)
        }
    };
    let address = format!("{}:{}", args.host, args.port);
    let server = SuggestServer::start(
        &address,
        Arc::from(predictor),
        generate,
        BatchOptions {
            window: Duration::from_millis(args.batch_window_ms),
            max_batch: args.max_batch.max(1),
            ..BatchOptions::default()
        },
        HttpOptions {
            max_body_bytes: args.max_body_bytes,
            max_header_bytes: args.max_header_bytes,
            client_timeout: Duration::from_secs_f64(args.client_timeout),
            max_connections: args.max_connections,
            timeout: Duration::from_secs_f64(args.timeout),
            also_try: args.also_try.listed(),
            model_name,
            ..HttpOptions::default()
        },
    )
    .context("starting the suggestion server")?;
    let bound = server.address();
    tracing::info!(target: "serve", "serving suggestions on http://{bound}/");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::json!({"event": "listening", "address": bound.to_string(), "url": format!("http://{bound}/")})
    )?;
    out.flush()?;
    drop(out);
    eprintln!(
        "proofstep: serving llmstep suggestions on http://{bound}/ (for llmstep: LLMSTEP_HOST={} LLMSTEP_PORT={}) \
         and OpenAI completions on http://{bound}/v1",
        bound.ip(),
        bound.port()
    );
    server.wait();
    Ok(ExitCode::SUCCESS)
}
