//! `proofstep serve`: the llmstep-compatible suggestion server (`POST /` on localhost:6000).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use proofstep::serve::{BatchOptions, HttpOptions, SuggestServer};

use crate::cli::args::{AlsoTryArgs, DecodingArgs, ModelOrDefault};

/// Arguments of `proofstep serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub model: ModelOrDefault,
    /// Address to listen on. The default serves this machine only; use 0.0.0.0 to serve others
    /// (anyone who can reach the port can then use the model).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (llmstep's default; its client reads LLMSTEP_PORT). 0 picks a free one.
    #[arg(long, default_value_t = 6000)]
    pub port: u16,
    #[command(flatten)]
    pub decoding: DecodingArgs,
    #[command(flatten)]
    pub also_try: AlsoTryArgs,
    /// The largest request body accepted, in bytes; larger requests get 413.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request may wait for the model before it gets 503.
    #[arg(long, default_value_t = 30.0)]
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
    if args.timeout.is_nan() || args.timeout <= 0.0 {
        bail!("--timeout must be a positive number of seconds");
    }
    if args.max_body_bytes == 0 {
        bail!("--max-body-bytes must be at least 1");
    }
    args.also_try.check()?;
    let predictor = args.model.load()?;
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
            timeout: Duration::from_secs_f64(args.timeout),
            also_try: args.also_try.listed(),
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
        "proofstep: serving llmstep suggestions on http://{bound}/ (for llmstep: LLMSTEP_HOST={} LLMSTEP_PORT={})",
        bound.ip(),
        bound.port()
    );
    server.wait();
    Ok(ExitCode::SUCCESS)
}
