//! A model for inference only as it loads (`CausalLm::load_held`): the precision its matrices
//! are held in, and the weight files they come from. A matrix is read as f32 and converted at
//! once (its f32 values dropped before the next is read), or — in a folder `proofstep model
//! quantize` wrote (`io/quantized.rs`) — taken as stored, already converted. When the load is
//! to be saved as such a folder, every tensor is also kept as the model holds it
//! (`Source::saving`), sharing the model's memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::arch::layers::INIT;
use crate::arch::precision::Precision;
use crate::arch::proj::Converted;
use crate::error::{ModelError, Result};
use crate::io::quantized;
use crate::io::stream::TensorStream;

/// A matrix as a held model keeps it.
#[derive(Clone)]
pub enum HeldMatrix {
    /// f32 (where the precision does not apply, and every norm and bias).
    F32(Tensor),
    /// Converted (bf16 or a block format).
    Converted(Arc<Converted>),
}

impl HeldMatrix {
    /// `w` converted to `p`, or `w` itself where `p` does not apply (`Converted::of`).
    pub fn of(w: Tensor, p: Precision) -> Result<Self> {
        Ok(match Converted::of(&w, p)? {
            Some(c) => HeldMatrix::Converted(Arc::new(c)),
            None => HeldMatrix::F32(w),
        })
    }
}

/// Where a held model's tensors come from, shared by the var-builder backend that hands out
/// f32 tensors and by [`Held::matrix`].
pub struct Source {
    /// The folder's weight files.
    pub stream: Mutex<TensorStream>,
    /// Scalars of the weights taken (a held model's parameter count).
    pub params: AtomicUsize,
    /// Every tensor as held, by name, when the load is to be saved.
    pub saved: Option<Mutex<BTreeMap<String, HeldMatrix>>>,
    /// The first error reading a tensor gave where candle's loader could only pass on its text
    /// (`Streamer`): the load reports it as it was, not as a mismatch with config.json.
    pub failure: Mutex<Option<ModelError>>,
}

impl Source {
    /// The tensors of `stream`; with `saving`, each kept as held (see `Source::take_saved`).
    pub fn new(stream: TensorStream, saving: bool) -> Self {
        Source {
            stream: Mutex::new(stream),
            params: AtomicUsize::new(0),
            saved: saving.then(|| Mutex::new(BTreeMap::new())),
            failure: Mutex::new(None),
        }
    }

    /// Records `name` as held (when saving).
    pub fn record(&self, name: &str, m: HeldMatrix) {
        if let Some(saved) = &self.saved {
            saved.lock().expect("lock").insert(name.to_string(), m);
        }
    }

    /// The tensors recorded so far, by name (empty unless saving).
    pub fn take_saved(&self) -> BTreeMap<String, HeldMatrix> {
        self.saved
            .as_ref()
            .map(|s| std::mem::take(&mut *s.lock().expect("lock")))
            .unwrap_or_default()
    }
}

/// How the model being loaded holds its matrices: the precision and the tensors' source.
#[derive(Clone)]
pub struct Held {
    precision: Precision,
    source: Arc<Source>,
}

impl Held {
    /// Matrices in `precision`, read from `source`.
    pub fn new(precision: Precision, source: Arc<Source>) -> Self {
        Held { precision, source }
    }

    /// The precision matrices are converted to.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The same source in the LM head's precision (`Precision::of_head`).
    pub fn for_head(&self) -> Held {
        Held {
            precision: self.precision.of_head(),
            source: self.source.clone(),
        }
    }

    /// The matrix `name` of `vb`, `[rows, cols]`, as the model holds it: stored converted in
    /// the folder, else read as f32 and converted to the precision (f32 where it does not
    /// apply, `Converted::of`). Fails on a missing tensor or another shape.
    pub fn matrix(
        &self,
        vb: &VarBuilder,
        (rows, cols): (usize, usize),
        name: &str,
    ) -> Result<HeldMatrix> {
        let prefix = vb.prefix();
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let stored = quantized::take(&mut self.source.stream.lock().expect("lock"), &full)?;
        let held = match stored {
            Some(c) => {
                if c.dims() != (rows, cols) {
                    return Err(ModelError::Quantized(format!(
                        "tensor {full} is stored as {:?}, config.json asks for {:?}",
                        c.dims(),
                        (rows, cols)
                    )));
                }
                if !c.is_rounding_of(self.precision) {
                    return Err(ModelError::Quantized(format!(
                        "tensor {full} is stored in another format than the folder's metadata \
                         names ({:?}); quantize the original model again with `proofstep model \
                         quantize`",
                        self.precision
                    )));
                }
                self.source.params.fetch_add(rows * cols, Ordering::Relaxed);
                HeldMatrix::Converted(Arc::new(c.for_this_cpu()?))
            }
            None => HeldMatrix::of(vb.get_with_hints((rows, cols), name, INIT)?, self.precision)?,
        };
        self.source.record(&full, held.clone());
        Ok(held)
    }
}
