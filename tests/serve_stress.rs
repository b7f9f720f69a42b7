//! `proofstep serve` under clients that misbehave: slow clients dribbling their headers or body
//! do not hold up anyone else and are cut off at the client deadline; oversized heads get 431,
//! oversized bodies 413 without being read; at the connection limit a new client pushes out the
//! one waiting longest (503 only when all are at the model); and the server's memory stays
//! bounded while clients send endless headers and bodies. The model is an untrained one (its
//! suggestions are gibberish); every client loop here stops by itself, bounded in count and
//! time, and talks to 127.0.0.1 only.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::http_client::{closed_within, exchange, exchange_within, read_answer};
use proofstep::model::{Decoding, GenerateOptions, Generator};
use proofstep::serve::{BatchOptions, HttpOptions, SuggestServer};
use serde_json::{json, Value};

fn options() -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Sample {
            temperatures: vec![1.0],
            samples: 2,
            top_p: 1.0,
        },
        max_new_tokens: 4,
        seed: 7,
    }
}

/// An untrained model folder in a temporary directory (kept alive with it).
fn model() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = common::untrained_model(dir.path());
    (dir, model)
}

fn start(model: &Path, http: HttpOptions) -> SuggestServer {
    let generator = Arc::new(Generator::load(model).unwrap());
    SuggestServer::start(
        "127.0.0.1:0",
        generator,
        options(),
        BatchOptions::default(),
        http,
    )
    .unwrap()
}

fn good_request() -> Vec<u8> {
    json!({"tactic_state": "p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "prefix": ""})
        .to_string()
        .into_bytes()
}

fn error_of(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)));
    value["error"]
        .as_str()
        .expect("an error reason")
        .to_string()
}

/// How long a client here waits for the server to take a write before giving up on it, so a
/// server that stops reading cannot stall a test.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How a slow client sends its request.
#[derive(Clone, Copy, Debug)]
enum Dribble {
    /// The request line, then one header byte at a time, never ending the head.
    Head,
    /// A whole head declaring an 8000-byte body, then one body byte at a time.
    Body,
}

/// A slow client: connects, then sends one byte every `every` until `stop`, `lasting` has
/// passed, or the server closes; counts itself in `started` once its first bytes are out.
/// Returns the stream (for reading what the server said) after it stops sending.
fn dribbler(
    addr: SocketAddr,
    how: Dribble,
    every: Duration,
    lasting: Duration,
    started: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<TcpStream> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(WRITE_TIMEOUT)).unwrap();
        let head = match how {
            Dribble::Head => "POST / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".to_string(),
            Dribble::Body => "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n{".to_string(),
        };
        s.write_all(head.as_bytes()).unwrap();
        started.fetch_add(1, Ordering::SeqCst);
        let begun = Instant::now();
        while !stop.load(Ordering::SeqCst) && begun.elapsed() < lasting {
            std::thread::sleep(every);
            let byte: &[u8] = match how {
                Dribble::Head => b"a",
                Dribble::Body => b" ",
            };
            if s.write_all(byte).is_err() {
                break;
            }
        }
        s
    })
}

/// Waits until `count` clients have started (at most 10 s).
fn wait_started(started: &AtomicUsize, count: usize) {
    let begun = Instant::now();
    while started.load(Ordering::SeqCst) < count && begun.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        started.load(Ordering::SeqCst),
        count,
        "slow clients did not connect"
    );
}

#[test]
fn a_request_is_answered_promptly_while_64_slow_clients_dribble_heads_and_bodies() {
    let (_dir, model) = model();
    // The default limits: the slow clients would outlast the client deadline (10 s), and the
    // request must be answered long before either, not when they are cut off.
    let server = start(&model, HttpOptions::default());
    let addr = server.address();
    let started = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let slow: Vec<_> = (0..64)
        .map(|i| {
            let how = if i % 2 == 0 {
                Dribble::Head
            } else {
                Dribble::Body
            };
            dribbler(
                addr,
                how,
                Duration::from_millis(500),
                Duration::from_secs(20),
                started.clone(),
                stop.clone(),
            )
        })
        .collect();
    wait_started(&started, 64);
    std::thread::sleep(Duration::from_millis(500));
    let asked = Instant::now();
    let answer = exchange_within(addr, "POST", "/", &good_request(), Duration::from_secs(30));
    let waited = asked.elapsed();
    stop.store(true, Ordering::SeqCst);
    for h in slow {
        let _ = h.join();
    }
    let (status, body) = answer.expect("no answer within 30 s while 64 slow clients dribble");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        waited < Duration::from_secs(5),
        "the request waited {waited:?} behind 64 slow clients (they dribble for 20 s)"
    );
}

