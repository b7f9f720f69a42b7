//! Fused differentiable ops for the training forward on the CPU: RMSNorm, rotary embedding,
//! masked softmax and SwiGLU, each one pass forward and one pass backward. Candle's composed
//! versions (`rms_norm_slow`, `rope_slow`, `softmax`, `silu(g) * u`) make several element-wise
//! passes and temporaries per op, each a round trip through candle's thread pool; these
//! compute the same functions (the tests compare values and gradients). Off the CPU, or for
//! dtypes other than f32, they fall back to the composed ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Storage, Tensor, D};
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::vexp::{exp_shift_in_place, sigmoid_into};

/// Rows per parallel chunk: a fixed split (independent of the thread count), so reductions
/// over chunks add in the same order on every machine and runs repeat bit for bit.
fn chunk_rows(rows: usize, width: usize) -> usize {
    // About 16 chunks, each at least ~16k elements so small ops stay on few threads.
    let by_count = rows.div_ceil(16);
    let by_size = (16_384 / width.max(1)).max(1);
    by_count.max(by_size).max(1)
}

/// Runs `f(first_row, rows_chunk)` over `out` (rows of `width`) in parallel chunks.
fn par_rows(out: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let width = width.max(1);
    let per = chunk_rows(out.len() / width, width);
    out.par_chunks_mut(per * width)
        .enumerate()
        .for_each(|(k, chunk)| f(k * per, chunk));
}

/// A contiguous f32 copy-free view of a CPU tensor, handed to `f`.
pub fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("autograd ops: CPU tensors only");
    };
    let (a, b) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("autograd ops: not contiguous".into()))?;
    Ok(f(&cpu.as_slice::<f32>()?[a..b]))
}

/// The contiguous f32 slice of a custom op's CPU argument.
pub fn slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let (a, b) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("autograd ops: {what} not contiguous")))?;
    Ok(&s.as_slice::<f32>()?[a..b])
}

/// `shape` with its last dimension set to `n`: the output shape of a projection to `n`.
pub fn with_last_dim(shape: &Shape, n: usize) -> Shape {
    let mut dims = shape.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = n;
    }
    Shape::from(dims)
}

/// Whether the fused ops apply to `t`: f32 on the CPU.
pub fn fused_ok(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32
}

/// RMSNorm `x / sqrt(mean(x²) + eps) * w` over the last dimension, differentiable in `x` and `w`.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f32) -> Result<Tensor> {
    if !fused_ok(x) || !fused_ok(w) {
        return Ok(candle_nn::ops::rms_norm_slow(x, w, eps)?);
    }
    Ok(x.contiguous()?
        .apply_op2(&w.contiguous()?, RmsNorm { eps })?)
}

struct RmsNorm {
    eps: f32,
}

/// `1 / sqrt(mean(row²) + eps)`.
fn inv_rms(row: &[f32], eps: f32) -> f32 {
    let ss: f32 = row.iter().map(|v| v * v).sum();
    1.0 / (ss / row.len() as f32 + eps).sqrt()
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "proofstep-rms-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w) = (slice(s1, l1, "x")?, slice(s2, l2, "weight")?);
        let d = w.len();
        if l1.shape().dims().last() != Some(&d) {
            candle_core::bail!("rms_norm: weight of {d} for x {:?}", l1.shape());
        }
        let mut out = vec![0f32; x.len()];
        par_rows(&mut out, d, |first, chunk| {
            for (k, o) in chunk.chunks_mut(d).enumerate() {
                let row = &x[(first + k) * d..(first + k + 1) * d];
                let r = inv_rms(row, self.eps);
                for ((o, &v), &g) in o.iter_mut().zip(row).zip(w) {
                    *o = v * r * g;
                }
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let d = w.elem_count();
        let (dx, dw) = with_f32(x, |x| {
            with_f32(w, |w| {
                with_f32(grad, |g| {
                    let rows = x.len() / d;
                    let per = chunk_rows(rows, d);
                    let mut dx = vec![0f32; x.len()];
                    // Per chunk: dx rows, and that chunk's partial dw (added in chunk order).
                    let partial: Vec<Vec<f32>> = dx
                        .par_chunks_mut(per * d)
                        .enumerate()
                        .map(|(k, chunk)| {
                            let mut dw = vec![0f32; d];
                            for (j, dxr) in chunk.chunks_mut(d).enumerate() {
                                let i = k * per + j;
                                let (xr, gr) = (&x[i * d..(i + 1) * d], &g[i * d..(i + 1) * d]);
                                let r = inv_rms(xr, self.eps);
                                let dot: f32 =
                                    xr.iter().zip(gr).zip(w).map(|((a, b), c)| a * b * c).sum();
                                let c = r * r * r * dot / d as f32;
                                for m in 0..d {
                                    dxr[m] = r * gr[m] * w[m] - c * xr[m];
                                    dw[m] += gr[m] * xr[m] * r;
                                }
                            }
                            dw
                        })
                        .collect();
                    let mut dw = vec![0f32; d];
                    for p in partial {
                        for (a, b) in dw.iter_mut().zip(p) {
                            *a += b;
                        }
                    }
                    (dx, dw)
                })
            })
        })???;
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), x.device())?),
            Some(Tensor::from_vec(dw, w.shape(), w.device())?),
        ))
    }
}

