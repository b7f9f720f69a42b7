//! Where a completions server is. Users give its URL the way their server prints it (vLLM:
//! `http://host:8000/v1`; Ollama: `http://localhost:11434/v1`; llama.cpp: `http://host:8080`)
//! or the whole `.../v1/completions` (or `.../v1/chat/completions`); all name the same routes.

use crate::openai::error::{Flags, RemoteError};

/// A server's OpenAI-compatible routes, from the URL a user gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as given (for messages).
    given: String,
    /// Scheme, host, port and any path before `/v1`, without a trailing slash.
    base: String,
}

impl Endpoint {
    /// Reads `url`, given with `flags.url`: http(s), with a host; a trailing
    /// `/v1/chat/completions`, `/v1/completions`, `/v1` or `/` is dropped.
    pub fn parse(url: &str, flags: &'static Flags) -> Result<Endpoint, RemoteError> {
        let bad = |reason: &str| RemoteError::BadUrl {
            flags,
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("it must start with http:// or https://"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad("it names no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("give the server's address without ?query or #fragment"));
        }
        let mut base = parsed.as_str().trim_end_matches('/').to_string();
        for suffix in ["/completions", "/chat", "/v1"] {
            if let Some(rest) = base.strip_suffix(suffix) {
                base = rest.trim_end_matches('/').to_string();
            }
        }
        Ok(Endpoint {
            given: url.trim().to_string(),
            base,
        })
    }

    /// The URL as the user gave it.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// `POST` here for completions.
    pub fn completions(&self) -> String {
        format!("{}/v1/completions", self.base)
    }

    /// `POST` here for chat completions (a list of messages in, one message out).
    pub fn chat_completions(&self) -> String {
        format!("{}/v1/chat/completions", self.base)
    }

    /// `GET` here for the served models.
    pub fn models(&self) -> String {
        format!("{}/v1/models", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_naming_a_server_reaches_the_same_routes() {
        for url in [
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/",
            "http://127.0.0.1:8000/v1",
            "http://127.0.0.1:8000/v1/",
            "http://127.0.0.1:8000/v1/completions",
            " http://127.0.0.1:8000/v1/completions/ ",
            "http://127.0.0.1:8000/v1/chat/completions",
        ] {
            let e = Endpoint::parse(url, &Flags::PREDICTOR).unwrap();
            assert_eq!(
                e.completions(),
                "http://127.0.0.1:8000/v1/completions",
                "{url}"
            );
            assert_eq!(e.models(), "http://127.0.0.1:8000/v1/models", "{url}");
            assert_eq!(
                e.chat_completions(),
                "http://127.0.0.1:8000/v1/chat/completions",
                "{url}"
            );
        }
        let behind_a_proxy =
            Endpoint::parse("https://example.org/llm/v1", &Flags::PREDICTOR).unwrap();
        assert_eq!(
            behind_a_proxy.completions(),
            "https://example.org/llm/v1/completions"
        );
    }

    #[test]
    fn urls_that_cannot_name_a_server_say_why() {
        for (url, why) in [
            ("localhost:8000", "http://"),
            ("ftp://host/v1", "http://"),
            ("http://", "empty host"),
            ("http://h:1/v1?x=1", "?query"),
            ("not a url", "relative URL"),
        ] {
            let err = Endpoint::parse(url, &Flags::PREDICTOR)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(why) && err.contains("--predictor-url"),
                "{url}: {err}"
            );
        }
    }
}
