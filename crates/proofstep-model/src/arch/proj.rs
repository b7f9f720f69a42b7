//! Projections and token embeddings as the forwards read them. A projection is the f32
//! `Linear` (training, prefill, `Precision::F32`), optionally with a copy of its weight that
//! inference reads instead (`set_precision`: bf16, exact Q4_1 / Q8_0 packings, Q8_0 / Q4_0 /
//! Q4_K roundings), or — in a model loaded with reduced `--weights` — only that converted matrix,
//! made while the model loads, with no f32 copy (`Proj::from_held`, `held.rs`). The embedding of such a model
//! is held the same way and decoded row by row; a tied LM head shares its matrix.
//! Off the CPU (a GPU) the row kernels do not apply: every product is candle's matmul, bf16
//! weights are a bf16 tensor on the device, and training may compute the products in half
//! precision from the f32 parameters (`Proj::set_autocast`, the trainer's --bf16 / --fp16).

use std::sync::Arc;

use candle_core::{DType, Module, Tensor, D};
use candle_nn::{Embedding, Init, Linear, VarBuilder};

use crate::arch::held::{Held, HeldMatrix};
use crate::arch::layers::{Mode, INIT};
use crate::arch::precision::Precision;
use crate::error::{ModelError, Result};
use crate::kernels::bf16::Bf16Matrix;
use crate::kernels::matvec::{linear_rows_many, with_values, RowWeights, MAX_ROWS};
use crate::kernels::q4::{Q40Matrix, Q4Matrix};
use crate::kernels::q4k::Q4KMatrix;
use crate::kernels::q8::Q8Matrix;
use crate::kernels::x8::{self, X8Kind, X8Matrix};

/// A weight matrix in the form the decoding kernel reads instead of f32.
pub enum Converted {
    /// bf16 values.
    Bf16(Bf16Matrix),
    /// Q4_1 blocks (exact packings).
    Q4(Q4Matrix),
    /// Q4_0 blocks (roundings).
    Q40(Q40Matrix),
    /// Q4_K super-blocks (roundings).
    Q4K(Q4KMatrix),
    /// Q8_0 blocks (exact packings or roundings).
    Q8(Q8Matrix),
    /// Q8_0 / Q4_0 roundings, eight rows interleaved (read with int8 activations).
    X8(X8Matrix),
    /// bf16 values on a GPU, read by candle's matrix product (half-precision compute).
    DeviceBf16(Tensor),
}

impl Converted {
    /// `w: [rows, cols]` in precision `p`; `None` where it does not apply: `F32`, a `Packed`
    /// matrix that is not exactly Q4_1 / Q8_0, a block format whose rows are not whole blocks
    /// of 32 (then the f32 weight is read). Q4_K rounds a matrix whose rows are not whole
    /// super-blocks of 256 to Q8_0, as llama.cpp falls back to a wider type there. Off the
    /// CPU only bf16 applies (Q8_0 / Q4_0 / Q4_K are CPU kernels: an error).
    pub fn of(w: &Tensor, p: Precision) -> Result<Option<Self>> {
        if !w.device().is_cpu() {
            return match p {
                Precision::F32 | Precision::Packed => Ok(None),
                Precision::Bf16 => Ok(Some(Converted::DeviceBf16(w.to_dtype(DType::BF16)?))),
                Precision::Q8_0 | Precision::Q4_0 | Precision::Q4K => Err(ModelError::Device(
                    format!("{p:?} weights are read by CPU kernels only; on a GPU use bf16 or f32"),
                )),
            };
        }
        Ok(match p {
            Precision::F32 => None,
            Precision::Packed => match Q4Matrix::pack_exact(w)? {
                Some(q) => Some(Converted::Q4(q)),
                None => Q8Matrix::pack_exact(w)?.map(Converted::Q8),
            },
            Precision::Bf16 | Precision::Q8_0 | Precision::Q4_0 | Precision::Q4K => {
                let (rows, cols) = w.dims2()?;
                with_values(w, |values| match p {
                    Precision::Bf16 => {
                        Some(Converted::Bf16(Bf16Matrix::from_values(values, rows, cols)))
                    }
                    Precision::Q8_0 => Q8Matrix::quantize(values, rows, cols).map(Converted::Q8),
                    Precision::Q4K => match Q4KMatrix::quantize(values, rows, cols) {
                        Some(q) => Some(Converted::Q4K(q)),
                        None => Q8Matrix::quantize(values, rows, cols).map(Converted::Q8),
                    },
                    _ => Q40Matrix::quantize(values, rows, cols).map(Converted::Q40),
                })?
                .map(Converted::for_this_cpu)
                .transpose()?
            }
        })
    }