/// Rotary embedding (rotate-half layout) of `x: [b, h, t, d]` with tables `cos, sin:
/// [t, d/2]` or `[b, t, d/2]`; differentiable in `x`. `x` may be a strided view (e.g. the
/// transpose of `[b, t, h, d]`); the result is contiguous.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    if !fused_ok(x) || !fused_ok(cos) {
        return Ok(candle_nn::rotary_emb::rope_slow(x, cos, sin)?);
    }
    let per_row = cos.rank() == 3;
    let cos = with_f32(cos, |c| c.to_vec())?;
    let sin = with_f32(sin, |s| s.to_vec())?;
    Ok(x.apply_op1(Rope { cos, sin, per_row })?)
}

struct Rope {
    cos: Vec<f32>,
    sin: Vec<f32>,
    per_row: bool,
}

impl Rope {
    /// Rotates every `[d]` vector of a `[b, h, t, d]` tensor read through `at(bi, hi, ti)`
    /// (offset of its first element, unit stride), into contiguous `out`; `sign` -1 rotates back.
    fn apply(
        &self,
        src: &[f32],
        dims: (usize, usize, usize, usize),
        at: impl Fn(usize, usize, usize) -> usize + Sync,
        sign: f32,
    ) -> candle_core::Result<Vec<f32>> {
        let (b, h, t, d) = dims;
        let half = d / 2;
        let table = if self.per_row { b * t * half } else { t * half };
        if d % 2 != 0 || self.cos.len() < table {
            candle_core::bail!("rope: tables of {} for x {dims:?}", self.cos.len());
        }
        let mut out = vec![0f32; b * h * t * d];
        par_rows(&mut out, d, |first, chunk| {
            for (k, o) in chunk.chunks_mut(d).enumerate() {
                let i = first + k;
                let (ti, hi, bi) = (i % t, (i / t) % h, i / (t * h));
                let xv = &src[at(bi, hi, ti)..][..d];
                let tab = if self.per_row { bi * t + ti } else { ti } * half;
                let (c, s) = (&self.cos[tab..tab + half], &self.sin[tab..tab + half]);
                rotate_half(xv, o, (c, s), sign, 1.0);
            }
        });
        Ok(out)
    }
}

/// The rotary embedding of one `[d]` vector in the rotate-half layout, times `scale`:
/// `out = scale · (x · cos + rotate_half(x) · sign · sin)` for the tables `(cos, sin): [d/2]`;
/// `sign` -1 rotates back (the transpose, for gradients).
pub fn rotate_half(x: &[f32], out: &mut [f32], (c, s): (&[f32], &[f32]), sign: f32, scale: f32) {
    let half = c.len();
    let (x1, x2) = x.split_at(half);
    let (o1, o2) = out.split_at_mut(half);
    for j in 0..half {
        let (sj, cj) = (sign * s[j] * scale, c[j] * scale);
        o1[j] = x1[j] * cj - x2[j] * sj;
        o2[j] = x2[j] * cj + x1[j] * sj;
    }
}

