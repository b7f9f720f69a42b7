//! The training forward's linear layer `y = x · Wᵀ (+ b)` as one differentiable op (f32 on
//! the CPU). Candle's `Linear` reshapes `x` to rows, multiplies by the transposed view of `W`
//! and reshapes back: three graph nodes besides the product, whose gradients backprop makes
//! as fresh zeroed tensors and sums again (the transposed weight's with a strided pass). Here
//! the backward computes `dx = g · W` and `dW = gᵀ · x` straight into their final layouts, with
//! the same `gemm` kernel candle's matmul uses.

use candle_core::{CpuStorage, CustomOp2, Layout, Module, Shape, Tensor};
use candle_nn::Linear;

use crate::autograd::ops::{fused_ok, slice, with_f32, with_last_dim};
use crate::error::Result;
use crate::kernels::gemm_f32::{gtx, gw, xwt};

/// `lin` applied to `x: [.., in]` → `[.., out]`, differentiable in `x`, the weight and the
/// bias; candle's `Linear` off the CPU or for dtypes other than f32.
pub fn linear(lin: &Linear, x: &Tensor) -> Result<Tensor> {
    let w = lin.weight();
    if !fused_ok(x) || !fused_ok(w) {
        return Ok(lin.forward(x)?);
    }
    let y = x.contiguous()?.apply_op2(w, TrainLinear)?;
    Ok(match lin.bias() {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
}

/// The op: `x · Wᵀ` over the rows of `x`.
struct TrainLinear;

/// Rows of `x` and its feature count, from its layout.
fn rows_and_features(shape: &Shape) -> candle_core::Result<(usize, usize)> {
    let k = *shape
        .dims()
        .last()
        .ok_or_else(|| candle_core::Error::Msg("linear: x has no dimensions".into()))?;
    Ok((shape.elem_count() / k.max(1), k))
}

impl CustomOp2 for TrainLinear {
    fn name(&self) -> &'static str {
        "proofstep-train-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, k) = rows_and_features(l1.shape())?;
        let (n, kw) = l2.shape().dims2()?;
        if kw != k {
            candle_core::bail!("linear: x has {k} features, the weight {kw}");
        }
        let (x, w) = (slice(s1, l1, "x")?, slice(s2, l2, "the weight")?);
        let y = xwt(x, w, (m, k, n));
        Ok((CpuStorage::F32(y), with_last_dim(l1.shape(), n)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (m, k) = rows_and_features(x.shape())?;
        let n = w.dim(0)?;
        let (dx, dw) = with_f32(grad, |g| {
            with_f32(x, |xs| {
                with_f32(w, |ws| (gw(g, ws, (m, n, k)), gtx(g, xs, (m, n, k))))
            })
        })???;
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), x.device())?),
            Some(Tensor::from_vec(dw, (n, k), w.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::check;

    /// Output and the gradients of x, W and b equal those of candle's `Linear` (3-D input,
    /// with and without bias, a non-contiguous input).
    #[test]
    fn matches_candle_linear() {
        let plain = |t: &[Tensor]| Linear::new(t[1].clone(), None);
        check(
            &[&[3, 7, 13], &[11, 13]],
            |t| linear(&plain(t), &t[0]).unwrap(),
            |t| plain(t).forward(&t[0]).unwrap(),
        );
        let biased = |t: &[Tensor]| Linear::new(t[1].clone(), Some(t[2].clone()));
        check(
            &[&[7, 3, 13], &[11, 13], &[11]],
            |t| linear(&biased(t), &t[0].transpose(0, 1).unwrap()).unwrap(),
            |t| biased(t).forward(&t[0].transpose(0, 1).unwrap()).unwrap(),
        );
    }
}