    /// The same weights in the layout this CPU's decoding kernel reads fastest: ggml's
    /// Q8_0 / Q4_0 / Q4_K roundings interleaved on a CPU with AVX2 (rows a multiple of 8),
    /// row-major blocks elsewhere; other formats as they are. An error if interleaved levels
    /// to convert could not be read.
    pub fn for_this_cpu(self) -> Result<Self> {
        let fast = x8::available();
        Ok(match self {
            Converted::Q8(q) if fast => {
                X8Matrix::from_q8_0(&q).map_or(Converted::Q8(q), Converted::X8)
            }
            Converted::Q40(q) if fast => {
                X8Matrix::from_q4_0(&q).map_or(Converted::Q40(q), Converted::X8)
            }
            Converted::Q4K(q) if fast => {
                X8Matrix::from_q4_k(&q).map_or(Converted::Q4K(q), Converted::X8)
            }
            Converted::X8(x) if !fast => match x.kind {
                X8Kind::Q8_0 => Converted::Q8(x.to_q8_0()?),
                X8Kind::Q4_0 => Converted::Q40(x.to_q4_0()?),
                X8Kind::Q4K => Converted::Q4K(x.to_q4_k()?),
            },
            other => other,
        })
    }

    /// Whether these are what converting a matrix to `p` gives (either layout): how a folder
    /// of converted matrices is checked against the precision its metadata names. Q4_K
    /// includes the Q8_0 it falls back to.
    pub fn is_rounding_of(&self, p: Precision) -> bool {
        let kind = match self {
            Converted::X8(x) => Some(x.kind),
            _ => None,
        };
        match p {
            Precision::Bf16 => matches!(self, Converted::Bf16(_)),
            Precision::Q8_0 => matches!(self, Converted::Q8(_)) || kind == Some(X8Kind::Q8_0),
            Precision::Q4_0 => matches!(self, Converted::Q40(_)) || kind == Some(X8Kind::Q4_0),
            Precision::Q4K => {
                matches!(self, Converted::Q4K(_) | Converted::Q8(_))
                    || matches!(kind, Some(X8Kind::Q4K | X8Kind::Q8_0))
            }
            Precision::F32 | Precision::Packed => false,
        }
    }

