//! `RemotePredictor`: the `Predictor` of a model served elsewhere — vLLM, SGLang, TGI,
//! llama.cpp's server, Ollama, or another `proofstep serve` — through the OpenAI completions
//! API. The prompt is the local model's (`proofstep_core::prompt`), each temperature gets `n`
//! samples in one request (one request per sample for a server that ignores `n`), generation
//! stops at the format's end token, and a candidate's score is the mean of the log-probabilities
//! the server returns for its tokens — the end token's included when the server reports it
//! (vLLM and `proofstep serve` do; llama.cpp's servers leave it out, so their scores are the
//! mean over the text's tokens). Requests for different prompts and temperatures go out in
//! parallel, and the search asks for the next node's candidates while Lean checks the current
//! ones (`search::best_first`), so the server works while Lean does.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::model::{rank_candidates, Candidate, Decoding, GenerateOptions, Predictor};
use crate::openai::client::{Client, ClientOptions};
use crate::openai::endpoint::Endpoint;
use crate::openai::error::{Flags, RemoteError};
use crate::openai::wire::{CompletionRequest, CompletionResponse, OneOrMany, SET_BY_PROOFSTEP};
use crate::prompt::END_OF_TEXT;

/// Where the server is and how to talk to it.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// The server's URL (`http://host:8000/v1`, `http://host:8000`, or `.../v1/completions`).
    pub url: String,
    /// The served model's name; None: the one model the server lists at `/v1/models`.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer` when set.
    pub api_key: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Retries of a request that failed for a reason that may pass.
    pub retries: usize,
    /// Requests in flight at once per `generate` call.
    pub parallel: usize,
    /// Server-specific fields added to every request (none of `wire::SET_BY_PROOFSTEP`).
    pub extra: Map<String, Value>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            url: String::new(),
            model: None,
            api_key: None,
            timeout: Duration::from_secs(120),
            retries: 3,
            parallel: 8,
            extra: Map::new(),
        }
    }
}

/// A predictor whose model runs behind an OpenAI-compatible completions server.
pub struct RemotePredictor {
    client: Client,
    endpoint: Endpoint,
    model: Option<String>,
    parallel: usize,
    extra: Map<String, Value>,
    /// The server answered fewer choices than `n` asked for: ask one sample per request.
    ignores_n: AtomicBool,
    /// Requests sent so far (for logs and tests).
    requests: AtomicUsize,
    /// Prompts refused in a row (any answer resets it): past `REFUSED_IN_A_ROW`, the server
    /// refuses what proofstep asks, not the odd long prompt, and the run stops.
    refused_in_a_row: AtomicUsize,
}

/// How many prompts in a row a server may refuse, each while taking a short prompt asked the
/// same way, before that is the run's error (every prompt past its context once
/// `--max-tokens` nearly fills it, a proxy out of budget) rather than states with no
/// candidates.
const REFUSED_IN_A_ROW: usize = 16;

/// The candidates of one request, or why there are none.
type AskAnswer = Result<Vec<Candidate>, RemoteError>;

/// One request's worth of samples for one prompt at one temperature.
#[derive(Clone, Debug)]
struct Ask {
    prompt: usize,
    /// Which of the options' temperatures.
    round: usize,
    temperature: f32,
    n: usize,
    seed: u64,
}

impl RemotePredictor {
    /// Checks the URL and, without `options.model`, learns the served model's name from
    /// `/v1/models` (the one model listed; several is an error naming them; a server without
    /// that route is asked without a name). Fails when the server cannot be reached.
    pub fn connect(options: RemoteOptions) -> Result<RemotePredictor, RemoteError> {
        let endpoint = Endpoint::parse(&options.url, &Flags::PREDICTOR)?;
        if let Some(name) = SET_BY_PROOFSTEP
            .iter()
            .find(|name| options.extra.contains_key(**name))
        {
            return Err(RemoteError::ExtraOverrides(name.to_string()));
        }
        let client = Client::new(ClientOptions {
            timeout: options.timeout,
            retries: options.retries,
            api_key: options.api_key.clone(),
            flags: &Flags::PREDICTOR,
        });
        let model = match options.model {
            Some(name) => Some(name),
            None => served_model(&client, &endpoint)?,
        };
        Ok(RemotePredictor {
            client,
            endpoint,
            model,
            parallel: options.parallel.max(1),
            extra: options.extra,
            ignores_n: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
            refused_in_a_row: AtomicUsize::new(0),
        })
    }

    /// The model's name as the server knows it, when known.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The server's URL as given.
    pub fn url(&self) -> &str {
        self.endpoint.given()
    }

    /// Requests sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Whether the server was found to ignore `n` (so each sample is a request of its own).
    pub fn ignores_n(&self) -> bool {
        self.ignores_n.load(Ordering::Relaxed)
    }

