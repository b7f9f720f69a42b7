//! A weight matrix's bytes: owned, or read in place from a file mapped into memory (a
//! quantized folder's interleaved levels, `io/quantized.rs`), so that loading a model copies
//! nothing and the operating system pages the weights in as the first step reads them, as
//! llama.cpp maps its GGUF. Kernels see a byte slice either way.

use std::ops::{Deref, Range};
use std::sync::Arc;

/// Bytes owned or borrowed from a shared owner (a memory-mapped file).
#[derive(Clone)]
pub enum WeightBytes {
    /// Bytes in memory of their own.
    Owned(Vec<u8>),
    /// `range` of the owner's bytes.
    Mapped {
        /// What holds the bytes (kept alive while any matrix reads it).
        owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
        /// Where the matrix's bytes lie in it.
        range: Range<usize>,
    },
}

impl Deref for WeightBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            WeightBytes::Owned(v) => v,
            WeightBytes::Mapped { owner, range } => &(**owner).as_ref()[range.clone()],
        }
    }
}

impl From<Vec<u8>> for WeightBytes {
    fn from(v: Vec<u8>) -> Self {
        WeightBytes::Owned(v)
    }
}

impl PartialEq for WeightBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for WeightBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WeightBytes::Owned(v) => write!(f, "WeightBytes::Owned({} bytes)", v.len()),
            WeightBytes::Mapped { range, .. } => {
                write!(f, "WeightBytes::Mapped({} bytes)", range.len())
            }
        }
    }
}
