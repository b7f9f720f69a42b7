//! One file per subcommand: its clap arguments and its `run`; the flag groups several of them
//! share are in `args`, where the default model lives in `default_model`, and how an error
//! becomes an exit code in `exit`.

pub mod args;
pub mod check;
pub mod completions;
pub mod corpus;
pub mod data;
pub mod default_model;
pub mod doctor;
pub mod eval;
pub mod eval_merge;
pub mod eval_overlap;
pub mod exit;
pub mod extract;
pub mod generate;
pub mod iterate;
pub mod lsp;
pub mod model;
pub mod prove;
pub mod refine;
pub mod serve;
pub mod tokenizer;
pub mod train;
pub mod whole_proof;

/// A reader that closes stdout early (`proofstep eval overlap A B | head`) ends the command
/// quietly, as it ends `cat`: Rust's `println!` panics on a closed pipe, and that panic exits
/// with no message and 141, the status of a process a closed pipe stops (never 0: a script
/// under `set -o pipefail` must not read a cut-off listing as success). Every other panic is
/// reported as before.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(exit::CLOSED_PIPE.into());
        }
        default(info);
    }));
}

/// Logs go to stderr, quiet by default (warnings only); `-v`/`-vv` or RUST_LOG raise them.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