impl CustomOp1 for Rope {
    fn name(&self) -> &'static str {
        "proofstep-rope"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = l.shape().dims4()?;
        let st = l.stride();
        if st[3] != 1 {
            candle_core::bail!("rope: the last dimension of x must be contiguous");
        }
        let (o, src) = (l.start_offset(), s.as_slice::<f32>()?);
        let at = |bi: usize, hi: usize, ti: usize| o + bi * st[0] + hi * st[1] + ti * st[2];
        let out = self.apply(src, dims, at, 1.0)?;
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let dims = x.dims4()?;
        let (_, h, t, d) = dims;
        let at = |bi: usize, hi: usize, ti: usize| ((bi * h + hi) * t + ti) * d;
        let dx = with_f32(grad, |g| self.apply(g, dims, at, -1.0))??;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// `softmax(scores + mask)` over the last dimension, differentiable in `scores`; `mask`
/// (additive, constant) broadcasts to the shape of `scores`.
pub fn masked_softmax(scores: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    if !fused_ok(scores) || mask.is_some_and(|m| !fused_ok(m)) {
        let s = match mask {
            Some(m) => scores.broadcast_add(m)?,
            None => scores.clone(),
        };
        return Ok(candle_nn::ops::softmax(&s, D::Minus1)?);
    }
    let scores = scores.contiguous()?;
    let mask = match mask {
        Some(m) => m.broadcast_as(scores.shape())?,
        // A zero mask of stride 0 everywhere: one element, no allocation of the full shape.
        None => Tensor::zeros((), DType::F32, scores.device())?.broadcast_as(scores.shape())?,
    };
    Ok(scores.apply_op2(&mask.detach(), MaskedSoftmax)?)
}

struct MaskedSoftmax;

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "proofstep-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = slice(s1, l1, "scores")?;
        let dims = l1.shape().dims().to_vec();
        let s = *dims.last().unwrap_or(&1);
        let (m, mst, mo) = (s2.as_slice::<f32>()?, l2.stride(), l2.start_offset());
        if l2.shape().dims() != dims.as_slice() {
            candle_core::bail!("masked_softmax: mask {:?} for {:?}", l2.shape(), l1.shape());
        }
        let last = mst[dims.len() - 1];
        // Offset of row i's first mask element: i decomposed over the leading dimensions.
        let mask_row = |mut i: usize| {
            let mut off = mo;
            for k in (0..dims.len() - 1).rev() {
                off += (i % dims[k]) * mst[k];
                i /= dims[k];
            }
            off
        };
        let mut out = vec![0f32; x.len()];
        par_rows(&mut out, s, |first, chunk| {
            for (k, o) in chunk.chunks_mut(s).enumerate() {
                let i = first + k;
                let (xr, mr) = (&x[i * s..(i + 1) * s], mask_row(i));
                let mut max = f32::NEG_INFINITY;
                for (j, (o, &v)) in o.iter_mut().zip(xr).enumerate() {
                    *o = v + m[mr + j * last];
                    max = max.max(*o);
                }
                let inv = 1.0 / exp_shift_in_place(o, max, 1.0);
                for o in o.iter_mut() {
                    *o *= inv;
                }
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        scores: &Tensor,
        _mask: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let s = scores.dim(D::Minus1)?;
        let dx = with_f32(res, |p| {
            with_f32(grad, |g| {
                let mut dx = vec![0f32; p.len()];
                par_rows(&mut dx, s, |first, chunk| {
                    for (k, o) in chunk.chunks_mut(s).enumerate() {
                        let i = first + k;
                        let (pr, gr) = (&p[i * s..(i + 1) * s], &g[i * s..(i + 1) * s]);
                        let dot: f32 = pr.iter().zip(gr).map(|(a, b)| a * b).sum();
                        for ((o, &pv), &gv) in o.iter_mut().zip(pr).zip(gr) {
                            *o = pv * (gv - dot);
                        }
                    }
                });
                dx
            })
        })??;
        Ok((
            Some(Tensor::from_vec(dx, scores.shape(), scores.device())?),
            None,
        ))
    }
}

/// SwiGLU `silu(gate) * up` (same shapes), differentiable in both.
pub fn swiglu(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    if !fused_ok(gate) || !fused_ok(up) || gate.shape() != up.shape() {
        return Ok((candle_nn::ops::silu(gate)? * up)?);
    }
    Ok(gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGlu)?)
}

struct SwiGlu;

/// `silu(g) · u` element-wise over rows of `w`.
pub fn swiglu_rows(g: &[f32], u: &[f32], w: usize) -> Vec<f32> {
    let mut out = vec![0f32; g.len()];
    par_rows(&mut out, w, |first, chunk| {
        let base = first * w;
        sigmoid_into(&g[base..base + chunk.len()], chunk);
        for (k, o) in chunk.iter_mut().enumerate() {
            *o *= g[base + k] * u[base + k];
        }
    });
    out
}

/// The gradients `(dg, du)` of `silu(g) · u` for the output gradient `d` (rows of `w`).
pub fn swiglu_grad_rows(g: &[f32], u: &[f32], d: &[f32], w: usize) -> (Vec<f32>, Vec<f32>) {
    let w = w.max(1);
    let per = w * chunk_rows(g.len() / w, w);
    let (mut dg, mut du) = (vec![0f32; g.len()], vec![0f32; g.len()]);
    dg.par_chunks_mut(per)
        .zip(du.par_chunks_mut(per))
        .enumerate()
        .for_each(|(k, (dgc, duc))| {
            let base = k * per;
            sigmoid_into(&g[base..base + dgc.len()], dgc);
            for j in 0..dgc.len() {
                let i = base + j;
                let (gv, uv, dv, sg) = (g[i], u[i], d[i], dgc[j]);
                duc[j] = dv * gv * sg;
                dgc[j] = dv * uv * sg * (1.0 + gv * (1.0 - sg));
            }
        });
    (dg, du)
}

impl CustomOp2 for SwiGlu {
    fn name(&self) -> &'static str {
        "proofstep-swiglu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (g, u) = (slice(s1, l1, "gate")?, slice(s2, l2, "up")?);
        let w = *l1.shape().dims().last().unwrap_or(&1);
        Ok((CpuStorage::F32(swiglu_rows(g, u, w)), l1.shape().clone()))
    }