    /// `(rows, cols)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            Converted::Bf16(m) => (m.rows, m.cols),
            Converted::Q4(m) => (m.rows, m.cols),
            Converted::Q40(m) => (m.rows, m.cols),
            Converted::Q4K(m) => (m.rows, m.cols),
            Converted::Q8(m) => (m.rows, m.cols),
            Converted::X8(m) => (m.rows, m.cols),
            Converted::DeviceBf16(t) => {
                let d = t.dims();
                (d[0], d[1])
            }
        }
    }

    /// Row `r` as f32 (an embedding lookup).
    pub fn row(&self, r: usize) -> Result<Vec<f32>> {
        Ok(match self {
            Converted::Bf16(m) => m.row(r),
            Converted::Q4(m) => m.row(r),
            Converted::Q40(m) => m.row(r),
            Converted::Q4K(m) => m.row(r),
            Converted::Q8(m) => m.row(r),
            Converted::X8(m) => m.row(r)?,
            Converted::DeviceBf16(t) => t.get(r)?.to_dtype(DType::F32)?.to_vec1()?,
        })
    }

    /// Bytes the matrix occupies.
    pub fn bytes(&self) -> usize {
        match self {
            Converted::Bf16(m) => 2 * m.data.len(),
            Converted::Q4(m) => 8 * m.scales.len() + m.nibbles.len(),
            Converted::Q40(m) => 4 * m.scales.len() + m.nibbles.len(),
            Converted::Q4K(m) => m.bytes(),
            Converted::Q8(m) => 4 * m.scales.len() + m.values.len(),
            Converted::X8(m) => m.bytes(),
            Converted::DeviceBf16(t) => 2 * t.elem_count(),
        }
    }

    /// The weights as the CPU row kernel reads them (`None` for a tensor on a GPU).
    fn row_weights(&self) -> Option<RowWeights<'_>> {
        match self {
            Converted::Bf16(h) => Some(RowWeights::Bf16(h)),
            Converted::Q4(q) => Some(RowWeights::Q4(q)),
            Converted::Q40(q) => Some(RowWeights::Q40(q)),
            Converted::Q4K(q) => Some(RowWeights::Q4K(q)),
            Converted::Q8(q) => Some(RowWeights::Q8(q)),
            Converted::X8(q) => Some(RowWeights::X8(q)),
            Converted::DeviceBf16(_) => None,
        }
    }
}

/// The error of a training forward on a model held in reduced precision.
fn not_trainable() -> ModelError {
    ModelError::Generate(
        "this model was loaded with reduced --weights (bf16, q8_0, q4_0 or q4_k) and holds no f32 \
         parameters; load it with --weights f32 (or auto) to train or to read its parameters"
            .into(),
    )
}

/// A projection `x · Wᵀ + b`: the f32 parameters and/or the converted weight inference reads.
pub struct Proj {
    /// The f32 parameters (`None` in a model held in reduced precision).
    lin: Option<Linear>,
    bias: Option<Tensor>,
    converted: Option<Arc<Converted>>,
    /// The dtype training multiplies in (mixed precision: the f32 weight and input cast to
    /// it, the product cast back to f32); `None` is f32 throughout.
    autocast: Option<DType>,
}