    /// Candidates (text, score) of one request.
    fn ask(
        &self,
        prompt: &str,
        ask: &Ask,
        top_p: f32,
        max_tokens: usize,
        deadline: Option<Instant>,
    ) -> Result<Vec<Candidate>, RemoteError> {
        let url = self.endpoint.completions();
        let mut request = CompletionRequest::new(prompt);
        request.model = self.model.clone();
        request.max_tokens = Some(max_tokens);
        request.temperature = Some(ask.temperature);
        request.top_p = Some(top_p);
        request.n = Some(ask.n);
        request.stop = Some(OneOrMany::Many(vec![END_OF_TEXT.to_string()]));
        request.logprobs = Some(1);
        request.seed = Some(ask.seed);
        request.extra = self.extra.clone();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let body =
            self.client
                .post_json_until(&url, &self.endpoint.models(), &request, deadline)?;
        let answer: CompletionResponse =
            serde_json::from_str(&body).map_err(|e| RemoteError::BadAnswer {
                flags: &Flags::PREDICTOR,
                url: url.clone(),
                reason: e.to_string(),
            })?;
        // A server that answers no choice at all would leave every search empty-handed and
        // every theorem recorded "not proved": an error, not a 0 % evaluation.
        if answer.choices.is_empty() {
            return Err(RemoteError::BadAnswer {
                flags: &Flags::PREDICTOR,
                url,
                reason: format!("the answer has no choices, {} asked for", ask.n),
            });
        }
        let candidates = answer
            .choices
            .into_iter()
            .map(|choice| {
                let logprobs = choice
                    .logprobs
                    .ok_or_else(|| RemoteError::NoLogprobs { url: url.clone() })?;
                let values = logprobs.values();
                if values.is_empty() && !choice.text.is_empty() {
                    return Err(RemoteError::NoLogprobs { url: url.clone() });
                }
                // Log-probabilities are finite and at most 0 (a little above, for rounding):
                // another value would rank its candidate first.
                if let Some(v) = values.iter().find(|v| !v.is_finite() || **v > 1e-3) {
                    return Err(RemoteError::BadAnswer {
                        flags: &Flags::PREDICTOR,
                        url: url.clone(),
                        reason: format!(
                            "a log-probability of {v:?}, where they are finite and at most 0"
                        ),
                    });
                }
                // The mean, summed in parts so that large values cannot overflow.
                let n = values.len().max(1) as f64;
                let score = values.iter().map(|v| v / n).sum::<f64>();
                // A server that does not stop at a stop string leaves it, and what follows, in.
                let text = choice.text.split(END_OF_TEXT).next().unwrap_or_default();
                Ok(Candidate {
                    text: text.to_string(),
                    score,
                })
            })
            .collect::<Result<Vec<Candidate>, RemoteError>>()?;
        Ok(candidates)
    }

    /// Whether `err` refuses one prompt rather than every request asked so: a 400, 413 or 422
    /// (vLLM's 400 for a prompt past its context) for a request whose way of asking (`ask`'s
    /// n and temperature, `max_tokens`, `top_p`) the server takes with a short prompt, asked
    /// each time to tell, and not the `REFUSED_IN_A_ROW`-th refusal in a row. Any other
    /// refusal, or one the short prompt gets too (a flag the server rejects, `--max-tokens`
    /// past its context), is the run's.
    fn refuses_only_this_prompt(
        &self,
        err: &RemoteError,
        ask: &Ask,
        top_p: f32,
        max_tokens: usize,
        deadline: Option<Instant>,
    ) -> bool {
        if !matches!(
            err,
            RemoteError::Refused {
                status: 400 | 413 | 422,
                ..
            }
        ) {
            return false;
        }
        if self.refused_in_a_row.fetch_add(1, Ordering::Relaxed) + 1 >= REFUSED_IN_A_ROW {
            return false;
        }
        let short = crate::prompt::prompt("⊢ True");
        self.ask(&short, ask, top_p, max_tokens, deadline).is_ok()
    }

    /// Runs every ask, at most `parallel` at once; the answers in the order of `asks`.
    fn ask_all(
        &self,
        prompts: &[String],
        asks: &[Ask],
        top_p: f32,
        max_tokens: usize,
        deadline: Option<Instant>,
    ) -> Vec<AskAnswer> {
        let slots: Vec<Mutex<Option<AskAnswer>>> = asks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.parallel.min(asks.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(ask) = asks.get(i) else { break };
                    let answer = self.ask(&prompts[ask.prompt], ask, top_p, max_tokens, deadline);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
                });
            }
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or_else(|| Ok(Vec::new()))
            })
            .collect()
    }
}

impl Predictor for RemotePredictor {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        self.generate_by(prompts, options, None)
    }

    /// Stops waiting at `deadline`: a request it cuts short (and every one after it) adds no
    /// candidates, and the answer is what came before.
    fn generate_until(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        deadline: Instant,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        self.generate_by(prompts, options, Some(deadline))
    }
}

