//! The KV cache: keys and values of every layer for the tokens seen so far, and what attention
//! reads of it. Sampling many candidates from one prompt shares the prompt's keys and values
//! (`share_prefix`) instead of copying them into every candidate's row: each decoding step then
//! reads them once for all rows, not once per row (at pythia-2.8b's shapes with 16 samples of a
//! 64-token prompt, 16 copies were ~670 MB read per step).

use std::sync::Arc;

use candle_core::{Device, Tensor};

use crate::arch::layers::{attention, Mode};
use crate::error::{ModelError, Result};

/// Keys and values of every layer. Each layer holds preallocated buffers
/// `[b, kv_heads, capacity, head]` written in place, so a decoding step neither copies the cache
/// nor allocates ever-larger blocks. After `share_prefix` the first `prefix.len` positions of
/// each row are read from the shared prompt rows and the buffers hold only what follows.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
    capacity: usize,
    prefix: Option<Prefix>,
}

/// The shared prompt positions: per layer `[p, kv, len, d]` views, and which of those `p` rows
/// each cache row follows.
#[derive(Clone, Debug)]
struct Prefix {
    layers: Vec<(Tensor, Tensor)>,
    of_row: Arc<[u32]>,
    len: usize,
}

/// What attention reads for one layer: the rows' own keys and values (`[b, kv, s, d]` views)
/// and, after `share_prefix`, the shared prompt positions that come before them.
#[derive(Clone, Debug)]
pub struct LayerKv {
    /// Keys of the rows' own positions.
    pub k: Tensor,
    /// Values of the rows' own positions.
    pub v: Tensor,
    /// The shared prompt positions, if any.
    pub prefix: Option<SharedPrefix>,
}

/// Prompt keys and values shared by several rows: `[p, kv, s, d]` views and, per row, which of
/// the `p` prompt rows it continues.
#[derive(Clone, Debug)]
pub struct SharedPrefix {
    /// Keys of the prompt rows.
    pub k: Tensor,
    /// Values of the prompt rows.
    pub v: Tensor,
    /// For each row of the batch, its prompt row.
    pub of_row: Arc<[u32]>,
}

impl LayerKv {
    /// Keys and values with nothing shared (no cache, or before `share_prefix`).
    pub fn plain(k: Tensor, v: Tensor) -> Self {
        LayerKv { k, v, prefix: None }
    }

    /// Scaled dot-product attention of `q: [b, h, t, d]` over the shared prefix then the own
    /// positions, as `layers::attention` over the concatenated keys. A decoding step (one
    /// token, no mask) reads the prefix in place; anything else copies it out per row first.
    pub fn attend(&self, q: &Tensor, mask: Option<&Tensor>, mode: Mode) -> Result<Tensor> {
        let Some(p) = &self.prefix else {
            return attention(q, &self.k, &self.v, mask, mode);
        };
        if mode == Mode::Infer && mask.is_none() && q.dim(2)? == 1 {
            let shared = Some((&p.k, &p.v, &p.of_row[..]));
            if let Some(out) =
                crate::kernels::decode_attention::decode_attention(q, &self.k, &self.v, shared)?
            {
                return Ok(out);
            }
        }
        let rows = Tensor::new(&p.of_row[..], p.k.device())?;
        let k = Tensor::cat(&[&p.k.contiguous()?.index_select(&rows, 0)?, &self.k], 2)?;
        let v = Tensor::cat(&[&p.v.contiguous()?.index_select(&rows, 0)?, &self.v], 2)?;
        attention(q, &k, &v, mask, mode)
    }
}

impl KvCache {
    /// An empty cache for a model with `layers` layers (grows as needed).
    pub fn new(layers: usize) -> Self {
        Self::with_capacity(layers, 0)
    }

    /// An empty cache with room for `capacity` tokens per row before it must grow.
    pub fn with_capacity(layers: usize, capacity: usize) -> Self {
        KvCache {
            layers: vec![None; layers],
            len: 0,
            capacity,
            prefix: None,
        }
    }

    /// Tokens held per row (shared prompt positions included).
    pub fn seq_len(&self) -> usize {
        self.len
    }

    /// Positions each row holds in its own buffers.
    fn own_len(&self) -> usize {
        self.len - self.prefix.as_ref().map_or(0, |p| p.len)
    }