impl Proj {
    /// The projection `name` of `vb` (`name.weight: [out, inp]`, `name.bias: [out]` if
    /// `bias`), created as normal(0, 0.02) / zeros when the var map lacks it; with `held`,
    /// the weight as the held model keeps it (`Held::matrix`: converted, no f32 copy).
    pub fn new(
        vb: &VarBuilder,
        inp: usize,
        out: usize,
        bias: bool,
        name: &str,
        held: Option<&Held>,
    ) -> Result<Self> {
        let vb = vb.pp(name);
        let w = match held {
            Some(h) => h.matrix(&vb, (out, inp), "weight")?,
            None => HeldMatrix::F32(vb.get_with_hints((out, inp), "weight", INIT)?),
        };
        let b = if bias {
            Some(vb.get_with_hints(out, "bias", Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self::from_held(w, b))
    }

    /// A projection of an existing linear layer (f32).
    pub fn from_linear(lin: Linear) -> Self {
        Proj {
            bias: lin.bias().cloned(),
            lin: Some(lin),
            converted: None,
            autocast: None,
        }
    }

    /// A projection of a held matrix: only the converted weight (no f32 copy), or f32.
    pub fn from_held(w: HeldMatrix, bias: Option<Tensor>) -> Self {
        match w {
            HeldMatrix::Converted(c) => Proj {
                lin: None,
                bias,
                converted: Some(c),
                autocast: None,
            },
            HeldMatrix::F32(w) => Self::from_linear(Linear::new(w, bias)),
        }
    }

    /// The f32 layer; an error in a model held in reduced precision.
    pub fn lin(&self) -> Result<&Linear> {
        self.lin.as_ref().ok_or_else(not_trainable)
    }

    /// Whether inference reads a converted weight.
    pub fn is_converted(&self) -> bool {
        self.converted.is_some()
    }

    /// Chooses the weights inference reads beside the f32 parameters: a copy in `p` made now
    /// (call again after training changes them), none for `F32`. Returns whether a copy is
    /// in use (`Packed` keeps none when the weight is not exactly Q4_1 / Q8_0). An error in a
    /// model held in reduced precision (its precision was chosen when it loaded).
    pub fn set_precision(&mut self, p: Precision) -> Result<bool> {
        let w = self.lin()?.weight();
        self.converted = Converted::of(w, p)?.map(Arc::new);
        Ok(self.converted.is_some())
    }

    /// Training's products in `dtype` (bf16 / f16 mixed precision), or f32 (`None`).
    pub fn set_autocast(&mut self, dtype: Option<DType>) {
        self.autocast = dtype.filter(|&d| d != DType::F32);
    }

    /// Whether training multiplies in half precision.
    pub fn autocast(&self) -> Option<DType> {
        self.autocast
    }

    /// The weights as the CPU row kernel reads them; `None` for a GPU tensor.
    fn row_weights(&self) -> Result<Option<RowWeights<'_>>> {
        match &self.converted {
            Some(c) => Ok(c.row_weights()),
            None => Ok(Some(RowWeights::F32(self.lin()?.weight()))),
        }
    }

    /// `x · Wᵀ + b` by candle's matmul: training's differentiable product (in the autocast
    /// dtype when set), inference's f32 product, or the GPU's bf16 weight.
    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        match (mode, self.converted.as_deref(), self.autocast) {
            (Mode::Infer, Some(Converted::DeviceBf16(w)), _) => {
                half_linear(x, w, self.bias.as_ref())
            }
            (Mode::Train, _, Some(dtype)) => half_linear(
                x,
                &self.lin()?.weight().to_dtype(dtype)?,
                self.bias.as_ref(),
            ),
            (Mode::Train, _, None) => crate::autograd::linear::linear(self.lin()?, x),
            (Mode::Infer, _, _) => Ok(self.lin()?.forward(x)?),
        }
    }
}

/// `x · wᵀ + b` with `w` in half precision: `x` cast to `w`'s dtype, the product cast back to
/// f32 (differentiable through both casts).
fn half_linear(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let y = x
        .to_dtype(w.dtype())?
        .broadcast_matmul(&w.t()?)?
        .to_dtype(DType::F32)?;
    Ok(match bias {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
}

/// The token embedding: the f32 table, or a converted matrix decoded row by row.
pub enum Embed {
    /// The f32 table.
    F32(Embedding),
    /// Held in reduced precision (shared with a tied LM head).
    Converted(Arc<Converted>),
}

impl Embed {
    /// The embedding of table `[vocab, d]` as held: decoded row by row when converted.
    pub fn from_held(w: HeldMatrix) -> Result<Self> {
        Ok(match w {
            HeldMatrix::Converted(c) => Embed::Converted(c),
            HeldMatrix::F32(w) => {
                let d = w.dim(1)?;
                Embed::F32(Embedding::new(w, d))
            }
        })
    }

    /// An LM head tied to this embedding: the same matrix, no bias.
    pub fn tied_head(&self) -> Proj {
        match self {
            Embed::F32(e) => Proj::from_linear(Linear::new(e.embeddings().clone(), None)),
            Embed::Converted(c) => Proj {
                lin: None,
                bias: None,
                converted: Some(c.clone()),
                autocast: None,
            },
        }
    }

    /// The embeddings of `ids: [b, t]` (u32), `[b, t, d]`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Embed::F32(e) => Ok(e.forward(ids)?),
            Embed::Converted(c) => {
                let (vocab, d) = c.dims();
                let (b, t) = ids.dims2()?;
                let mut out = Vec::with_capacity(b * t * d);
                for id in ids.flatten_all()?.to_vec1::<u32>()? {
                    if id as usize >= vocab {
                        return Err(ModelError::Generate(format!(
                            "token id {id} is outside the vocabulary of {vocab}"
                        )));
                    }
                    out.extend(c.row(id as usize)?);
                }
                Ok(Tensor::from_vec(out, (b, t, d), ids.device())?)
            }
        }
    }
}

