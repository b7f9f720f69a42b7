//! A raw HTTP/1.1 client for the suggestion server's tests: whole exchanges on fresh
//! connections, answers read within a deadline, and telling whether the server closed a
//! connection. Raw sockets, so a test can send what no well-behaved client would.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One HTTP/1.1 exchange on a fresh connection: (status, body). Panics without an answer.
pub fn exchange(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    exchange_within(addr, method, path, body, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no answer to {method} {path} within 60 s"))
}

/// One HTTP/1.1 exchange on a fresh connection, or None when no answer came within `within`.
pub fn exchange_within(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    within: Duration,
) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A refused oversized body may be cut off by the server: that is fine.
    let _ = s.write_all(body);
    read_answer(&mut s, within)
}

/// The next answer on `stream` (status, body), or None when none came whole within `within`.
/// The body is read by its Content-Length; a server that closes the connection (even with a
/// reset) after answering still counts as having answered.
pub fn read_answer(stream: &mut TcpStream, within: Duration) -> Option<(u16, Vec<u8>)> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(answer) = whole_answer(&got) {
            return Some(answer);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return whole_answer(&got).or_else(|| head_only(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return whole_answer(&got).or_else(|| head_only(&got)),
        }
    }
}

/// Status and body once `got` holds a head and as many body bytes as it declares.
fn whole_answer(got: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = got.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&got[..end]).to_string();
    let status = status_of(&head)?;
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())?;
    let body = &got[end + 4..];
    (body.len() >= length).then(|| (status, body[..length].to_vec()))
}

/// Status and whatever body came, for an answer cut short by the connection closing.
fn head_only(got: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = got.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = status_of(&String::from_utf8_lossy(&got[..end]))?;
    Some((status, got[end + 4..].to_vec()))
}

fn status_of(head: &str) -> Option<u16> {
    head.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the server closes `stream` (end of stream or reset) within `within`; whatever it
/// sends before that is read and dropped.
pub fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}
