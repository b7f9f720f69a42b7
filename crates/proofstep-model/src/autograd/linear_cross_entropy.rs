//! The LM head and the cross-entropy as one differentiable operation: per row `i` of
//! `x: [n, d]`, `nll_i = logsumexp(x_i · Wᵀ) - (x_i · Wᵀ)[target_i]` for `W: [vocab, d]`.
//! The backward pass turns the `n × vocab` logits into `g_i · (softmax - one-hot)` in place
//! and multiplies them into `dx = dlogits · W` and `dW += dlogitsᵀ · x`. Up to `KEEP_ELEMS`
//! logits are kept from the forward pass; more are made a block of rows at a time in both
//! passes and never kept whole. Composed of candle ops, the logits (64 MB for 2,048 rows of an
//! 8,192 vocabulary, 400 MB for SmolLM2's 49,152) and their gradient would each be fresh
//! tensors, zeroed and summed again by backprop.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::autograd::ops::{slice, with_f32};
use crate::kernels::gemm_f32::{matmul_gtx, matmul_gw, matmul_xwt};

use crate::autograd::cross_entropy::{check_targets, row_grad, row_nll};

/// Most logits made at once when they are not kept (32 MB of f32).
const BLOCK_ELEMS: usize = 8 << 20;
/// Most logits kept from the forward pass for the backward pass (256 MB of f32).
const KEEP_ELEMS: usize = 64 << 20;

/// Per-row negative log-likelihood of `targets` under the logits `x · wᵀ` (`x: [n, d]`,
/// `w: [vocab, d]`, f32 on the CPU), differentiable in `x` and `w`; `[n]`.
pub fn linear_cross_entropy(
    x: &Tensor,
    w: &Tensor,
    targets: Vec<u32>,
) -> candle_core::Result<Tensor> {
    let (n, v) = (x.dim(0)?, w.dim(0)?);
    let block = if n * v <= KEEP_ELEMS {
        n * v
    } else {
        BLOCK_ELEMS
    };
    linear_cross_entropy_blocks(x, w, targets, block)
}

/// As `linear_cross_entropy`, making at most `block_elems` logits at once; when that covers
/// every row, the logits are kept for the backward pass (tests use small blocks to cross
/// block boundaries).
fn linear_cross_entropy_blocks(
    x: &Tensor,
    w: &Tensor,
    targets: Vec<u32>,
    block_elems: usize,
) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op2(
        &w.contiguous()?,
        LinearCrossEntropy {
            targets,
            block_elems,
            lse: Mutex::new(Vec::new()),
            kept: Mutex::new(None),
        },
    )
}

/// The fused op; remembers each row's log-sum-exp, and the logits when they fit in one
/// block, for the backward pass.
struct LinearCrossEntropy {
    targets: Vec<u32>,
    block_elems: usize,
    lse: Mutex<Vec<f32>>,
    kept: Mutex<Option<Vec<f32>>>,
}

/// Rows per block of logits.
fn block_rows(block_elems: usize, vocab: usize) -> usize {
    (block_elems / vocab.max(1)).max(1)
}

/// Logits of the `c` rows of `x` from row `r0` into `z` (`c × v`): `x[r0..r0 + c] · wᵀ`.
fn logits_block(
    x: &[f32],
    w: &[f32],
    (r0, c): (usize, usize),
    (d, v): (usize, usize),
    z: &mut [f32],
) {
    matmul_xwt(&x[r0 * d..], w, (c, d, v), z);
}