/// The token embedding `model.{embed}` and the LM head `{head}` of a model (`vb` at the root,
/// `model` at the architecture's prefix): the head tied to the embedding, or its own
/// projection. With `held`, both converted as read (the head, and a tied embedding, in
/// `Precision::of_head`). The head is read before the blocks, so converting its f32 values
/// (as large as the embedding's) overlaps only the embedding, not the whole converted model.
pub fn embedding_and_head(
    vb: &VarBuilder,
    model: &VarBuilder,
    (vocab, d): (usize, usize),
    tied: bool,
    embed: &str,
    head: &str,
    held: Option<&Held>,
) -> Result<(Embed, Proj)> {
    let table = match held {
        Some(h) if tied => h.for_head().matrix(model, (vocab, d), embed)?,
        Some(h) => h.matrix(model, (vocab, d), embed)?,
        None => HeldMatrix::F32(model.get_with_hints((vocab, d), embed, INIT)?),
    };
    let embed = Embed::from_held(table)?;
    let head = if tied {
        embed.tied_head()
    } else {
        Proj::new(vb, d, vocab, false, head, held.map(Held::for_head).as_ref())?
    };
    Ok((embed, head))
}

/// A linear layer: candle's matmul for training and prefill, the row kernel (`matvec.rs`)
/// for the few rows of a decoding step on the CPU (and for every inference row with a
/// converted CPU weight); candle's matmul for everything on a GPU.
pub fn linear(p: &Proj, x: &Tensor, mode: Mode) -> Result<Tensor> {
    Ok(linears(&[p], x, mode)?.pop().expect("one projection"))
}

