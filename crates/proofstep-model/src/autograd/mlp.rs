//! The first half of the SwiGLU MLP in training as one differentiable op (f32 on the CPU):
//! `h = silu(y · W_gateᵀ) ⊙ (y · W_upᵀ)`. As two linear layers and a SwiGLU it is three graph
//! nodes whose gradients (the two largest activations of a layer, `[rows, ffn]` each, and two
//! gradients of `y` summed) backprop makes as fresh zeroed tensors and sums again; here the
//! backward computes `dg`, `du` once and multiplies them straight into `dW_gate = dgᵀ·y`,
//! `dW_up = duᵀ·y` and `dy = dg·W_gate + du·W_up`.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use candle_nn::Linear;

use crate::autograd::linear::linear;
use crate::autograd::ops::{
    fused_ok, slice, swiglu, swiglu_grad_rows, swiglu_rows, with_f32, with_last_dim,
};
use crate::error::Result;
use crate::kernels::gemm_f32::{gtx, gw, matmul_gw, xwt};

/// `silu(gate(y)) ⊙ up(y)` for `y: [.., d]` → `[.., ffn]`, differentiable in `y` and both
/// weights; the composed ops when a layer has a bias or the tensors are not f32 on the CPU.
pub fn gated_up(gate: &Linear, up: &Linear, y: &Tensor) -> Result<Tensor> {
    let (wg, wu) = (gate.weight(), up.weight());
    let plain = gate.bias().is_none() && up.bias().is_none();
    if !plain || !fused_ok(y) || !fused_ok(wg) || !fused_ok(wu) || wg.shape() != wu.shape() {
        return swiglu(&linear(gate, y)?, &linear(up, y)?);
    }
    let op = GatedUp {
        saved: Mutex::new(None),
    };
    Ok(y.contiguous()?.apply_op3(wg, wu, op)?)
}

/// The op; keeps the two projections `(g, u)` for the backward pass.
struct GatedUp {
    saved: Mutex<Option<(Vec<f32>, Vec<f32>)>>,
}

/// Rows and features of `y`, and the ffn width, checked against the weights' shapes.
fn dims(y: &Shape, w: &Shape) -> candle_core::Result<(usize, usize, usize)> {
    let d = *y.dims().last().unwrap_or(&0);
    let (f, dw) = w.dims2()?;
    if d == 0 || dw != d {
        candle_core::bail!("gated_up: y {y:?} for weights {w:?}");
    }
    Ok((y.elem_count() / d, d, f))
}

impl CustomOp3 for GatedUp {
    fn name(&self) -> &'static str {
        "proofstep-gated-up"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, d, f) = dims(l1.shape(), l2.shape())?;
        let y = slice(s1, l1, "y")?;
        let (wg, wu) = (slice(s2, l2, "gate")?, slice(s3, l3, "up")?);
        let (g, u) = (xwt(y, wg, (m, d, f)), xwt(y, wu, (m, d, f)));
        let h = swiglu_rows(&g, &u, f);
        *self.saved.lock().expect("saved lock") = Some((g, u));
        Ok((CpuStorage::F32(h), with_last_dim(l1.shape(), f)))
    }

    fn bwd(
        &self,
        y: &Tensor,
        wg: &Tensor,
        wu: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (m, d, f) = dims(y.shape(), wg.shape())?;
        let (g, u) = self
            .saved
            .lock()
            .expect("saved lock")
            .take()
            .ok_or_else(|| {
                candle_core::Error::Msg("gated_up: backward without a forward pass".into())
            })?;
        let (dg, du) = with_f32(grad, |dh| swiglu_grad_rows(&g, &u, dh, f))?;
        drop((g, u));
        let (dy, dwg, dwu) = with_f32(y, |ys| {
            with_f32(wg, |wgs| {
                with_f32(wu, |wus| {
                    let mut dy = gw(&dg, wgs, (m, f, d));
                    matmul_gw(&du, wus, (m, f, d), &mut dy, true);
                    (dy, gtx(&dg, ys, (m, f, d)), gtx(&du, ys, (m, f, d)))
                })
            })
        })???;
        let dev = y.device();
        Ok((
            Some(Tensor::from_vec(dy, y.shape(), dev)?),
            Some(Tensor::from_vec(dwg, (f, d), dev)?),
            Some(Tensor::from_vec(dwu, (f, d), dev)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::check;
    use candle_core::Module;

    /// Output and the gradients of y and both weights equal those of two candle linear
    /// layers and `silu(g) · u`.
    #[test]
    fn matches_two_linears_and_swiglu() {
        let lin = |w: &Tensor| Linear::new(w.clone(), None);
        check(
            &[&[2, 5, 7], &[12, 7], &[12, 7]],
            |t| gated_up(&lin(&t[1]), &lin(&t[2]), &t[0]).unwrap(),
            |t| {
                let g = lin(&t[1]).forward(&t[0]).unwrap();
                let u = lin(&t[2]).forward(&t[0]).unwrap();
                (candle_nn::ops::silu(&g).unwrap() * u).unwrap()
            },
        );
    }
}