    fn bwd(
        &self,
        gate: &Tensor,
        up: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let w = gate.dim(D::Minus1)?;
        let (dg, du) = with_f32(gate, |g| {
            with_f32(up, |u| with_f32(grad, |d| swiglu_grad_rows(g, u, d, w)))
        })???;
        Ok((
            Some(Tensor::from_vec(dg, gate.shape(), gate.device())?),
            Some(Tensor::from_vec(du, up.shape(), up.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::gradcheck::{check, values};
    use candle_core::Device;

    #[test]
    fn rms_norm_matches_composed() {
        check(
            &[&[2, 3, 8], &[8]],
            |t| rms_norm(&t[0], &t[1], 1e-5).unwrap(),
            |t| candle_nn::ops::rms_norm_slow(&t[0], &t[1], 1e-5).unwrap(),
        );
    }

    #[test]
    fn rope_matches_composed_on_a_transposed_view() {
        let tables = |b: Option<usize>| {
            let (t, half) = (5, 3);
            let n = b.unwrap_or(1) * t * half;
            let shape: Vec<usize> = b.into_iter().chain([t, half]).collect();
            let c = Tensor::from_vec(values(n, 4), shape.as_slice(), &Device::Cpu).unwrap();
            let s = Tensor::from_vec(values(n, 5), shape.as_slice(), &Device::Cpu).unwrap();
            (c, s)
        };
        for b in [None, Some(2)] {
            let (c, s) = tables(b);
            let view = |t: &Tensor| t.transpose(1, 2).unwrap();
            check(
                &[&[2, 5, 4, 6]],
                |t| rope(&view(&t[0]), &c, &s).unwrap(),
                |t| {
                    // x * cat(cos, cos) + rotate_half(x) * cat(sin, sin), tables over [b|1, 1, t, d].
                    let x = view(&t[0]);
                    let full = |u: &Tensor| {
                        let u = Tensor::cat(&[u, u], D::Minus1).unwrap();
                        match b {
                            Some(_) => u.unsqueeze(1).unwrap(),
                            None => u.unsqueeze(0).unwrap().unsqueeze(0).unwrap(),
                        }
                    };
                    let half = x.dim(3).unwrap() / 2;
                    let (x1, x2) = (
                        x.narrow(3, 0, half).unwrap(),
                        x.narrow(3, half, half).unwrap(),
                    );
                    let rot = Tensor::cat(&[&x2.neg().unwrap(), &x1], 3).unwrap();
                    (x.broadcast_mul(&full(&c)).unwrap() + rot.broadcast_mul(&full(&s)).unwrap())
                        .unwrap()
                },
            );
        }
    }

    #[test]
    fn masked_softmax_matches_composed() {
        let mask: Vec<f32> = (0..4 * 6)
            .map(|i| if i % 6 > i / 6 + 2 { -1e9 } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (1, 1, 4, 6), &Device::Cpu).unwrap();
        check(
            &[&[2, 3, 4, 6]],
            |t| masked_softmax(&t[0], Some(&mask)).unwrap(),
            |t| candle_nn::ops::softmax(&t[0].broadcast_add(&mask).unwrap(), D::Minus1).unwrap(),
        );
        check(
            &[&[3, 7]],
            |t| masked_softmax(&t[0], None).unwrap(),
            |t| candle_nn::ops::softmax(&t[0], D::Minus1).unwrap(),
        );
    }

    #[test]
    fn swiglu_matches_composed() {
        check(
            &[&[3, 4, 10], &[3, 4, 10]],
            |t| swiglu(&t[0], &t[1]).unwrap(),
            |t| (candle_nn::ops::silu(&t[0]).unwrap() * &t[1]).unwrap(),
        );
    }
}