#[test]
fn slow_and_idle_clients_are_cut_off_at_the_client_deadline() {
    let (_dir, model) = model();
    let server = start(
        &model,
        HttpOptions {
            client_timeout: Duration::from_secs(1),
            ..HttpOptions::default()
        },
    );
    let addr = server.address();
    // Each would go on for 20 s; the deadline is 1 s.
    let lasting = Duration::from_secs(20);
    let every = Duration::from_millis(100);
    let started = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut idle = TcpStream::connect(addr).unwrap();
    let head = dribbler(
        addr,
        Dribble::Head,
        every,
        lasting,
        started.clone(),
        stop.clone(),
    );
    let body = dribbler(
        addr,
        Dribble::Body,
        every,
        lasting,
        started.clone(),
        stop.clone(),
    );
    wait_started(&started, 2);
    let begun = Instant::now();
    let idle_closed = closed_within(&mut idle, Duration::from_secs(5));
    // A dribbler stops by itself once the server has closed its connection.
    let mut head = head.join().unwrap();
    let mut body = body.join().unwrap();
    let took = begun.elapsed();
    stop.store(true, Ordering::SeqCst);
    assert!(idle_closed, "a connection that sends nothing was kept open");
    assert!(
        took < Duration::from_secs(8),
        "the slow clients were served for {took:?} (deadline 1 s, they dribble 20 s)"
    );
    assert!(closed_within(&mut head, Duration::from_secs(2)));
    let (status, reply) = read_answer(&mut body, Duration::from_secs(2))
        .expect("the slow body gets an answer before the connection closes");
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&reply));
    assert!(error_of(&reply).contains("--client-timeout"));
    // The server serves on.
    let (status, _) = exchange(addr, "POST", "/", &good_request());
    assert_eq!(status, 200);
}