    /// Appends this step's keys/values `[b, kv, t, d]` to layer `i` (layers in order, one
    /// forward at a time); returns what attention reads for the layer (views of the buffers).
    pub fn append(&mut self, i: usize, k: Tensor, v: Tensor) -> Result<LayerKv> {
        let (b, kv, t, d) = k.dims4()?;
        let own = self.own_len();
        let need = own + t;
        let grow = match &self.layers[i] {
            Some((bk, _)) => bk.dim(2)? < need,
            None => true,
        };
        if grow {
            let room = self.capacity.saturating_sub(self.len - own);
            let cap = room.max(need).max(
                2 * self.layers[i]
                    .as_ref()
                    .map_or(0, |l| l.0.dim(2).unwrap_or(0)),
            );
            let fresh = |old: Option<&Tensor>| -> Result<Tensor> {
                let buf = Tensor::zeros((b, kv, cap, d), k.dtype(), k.device())?;
                if let Some(old) = old.filter(|_| own > 0) {
                    buf.slice_set(&old.narrow(2, 0, own)?.contiguous()?, 2, 0)?;
                }
                Ok(buf)
            };
            let old = self.layers[i].take();
            let bk = fresh(old.as_ref().map(|o| &o.0))?;
            let bv = fresh(old.as_ref().map(|o| &o.1))?;
            self.layers[i] = Some((bk, bv));
        }
        let (bk, bv) = self.layers[i].as_ref().expect("allocated above");
        bk.slice_set(&k.contiguous()?, 2, own)?;
        bv.slice_set(&v.contiguous()?, 2, own)?;
        let prefix = self.prefix.as_ref().map(|p| SharedPrefix {
            k: p.layers[i].0.clone(),
            v: p.layers[i].1.clone(),
            of_row: p.of_row.clone(),
        });
        let out = LayerKv {
            k: bk.narrow(2, 0, need)?,
            v: bv.narrow(2, 0, need)?,
            prefix,
        };
        if i + 1 == self.layers.len() {
            self.len += t;
        }
        Ok(out)
    }

    /// Whether `share_prefix` applies: something cached, nothing shared yet, on the CPU (where
    /// the decoding attention reads shared positions in place).
    pub fn can_share(&self) -> bool {
        self.len > 0
            && self.prefix.is_none()
            && self
                .layers
                .iter()
                .flatten()
                .all(|(k, _)| matches!(k.device(), Device::Cpu))
    }

    /// Makes row `i` of the cache continue current row `rows[i]` without copying: everything
    /// cached so far becomes the shared prefix, and the rows' own buffers start empty. For
    /// expanding a prompt into candidates; rows must not be left-padded (a padded batch needs a
    /// mask, and masked attention copies the prefix out at every step). Only where `can_share`.
    pub fn share_prefix(&mut self, rows: &[u32]) -> Result<()> {
        if !self.can_share() {
            return Err(ModelError::Generate(
                "KV cache: nothing to share (empty, already shared, or not on the CPU)".into(),
            ));
        }
        let len = self.len;
        let layers = self
            .layers
            .iter_mut()
            .map(|l| {
                let (k, v) = l
                    .take()
                    .expect("every layer appended once something is cached");
                Ok((k.narrow(2, 0, len)?, v.narrow(2, 0, len)?))
            })
            .collect::<Result<Vec<_>>>()?;
        self.prefix = Some(Prefix {
            layers,
            of_row: rows.into(),
            len,
        });
        Ok(())
    }

