//! Why the remote predictor could not get candidates, each saying what to do about it.

/// A failure of the remote predictor.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// `--predictor-url` is not a server's URL.
    #[error("--predictor-url {url:?} is not a server's URL ({reason}); give e.g. http://localhost:8000/v1")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached, or kept failing, through every retry.
    #[error("the predictor at {url} failed {attempts} time(s), the last: {reason}; check that the server is running and reachable (`curl {models}` lists its models), or raise --predictor-timeout / --predictor-retries")]
    Unavailable {
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
    #[error("the predictor at {url} refused the request with HTTP {status}: {message}{hint}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        message: String,
        /// What to change, when the status says.
        hint: &'static str,
    },
    /// The answer is not the completions API's JSON.
    #[error("the predictor at {url} answered something that is not an OpenAI completions answer ({reason}); point --predictor-url at an OpenAI-compatible server")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// The answer has no log-probabilities, which rank the candidates.
    #[error("the predictor at {url} returned no log-probabilities although the request asked for them (\"logprobs\": 1); proofstep ranks candidates by them, so use a server that returns them on /v1/completions (vLLM, SGLang, llama.cpp's server, proofstep serve)")]
    NoLogprobs {
        /// The URL asked.
        url: String,
    },
    /// The server lists several models and none was chosen.
    #[error("the predictor at {url} serves several models ({models}); choose one with --predictor-model NAME")]
    WhichModel {
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
    /// Beam search was asked of a server.
    #[error("beam search (--beam) cannot run on a remote predictor: the completions API samples; use --samples and --temperatures instead (--temperatures 0 is greedy)")]
    Beam,
}
