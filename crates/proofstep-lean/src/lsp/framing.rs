//! LSP base-protocol framing (`Content-Length: N\r\n\r\n` followed by N bytes of JSON), the
//! one copy used by the Lean server client and by the editor proxy. Reading is bounded and
//! recovers from garbage:
//!
//! - a header block holds at most [`MAX_HEADER_BLOCK`] bytes in at most [`MAX_HEADERS`] lines,
//!   and a body at most [`MAX_BODY`] bytes; a body is read as its bytes arrive, never allocated
//!   at the claimed length;
//! - a frame whose header block is broken (a line that is not a header, a missing, non-numeric,
//!   repeated or over-the-cap Content-Length, too long, too many lines) is refused, and the next
//!   read skips to the next `Content-Length:` in the stream, searching from the second byte of
//!   the refused frame (so a frame glued behind junk is still found). A claimed length over the
//!   cap is skipped the same way rather than by discarding exactly that many bytes: a sender
//!   that lies about the length would otherwise have its next messages swallowed for as long
//!   as the lie, whereas the search passes a real over-long body in constant memory too (a
//!   JSON body cannot hold a `Content-Length:` line that parses: the string it sits in must
//!   close before the line ends);
//! - a body that is not JSON, or JSON that is not a JSON-RPC 2.0 message, is refused with the
//!   stream still in step; the error carries the JSON-RPC answer for its sender.
//!
//! Valid messages keep their body bytes exactly; their header is rewritten as the plain
//! `Content-Length: N`, the one spelling Lean's server reads (it stops on a `content-length:`
//! in lower case or one without the space, both valid LSP).

use std::io::{self, Read, Write};

use serde_json::Value;

use crate::lsp::jsonrpc::{self, INVALID_REQUEST, PARSE_ERROR};

/// The largest body accepted (64 MiB): far above any Lean file or answer, far below what a
/// garbage length could make the reader hold.
pub const MAX_BODY: usize = 64 << 20;
/// The most bytes a header block (its lines and the blank line ending it) may take.
pub const MAX_HEADER_BLOCK: usize = 8 << 10;
/// The most header lines a frame may have (LSP defines two).
pub const MAX_HEADERS: usize = 16;

