//! HTTP to a completions server: JSON requests with a deadline each, retried with growing,
//! jittered pauses when the failure may pass (no connection, a deadline missed, 408, 429,
//! 5xx), and errors that say what failed and what to do. Answers are read up to a bound, so a
//! misbehaving server cannot grow the memory. A call a caller's deadline cuts short ends in
//! `RemoteError::OutOfTime` when it was only waiting for an answer, unless the server has had
//! a request and given nothing but failures to retry (silence, 5xx, 408, 429) for as long as a
//! request with all its retries may take (then `Unavailable`); and in
//! `RemoteError::CutAfterFailure` when the deadline cut the retries of a failure, which is
//! neither an answer nor a server known to be down (`eval` searches that theorem again on a
//! rerun rather than record it).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::{BlockingRetryable, ExponentialBuilder};

use crate::openai::error::{Flags, RemoteError};

/// The largest answer read (n choices of a few hundred tokens with log-probabilities take a
/// few hundred kilobytes).
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// The first pause before a retry; each later one doubles, up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(8);

/// How requests are made.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// How long one request may take, from connecting to the answer's last byte.
    pub timeout: Duration,
    /// Retries after a failure that may pass (so at most `retries + 1` requests).
    pub retries: usize,
    /// Sent as `Authorization: Bearer` when set.
    pub api_key: Option<String>,
    /// The flags that set it up, for its errors' advice.
    pub flags: &'static Flags,
}

/// A blocking HTTP client for one server.
pub struct Client {
    agent: ureq::Agent,
    options: ClientOptions,
    /// Since when the server has had a request and given no answer but a failure to retry
    /// (none, a 5xx, 408 or 429; None: it has answered since its last request, or none was
    /// sent). Time between requests (Lean's, while a search checks candidates) is not the
    /// server's silence.
    waiting_since: Mutex<Option<Instant>>,
}

/// One failed attempt, and whether another may succeed.
struct Failure {
    transient: bool,
    error: RemoteError,
}