/// Sends `head` and then `then` (a generator of further chunks, until it returns None) on a
/// fresh connection from a thread that stops at the first write error or after 10 s; returns a
/// second handle on the connection for reading.
fn sender(
    addr: SocketAddr,
    head: Vec<u8>,
    mut then: impl FnMut() -> Option<Vec<u8>> + Send + 'static,
) -> (TcpStream, JoinHandle<usize>) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(WRITE_TIMEOUT)).unwrap();
    let reader = s.try_clone().unwrap();
    let thread = std::thread::spawn(move || {
        let mut s = s;
        let begun = Instant::now();
        let mut sent = 0;
        if s.write_all(&head).is_err() {
            return sent;
        }
        sent += head.len();
        while begun.elapsed() < Duration::from_secs(10) {
            let Some(chunk) = then() else { break };
            if s.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    (reader, thread)
}

/// `count` chunks of `size` bytes of `byte`, then None.
fn chunks(count: usize, size: usize, byte: u8) -> impl FnMut() -> Option<Vec<u8>> + Send {
    let mut left = count;
    move || {
        (left > 0).then(|| {
            left -= 1;
            vec![byte; size]
        })
    }
}

#[test]
fn oversized_heads_get_431_and_the_connection_is_closed() {
    let (_dir, model) = model();
    let server = start(&model, HttpOptions::default());
    let addr = server.address();
    let limits = HttpOptions::default();
    // One endless header: up to 64 MiB in one value.
    let huge = b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Huge: ".to_vec();
    let (mut reader, thread) = sender(addr, huge, chunks(1024, 64 * 1024, b'a'));
    let answer = read_answer(&mut reader, Duration::from_secs(5));
    let closed = closed_within(&mut reader, Duration::from_secs(5));
    let sent = thread.join().unwrap();
    assert_eq!(answer.map(|a| a.0), Some(431), "a huge header");
    assert!(closed, "the connection stays open after a huge header");
    assert!(
        sent < 64 * 1024 * 1024,
        "all 64 MiB of the header were read"
    );
    // Too many small headers: the head itself is well under the byte limit.
    let mut many = b"POST / HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for i in 0..limits.max_headers * 3 {
        many.extend_from_slice(format!("X-Header-{i}: 1\r\n").as_bytes());
    }
    let body = good_request();
    many.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    many.extend_from_slice(&body);
    assert!(many.len() < limits.max_header_bytes);
    let (mut reader, thread) = sender(addr, many, || None);
    let answer = read_answer(&mut reader, Duration::from_secs(5));
    let closed = closed_within(&mut reader, Duration::from_secs(5));
    thread.join().unwrap();
    assert_eq!(answer.map(|a| a.0), Some(431), "too many headers");
    assert!(closed, "the connection stays open after too many headers");
    // A head within both limits is served.
    let mut fine = b"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
    for i in 0..limits.max_headers / 2 {
        fine.extend_from_slice(format!("X-Header-{i}: 1\r\n").as_bytes());
    }
    fine.extend_from_slice(format!("X-Long: {}\r\n", "b".repeat(8000)).as_bytes());
    fine.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    fine.extend_from_slice(&body);
    let (mut reader, thread) = sender(addr, fine, || None);
    let answer = read_answer(&mut reader, Duration::from_secs(30));
    thread.join().unwrap();
    assert_eq!(answer.map(|a| a.0), Some(200), "a head within the limits");
}

#[test]
fn a_body_over_the_limit_gets_413_without_being_read() {
    let (_dir, model) = model();
    let server = start(&model, HttpOptions::default());
    let addr = server.address();
    // A declared gigabyte, of which only a kilobyte is sent (then the client waits).
    let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\n\r\n".to_vec();
    let (mut reader, thread) = sender(addr, head, chunks(1, 1024, b' '));
    let answer = read_answer(&mut reader, Duration::from_secs(5));
    let closed = closed_within(&mut reader, Duration::from_secs(5));
    thread.join().unwrap();
    let (status, reply) = answer.expect("an answer to a declared gigabyte");
    assert_eq!(status, 413);
    assert!(error_of(&reply).contains("--max-body-bytes"));
    assert!(closed, "the server waits for the rest of a refused body");
    // A chunked body with no declared length, sent as fast as the server takes it (≤ 64 MiB).
    let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut left = 1024;
    let chunk = |left: &mut usize| {
        (*left > 0).then(|| {
            *left -= 1;
            let mut c = format!("{:x}\r\n", 64 * 1024).into_bytes();
            c.extend(std::iter::repeat_n(b' ', 64 * 1024));
            c.extend_from_slice(b"\r\n");
            c
        })
    };
    let (mut reader, thread) = sender(addr, head, move || chunk(&mut left));
    let answer = read_answer(&mut reader, Duration::from_secs(5));
    let closed = closed_within(&mut reader, Duration::from_secs(5));
    let sent = thread.join().unwrap();
    assert_eq!(answer.map(|a| a.0), Some(413), "an endless chunked body");
    assert!(closed, "the server reads on after refusing a chunked body");
    assert!(sent < 64 * 1024 * 1024, "all 64 MiB of the body were read");
}

#[test]
fn at_the_connection_limit_a_new_client_pushes_out_the_longest_waiting_one() {
    let (_dir, model) = model();
    let limit = 4;
    let server = start(
        &model,
        HttpOptions {
            max_connections: limit,
            ..HttpOptions::default()
        },
    );
    let addr = server.address();
    // Every place taken by a client that connects and sends nothing, oldest first.
    let mut idle: Vec<TcpStream> = Vec::new();
    for _ in 0..limit {
        idle.push(TcpStream::connect(addr).unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = exchange_within(addr, "POST", "/", &good_request(), Duration::from_secs(10));
    assert_eq!(
        answer.map(|a| a.0),
        Some(200),
        "a client at the limit is served"
    );
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(2)),
        "the longest waiting connection gave way"
    );
    assert!(
        !closed_within(&mut idle[limit - 1], Duration::from_millis(300)),
        "the newest idle connection is kept"
    );
}

#[test]
fn at_the_connection_limit_with_every_request_at_the_model_a_new_client_gets_503() {
    let (_dir, model) = model();
    let limit = 2;
    let generator = Arc::new(Generator::load(&model).unwrap());
    // The batch window holds both requests at the model for 3 s.
    let server = SuggestServer::start(
        "127.0.0.1:0",
        generator,
        options(),
        BatchOptions {
            window: Duration::from_secs(3),
            ..BatchOptions::default()
        },
        HttpOptions {
            max_connections: limit,
            ..HttpOptions::default()
        },
    )
    .unwrap();
    let addr = server.address();
    let waiting: Vec<_> = (0..limit)
        .map(|_| std::thread::spawn(move || exchange(addr, "POST", "/", &good_request()).0))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let asked = Instant::now();
    let mut extra = TcpStream::connect(addr).unwrap();
    let answer = read_answer(&mut extra, Duration::from_secs(10));
    let waited = asked.elapsed();
    let (status, reply) = answer.expect("a client at the limit is answered, not left hanging");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&reply));
    assert!(error_of(&reply).contains("--max-connections"));
    assert!(
        waited < Duration::from_secs(2),
        "the refusal waited {waited:?} for the model"
    );
    for w in waiting {
        assert_eq!(w.join().unwrap(), 200, "a request at the model was dropped");
    }
    let (status, _) = exchange(addr, "POST", "/", &good_request());
    assert_eq!(status, 200, "the server serves on once the model is done");
}