/// What starts the header the reader skips to after a broken frame (compared ignoring case).
const HEADER_MARK: &[u8] = b"content-length:";

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The header block is not LSP; the next read skips to the next frame.
    #[error("not an LSP frame: {0}")]
    Header(String),
    /// The body is not JSON; the stream is still in step.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not a JSON-RPC message; the stream is still in step.
    #[error("the body is not a JSON-RPC message: {what}")]
    NotMessage {
        /// What is wrong with it.
        what: String,
        /// The id to answer it under.
        id: Value,
    },
    /// The stream ended inside a frame.
    #[error("the stream ended inside a {0}")]
    Truncated(&'static str),
    /// Reading failed.
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

impl FrameError {
    /// The JSON-RPC error answer for whoever sent the unreadable frame; None when the stream
    /// itself is over (nothing more can be read from it).
    pub fn answer(&self) -> Option<Value> {
        let (id, code) = match self {
            FrameError::Header(_) | FrameError::NotJson(_) => (Value::Null, PARSE_ERROR),
            FrameError::NotMessage { id, .. } => (id.clone(), INVALID_REQUEST),
            FrameError::Truncated(_) | FrameError::Io(_) => return None,
        };
        Some(jsonrpc::error_answer(
            id,
            code,
            &format!("{self}; the frame was dropped"),
        ))
    }
}

/// One JSON-RPC message with the exact bytes of its body.
#[derive(Clone, Debug)]
pub struct Frame {
    body: Vec<u8>,
    message: Value,
}

impl Frame {
    /// The frame for `message`.
    pub fn of(message: Value) -> Frame {
        let body = serde_json::to_vec(&message).expect("a JSON value serializes");
        Frame { body, message }
    }

    /// The message.
    pub fn message(&self) -> &Value {
        &self.message
    }

    /// The message, without the bytes.
    pub fn into_message(self) -> Value {
        self.message
    }

    /// The body exactly as it arrived.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes the frame and flushes.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        write!(out, "Content-Length: {}\r\n\r\n", self.body.len())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// Writes `message` as one frame and flushes.
pub fn write_message(out: &mut impl Write, message: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(&body)?;
    out.flush()
}

/// Reads frames from a byte stream, holding at most one header block of it ahead.
pub struct FrameReader<R> {
    input: R,
    /// Bytes read ahead; `buf[pos..]` are not used yet.
    buf: Vec<u8>,
    pos: usize,
    /// The last header block was refused: skip to the next `Content-Length:` first.
    resync: bool,
}

impl<R: Read> FrameReader<R> {
    /// A reader of `input` (unbuffered is fine: it reads ahead itself).
    pub fn new(input: R) -> FrameReader<R> {
        FrameReader {
            input,
            buf: Vec::with_capacity(MAX_HEADER_BLOCK),
            pos: 0,
            resync: false,
        }
    }

    /// Reads the next message: Ok(None) when the stream ends between frames. After a `Header`,
    /// `NotJson` or `NotMessage` error reading may go on; after `Truncated` or `Io` it may not.
    pub fn read(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.resync && !self.skip_to_header()? {
            return Ok(None);
        }
        if !self.skip_blank_lines()? {
            return Ok(None);
        }
        let (header_len, length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match httparse::parse_headers(self.held(), &mut headers) {
                Ok(httparse::Status::Complete((n, headers))) => break (n, content_length(headers)),
                Ok(httparse::Status::Partial) => {
                    if self.held().len() >= MAX_HEADER_BLOCK {
                        return Err(self.refuse(format!(
                            "a header block longer than {} KiB",
                            MAX_HEADER_BLOCK >> 10
                        )));
                    }
                    if self.fill()? == 0 {
                        return Err(FrameError::Truncated("header"));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(self.refuse(format!("more than {MAX_HEADERS} header lines")));
                }
                Err(e) => {
                    let line = first_line(self.held());
                    return Err(self.refuse(format!("{e} in the header line {line:?}")));
                }
            }
        };
        let length = match length {
            Ok(length) => length,
            Err(what) => {
                // A block with two lengths: its second would be found by the search and claim
                // bytes of the frames behind it, so skip the whole block first.
                if what == REPEATED_LENGTH {
                    self.consume(header_len - 1);
                }
                return Err(self.refuse(what));
            }
        };
        self.consume(header_len);
        let body = self.read_body(length)?;
        let message: Value =
            serde_json::from_slice(&body).map_err(|e| FrameError::NotJson(e.to_string()))?;
        if let Err(what) = jsonrpc::check_message(&message) {
            let id = jsonrpc::answer_id(&message);
            return Err(FrameError::NotMessage { what, id });
        }
        Ok(Some(Frame { body, message }))
    }

    fn held(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Reads more input behind the held bytes (at most up to one header block in all); Ok(0)
    /// at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        let held = self.buf.len();
        debug_assert!(held < MAX_HEADER_BLOCK, "the caller makes room first");
        self.buf.resize(MAX_HEADER_BLOCK, 0);
        let read = loop {
            match self.input.read(&mut self.buf[held..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(held + *read.as_ref().unwrap_or(&0));
        read
    }

    /// Drops blank lines between frames (harmless, and sent by some clients); false when the
    /// stream ends first.
    fn skip_blank_lines(&mut self) -> io::Result<bool> {
        loop {
            let blank = self
                .held()
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            self.consume(blank);
            if !self.held().is_empty() {
                return Ok(true);
            }
            if self.fill()? == 0 {
                return Ok(false);
            }
        }
    }

    /// Refuses the frame starting at the held bytes: the next read searches for a header from
    /// its second byte on.
    fn refuse(&mut self, what: String) -> FrameError {
        self.consume(1);
        self.resync = true;
        FrameError::Header(what)
    }

    /// Drops bytes up to the next `Content-Length:`, holding no more than one read of them;
    /// false when the stream ends first.
    fn skip_to_header(&mut self) -> io::Result<bool> {
        let mut skipped = 0u64;
        loop {
            let held = self.held();
            let found = memchr::memchr2_iter(b'c', b'C', held).find(|&i| {
                held[i..]
                    .get(..HEADER_MARK.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(HEADER_MARK))
            });
            let drop = found.unwrap_or(held.len().saturating_sub(HEADER_MARK.len() - 1));
            skipped += drop as u64;
            self.consume(drop);
            if found.is_some() {
                self.resync = false;
                tracing::debug!(target: "lsp_framing", "skipped {skipped} bytes to the next frame");
                return Ok(true);
            }
            if self.fill()? == 0 {
                return Ok(false);
            }
        }
    }

    /// Reads a body of `length` bytes as they arrive.
    fn read_body(&mut self, length: usize) -> Result<Vec<u8>, FrameError> {
        let from_held = length.min(self.held().len());
        let mut body = self.held()[..from_held].to_vec();
        self.consume(from_held);
        let rest = (length - from_held) as u64;
        let got = (&mut self.input).take(rest).read_to_end(&mut body)?;
        if got as u64 == rest {
            Ok(body)
        } else {
            Err(FrameError::Truncated("body"))
        }
    }
}

/// Why a header block with two Content-Length lines is refused.
const REPEATED_LENGTH: &str = "a frame with more than one Content-Length";

/// The one Content-Length of a header block, within the cap.
fn content_length(headers: &[httparse::Header]) -> Result<usize, String> {
    let mut lengths = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-length"));
    let Some(header) = lengths.next() else {
        return Err("a frame without Content-Length".into());
    };
    if lengths.next().is_some() {
        return Err(REPEATED_LENGTH.into());
    }
    let digits = header.value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        let value = quote(header.value);
        return Err(format!("Content-Length {value:?} is not a number of bytes"));
    }
    match std::str::from_utf8(digits).map(str::parse::<usize>) {
        Ok(Ok(n)) if n <= MAX_BODY => Ok(n),
        _ => Err(format!(
            "Content-Length {} is over the {} MiB cap",
            quote(digits),
            MAX_BODY >> 20
        )),
    }
}

/// The start of `bytes` up to its first line end, short enough to quote in a message.
fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    quote(&bytes[..end]).trim_end_matches('\r').to_string()
}

/// At most the first 80 bytes of `bytes`, as text.
fn quote(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    /// What one read gave: the message, or the error's answer code (0: the stream is over).
    #[derive(Debug, PartialEq)]
    enum Got {
        Message(Value),
        Refused(i64),
        Over,
        End,
    }

    /// Reads everything, `chunk` bytes per read of the underlying stream.
    fn read_all(bytes: &[u8], chunk: usize) -> Vec<Got> {
        let mut reader = FrameReader::new(Trickle {
            data: Cursor::new(bytes.to_vec()),
            chunk,
        });
        let mut got = Vec::new();
        loop {
            match reader.read() {
                Ok(Some(frame)) => got.push(Got::Message(frame.into_message())),
                Ok(None) => {
                    got.push(Got::End);
                    return got;
                }
                Err(e) => match e.answer() {
                    Some(answer) => {
                        got.push(Got::Refused(answer["error"]["code"].as_i64().unwrap()))
                    }
                    None => {
                        got.push(Got::Over);
                        return got;
                    }
                },
            }
        }
    }

    /// A stream that gives at most `chunk` bytes per read, as pipes may.
    struct Trickle {
        data: Cursor<Vec<u8>>,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk);
            self.data.read(&mut buf[..n])
        }
    }

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    fn ping() -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"s": "⊢ p ∧ q"}})
    }

    #[test]
    fn a_frame_with_two_lengths_is_refused_and_the_next_one_read() {
        let good = br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{}}"#;
        let mut raw = b"Content-Length: 2\r\nContent-Length: 900\r\n\r\n{}".to_vec();
        raw.extend(format!("Content-Length: {}\r\n\r\n", good.len()).as_bytes());
        raw.extend(good);
        let mut reader = FrameReader::new(std::io::Cursor::new(raw));
        assert!(matches!(reader.read(), Err(FrameError::Header(_))));
        let frame = reader.read().unwrap().expect("the next frame");
        assert_eq!(frame.message()["id"], 1);
    }

    #[test]
    fn messages_round_trip_whatever_the_read_sizes() {
        let mut bytes = Vec::new();
        write_message(&mut bytes, &ping()).unwrap();
        Frame::of(json!({"jsonrpc": "2.0", "method": "x", "params": null}))
            .write_to(&mut bytes)
            .unwrap();
        for chunk in [1, 7, 4096] {
            let got = read_all(&bytes, chunk);
            assert_eq!(got.len(), 3, "{got:?}");
            assert_eq!(got[0], Got::Message(ping()));
            assert_eq!(got[2], Got::End);
        }
    }

    #[test]
    fn bodies_keep_their_exact_bytes_and_lengths_count_bytes() {
        // Odd spacing, an extra header and escapes a re-serializer would change.
        let body = br#"{"jsonrpc":"2.0",  "method":"m","params":{"x":"\u22a2", "n": 1.50}}"#;
        let mut raw = format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        let mut reader = FrameReader::new(Cursor::new(raw));
        let frame = reader.read().unwrap().unwrap();
        assert_eq!(frame.body(), body);
        assert_eq!(frame.message()["params"]["x"], "⊢");
        let mut out = Vec::new();
        frame.write_to(&mut out).unwrap();
        let mut want = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        want.extend_from_slice(body);
        assert_eq!(out, want, "the header is rewritten, the body kept");
    }

    #[test]
    fn stray_blank_lines_between_frames_are_skipped() {
        let bytes = [
            b"\r\n".to_vec(),
            frame(&ping().to_string()),
            b"\n\r\n".to_vec(),
        ]
        .concat();
        assert_eq!(read_all(&bytes, 3), [Got::Message(ping()), Got::End]);
    }

    #[test]
    fn each_broken_frame_is_refused_and_the_next_one_is_read() {
        let long_line = format!("X-Padding: {}\r\n", "x".repeat(MAX_HEADER_BLOCK));
        let many_lines = "X-A: 1\r\n".repeat(MAX_HEADERS + 1);
        let cases: Vec<(&str, Vec<u8>, i64)> = vec![
            (
                "a line that is not a header",
                b"hello world\r\n".to_vec(),
                PARSE_ERROR,
            ),
            (
                "a non-numeric length",
                b"Content-Length: twelve\r\n\r\n{}".to_vec(),
                PARSE_ERROR,
            ),
            (
                "a signed length",
                b"Content-Length: +2\r\n\r\n{}".to_vec(),
                PARSE_ERROR,
            ),
            (
                "no length",
                b"Content-Type: x\r\n\r\n{\"a\": 1}".to_vec(),
                PARSE_ERROR,
            ),
            (
                "a length over the cap, its body never sent",
                b"Content-Length: 512000000\r\n\r\n{\"jsonrpc\":".to_vec(),
                PARSE_ERROR,
            ),
            (
                "a length past any integer",
                b"Content-Length: 99999999999999999999999999\r\n\r\n".to_vec(),
                PARSE_ERROR,
            ),
            (
                "an over-long header line",
                format!("Content-Length: 2\r\n{long_line}\r\n{{}}").into_bytes(),
                PARSE_ERROR,
            ),
            (
                "too many header lines",
                format!("{many_lines}\r\n{{}}").into_bytes(),
                PARSE_ERROR,
            ),
            ("a body that is not JSON", frame("hello"), PARSE_ERROR),
            (
                "a body of unfinished JSON",
                frame("{\"jsonrpc\""),
                PARSE_ERROR,
            ),
            (
                "JSON that is not an object",
                frame("[1, 2]"),
                INVALID_REQUEST,
            ),
            (
                "an object that is not a message",
                frame(r#"{"hello": 1}"#),
                INVALID_REQUEST,
            ),
        ];
        for (what, garbage, code) in cases {
            let bytes = [garbage, frame(&ping().to_string())].concat();
            for chunk in [1, 5, 8192] {
                let got = read_all(&bytes, chunk);
                assert_eq!(
                    got,
                    [Got::Refused(code), Got::Message(ping()), Got::End],
                    "{what}, read {chunk} bytes at a time"
                );
            }
        }
    }

    #[test]
    fn a_frame_glued_behind_junk_is_still_found() {
        let bytes = [b"oops".to_vec(), frame(&ping().to_string())].concat();
        // "oopsContent-Length" reads as an unknown header: the block has no length and is
        // refused, and the search from its second byte finds the frame inside it.
        assert_eq!(
            read_all(&bytes, 4096),
            [Got::Refused(PARSE_ERROR), Got::Message(ping()), Got::End]
        );
    }

    #[test]
    fn a_request_that_breaks_the_rules_is_refused_under_its_own_id() {
        let bytes = frame(r#"{"jsonrpc":"2.0","id":9,"method":"m","params":"x"}"#);
        let err = FrameReader::new(Cursor::new(bytes)).read().unwrap_err();
        let answer = err.answer().unwrap();
        assert_eq!(answer["id"], 9);
        assert_eq!(answer["error"]["code"], INVALID_REQUEST);
        assert!(answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("params"));
    }

    #[test]
    fn a_real_body_over_the_cap_is_passed_in_constant_memory() {
        let length = MAX_BODY + 1;
        let header = format!("Content-Length: {length}\r\n\r\n{{\"x\":\"");
        let stream = Cursor::new(header.into_bytes())
            .chain(io::repeat(b'x').take((length - 7) as u64))
            .chain(Cursor::new(b"\"}".to_vec()))
            .chain(Cursor::new(frame(&ping().to_string())));
        let mut reader = FrameReader::new(stream);
        assert!(matches!(reader.read(), Err(FrameError::Header(_))));
        assert_eq!(reader.read().unwrap().unwrap().into_message(), ping());
        assert!(reader.buf.capacity() <= MAX_HEADER_BLOCK);
        assert!(reader.read().unwrap().is_none());
    }

    /// A stream that claims a 60 MiB body, sends ten bytes of it and ends; it notes the largest
    /// buffer it was asked to fill.
    struct Liar {
        data: Cursor<Vec<u8>>,
        largest_read: usize,
    }

    impl Read for Liar {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.largest_read = self.largest_read.max(buf.len());
            self.data.read(buf)
        }
    }

    #[test]
    fn a_claimed_length_is_never_allocated_before_the_bytes_come() {
        let mut liar = Liar {
            data: Cursor::new(
                format!("Content-Length: {}\r\n\r\n0123456789", 60 << 20).into_bytes(),
            ),
            largest_read: 0,
        };
        let mut reader = FrameReader::new(&mut liar);
        assert!(matches!(reader.read(), Err(FrameError::Truncated("body"))));
        drop(reader);
        assert!(
            liar.largest_read <= 64 << 10,
            "asked to fill {} bytes",
            liar.largest_read
        );
    }

    #[test]
    fn a_stream_that_ends_inside_a_frame_is_over() {
        for cut in [
            &b"Content-Length: 2\r\n"[..],
            b"Content-Length: 10\r\n\r\n{}",
        ] {
            assert_eq!(read_all(cut, 4096), [Got::Over], "{cut:?}");
        }
        assert_eq!(read_all(b"", 1), [Got::End]);
        assert_eq!(
            read_all(b"Content-Length: x\r\n\r\nno frame follows", 3),
            [Got::Refused(PARSE_ERROR), Got::End]
        );
    }
}