impl Client {
    /// The flags that set it up.
    pub fn flags(&self) -> &'static Flags {
        self.options.flags
    }

    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Client {
        // No redirect is followed: ureq would follow a 302 to another host as a GET without
        // the prompt and take that host's answer for the model's.
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Client {
            agent,
            options,
            waiting_since: Mutex::new(None),
        }
    }

    /// `POST url` with a JSON body; the answer's body on success.
    pub fn post_json(
        &self,
        url: &str,
        models_url: &str,
        body: &impl serde::Serialize,
    ) -> Result<String, RemoteError> {
        self.post_json_until(url, models_url, body, None)
    }

    /// `post_json`, giving up at `deadline` (when given) with `RemoteError::OutOfTime`: each
    /// request's timeout and each pause before a retry end there. A server that has answered
    /// nothing for as long as one request with its retries may take (`timeout · (retries +
    /// 1)`) fails instead (`RemoteError::Unavailable`): one that accepts requests and never
    /// answers must stop an evaluation, not fill it with theorems out of time.
    pub fn post_json_until(
        &self,
        url: &str,
        models_url: &str,
        body: &impl serde::Serialize,
        deadline: Option<Instant>,
    ) -> Result<String, RemoteError> {
        let body = serde_json::to_string(body).map_err(|e| RemoteError::BadAnswer {
            flags: self.options.flags,
            url: url.to_string(),
            reason: format!("cannot write the request: {e}"),
        })?;
        self.with_retries(url, models_url, deadline, |timeout| {
            let mut request = self
                .agent
                .post(url)
                .config()
                .timeout_global(Some(timeout))
                .build()
                .header("content-type", "application/json");
            if let Some(key) = &self.options.api_key {
                request = request.header("authorization", &format!("Bearer {key}"));
            }
            request.send(body.as_str())
        })
    }

    /// `GET url`; the answer's body on success.
    pub fn get(&self, url: &str, models_url: &str) -> Result<String, RemoteError> {
        self.with_retries(url, models_url, None, |_| {
            let mut request = self.agent.get(url);
            if let Some(key) = &self.options.api_key {
                request = request.header("authorization", &format!("Bearer {key}"));
            }
            request.call()
        })
    }

    /// Makes the request until it succeeds, fails for good, or the retries run out.
    /// `send(timeout)` makes one request that may take `timeout`: the client's, or less where
    /// `deadline` comes first (a request cut short by it ends in `RemoteError::OutOfTime`).
    fn with_retries(
        &self,
        url: &str,
        models_url: &str,
        deadline: Option<Instant>,
        send: impl Fn(Duration) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<String, RemoteError> {
        let mut attempts = 0;
        // Why the last attempt of this call failed in a way worth retrying (no connection, a
        // request timed out, a 5xx, 408 or 429), when one did: the end of the call if the
        // deadline then cuts its retries (`RemoteError::CutAfterFailure`), neither an answer
        // nor a server known to be down.
        let mut last_failure: Option<String> = None;
        let attempt = || {
            let started = Instant::now();
            let left = deadline.map(|d| d.saturating_duration_since(started));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(cut_short_after(&last_failure, self.options.flags, url));
            }
            attempts += 1;
            self.waiting_since
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(started);
            let timeout = left.map_or(self.options.timeout, |l| l.min(self.options.timeout));
            let cut_short = timeout < self.options.timeout;
            let result = match send(timeout) {
                Ok(response) => {
                    // An answer, or a refusal retrying cannot change (a 404 for a route the
                    // server lacks), ends the wait; a 5xx, 408 or 429 does not.
                    let status = response.status().as_u16();
                    if !(status >= 500 || status == 408 || status == 429) {
                        *self.waiting_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    }
                    read(self.options.flags, url, models_url, response, cut_short)
                }
                Err(ureq::Error::Timeout(_)) if cut_short => Err(out_of_time()),
                Err(e) => Err(Failure {
                    transient: true,
                    error: unavailable(
                        self.options.flags,
                        url,
                        models_url,
                        transport_reason(&e, self.options.timeout, self.options.flags),
                    ),
                }),
            };
            let result = match result {
                Err(Failure {
                    error: RemoteError::OutOfTime,
                    ..
                }) => Err(cut_short_after(&last_failure, self.options.flags, url)),
                Err(failure) => {
                    if let (true, RemoteError::Unavailable { reason, .. }) =
                        (failure.transient, &failure.error)
                    {
                        last_failure = Some(reason.clone());
                    }
                    Err(failure)
                }
                ok => ok,
            };
            tracing::debug!(
                target: "remote",
                url = %crate::openai::endpoint::shown(url),
                ok = result.is_ok(),
                secs = started.elapsed().as_secs_f64(),
                "request"
            );
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(FIRST_PAUSE)
            .with_max_delay(MAX_PAUSE)
            .with_max_times(self.options.retries)
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .sleep(move |pause: Duration| {
                let left = deadline.map_or(pause, |d| d.saturating_duration_since(Instant::now()));
                std::thread::sleep(pause.min(left))
            })
            .when(|f: &Failure| f.transient)
            .notify(|f: &Failure, pause: Duration| {
                tracing::warn!(target: "remote", "{}; retrying in {:.1} s", f.error, pause.as_secs_f64())
            })
            .call();
        result.map_err(|f| match f.error {
            RemoteError::OutOfTime => self.out_of_time_or_silent(url, models_url),
            cut @ RemoteError::CutAfterFailure { .. } => {
                match self.out_of_time_or_silent(url, models_url) {
                    RemoteError::OutOfTime => cut,
                    silent => silent,
                }
            }
            RemoteError::Unavailable {
                flags,
                url,
                models,
                reason,
                ..
            } => RemoteError::Unavailable {
                flags,
                url,
                models,
                attempts,
                reason,
            },
            other => other,
        })
    }
}

