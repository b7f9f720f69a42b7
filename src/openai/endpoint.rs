//! Where a completions server is. Users give its URL the way their server prints it (vLLM:
//! `http://host:8000/v1`; Ollama: `http://localhost:11434/v1`; llama.cpp: `http://host:8080`)
//! or the whole `.../v1/completions` (or `.../v1/chat/completions`); all name the same routes.
//! A password in the URL (`http://user:secret@host/v1`, sent as basic authentication) is
//! never shown: messages, logs and the labels results record read `user:***@host`.

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
            given: shown(url.trim()),
            base,
        })
    }

    /// The URL as the user gave it, its password hidden (`shown`).
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

/// `url` as messages and records show it: a password in its authority replaced by `***`
/// (the user name kept, to tell accounts apart); any other text as it is.
pub fn shown(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let start = scheme_end + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let Some(at) = url[start..end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &url[start..start + at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_string();
    };
    format!(
        "{}{}:***{}",
        &url[..start],
        &userinfo[..colon],
        &url[start + at..]
    )
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
    fn a_password_in_the_url_is_never_shown() {
        assert_eq!(
            shown("http://me:s3cret@10.0.0.1:8000/v1/completions"),
            "http://me:***@10.0.0.1:8000/v1/completions"
        );
        assert_eq!(shown("https://me:a:b@h"), "https://me:***@h");
        for plain in [
            "http://h:1/v1",
            "http://me@h/v1",
            "http://h/a@b",
            "not a url",
        ] {
            assert_eq!(shown(plain), plain);
        }
        let e = Endpoint::parse("http://me:s3cret@h:1/v1", &Flags::PREDICTOR).unwrap();
        assert_eq!(e.given(), "http://me:***@h:1/v1");
        // The routes keep it: requests send it.
        assert_eq!(e.completions(), "http://me:s3cret@h:1/v1/completions");
        let err = RemoteError::Unavailable {
            flags: &Flags::PREDICTOR,
            url: e.completions(),
            models: e.models(),
            attempts: 1,
            reason: "x".into(),
        }
        .to_string();
        assert!(
            !err.contains("s3cret") && err.contains("me:***@h:1"),
            "{err}"
        );
        let err = Endpoint::parse("ftp://me:s3cret@h/v1", &Flags::PREDICTOR)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
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
