//! Bytes of a weight that may still be on their way from disk. A folder of converted matrices
//! (`io/quantized.rs`) hands its levels to a background reader and returns the model at once,
//! so loading costs the headers, not the 1–3 GB of levels, and the read overlaps whatever the
//! caller does next (starting Lean, the prompt's first layers). The first use of a matrix waits
//! for its bytes (`get`), in the order the layers run, so the first step pays for whatever part
//! of the read is still unfinished and every later step nothing. llama.cpp's mapped files behave
//! the same way; `benchmarks/real_size` reports load and load plus first run for both.

use std::sync::{Arc, OnceLock};

use crate::error::{ModelError, Result};

/// What the reader leaves: the bytes, or why it could not read them.
type Arrival = std::result::Result<AlignedBytes, String>;

/// Bytes whose first one sits on a cache line (64 bytes), so that no 32- or 64-byte load of
/// the kernels straddles two lines because of where the allocator put the buffer (it gives
/// 16-byte alignment: a large block starts 16 bytes into a page).
pub struct AlignedBytes {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

/// The alignment `AlignedBytes::zeroed` gives.
const LINE: usize = 64;

impl AlignedBytes {
    /// `len` zero bytes starting on a cache line.
    pub fn zeroed(len: usize) -> Self {
        let buf = vec![0u8; len + LINE - 1];
        let start = buf.as_ptr().align_offset(LINE).min(LINE - 1);
        AlignedBytes { buf, start, len }
    }

    /// `bytes` where the allocator put them.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        AlignedBytes {
            buf: bytes,
            start: 0,
            len,
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    /// The bytes, to fill.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

/// Bytes held, or arriving from a `PendingFill`. A clone shares them.
#[derive(Clone)]
pub struct PendingBytes {
    len: usize,
    cell: Arc<OnceLock<Arrival>>,
}

/// The writing end of `PendingBytes::pending`: `fill` hands the bytes over once. Dropped
/// unfilled (its reader stopped) it leaves an error, so a waiter never waits forever.
pub struct PendingFill {
    len: usize,
    cell: Arc<OnceLock<Arrival>>,
}

impl PendingBytes {
    /// Bytes already here.
    pub fn ready(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        let cell = OnceLock::new();
        let _ = cell.set(Ok(AlignedBytes::from_vec(bytes)));
        PendingBytes {
            len,
            cell: Arc::new(cell),
        }
    }

    /// `len` bytes to come through the returned `PendingFill`.
    pub fn pending(len: usize) -> (Self, PendingFill) {
        let cell = Arc::new(OnceLock::new());
        (
            PendingBytes {
                len,
                cell: cell.clone(),
            },
            PendingFill { len, cell },
        )
    }

    /// The number of bytes, arrived or not.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, once they are here (waits for the reader); the reader's error if it failed.
    pub fn get(&self) -> Result<&[u8]> {
        match self.cell.wait() {
            Ok(bytes) => Ok(bytes.as_slice()),
            Err(why) => Err(ModelError::Quantized(why.clone())),
        }
    }
}

impl std::fmt::Debug for PendingBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.cell.get() {
            None => "arriving",
            Some(Ok(_)) => "here",
            Some(Err(_)) => "failed",
        };
        write!(f, "PendingBytes({} bytes, {state})", self.len)
    }
}

/// Equal when both arrived with the same bytes. Waits for both; a failed read is equal to
/// nothing, itself included.
impl PartialEq for PendingBytes {
    fn eq(&self, other: &Self) -> bool {
        matches!((self.get(), other.get()), (Ok(a), Ok(b)) if a == b)
    }
}

impl PendingFill {
    /// The number of bytes promised.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are promised.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hands the read bytes, or the reason they could not be read, to every waiter. Bytes of
    /// another length than promised are refused with an error in their place.
    pub fn fill(self, arrival: Arrival) {
        let arrival = match arrival {
            Ok(b) if b.len != self.len => Err(format!(
                "the weight reader delivered {} bytes where {} were expected",
                b.len, self.len
            )),
            other => other,
        };
        let _ = self.cell.set(arrival);
    }

    /// Whether every `PendingBytes` of these bytes is gone (the model that wanted them was
    /// dropped), so reading them would be wasted; none can be made again.
    pub fn unwanted(&self) -> bool {
        Arc::strong_count(&self.cell) == 1
    }
}

impl Drop for PendingFill {
    fn drop(&mut self) {
        let _ = self.cell.set(Err(
            "the thread reading the model's weights stopped before reading them all; load the \
             model again"
                .into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiter_gets_bytes_filled_on_another_thread() {
        let (bytes, fill) = PendingBytes::pending(3);
        assert_eq!(bytes.len(), 3);
        let t = std::thread::spawn(move || fill.fill(Ok(AlignedBytes::from_vec(vec![1, 2, 3]))));
        assert_eq!(bytes.get().unwrap(), &[1, 2, 3]);
        t.join().unwrap();
    }

    #[test]
    fn a_failed_or_abandoned_read_is_an_error_not_a_hang() {
        let (a, fill) = PendingBytes::pending(3);
        fill.fill(Err("disk gone".into()));
        assert!(a.get().unwrap_err().to_string().contains("disk gone"));
        let (b, fill) = PendingBytes::pending(3);
        drop(fill);
        assert!(b
            .get()
            .unwrap_err()
            .to_string()
            .contains("load the model again"));
        let (c, fill) = PendingBytes::pending(3);
        fill.fill(Ok(AlignedBytes::from_vec(vec![1])));
        assert!(c.get().unwrap_err().to_string().contains("3 were expected"));
    }

    #[test]
    fn zeroed_bytes_start_on_a_cache_line() {
        for len in [0, 1, 100, 3 << 20] {
            let mut b = AlignedBytes::zeroed(len);
            assert_eq!(b.as_slice().len(), len);
            assert!(b.as_slice().iter().all(|&x| x == 0));
            assert_eq!(b.as_mut_slice().as_ptr() as usize % LINE, 0, "{len}");
        }
    }

    #[test]
    fn a_reader_learns_when_nobody_waits() {
        let (bytes, fill) = PendingBytes::pending(1);
        assert!(!fill.unwanted());
        drop(bytes);
        assert!(fill.unwanted());
        assert_eq!(PendingBytes::ready(vec![7]).get().unwrap(), &[7]);
    }
}
