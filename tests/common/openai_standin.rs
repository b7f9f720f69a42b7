//! Stand-ins for third-party completions servers in the states this machine cannot produce
//! on demand from a real one: failing with 5xx, never answering, ignoring `n` (as
//! llama-cpp-python's server does), answering without log-probabilities. A plain HTTP/1.1
//! listener on 127.0.0.1 that answers each request as the test's closure says and records
//! what it was sent; it stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stand-in does with one request.
pub enum StandInReply {
    /// Answer with this status and JSON body.
    Answer(u16, String),
    /// Hold the connection without answering (until the client gives up or the stand-in stops).
    Hang,
}

impl StandInReply {
    /// HTTP 503 with an error message, as an overloaded server answers.
    pub fn busy() -> StandInReply {
        StandInReply::Answer(503, r#"{"error": {"message": "busy"}}"#.into())
    }
}

/// A request the stand-in received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST /v1/completions`, ...
    pub line: String,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

/// A running stand-in server.
pub struct StandInServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl StandInServer {
    /// Serves each request with `reply(index of the request, what was received)`.
    pub fn start(
        reply: impl Fn(usize, &Received) -> StandInReply + Send + Sync + 'static,
    ) -> StandInServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopping) = (received.clone(), stop.clone());
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (log, reply, stopping) = (log.clone(), reply.clone(), stopping.clone());
                        std::thread::spawn(move || serve(stream, &log, &*reply, &stopping));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        StandInServer {
            addr,
            received,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for StandInServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    reply: &(dyn Fn(usize, &Received) -> StandInReply + Send + Sync),
    stopping: &AtomicBool,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let received = Received {
            line: line.trim_end().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        };
        let index = {
            let mut log = log.lock().unwrap();
            log.push(received.clone());
            log.len() - 1
        };
        match reply(index, &received) {
            StandInReply::Answer(status, body) => {
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if writer.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            StandInReply::Hang => {
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        }
    }
}

/// A completions answer with one choice per text, each token scored `logprob` and ended by
/// the end token (as vLLM reports it).
pub fn answer_with(texts: &[&str], logprob: f64) -> String {
    let choices: Vec<serde_json::Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({
                "text": t, "index": i, "finish_reason": "stop",
                "logprobs": {"tokens": [t, "<|endoftext|>"], "token_logprobs": [logprob, logprob],
                             "top_logprobs": null, "text_offset": [0, t.len()]}
            })
        })
        .collect();
    serde_json::json!({"id": "cmpl-x", "object": "text_completion", "created": 0,
                       "model": "stand-in", "choices": choices})
    .to_string()
}