/// `proofstep serve` as a child process, killed when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_binary(model: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args([
            "serve",
            "--port",
            "0",
            "-n",
            "2",
            "--max-new-tokens",
            "4",
            "--model",
        ])
        .arg(model)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let event: Value = serde_json::from_str(&line).expect("a JSON line saying where it listens");
    let addr = event["address"].as_str().unwrap().parse().unwrap();
    Served { child, addr }
}

/// A field of /proc/PID/status in bytes (VmRSS: resident now; VmHWM: the peak so far).
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

/// A flooding client: for `lasting`, opens connection after connection and sends `head`
/// followed by endless copies of `chunk`, until the server closes each; at most `cap` bytes in
/// all. Returns the bytes handed to the kernel (what a server that reads everything would get).
fn flooder(
    addr: SocketAddr,
    head: &'static [u8],
    chunk: Vec<u8>,
    lasting: Duration,
    cap: usize,
) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let begun = Instant::now();
        let mut sent = 0;
        while begun.elapsed() < lasting && sent < cap {
            let Ok(mut s) = TcpStream::connect(addr) else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            s.set_write_timeout(Some(WRITE_TIMEOUT)).unwrap();
            if s.write_all(head).is_err() {
                continue;
            }
            sent += head.len();
            while begun.elapsed() < lasting && sent < cap {
                if s.write_all(&chunk).is_err() {
                    break;
                }
                sent += chunk.len();
            }
        }
        sent
    })
}

/// The bound stated for the server: its peak resident memory while flooded stays within this
/// much of what it used after its first answer (the defaults allow 256 connections of at most
/// 16 KiB of head and 64 KiB of body each: about 20 MiB of buffers at the very worst).
const FLOOD_GROWTH_BOUND: u64 = 64 * 1024 * 1024;

#[test]
fn the_servers_memory_stays_bounded_while_clients_send_endless_heads_and_bodies() {
    let (_dir, model) = model();
    let served = serve_binary(&model);
    let (status, _) = exchange(served.addr, "POST", "/", &good_request());
    assert_eq!(status, 200);
    let pid = served.child.id();
    let before = memory(pid, "VmRSS");
    let lasting = Duration::from_secs(4);
    let cap = 256 << 20;
    let chunked = {
        let mut c = format!("{:x}\r\n", 64 * 1024).into_bytes();
        c.extend(std::iter::repeat_n(b' ', 64 * 1024));
        c.extend_from_slice(b"\r\n");
        c
    };
    let floods: Vec<JoinHandle<usize>> = (0..4)
        .flat_map(|_| {
            [
                flooder(
                    served.addr,
                    b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Endless: ",
                    vec![b'a'; 64 * 1024],
                    lasting,
                    cap,
                ),
                flooder(
                    served.addr,
                    b"POST / HTTP/1.1\r\nHost: localhost\r\n",
                    b"X-Many: 1\r\n".repeat(6000),
                    lasting,
                    cap,
                ),
                flooder(
                    served.addr,
                    b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\n\r\n",
                    vec![b' '; 64 * 1024],
                    lasting,
                    cap,
                ),
                flooder(
                    served.addr,
                    b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
                    chunked.clone(),
                    lasting,
                    cap,
                ),
            ]
        })
        .collect();
    let sent: usize = floods.into_iter().map(|h| h.join().unwrap()).sum();
    let peak = memory(pid, "VmHWM");
    let (status, _) = exchange(served.addr, "POST", "/", &good_request());
    assert_eq!(status, 200, "the server stopped serving after the flood");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "flood: {:.0} MiB offered; server resident {:.1} MiB before, peak {:.1} MiB",
        mib(sent as u64),
        mib(before),
        mib(peak)
    );
    assert!(
        peak < before + FLOOD_GROWTH_BOUND,
        "the server's memory peaked at {:.1} MiB, from {:.1} MiB before {:.0} MiB were offered",
        mib(peak),
        mib(before),
        mib(sent as u64)
    );
}
