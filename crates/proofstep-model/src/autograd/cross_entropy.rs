//! The cross-entropy of a batch of logits as one fused operation with its own backward
//! (softmax minus one-hot), and the row rules it shares with the fused LM head + loss
//! (`linear_cross_entropy`).

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};

use crate::autograd::ops::fused_ok;
use crate::kernels::vexp::{exp_shift_in_place, sum_exp_shift};

/// Per-row negative log-likelihood of `targets` under `logits: [n, vocab]` (f32), as one fused
/// operation with its own backward (softmax minus one-hot): the composed log-softmax makes
/// about a dozen passes and fresh tensors of size n × vocab, this makes three. Off the CPU or
/// for other dtypes (a GPU, half precision), the composed log-softmax (`composed`).
pub fn cross_entropy(logits: &Tensor, targets: Vec<u32>) -> candle_core::Result<Tensor> {
    if !fused_ok(logits) {
        return composed(logits, targets);
    }
    logits.contiguous()?.apply_op1(CrossEntropy {
        targets,
        lse: Mutex::new(Vec::new()),
    })
}

/// The same function in candle's own differentiable ops, on any device: `-log_softmax`
/// gathered at the targets, computed in f32 whatever the logits' dtype.
fn composed(logits: &Tensor, targets: Vec<u32>) -> candle_core::Result<Tensor> {
    let (n, v) = logits.dims2()?;
    check_targets("cross_entropy", &targets, n, v)?;
    let idx = Tensor::from_vec(targets, (n, 1), logits.device())?;
    candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, 1)?
        .gather(&idx, 1)?
        .squeeze(1)?
        .neg()
}

/// Fails unless there is one target per row and each is below the vocabulary size `v`.
pub(crate) fn check_targets(
    op: &str,
    targets: &[u32],
    n: usize,
    v: usize,
) -> candle_core::Result<()> {
    if targets.len() != n || targets.iter().any(|&t| t as usize >= v) {
        candle_core::bail!("{op}: {} targets for {n} rows of {v} logits", targets.len());
    }
    Ok(())
}

/// `(nll, log-sum-exp)` of one row of logits for `target`.
pub(crate) fn row_nll(row: &[f32], target: u32) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + sum_exp_shift(row, max).ln();
    (lse - row[target as usize], lse)
}

/// Turns one row of logits with log-sum-exp `lse` into its gradient `g · (softmax - one-hot)`.
pub(crate) fn row_grad(row: &mut [f32], lse: f32, g: f32, target: u32) {
    exp_shift_in_place(row, lse, g);
    row[target as usize] -= g;
}

/// The fused cross-entropy; remembers each row's log-sum-exp for the backward pass.
struct CrossEntropy {
    targets: Vec<u32>,
    lse: Mutex<Vec<f32>>,
}

/// Runs `f(first_row, rows)` over `data` split into row chunks on candle's thread count.
fn par_rows<T: Send>(data: &mut [T], width: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let width = width.max(1);
    let rows = data.len() / width;
    let threads = candle_core::utils::get_num_threads().clamp(1, rows.max(1));
    let per = rows.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (k, chunk) in data.chunks_mut(per * width).enumerate() {
            let f = &f;
            s.spawn(move || f(k * per, chunk));
        }
    });
}

impl CustomOp1 for CrossEntropy {
    fn name(&self) -> &'static str {
        "proofstep-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, v) = layout.shape().dims2()?;
        let (start, end) = layout.contiguous_offsets().ok_or_else(|| {
            candle_core::Error::Msg("cross_entropy needs contiguous logits".into())
        })?;
        let x = &storage.as_slice::<f32>()?[start..end];
        check_targets("cross_entropy", &self.targets, n, v)?;
        let mut out = vec![(0f32, 0f32); n];
        par_rows(&mut out, 1, |first, rows| {
            for (k, slot) in rows.iter_mut().enumerate() {
                let i = first + k;
                *slot = row_nll(&x[i * v..(i + 1) * v], self.targets[i]);
            }
        });
        *self.lse.lock().expect("lse lock") = out.iter().map(|p| p.1).collect();
        Ok((
            CpuStorage::F32(out.into_iter().map(|p| p.0).collect()),
            Shape::from(n),
        ))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let (_, v) = arg.dims2()?;
        let mut grad: Vec<f32> = arg.flatten_all()?.to_vec1()?;
        let g: Vec<f32> = grad_res.to_dtype(DType::F32)?.to_vec1()?;
        let lse = self.lse.lock().expect("lse lock").clone();
        par_rows(&mut grad, v, |first, rows| {
            for (k, row) in rows.chunks_mut(v).enumerate() {
                let i = first + k;
                row_grad(row, lse[i], g[i], self.targets[i]);
            }
        });
        Ok(Some(Tensor::from_vec(grad, arg.shape(), arg.device())?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn fused_cross_entropy_matches_log_softmax_and_its_gradient() {
        let (n, v) = (37, 53);
        let values: Vec<f32> = (0..n * v)
            .map(|i| (i * 7919 % 1000) as f32 / 100.0 - 5.0)
            .collect();
        let targets: Vec<u32> = (0..n).map(|i| (i * 13 % v) as u32).collect();
        let weights: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 / n as f32).collect();
        let w = Tensor::from_vec(weights, n, &Device::Cpu).unwrap();
        let run = |fused: bool| {
            let x = candle_core::Var::from_vec(values.clone(), (n, v), &Device::Cpu).unwrap();
            let nll = if fused {
                cross_entropy(x.as_tensor(), targets.clone()).unwrap()
            } else {
                composed(x.as_tensor(), targets.clone()).unwrap()
            };
            let loss = (nll.clone() * &w).unwrap().sum_all().unwrap();
            let grad = loss
                .backward()
                .unwrap()
                .get(x.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap();
            (
                nll.to_vec1::<f32>().unwrap(),
                grad.to_vec1::<f32>().unwrap(),
            )
        };
        let (a, ga) = run(true);
        let (b, gb) = run(false);
        for (x, y) in a.iter().zip(&b).chain(ga.iter().zip(&gb)) {
            assert!((x - y).abs() < 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// What a GPU or half-precision logits take: the composed path, chosen by the dtype here
    /// (f64 on the CPU), the same values and gradient as the fused op, and bad targets refused.
    #[test]
    fn logits_the_fused_op_cannot_take_go_through_the_composed_ops() {
        let (n, v) = (5, 11);
        let values: Vec<f32> = (0..n * v).map(|i| (i % 7) as f32 - 3.0).collect();
        let targets: Vec<u32> = (0..n).map(|i| (i * 3 % v) as u32).collect();
        let x32 = candle_core::Var::from_vec(values.clone(), (n, v), &Device::Cpu).unwrap();
        let x64 = candle_core::Var::from_tensor(&x32.to_dtype(DType::F64).unwrap()).unwrap();
        let fused = cross_entropy(x32.as_tensor(), targets.clone()).unwrap();
        let other = cross_entropy(x64.as_tensor(), targets.clone()).unwrap();
        assert_eq!(other.dtype(), DType::F32);
        let (a, b): (Vec<f32>, Vec<f32>) = (fused.to_vec1().unwrap(), other.to_vec1().unwrap());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        let g = other.sum_all().unwrap().backward().unwrap();
        let g = g
            .get(x64.as_tensor())
            .expect("the f64 logits get a gradient");
        assert_eq!(g.dims(), &[n, v]);
        let err = cross_entropy(x64.as_tensor(), vec![0; n - 1]).unwrap_err();
        assert!(err.to_string().contains("targets"), "{err}");
    }
}
