//! Why the remote predictor could not get candidates, each saying what to do about it.

use crate::openai::endpoint::shown;

/// The flags that set up one server's client, named in its errors' advice: the step
/// predictor's (`--predictor-*`) or `refine`'s whole-proof model (`--api-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags {
    /// Its URL flag.
    pub url: &'static str,
    /// Its model-name flag.
    pub model: &'static str,
    /// The flag naming the variable that holds its API key.
    pub key_env: &'static str,
    /// Its per-request timeout flag.
    pub timeout: &'static str,
    /// Its retries flag.
    pub retries: &'static str,
    /// The API route its requests go to.
    pub route: &'static str,
}

impl Flags {
    /// `--predictor-url` and its flags (`prove`, `eval`, `generate`, `serve`, `iterate`).
    pub const PREDICTOR: Flags = Flags {
        url: "--predictor-url",
        model: "--predictor-model",
        key_env: "--predictor-api-key-env",
        timeout: "--predictor-timeout",
        retries: "--predictor-retries",
        route: "/v1/completions",
    };
    /// `--api-url` and its flags (`refine`, `eval --mode refine`).
    pub const API: Flags = Flags {
        url: "--api-url",
        model: "--api-model",
        key_env: "--api-key-env",
        timeout: "--api-timeout",
        retries: "--api-retries",
        route: "/v1/chat/completions or /v1/completions (--api-kind)",
    };
}

/// A failure of the remote predictor.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server's URL flag does not give a server's URL.
    #[error("{} {:?} is not a server's URL ({reason}); give e.g. http://localhost:8000/v1", flags.url, shown(.url))]
    BadUrl {
        /// Whose URL.
        flags: &'static Flags,
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached, or kept failing, through every retry.
    #[error("the server at {} failed {attempts} time(s), the last: {reason}; check that the server is running and reachable (`curl {}` lists its models), or raise {} / {}", shown(.url), shown(.models), flags.timeout, flags.retries)]
    Unavailable {
        /// Whose server.
        flags: &'static Flags,
        /// The URL asked.
        url: String,
        /// The `/v1/models` URL, for the user to try.
        models: String,
        /// Requests made.
        attempts: usize,
        /// What went wrong the last time.
        reason: String,
    },
    /// The server refused the request (a 4xx other than 408 and 429): retrying cannot help.
    #[error("the server at {} refused the request with HTTP {status}: {message}{hint}", shown(.url))]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        message: String,
        /// What to change, when the status says.
        hint: String,
    },
    /// The answer is not the API's JSON.
    #[error("the server at {} answered something that is not an OpenAI-compatible answer ({reason}); point {} at an OpenAI-compatible server", shown(.url), flags.url)]
    BadAnswer {
        /// Whose server.
        flags: &'static Flags,
        /// The URL asked.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// The answer has no log-probabilities, which rank the candidates.
    #[error("the server at {} returned no log-probabilities although the request asked for them (\"logprobs\": 1); proofstep ranks candidates by them, so use a server that returns them on /v1/completions (vLLM, SGLang, llama.cpp's server, proofstep serve)", shown(.url))]
    NoLogprobs {
        /// The URL asked.
        url: String,
    },
    /// The server lists several models and none was chosen.
    #[error("the server at {} serves several models ({models}); choose one with {} NAME", shown(.url), flags.model)]
    WhichModel {
        /// Whose server.
        flags: &'static Flags,
        /// The server's URL.
        url: String,
        /// The models it lists.
        models: String,
    },
    /// `--predictor-api-key-env` names a variable that is not set.
    #[error("--predictor-api-key-env {0}: the variable is not set; export it with the server's API key (e.g. export {0}=sk-...)")]
    NoApiKey(String),
    /// `--predictor-extra` sets a field proofstep sets from its own flags.
    #[error("--predictor-extra sets \"{0}\", which proofstep sets from its own flags (--samples, --temperatures, --top-p, --max-tokens, --seed, --predictor-model); leave it out")]
    ExtraOverrides(String),
    /// The caller's deadline came while the server was failing (no connection, a request timed
    /// out, a 5xx, 408 or 429) and cut the retries that might have got an answer: no verdict on
    /// the server, and no answer to search with. `eval` records the theorem to be searched again
    /// (`TheoremRecord::retry`) instead of a search that never had its candidates.
    #[error("the server at {} failed ({reason}) and the time limit came before its retries: rerun to search again (eval does so for the theorems it marks), or raise {}", shown(.url), flags.retries)]
    CutAfterFailure {
        /// Whose server.
        flags: &'static Flags,
        /// The URL asked.
        url: String,
        /// The last failure.
        reason: String,
    },
    /// The caller's deadline came before the server answered any request of a call, and the
    /// server has answered none of the search's (or refine run's) before: nothing was learnt
    /// from the model, so there is no verdict. A hung server looks so until it has been silent
    /// for its whole patience. `eval` records the theorem to be searched again.
    #[error("the server at {} answered nothing before the time limit: check that it is up and not overloaded, or raise --time-limit; rerun to search again (eval does so for the theorems it marks)", shown(.url))]
    NoAnswerInTime {
        /// The URL asked.
        url: String,
    },
    /// The caller's deadline (a search's `--time-limit`) came before the server's answer; the
    /// predictor answers what it has instead (never shown as a failure).
    #[error("the time limit ran out before the server answered")]
    OutOfTime,
    /// Beam search was asked of a server.
    #[error("beam search (--beam) cannot run on a remote predictor: the completions API samples; use --samples and --temperatures instead (--temperatures 0 is greedy)")]
    Beam,
}
