//! LSP frames kept as the bytes that arrived (`Content-Length` header and body), so the proxy
//! forwards every message byte for byte and parses a copy only to look at it.

use std::io::{self, BufRead, Write};

use serde_json::Value;

/// The largest body accepted; a larger Content-Length is taken for a broken stream.
const MAX_BODY: usize = 512 << 20;

/// One message as read: the whole frame (headers and body) and where its body starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Header lines, blank line and body, exactly as received.
    pub bytes: Vec<u8>,
    /// Offset of the body in `bytes`.
    pub body_start: usize,
}

impl RawFrame {
    /// The JSON body bytes.
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body_start..]
    }

    /// The body parsed as JSON, or None when it is not JSON (it is still forwarded).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(self.body()).ok()
    }

    /// A frame holding `message`, written the way LSP peers expect.
    pub fn of(message: &Value) -> RawFrame {
        let body = serde_json::to_vec(message).expect("a JSON value serializes");
        let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        let body_start = bytes.len();
        bytes.extend_from_slice(&body);
        RawFrame { bytes, body_start }
    }

    /// Writes the frame and flushes.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.bytes)?;
        out.flush()
    }
}

/// Reads one frame; Ok(None) when the stream ends cleanly between frames. A stream that is not
/// LSP (no Content-Length, a header without a colon, a truncated body) is an `InvalidData` error.
pub fn read_raw_frame(input: &mut impl BufRead) -> io::Result<Option<RawFrame>> {
    let mut bytes = Vec::new();
    let mut length: Option<usize> = None;
    loop {
        let start = bytes.len();
        let n = input.read_until(b'\n', &mut bytes)?;
        if n == 0 {
            if bytes.is_empty() {
                return Ok(None);
            }
            return Err(invalid("the stream ended inside a header"));
        }
        if n > 8192 {
            return Err(invalid("a header line longer than 8 KiB"));
        }
        let line = &bytes[start..];
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if start == 0 {
                // Stray blank line between frames: tolerated, not forwarded.
                bytes.clear();
                continue;
            }
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(invalid(&format!("header line {text:?}")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| invalid(&format!("Content-Length {value:?}")))?;
            if n > MAX_BODY {
                return Err(invalid(&format!("Content-Length {n} is too large")));
            }
            length = Some(n);
        }
    }
    let length = length.ok_or_else(|| invalid("a frame without Content-Length"))?;
    let body_start = bytes.len();
    bytes.resize(body_start + length, 0);
    input.read_exact(&mut bytes[body_start..]).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            invalid("the stream ended inside a body")
        } else {
            e
        }
    })?;
    Ok(Some(RawFrame { bytes, body_start }))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not an LSP frame: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    #[test]
    fn frames_keep_their_exact_bytes() {
        // Odd spacing, an extra header and escapes a re-serializer would change.
        let body = br#"{"id":1,  "x":"\u22a2", "n": 1.50}"#;
        let mut raw = format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        let mut two = raw.clone();
        two.extend_from_slice(&raw);
        let mut input = Cursor::new(two);
        let a = read_raw_frame(&mut input).unwrap().unwrap();
        assert_eq!(a.bytes, raw);
        assert_eq!(a.body(), body);
        assert_eq!(a.json().unwrap()["x"], "⊢");
        assert_eq!(read_raw_frame(&mut input).unwrap().unwrap().bytes, raw);
        assert!(read_raw_frame(&mut input).unwrap().is_none());
    }

    #[test]
    fn written_frames_read_back() {
        let v = json!({"jsonrpc": "2.0", "method": "m", "params": {"s": "⟨h⟩"}});
        let f = RawFrame::of(&v);
        let mut out = Vec::new();
        f.write_to(&mut out).unwrap();
        let back = read_raw_frame(&mut Cursor::new(out)).unwrap().unwrap();
        assert_eq!(back.json().unwrap(), v);
    }

    #[test]
    fn broken_streams_are_errors() {
        for case in [
            &b"garbage\r\n\r\n"[..],
            b"Content-Type: x\r\n\r\n{}",
            b"Content-Length: 10\r\n\r\n{}",
            b"Content-Length: zz\r\n\r\n",
            b"Content-Length: 2\r\n",
        ] {
            let r = read_raw_frame(&mut Cursor::new(case.to_vec()));
            assert_eq!(
                r.unwrap_err().kind(),
                io::ErrorKind::InvalidData,
                "{case:?}"
            );
        }
    }
}