/// Several projections of the same input (q/k/v, gate/up); in the row kernel they share
/// one parallel pass.
pub fn linears(ps: &[&Proj], x: &Tensor, mode: Mode) -> Result<Vec<Tensor>> {
    let rows = x.elem_count() / x.dim(D::Minus1)?;
    let converted = ps.iter().any(|p| p.is_converted());
    if mode == Mode::Infer && x.device().is_cpu() && (rows <= MAX_ROWS || converted) {
        let projs = ps
            .iter()
            .map(|p| Ok(p.row_weights()?.map(|w| (w, p.bias.as_ref()))))
            .collect::<Result<Option<Vec<_>>>>()?;
        if let Some(projs) = projs {
            return linear_rows_many(x, &projs);
        }
    }
    ps.iter().map(|p| p.forward(x, mode)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn weight(rows: usize, cols: usize) -> Tensor {
        let v: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919 % 613) as f32 - 306.0) * 1e-4)
            .collect();
        Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap()
    }

    #[test]
    fn a_held_projection_keeps_no_f32_weight_and_refuses_training() {
        let w = weight(8, 64);
        for p in [
            Precision::Bf16,
            Precision::Q8_0,
            Precision::Q4_0,
            Precision::Q4K,
        ] {
            let proj = Proj::from_held(HeldMatrix::of(w.clone(), p).unwrap(), None);
            assert!(proj.is_converted() && proj.lin.is_none(), "{p:?}");
            let err = proj.lin().unwrap_err().to_string();
            assert!(err.contains("--weights f32"), "{err}");
        }
        // Rows that are not whole blocks of 32 stay f32 for the block formats.
        let odd = Proj::from_held(
            HeldMatrix::of(weight(4, 40), Precision::Q8_0).unwrap(),
            None,
        );
        assert!(!odd.is_converted() && odd.lin.is_some());
    }

    #[test]
    fn a_converted_embedding_gives_each_rows_rounded_values_and_refuses_unknown_ids() {
        let w = weight(5, 64);
        let e = Embed::from_held(HeldMatrix::of(w.clone(), Precision::Q8_0).unwrap()).unwrap();
        let ids = Tensor::from_vec(vec![4u32, 0, 2], (1, 3), &Device::Cpu).unwrap();
        let got = e.forward(&ids).unwrap();
        let want = w.index_select(&ids.flatten_all().unwrap(), 0).unwrap();
        let diff = (got.squeeze(0).unwrap() - want)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff > 0.0 && diff < 3e-4, "{diff}");
        let bad = Tensor::from_vec(vec![5u32], (1, 1), &Device::Cpu).unwrap();
        let err = e.forward(&bad).unwrap_err().to_string();
        assert!(err.contains("outside the vocabulary"), "{err}");
        assert!(e.tied_head().is_converted());
    }

    fn max_abs(t: &Tensor) -> f32 {
        t.abs().unwrap().max_all().unwrap().to_scalar().unwrap()
    }

    /// The GPU's bf16 weight (a bf16 tensor read by candle's matmul) — here a CPU tensor, so
    /// the row kernel steps aside as it does on a GPU: close to the f32 product, with bias.
    #[test]
    fn a_device_bf16_weight_is_read_by_the_matmul_and_is_close_to_f32() {
        let (w, b) = (weight(48, 64), weight(1, 48).squeeze(0).unwrap());
        let x = (weight(3, 64) * 300.0).unwrap().unsqueeze(0).unwrap();
        let f32_proj = Proj::from_linear(Linear::new(w.clone(), Some(b.clone())));
        let half = Proj {
            lin: None,
            bias: Some(b),
            converted: Some(Arc::new(Converted::DeviceBf16(
                w.to_dtype(DType::BF16).unwrap(),
            ))),
            autocast: None,
        };
        let want = linear(&f32_proj, &x, Mode::Infer).unwrap();
        let got = linear(&half, &x, Mode::Infer).unwrap();
        assert_eq!(got.dims(), &[1, 3, 48]);
        assert_eq!(got.dtype(), DType::F32);
        let err = max_abs(&(&got - &want).unwrap()) / max_abs(&want);
        assert!(err > 0.0 && err < 1e-2, "relative error {err}");
    }

    /// Mixed-precision training's product: the f32 weight cast to bf16 / f16 on the way in,
    /// the result f32, close to the f32 product, and gradients reach the f32 weight.
    #[test]
    fn an_autocast_projection_multiplies_in_half_precision_and_trains_the_f32_weight() {
        let w = candle_core::Var::from_tensor(&weight(48, 64)).unwrap();
        let x = (weight(5, 64) * 300.0).unwrap();
        for dtype in [DType::BF16, DType::F16] {
            let mut proj = Proj::from_linear(Linear::new(w.as_tensor().clone(), None));
            let want = linear(&proj, &x, Mode::Train).unwrap();
            proj.set_autocast(Some(dtype));
            assert_eq!(proj.autocast(), Some(dtype));
            let got = linear(&proj, &x, Mode::Train).unwrap();
            assert_eq!(got.dtype(), DType::F32);
            let err = max_abs(&(&got - &want).unwrap()) / max_abs(&want);
            assert!(err > 0.0 && err < 1e-2, "{dtype:?}: relative error {err}");
            let grads = got.sum_all().unwrap().backward().unwrap();
            let g = grads
                .get(w.as_tensor())
                .expect("the f32 weight gets a gradient");
            assert_eq!(g.dtype(), DType::F32);
        }
        let mut proj = Proj::from_linear(Linear::new(w.as_tensor().clone(), None));
        proj.set_autocast(Some(DType::F32));
        assert_eq!(proj.autocast(), None, "f32 autocast is no autocast");
    }
}