impl Client {
    /// What a request the deadline cut short ends in: `OutOfTime` unless the server has had a
    /// request and answered none for the time one request and its retries may take
    /// (`Unavailable`).
    fn out_of_time_or_silent(&self, url: &str, models_url: &str) -> RemoteError {
        let silent = self
            .waiting_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(Duration::ZERO, |since| since.elapsed());
        let patience = self
            .options
            .timeout
            .saturating_mul(self.options.retries as u32 + 1);
        if silent < patience {
            return RemoteError::OutOfTime;
        }
        unavailable(
            self.options.flags,
            url,
            models_url,
            format!(
                "no answer for {:.0} s (nothing, or only failures worth retrying)",
                silent.as_secs_f64()
            ),
        )
    }
}

/// The body of a successful answer, or the failure its status says.
fn read(
    flags: &'static Flags,
    url: &str,
    models_url: &str,
    mut response: ureq::http::Response<ureq::Body>,
    cut_short: bool,
) -> Result<String, Failure> {
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        let to = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("nowhere named");
        return Err(Failure {
            transient: false,
            error: RemoteError::Refused {
                url: url.to_string(),
                status,
                message: format!("it redirects to {to}"),
                hint: format!(" (proofstep follows no redirect, which would drop the request's body or send it elsewhere: give {} the address it redirects to)", flags.url),
            },
        });
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string();
    if (200..300).contains(&status) {
        return body.map_err(|e| match e {
            // The deadline came while the answer was being read.
            ureq::Error::Timeout(_) if cut_short => out_of_time(),
            // The same request would get the same answer: not worth another download.
            ureq::Error::BodyExceedsLimit(_) => Failure {
                transient: false,
                error: RemoteError::BadAnswer {
                    flags,
                    url: url.to_string(),
                    reason: format!("the answer is longer than {MAX_ANSWER_BYTES} bytes"),
                },
            },
            e => Failure {
                transient: true,
                error: unavailable(
                    flags,
                    url,
                    models_url,
                    format!("the answer could not be read: {e}"),
                ),
            },
        });
    }
    let text = body.unwrap_or_default();
    let message = crate::openai::wire::error_message(&text).unwrap_or_else(|| {
        let head: String = text.chars().take(300).collect();
        if head.trim().is_empty() {
            "no reason given".to_string()
        } else {
            head
        }
    });
    let transient = matches!(status, 408 | 429) || status >= 500;
    let error = if transient {
        unavailable(flags, url, models_url, format!("HTTP {status}: {message}"))
    } else {
        RemoteError::Refused {
            url: url.to_string(),
            status,
            message,
            hint: match status {
                401 | 403 => format!(" (give the server's API key with {} VAR)", flags.key_env),
                404 => format!(
                    " (check {}: the server must offer {}; and {}, the name it serves)",
                    flags.url, flags.route, flags.model
                ),
                _ => String::new(),
            },
        }
    };
    Err(Failure { transient, error })
}

/// The end of a call whose deadline came before an attempt or cut one short: the failure
/// the retries were for, when an attempt of this call failed (`CutAfterFailure`), else
/// `OutOfTime` (which the silence check may still turn into a failure).
fn cut_short_after(last_failure: &Option<String>, flags: &'static Flags, url: &str) -> Failure {
    Failure {
        transient: false,
        error: match last_failure {
            Some(reason) => RemoteError::CutAfterFailure {
                flags,
                url: url.to_string(),
                reason: reason.clone(),
            },
            None => RemoteError::OutOfTime,
        },
    }
}

/// A request the caller's deadline cut short: final, not retried.
fn out_of_time() -> Failure {
    Failure {
        transient: false,
        error: RemoteError::OutOfTime,
    }
}

fn unavailable(flags: &'static Flags, url: &str, models_url: &str, reason: String) -> RemoteError {
    RemoteError::Unavailable {
        flags,
        url: url.to_string(),
        models: models_url.to_string(),
        attempts: 1,
        reason,
    }
}

/// What a transport error means to a user.
fn transport_reason(error: &ureq::Error, timeout: Duration, flags: &'static Flags) -> String {
    match error {
        ureq::Error::Timeout(_) => format!(
            "no answer within {:.1} s ({})",
            timeout.as_secs_f64(),
            flags.timeout
        ),
        ureq::Error::ConnectionFailed => "the connection failed".to_string(),
        other => other.to_string(),
    }
}
