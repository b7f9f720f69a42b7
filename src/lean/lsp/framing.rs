//! LSP base-protocol framing: `Content-Length: N\r\n\r\n` followed by N bytes of JSON.
//! Kept apart from the process handling so the byte-level rules are tested on their own.

use std::io::{self, BufRead, Write};

use serde_json::Value;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream ended cleanly before a new frame began.
    #[error("the stream ended")]
    Eof,
    /// The bytes are not an LSP frame (no Content-Length, bad header, bad JSON).
    #[error("not an LSP frame: {0}")]
    Malformed(String),
    /// Reading failed.
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

/// The longest header line or body accepted; anything larger is treated as garbage rather than
/// allocated.
const MAX_BODY: usize = 256 << 20;

/// Reads one frame and parses its body as JSON.
pub fn read_frame(input: &mut impl BufRead) -> Result<Value, FrameError> {
    let mut length: Option<usize> = None;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        let n = input.read_line(&mut line)?;
        if n == 0 {
            return Err(if first {
                FrameError::Eof
            } else {
                FrameError::Malformed("the stream ended inside a header".into())
            });
        }
        first = false;
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        let Some((name, value)) = trimmed.split_once(':') else {
            return Err(FrameError::Malformed(format!("header line {trimmed:?}")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| FrameError::Malformed(format!("Content-Length {value:?}")))?;
            if n > MAX_BODY {
                return Err(FrameError::Malformed(format!(
                    "Content-Length {n} is too large"
                )));
            }
            length = Some(n);
        }
    }
    let length = length.ok_or_else(|| FrameError::Malformed("no Content-Length header".into()))?;
    let mut body = vec![0u8; length];
    input.read_exact(&mut body).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Malformed("the stream ended inside a body".into())
        } else {
            FrameError::Io(e)
        }
    })?;
    serde_json::from_slice(&body)
        .map_err(|e| FrameError::Malformed(format!("body is not JSON: {e}")))
}

/// Writes one message as a frame and flushes it.
pub fn write_frame(out: &mut impl Write, message: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(&body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    #[test]
    fn round_trips_messages_with_unicode() {
        let mut buf = Vec::new();
        let a = json!({"jsonrpc": "2.0", "id": 1, "result": {"goals": ["⊢ p ∧ q"]}});
        let b = json!({"jsonrpc": "2.0", "method": "x", "params": null});
        write_frame(&mut buf, &a).unwrap();
        write_frame(&mut buf, &b).unwrap();
        let mut r = Cursor::new(buf);
        assert_eq!(read_frame(&mut r).unwrap(), a);
        assert_eq!(read_frame(&mut r).unwrap(), b);
        assert!(matches!(read_frame(&mut r), Err(FrameError::Eof)));
    }

    #[test]
    fn length_counts_bytes_not_chars() {
        let body = r#"{"m":"⊢"}"#;
        let frame = format!(
            "Content-Length: {}\r\nContent-Type: x\r\n\r\n{body}",
            body.len()
        );
        let v = read_frame(&mut Cursor::new(frame.into_bytes())).unwrap();
        assert_eq!(v["m"], "⊢");
    }

    #[test]
    fn garbage_and_truncation_are_malformed() {
        let cases: [&[u8]; 4] = [
            b"hello world\n",
            b"Content-Length: 10\r\n\r\n{\"a\":",
            b"Content-Type: x\r\n\r\n{}",
            b"Content-Length: 2\r\n\r\n[}",
        ];
        for case in cases {
            let r = read_frame(&mut Cursor::new(case.to_vec()));
            assert!(
                matches!(r, Err(FrameError::Malformed(_))),
                "{case:?} gave {r:?}"
            );
        }
    }
}