impl RemotePredictor {
    /// `generate`, up to `deadline` when given.
    fn generate_by(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
        deadline: Option<Instant>,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        let Decoding::Sample {
            temperatures,
            samples,
            top_p,
        } = &options.decoding
        else {
            return Err(RemoteError::Beam.into());
        };
        let mut found: Vec<Vec<Candidate>> = vec![Vec::new(); prompts.len()];
        if *samples == 0 || options.max_new_tokens == 0 {
            return Ok(found);
        }
        // Greedy samples are all the same: one is asked for.
        let wanted = |t: f32| if t <= 0.0 { 1 } else { *samples };
        let mut asks = Vec::new();
        for prompt in 0..prompts.len() {
            for (j, &temperature) in temperatures.iter().enumerate() {
                let n = wanted(temperature);
                if self.ignores_n() {
                    asks.extend((0..n).map(|k| Ask {
                        prompt,
                        round: j,
                        temperature,
                        n: 1,
                        seed: request_seed(options.seed, j, k),
                    }));
                } else {
                    asks.push(Ask {
                        prompt,
                        round: j,
                        temperature,
                        n,
                        seed: request_seed(options.seed, j, 0),
                    });
                }
            }
        }
        let mut follow_up = Vec::new();
        let mut answered = false;
        let refused_prompt = |e: &RemoteError, ask: &Ask| {
            self.refuses_only_this_prompt(e, ask, *top_p, options.max_new_tokens, deadline)
        };
        for (ask, answer) in
            asks.iter()
                .zip(self.ask_all(prompts, &asks, *top_p, options.max_new_tokens, deadline))
        {
            let candidates = match answer {
                // The search's time ran out (the client says whether the server is silent).
                Err(RemoteError::OutOfTime) => continue,
                // This state's prompt refused: no candidates for it, the search goes on.
                Err(e) if refused_prompt(&e, ask) => {
                    tracing::warn!(target: "remote", "{e}; no candidates for this state (the server takes a short prompt asked the same way)");
                    answered = true;
                    continue;
                }
                answer => answer?,
            };
            answered = true;
            self.refused_in_a_row.store(0, Ordering::Relaxed);
            if candidates.len() < ask.n {
                if !self.ignores_n.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        target: "remote",
                        "the predictor at {} answered {} of the {} samples asked for in one request; asking one sample per request from now on",
                        self.url(),
                        candidates.len(),
                        ask.n
                    );
                }
                follow_up.extend((candidates.len()..ask.n).map(|k| Ask {
                    n: 1,
                    seed: request_seed(options.seed, ask.round, k),
                    ..ask.clone()
                }));
            }
            found[ask.prompt].extend(candidates);
        }
        for (ask, answer) in follow_up.iter().zip(self.ask_all(
            prompts,
            &follow_up,
            *top_p,
            options.max_new_tokens,
            deadline,
        )) {
            match answer {
                Err(RemoteError::OutOfTime) => {}
                Err(e) if refused_prompt(&e, ask) => {}
                answer => found[ask.prompt].extend(answer?),
            }
        }
        // Cut before any answer: the caller tells whether that is its time running out (the
        // server answered it before) or a server that never answered (no verdict).
        if !answered {
            return Err(RemoteError::NoAnswerInTime {
                url: self.url().to_string(),
            }
            .into());
        }
        Ok(found.into_iter().map(rank_candidates).collect())
    }
}

/// The seed of the request for temperature `j`'s `k`-th sample (or all of them, k = 0): mixed
/// so neighbouring requests draw unrelated streams, and below 2³¹ (servers differ in how wide
/// a seed they take).
fn request_seed(seed: u64, j: usize, k: usize) -> u64 {
    // splitmix64's finalizer.
    let mut z = seed ^ ((j as u64) << 32) ^ k as u64;
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) & 0x7fff_ffff
}

/// The model a server lists at `/v1/models`, when it lists exactly one; None when it has no
/// such route (it is then asked without a name).
pub(crate) fn served_model(
    client: &Client,
    endpoint: &Endpoint,
) -> Result<Option<String>, RemoteError> {
    let url = endpoint.models();
    let body = match client.get(&url, &url) {
        Ok(body) => body,
        Err(RemoteError::Refused { status: 404, .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let listed: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| RemoteError::BadAnswer {
            flags: client.flags(),
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let names: Vec<String> = listed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    match names.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(RemoteError::WhichModel {
            flags: client.flags(),
            url: endpoint.given().to_string(),
            models: many.join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_seeds_differ_by_temperature_and_sample_and_fit_31_bits() {
        let mut seen = std::collections::HashSet::new();
        for j in 0..4 {
            for k in 0..16 {
                let s = request_seed(7, j, k);
                assert!(s < 1 << 31);
                assert!(seen.insert(s), "seed {s} repeats");
            }
        }
        assert_eq!(request_seed(7, 1, 2), request_seed(7, 1, 2));
        assert_ne!(request_seed(7, 0, 0), request_seed(8, 0, 0));
    }
}