impl CustomOp2 for LinearCrossEntropy {
    fn name(&self) -> &'static str {
        "proofstep-linear-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, d) = l1.shape().dims2()?;
        let (v, dw) = l2.shape().dims2()?;
        if dw != d {
            candle_core::bail!("linear_cross_entropy: x has {d} features, the head {dw}");
        }
        check_targets("linear_cross_entropy", &self.targets, n, v)?;
        let (x, w) = (slice(s1, l1, "x")?, slice(s2, l2, "the head")?);
        let rows = block_rows(self.block_elems, v);
        let mut logits = vec![0f32; rows.min(n) * v];
        let (mut nll, mut lse) = (vec![0f32; n], vec![0f32; n]);
        for r0 in (0..n).step_by(rows) {
            let c = rows.min(n - r0);
            let z = &mut logits[..c * v];
            logits_block(x, w, (r0, c), (d, v), z);
            let z = &*z;
            nll[r0..r0 + c]
                .par_iter_mut()
                .zip(lse[r0..r0 + c].par_iter_mut())
                .enumerate()
                .for_each(|(k, (nl, ls))| {
                    (*nl, *ls) = row_nll(&z[k * v..(k + 1) * v], self.targets[r0 + k]);
                });
        }
        *self.lse.lock().expect("lse lock") = lse;
        if rows >= n {
            *self.kept.lock().expect("kept lock") = Some(logits);
        }
        Ok((CpuStorage::F32(nll), Shape::from(n)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (n, d) = x.dims2()?;
        let v = w.dim(0)?;
        let g: Vec<f32> = grad.to_vec1()?;
        let lse = self.lse.lock().expect("lse lock").clone();
        let rows = block_rows(self.block_elems, v);
        let kept = self.kept.lock().expect("kept lock").take();
        let recompute = kept.is_none();
        let mut logits = kept.unwrap_or_else(|| vec![0f32; rows.min(n) * v]);
        let (mut dx, mut dw) = (vec![0f32; n * d], vec![0f32; v * d]);
        with_f32(x, |xs| {
            with_f32(w, |ws| {
                for r0 in (0..n).step_by(rows) {
                    let c = rows.min(n - r0);
                    let z = &mut logits[..c * v];
                    if recompute {
                        logits_block(xs, ws, (r0, c), (d, v), z);
                    }
                    z.par_chunks_mut(v).enumerate().for_each(|(k, row)| {
                        let i = r0 + k;
                        row_grad(row, lse[i], g[i], self.targets[i]);
                    });
                    matmul_gw(z, ws, (c, v, d), &mut dx[r0 * d..], false);
                    matmul_gtx(z, &xs[r0 * d..], (c, v, d), &mut dw, r0 > 0);
                }
            })
        })??;
        Ok((
            Some(Tensor::from_vec(dx, (n, d), x.device())?),
            Some(Tensor::from_vec(dw, (v, d), w.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::cross_entropy::cross_entropy;
    use candle_core::{Device, Var};

    /// Values and both gradients equal those of the LM head's matmul followed by the fused
    /// cross-entropy, with blocks that split the rows unevenly and with one block.
    #[test]
    fn matches_matmul_then_cross_entropy() {
        let (n, d, v) = (37, 19, 53);
        let val = |i: usize, m: usize| ((i * m) % 1000) as f32 / 250.0 - 2.0;
        let xv: Vec<f32> = (0..n * d).map(|i| val(i, 7919)).collect();
        let wv: Vec<f32> = (0..v * d).map(|i| val(i, 104_729) * 0.5).collect();
        let targets: Vec<u32> = (0..n).map(|i| (i * 13 % v) as u32).collect();
        let weights: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 / n as f32).collect();
        let gw = Tensor::from_vec(weights, n, &Device::Cpu).unwrap();
        let run = |block: Option<usize>| {
            let x = Var::from_vec(xv.clone(), (n, d), &Device::Cpu).unwrap();
            let w = Var::from_vec(wv.clone(), (v, d), &Device::Cpu).unwrap();
            let nll = match block {
                Some(b) => {
                    linear_cross_entropy_blocks(x.as_tensor(), w.as_tensor(), targets.clone(), b)
                }
                None => cross_entropy(&x.matmul(&w.t().unwrap()).unwrap(), targets.clone()),
            }
            .unwrap();
            let grads = (nll.clone() * &gw)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let flat = |t: &Tensor| {
                grads
                    .get(t)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            };
            (
                nll.to_vec1::<f32>().unwrap(),
                flat(x.as_tensor()),
                flat(w.as_tensor()),
            )
        };
        let want = run(None);
        for block in [5 * v, 11 * v + 3, n * v, BLOCK_ELEMS] {
            let got = run(Some(block));
            for (a, b) in [(&got.0, &want.0), (&got.1, &want.1), (&got.2, &want.2)] {
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                        "block {block}: {x} vs {y}"
                    );
                }
            }
        }
    }
}