    /// Keeps (and reorders, repeats) the rows named by `rows` (u32 indices): beam reordering,
    /// expanding a prompt into candidates, dropping finished rows.
    /// With as many rows kept as there are (a beam step), only the filled positions of the
    /// rows that change move, within the existing buffers. Shared prompt positions never move:
    /// each kept row remembers which prompt row it continues.
    pub fn select_rows(&mut self, rows: &Tensor) -> Result<()> {
        let keep = rows.to_vec1::<u32>()?;
        let held = match (&self.prefix, self.layers.iter().flatten().next()) {
            (Some(p), _) => p.of_row.len(),
            (None, Some(l)) => l.0.dim(0)?,
            (None, None) => usize::MAX,
        };
        if let Some(bad) = keep.iter().find(|&&k| k as usize >= held) {
            return Err(ModelError::Generate(format!(
                "KV cache: row {bad} kept, but the cache holds {held} rows"
            )));
        }
        if let Some(p) = &mut self.prefix {
            p.of_row = keep.iter().map(|&k| p.of_row[k as usize]).collect();
        }
        let len = self.own_len();
        for layer in self.layers.iter_mut().flatten() {
            if keep.len() == layer.0.dim(0)? && len > 0 {
                for buf in [&layer.0, &layer.1] {
                    let filled = buf.narrow(2, 0, len)?;
                    // Copies first: a row may be the source of another before it changes.
                    let moved = keep
                        .iter()
                        .enumerate()
                        .filter(|&(i, &k)| k as usize != i)
                        .map(|(i, &k)| {
                            Ok((i, filled.narrow(0, k as usize, 1)?.force_contiguous()?))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    for (i, row) in moved {
                        buf.narrow(0, i, 1)?.slice_set(&row, 2, 0)?;
                    }
                }
            } else {
                *layer = (
                    layer.0.index_select(rows, 0)?,
                    layer.1.index_select(rows, 0)?,
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    /// Random `[b, kv, t, d]` keys or values.
    fn rand(b: usize, t: usize) -> Tensor {
        Tensor::randn(0f32, 1.0, (b, 2, t, 8), &Device::Cpu).unwrap()
    }

    fn bits(t: &Tensor) -> Vec<u32> {
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Caches `layers` layers of `prompt` (`[rows, new tokens]` appends, each followed by the
    /// rows kept), then expands them by `expand` twice, by copying and by sharing, and decodes one
    /// token per step with `between` applied after each step: sharing gives the very bits of
    /// copying on the decoding path, and the same values (to rounding) on the masked path that
    /// copies the prefix out.
    fn shared_equals_copied(
        capacity: usize,
        prompt: &[(usize, usize, &[u32])],
        expand: &[u32],
        between: &[&[u32]],
    ) {
        let layers = 2;
        let mut copied = KvCache::with_capacity(layers, capacity);
        for &(rows, t, keep) in prompt {
            for i in 0..layers {
                copied.append(i, rand(rows, t), rand(rows, t)).unwrap();
            }
            if !keep.is_empty() {
                copied
                    .select_rows(&Tensor::new(keep, &Device::Cpu).unwrap())
                    .unwrap();
            }
        }
        let mut shared = copied.clone();
        copied
            .select_rows(&Tensor::new(expand, &Device::Cpu).unwrap())
            .unwrap();
        shared.share_prefix(expand).unwrap();
        assert!(!shared.can_share(), "shared once");
        let mut b = expand.len();
        for (step, keep) in between.iter().enumerate() {
            for i in 0..layers {
                let (k, v) = (rand(b, 1), rand(b, 1));
                let q = Tensor::randn(0f32, 1.0, (b, 4, 1, 8), &Device::Cpu).unwrap();
                let want = copied.append(i, k.clone(), v.clone()).unwrap();
                let got = shared.append(i, k, v).unwrap();
                assert!(got.prefix.is_some() && want.prefix.is_none());
                let want = want.attend(&q, None, Mode::Infer).unwrap();
                let fast = got.attend(&q, None, Mode::Infer).unwrap();
                assert_eq!(bits(&want), bits(&fast), "step {step} layer {i}");
                let s = copied.seq_len() + usize::from(i + 1 < layers);
                let zero = Tensor::zeros((1, 1, 1, 1, s), DType::F32, &Device::Cpu);
                let masked = got.attend(&q, Some(&zero.unwrap()), Mode::Infer).unwrap();
                let diff = (masked - &want).unwrap().abs().unwrap();
                let diff = diff.flatten_all().unwrap().max(0).unwrap();
                assert!(diff.to_scalar::<f32>().unwrap() < 1e-5, "step {step}");
            }
            let idx = Tensor::new(*keep, &Device::Cpu).unwrap();
            copied.select_rows(&idx).unwrap();
            shared.select_rows(&idx).unwrap();
            b = keep.len();
            assert_eq!(shared.seq_len(), copied.seq_len());
        }
    }

    /// Two prompts expanded into five candidates; a reorder, a dropped row and repeats between
    /// the decoding steps.
    #[test]
    fn a_shared_prefix_attends_as_copied_rows() {
        let between: [&[u32]; 3] = [&[4, 0, 2, 1, 3], &[0, 1, 3, 4], &[3, 3, 0, 1]];
        shared_equals_copied(12, &[(2, 5, &[])], &[0, 0, 1, 0, 1], &between);
    }

    /// No capacity reserved: the rows' own buffers grow (and copy) after sharing.
    #[test]
    fn own_buffers_grow_after_sharing() {
        let between: [&[u32]; 10] = [
            &[2, 1, 0],
            &[0, 0, 2],
            &[1, 2, 0],
            &[0, 1, 2],
            &[2, 2, 1],
            &[0, 1],
            &[1, 1],
            &[0, 1],
            &[1, 0],
            &[0],
        ];
        shared_equals_copied(0, &[(2, 5, &[])], &[0, 1, 1], &between);
    }

    /// Sharing after a prompt fed in pieces and rows already reordered and dropped.
    #[test]
    fn sharing_after_pieces_and_reorders() {
        let prompt: [(usize, usize, &[u32]); 3] = [(3, 4, &[]), (3, 1, &[2, 0]), (2, 2, &[])];
        let between: [&[u32]; 5] = [
            &[3, 2, 1, 0],
            &[0, 0, 0, 0],
            &[1, 2, 3, 0],
            &[0, 1, 2, 3, 3, 3],
            &[5, 4, 3, 2, 1, 0],
        ];
        shared_equals_copied(3, &prompt, &[1, 0, 1, 1], &between);
    }

    /// A row that is not there is an error, not a panic, whether or not rows share a prefix.
    #[test]
    fn keeping_a_missing_row_is_an_error() {
        let mut c = KvCache::new(1);
        c.append(0, rand(2, 3), rand(2, 3)).unwrap();
        assert!(c
            .select_rows(&Tensor::new(&[2u32][..], &Device::Cpu).unwrap())
            .is_err());
        c.share_prefix(&[0, 1, 1]).unwrap();
        assert!(c
            .select_rows(&Tensor::new(&[3u32][..], &Device::Cpu).unwrap())
            .is_err());
    }
}
