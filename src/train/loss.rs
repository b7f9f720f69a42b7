//! Batches as tensors and the loss on output tokens only: the summed negative log-likelihood of
//! each output token given everything before it (prompt included), over a right-padded batch.

use candle_core::{DType, Device, Tensor};

use crate::model::autograd::cross_entropy::cross_entropy;
use crate::model::autograd::linear_cross_entropy::linear_cross_entropy;
use crate::model::autograd::ops::fused_ok;
use crate::model::CausalLm;

use super::dataset::TokenizedExample;
use super::error::TrainError;

/// One padded batch ready for the model.
pub struct Batch {
    /// `[b, t]` ids, right-padded.
    pub ids: Tensor,
    /// Flat positions (row × t + column) whose logits predict an output token.
    pub positions: Tensor,
    /// The output token each of those positions predicts.
    pub targets: Tensor,
    /// How many output tokens (loss terms) the batch holds.
    pub label_tokens: usize,
    /// How many real (non-padding) tokens the batch holds.
    pub tokens: usize,
}

/// Pads `examples` on the right with `pad_id` into one batch.
pub fn make_batch(
    examples: &[&TokenizedExample],
    pad_id: u32,
    device: &Device,
) -> Result<Batch, TrainError> {
    let t = examples.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(examples.len() * t);
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    let mut tokens = 0;
    for (row, ex) in examples.iter().enumerate() {
        ids.extend_from_slice(&ex.ids);
        ids.extend(std::iter::repeat_n(pad_id, t - ex.ids.len()));
        tokens += ex.ids.len();
        // Logits at position j predict token j + 1.
        for j in ex.prompt_len.max(1) - 1..ex.ids.len() - 1 {
            positions.push((row * t + j) as u32);
            targets.push(ex.ids[j + 1]);
        }
    }
    let label_tokens = targets.len();
    Ok(Batch {
        ids: Tensor::from_vec(ids, (examples.len(), t), device)?,
        positions: Tensor::from_vec(positions, label_tokens, device)?,
        targets: Tensor::from_vec(targets, label_tokens, device)?,
        label_tokens,
        tokens,
    })
}

/// The summed negative log-likelihood (f32 scalar tensor, differentiable) of the batch's output
/// tokens under `lm`.
pub fn summed_nll(lm: &CausalLm, batch: &Batch) -> Result<Tensor, TrainError> {
    let targets = batch.targets.to_vec1::<u32>()?;
    // The LM head runs at the labelled positions only; for Llama models (f32 on the CPU)
    // fused with the loss, so the logits are never kept.
    let picked = match lm.head_inputs_train_rows(&batch.ids, &batch.positions)? {
        Some((x, w)) if fused_ok(&x) && fused_ok(&w) => {
            return Ok(linear_cross_entropy(&x, &w, targets)?.sum_all()?);
        }
        // Mixed precision: the head's product in half precision too, as every projection's.
        Some((x, w)) => match lm.autocast() {
            Some(h) => x
                .to_dtype(h)?
                .matmul(&w.to_dtype(h)?.t()?)?
                .to_dtype(DType::F32)?,
            None => x.matmul(&w.t()?)?,
        },
        None => lm.forward_train_rows(&batch.ids, &batch.positions)?,
    };
    Ok(cross_entropy(&picked.to_dtype(DType::F32)?, targets)?.sum_all()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_output_tokens_only() {
        let a = TokenizedExample {
            ids: vec![5, 6, 7, 8, 9],
            prompt_len: 3,
        };
        let b = TokenizedExample {
            ids: vec![1, 2, 3],
            prompt_len: 2,
        };
        let batch = make_batch(&[&a, &b], 0, &Device::Cpu).unwrap();
        assert_eq!(
            batch.ids.to_vec2::<u32>().unwrap(),
            vec![vec![5, 6, 7, 8, 9], vec![1, 2, 3, 0, 0]]
        );
        assert_eq!(batch.positions.to_vec1::<u32>().unwrap(), vec![2, 3, 6]);
        assert_eq!(batch.targets.to_vec1::<u32>().unwrap(), vec![8, 9, 3]);
        assert_eq!((batch.label_tokens, batch.tokens), (3, 8));
    }
}
