//! `x · Wᵀ (+ b)` for the few rows of a decoding step (one token per candidate). candle's
//! general matmul repacks the transposed weight on every call, which costs more than the
//! arithmetic when only a handful of rows multiply it; here each weight row is read once,
//! straight from memory, and dotted with every input row: AVX-512 tiles of 4 weight rows ×
//! 4 input rows (`matvec_avx512.rs`) when the CPU has it, else AVX2/FMA tiles of 2 × 4
//! (`matvec_avx2.rs`), else scalar.
//! Weights are the f32 parameters, bf16 (`bf16.rs`), or blocks of 32 decoded in registers:
//! Q4_1 (exact packings), Q4_0, Q4_K and Q8_0 (exact packings or ggml's roundings; `q4.rs`,
//! `q4k.rs`, `q8.rs`);
//! arithmetic is f32.
//! Several projections of one input (q/k/v, gate/up) share one parallel pass.
//! Inference only: no gradient flows through it.

use candle_core::{Storage, Tensor};
use rayon::prelude::*;

use crate::error::{ModelError, Result};
use crate::kernels::activations_q8::QuantizedRows;
use crate::kernels::bf16::{from_bf16, Bf16Matrix};
use crate::kernels::q4::{self, Q40Matrix, Q4Matrix};
use crate::kernels::q4k::{self, Q4KMatrix};
use crate::kernels::q8::{self, Q8Matrix};
use crate::kernels::x8::{X8Kind, X8Matrix, GROUP};

/// Above this many input rows the general matmul (prefill) is faster for f32 weights.
pub const MAX_ROWS: usize = 32;

/// The weights of one projection as the kernel reads them.
#[derive(Clone, Copy)]
pub enum RowWeights<'a> {
    /// The f32 parameter `[n, k]` itself.
    F32(&'a Tensor),
    /// A bf16 copy of it (see `bf16.rs`).
    Bf16(&'a Bf16Matrix),
    /// Its exact Q4_1 packing (see `q4.rs`).
    Q4(&'a Q4Matrix),
    /// Its Q4_0 rounding (see `q4.rs`).
    Q40(&'a Q40Matrix),
    /// Its Q4_K rounding (see `q4k.rs`).
    Q4K(&'a Q4KMatrix),
    /// Its exact Q8_0 packing (see `q8.rs`).
    Q8(&'a Q8Matrix),
    /// Its Q8_0 / Q4_0 rounding, eight rows interleaved, read with int8 activations (`x8.rs`).
    X8(&'a X8Matrix),
}

/// A raw pointer shared by the threads of one call (each writes disjoint elements).
#[derive(Clone, Copy)]
struct Ptr<T>(*const T);
// SAFETY: used only while the owning buffers live, for disjoint writes / shared reads.
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

impl<T> Ptr<T> {
    /// The pointer (a method, so closures capture the `Send` wrapper, not the field).
    fn get(self) -> *const T {
        self.0
    }
}

/// Weight data of one projection, resolved to a pointer.
#[derive(Clone, Copy)]
enum WPtr {
    F32(Ptr<f32>),
    Bf16(Ptr<u16>),
    Blocks(BlockRows),
    X8(X8Kind, Ptr<u16>, Ptr<u8>, Ptr<u8>),
}

/// Rows of block-packed weights (`q4.rs`, `q8.rs`): per-block scales and the packed values.
#[derive(Clone, Copy)]
enum BlockRows {
    Q4(*const [f32; 2], *const u8),
    Q40(*const f32, *const u8),
    Q4K(*const [f32; 2], *const [u8; 2], *const u8),
    Q8(*const f32, *const i8),
}
// SAFETY: as `Ptr`: used only while the packed matrices live, for shared reads.
unsafe impl Send for BlockRows {}
unsafe impl Sync for BlockRows {}

impl BlockRows {
    /// The same matrix from row `j` on (rows of length `k`).
    ///
    /// # Safety
    /// Row `j` must exist.
    unsafe fn skip_rows(self, j: usize, k: usize) -> Self {
        match self {
            BlockRows::Q4(s, q) => BlockRows::Q4(s.add(j * k / q4::BLOCK), q.add(j * k / 2)),
            BlockRows::Q40(s, q) => BlockRows::Q40(s.add(j * k / q4::BLOCK), q.add(j * k / 2)),
            BlockRows::Q4K(d, s, q) => BlockRows::Q4K(
                d.add(j * k / q4k::SUPER),
                s.add(j * k / q4::BLOCK),
                q.add(j * k / 2),
            ),
            BlockRows::Q8(s, q) => BlockRows::Q8(s.add(j * k / q8::BLOCK), q.add(j * k)),
        }
    }

    /// Row `j` (length `k`) decoded to f32.
    ///
    /// # Safety
    /// Row `j` must exist.
    unsafe fn row(self, j: usize, k: usize) -> Vec<f32> {
        let nb = k / q4::BLOCK;
        match self.skip_rows(j, k) {
            BlockRows::Q4(s, q) => q4::decode_blocks(
                std::slice::from_raw_parts(s, nb),
                std::slice::from_raw_parts(q, k / 2),
            ),
            BlockRows::Q40(s, q) => q4::decode_q4_0_blocks(
                std::slice::from_raw_parts(s, nb),
                std::slice::from_raw_parts(q, k / 2),
            ),
            BlockRows::Q4K(d, s, q) => q4k::decode_blocks(
                std::slice::from_raw_parts(d, k / q4k::SUPER),
                std::slice::from_raw_parts(s, nb),
                std::slice::from_raw_parts(q, k / 2),
            ),
            BlockRows::Q8(s, q) => q8::decode_blocks(
                std::slice::from_raw_parts(s, nb),
                std::slice::from_raw_parts(q, k),
            ),
        }
    }
}

/// Which instruction set the kernel uses on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    Avx512,
    Avx2,
    Scalar,
}

/// Whether this CPU has the kernels that make block-packed weights faster than f32: AVX-512
/// or AVX2/FMA, which decode blocks in registers. The scalar fallback decodes row by row and
/// reads them slower than f32.
pub fn packed_is_fast() -> bool {
    isa() != Isa::Scalar
}

fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::kernels::cpu::avx512() {
            return Isa::Avx512;
        }
        if crate::kernels::cpu::avx2_fma() {
            return Isa::Avx2;
        }
    }
    Isa::Scalar
}

/// Read guard and offsets of a contiguous f32 CPU tensor's data.
fn cpu_data(t: &Tensor) -> Result<(impl std::ops::Deref<Target = Storage> + '_, usize, usize)> {
    let (storage, layout) = t.storage_and_layout();
    if !matches!(&*storage, Storage::Cpu(_)) {
        return Err(ModelError::Generate(
            "the decoding kernel runs on the CPU only".into(),
        ));
    }
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| ModelError::Generate("decoding kernel needs contiguous tensors".into()))?;
    Ok((storage, start, end))
}

/// The f32 slice `start..end` of a CPU storage (checked by `cpu_data`).
fn f32_slice(storage: &Storage, start: usize, end: usize) -> Result<&[f32]> {
    let Storage::Cpu(cpu) = storage else {
        unreachable!("checked by cpu_data")
    };
    Ok(&cpu.as_slice::<f32>()?[start..end])
}

/// `f` on the values of a contiguous f32 CPU tensor, read in place (a conversion of a large
/// matrix then needs no second copy of it).
pub fn with_values<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (guard, start, end) = cpu_data(&t)?;
    Ok(f(f32_slice(&guard, start, end)?))
}

/// Several projections of the same input in one pass (q/k/v, gate/up): for each
/// `(w: [n, k], bias: [n])`, `x: [.., k]` times `w` transposed plus bias, `[.., n]`.
/// Threads split the rows of all the weights between them; each weight row is read once and
/// dotted with every input row.
pub fn linear_rows_many(
    x: &Tensor,
    projs: &[(RowWeights<'_>, Option<&Tensor>)],
) -> Result<Vec<Tensor>> {
    let dims = x.dims().to_vec();
    let k = *dims.last().expect("x has a last dimension");
    let m = x.elem_count() / k;
    let x = x.contiguous()?;
    let (xg, xs0, xs1) = cpu_data(&x)?;
    let xs = f32_slice(&xg, xs0, xs1)?;
    let mut sizes = Vec::with_capacity(projs.len());
    let mut biases = Vec::with_capacity(projs.len());
    for (w, bias) in projs {
        let (n, kw) = match w {
            RowWeights::F32(t) => t.dims2()?,
            RowWeights::Bf16(b) => (b.rows, b.cols),
            RowWeights::Q4(q) => (q.rows, q.cols),
            RowWeights::Q40(q) => (q.rows, q.cols),
            RowWeights::Q4K(q) => (q.rows, q.cols),
            RowWeights::Q8(q) => (q.rows, q.cols),
            RowWeights::X8(q) => (q.rows, q.cols),
        };
        if kw != k {
            return Err(ModelError::Generate(format!(
                "projection expects {kw} inputs, got {k}"
            )));
        }
        sizes.push(n);
        biases.push(match bias {
            Some(b) => Some(b.to_vec1::<f32>()?),
            None => None,
        });
    }
    let mut outs: Vec<Vec<f32>> = sizes.iter().map(|&n| vec![0f32; m * n]).collect();
    let mut guards = Vec::new();
    for (w, _) in projs {
        if let RowWeights::F32(t) = w {
            guards.push(cpu_data(t)?);
        }
    }
    let mut f32s = guards.iter();
    let mut wptrs = Vec::with_capacity(projs.len());
    for (w, _) in projs {
        wptrs.push(match w {
            RowWeights::F32(_) => {
                let (g, a, b) = f32s.next().expect("one guard per f32 weight");
                WPtr::F32(Ptr(f32_slice(g, *a, *b)?.as_ptr()))
            }
            RowWeights::Bf16(b) => WPtr::Bf16(Ptr(b.data.as_ptr())),
            RowWeights::Q4(q) => WPtr::Blocks(BlockRows::Q4(q.scales.as_ptr(), q.nibbles.as_ptr())),
            RowWeights::Q40(q) => {
                WPtr::Blocks(BlockRows::Q40(q.scales.as_ptr(), q.nibbles.as_ptr()))
            }
            RowWeights::Q4K(q) => WPtr::Blocks(BlockRows::Q4K(
                q.supers.as_ptr(),
                q.subs.as_ptr(),
                q.nibbles.as_ptr(),
            )),
            RowWeights::Q8(q) => WPtr::Blocks(BlockRows::Q8(q.scales.as_ptr(), q.values.as_ptr())),
            RowWeights::X8(q) => WPtr::X8(
                q.kind,
                Ptr(q.scales.as_ptr()),
                Ptr(q.subs.as_ptr()),
                Ptr(q.levels.get()?.as_ptr()),
            ),
        });
    }
    // Interleaved weights multiply the activations rounded to int8, rounded once here.
    let xq = wptrs
        .iter()
        .any(|w| matches!(w, WPtr::X8(..)))
        .then(|| QuantizedRows::of(xs));
    // Jobs: (projection, first row, rows), about 4 per thread, rows a multiple of 16 (a pair
    // of interleaved groups, which the 512-bit tile takes at once) but for a projection's last.
    let threads = rayon::current_num_threads().max(1);
    let total: usize = sizes.iter().sum();
    let per_job = (total / (4 * threads)).clamp(16, 1024) / (2 * GROUP) * (2 * GROUP);
    let mut jobs = Vec::new();
    for (p, &n) in sizes.iter().enumerate() {
        let mut j = 0;
        while j < n {
            let r = per_job.min(n - j);
            jobs.push((p, j, r));
            j += r;
        }
    }
    let isa = isa();
    let xp = Ptr(xs.as_ptr());
    let optrs: Vec<Ptr<f32>> = outs
        .iter_mut()
        .map(|o| Ptr(o.as_mut_ptr() as *const f32))
        .collect();
    let bptrs: Vec<Option<Ptr<f32>>> = biases
        .iter()
        .map(|b| b.as_ref().map(|b| Ptr(b.as_ptr())))
        .collect();
    jobs.par_iter().for_each(|&(p, j0, r)| {
        let n = sizes[p];
        // SAFETY: jobs own disjoint output columns `j0..j0 + r` of `outs[p]`; every pointer
        // indexes a buffer of the size computed above, alive until the end of this call.
        unsafe {
            let out = (optrs[p].get() as *mut f32).add(j0);
            let bias = bptrs[p].map(|b| b.get().add(j0));
            match wptrs[p] {
                WPtr::F32(w) => run(isa, w.get().add(j0 * k), r, k, xp.get(), m, bias, out, n),
                WPtr::Bf16(w) => run(isa, w.get().add(j0 * k), r, k, xp.get(), m, bias, out, n),
                WPtr::Blocks(w) => {
                    run_blocks(isa, w.skip_rows(j0, k), r, k, xp.get(), m, bias, out, n)
                }
                WPtr::X8(kind, s, u, l) => {
                    let xq = xq.as_ref().expect("rounded above");
                    run_x8(kind, (s.get(), u.get(), l.get()), j0, r, k, xq, m, out, n);
                    add_bias(bias, r, m, out, n);
                }
            }
        }
    });
    drop(f32s);
    drop(guards);
    drop(xg);
    outs.into_iter()
        .zip(&sizes)
        .map(|(o, &n)| {
            let mut shape = dims.clone();
            *shape.last_mut().expect("rank >= 1") = n;
            Ok(Tensor::from_vec(o, shape, x.device())?)
        })
        .collect()
}

/// Adds `bias[j]` to `out[i * ldo + j]` for `i < m`, `j < rows` (the kernels' last step).
///
/// # Safety
/// `bias` (if any) holds `rows` elements; `out` `(m - 1) * ldo + rows` writable ones.
pub(super) unsafe fn add_bias(
    bias: Option<*const f32>,
    rows: usize,
    m: usize,
    out: *mut f32,
    ldo: usize,
) {
    if let Some(b) = bias {
        for i in 0..m {
            for j in 0..rows {
                *out.add(i * ldo + j) += *b.add(j);
            }
        }
    }
}

/// A weight element the kernels read: f32, or bf16 bits.
#[cfg(target_arch = "x86_64")]
trait Weight: crate::kernels::matvec_avx512::Elem + crate::kernels::matvec_avx2::Elem {
    fn f32(self) -> f32;
}

/// A weight element the kernels read: f32, or bf16 bits.
#[cfg(not(target_arch = "x86_64"))]
trait Weight: Copy {
    fn f32(self) -> f32;
}

impl Weight for f32 {
    fn f32(self) -> f32 {
        self
    }
}

impl Weight for u16 {
    fn f32(self) -> f32 {
        from_bf16(self)
    }
}

/// `out[i * ldo + j] = dot(w_j, x_i) + bias[j]` for `j < rows`, `i < m`, on the best kernel.
///
/// # Safety
/// As `matvec_avx512::rows`, minus the CPU features (`isa` says which exist).
#[allow(clippy::too_many_arguments)]
unsafe fn run<E: Weight>(
    isa: Isa,
    w: *const E,
    rows: usize,
    k: usize,
    xs: *const f32,
    m: usize,
    bias: Option<*const f32>,
    out: *mut f32,
    ldo: usize,
) {
    #[cfg(target_arch = "x86_64")]
    match isa {
        Isa::Avx512 => {
            return crate::kernels::matvec_avx512::rows(w, rows, k, xs, m, bias, out, ldo)
        }
        Isa::Avx2 => return crate::kernels::matvec_avx2::rows(w, rows, k, xs, m, bias, out, ldo),
        Isa::Scalar => {}
    }
    let xs = std::slice::from_raw_parts(xs, m * k);
    for j in 0..rows {
        let wr = std::slice::from_raw_parts(w.add(j * k), k);
        let b = bias.map_or(0.0, |b| *b.add(j));
        for i in 0..m {
            let d: f32 = wr
                .iter()
                .zip(&xs[i * k..(i + 1) * k])
                .map(|(a, x)| a.f32() * x)
                .sum();
            *out.add(i * ldo + j) = d + b;
        }
    }
}

/// Rows `j0..j0 + rows` (multiples of 8) of an interleaved matrix against rounded activations.
///
/// # Safety
/// `w` is an `X8Matrix`'s `(scales, subs, levels)`, of row length `k`, holding those rows;
/// `xq` holds `m` rows of `k`; `out` as in `run`. Only called where `x8::available` made the
/// matrix.
#[allow(clippy::too_many_arguments)]
unsafe fn run_x8(
    kind: X8Kind,
    w: (*const u16, *const u8, *const u8),
    j0: usize,
    rows: usize,
    k: usize,
    xq: &QuantizedRows,
    m: usize,
    out: *mut f32,
    ldo: usize,
) {
    let (nb, g0) = (k / q4::BLOCK, j0 / GROUP);
    #[cfg(target_arch = "x86_64")]
    crate::kernels::matvec_x8::rows_x8(
        kind,
        crate::kernels::matvec_x8::X8Ptrs {
            scales: w.0,
            subs: w.1,
            levels: w.2,
        }
        .skip_groups(kind, g0, nb),
        rows / GROUP,
        k,
        xq.q.as_ptr(),
        xq.d.as_ptr(),
        xq.sums.as_ptr(),
        m,
        out,
        ldo,
    );
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("interleaved weights are made on x86-64 CPUs with AVX2 only");
}

/// As `run`, for block-packed weights (`rows` rows of length `k`).
///
/// # Safety
/// As `matvec_avx512::rows_blocks`, minus the CPU features (`isa` says which exist).
#[allow(clippy::too_many_arguments)]
unsafe fn run_blocks(
    isa: Isa,
    w: BlockRows,
    rows: usize,
    k: usize,
    xs: *const f32,
    m: usize,
    bias: Option<*const f32>,
    out: *mut f32,
    ldo: usize,
) {
    #[cfg(target_arch = "x86_64")]
    match (isa, w) {
        (Isa::Avx512, BlockRows::Q4(s, q)) => {
            use crate::kernels::matvec_avx512::{rows_blocks, Q4Blocks};
            return rows_blocks(Q4Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx512, BlockRows::Q40(s, q)) => {
            use crate::kernels::matvec_avx512::{rows_blocks, Q40Blocks};
            return rows_blocks(Q40Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx512, BlockRows::Q4K(d, s, q)) => {
            use crate::kernels::matvec_avx512::{rows_blocks, Q4KBlocks};
            return rows_blocks(Q4KBlocks(d, s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx512, BlockRows::Q8(s, q)) => {
            use crate::kernels::matvec_avx512::{rows_blocks, Q8Blocks};
            return rows_blocks(Q8Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx2, BlockRows::Q4(s, q)) => {
            use crate::kernels::matvec_avx2::{rows_blocks, Q4Blocks};
            return rows_blocks(Q4Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx2, BlockRows::Q40(s, q)) => {
            use crate::kernels::matvec_avx2::{rows_blocks, Q40Blocks};
            return rows_blocks(Q40Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx2, BlockRows::Q4K(d, s, q)) => {
            use crate::kernels::matvec_avx2::{rows_blocks, Q4KBlocks};
            return rows_blocks(Q4KBlocks(d, s, q), rows, k, xs, m, bias, out, ldo);
        }
        (Isa::Avx2, BlockRows::Q8(s, q)) => {
            use crate::kernels::matvec_avx2::{rows_blocks, Q8Blocks};
            return rows_blocks(Q8Blocks(s, q), rows, k, xs, m, bias, out, ldo);
        }
        _ => {}
    }
    for j in 0..rows {
        let wr = w.row(j, k);
        let bj = bias.map(|b| b.add(j));
        run(Isa::Scalar, wr.as_ptr(), 1, k, xs, m, bj, out.add(j), ldo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::bf16::to_bf16;
    use candle_core::Device;

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn isas() -> Vec<Isa> {
        let mut v = vec![Isa::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if crate::kernels::cpu::avx2_fma() {
                v.push(Isa::Avx2);
            }
            if crate::kernels::cpu::avx512() {
                v.push(Isa::Avx512);
            }
        }
        v
    }

    /// Every kernel, f32 and bf16 weights, against a plain f64 reference, over shapes that
    /// exercise every tile and tail (rows not a multiple of 4, k not a multiple of 16).
    #[test]
    fn kernels_match_reference() {
        for &(n, k, m) in &[(13, 37, 1), (8, 16, 4), (9, 50, 7), (5, 3, 2), (21, 64, 9)] {
            let w = values(n * k, 1);
            let x = values(m * k, 2);
            let b = values(n, 3);
            let wh: Vec<u16> = w.iter().map(|&v| to_bf16(v)).collect();
            for isa in isas() {
                for half in [false, true] {
                    let mut out = vec![f32::NAN; m * n];
                    // SAFETY: sizes as documented; `isa` is supported (see `isas`).
                    unsafe {
                        if half {
                            run(
                                isa,
                                wh.as_ptr(),
                                n,
                                k,
                                x.as_ptr(),
                                m,
                                Some(b.as_ptr()),
                                out.as_mut_ptr(),
                                n,
                            );
                        } else {
                            run(
                                isa,
                                w.as_ptr(),
                                n,
                                k,
                                x.as_ptr(),
                                m,
                                Some(b.as_ptr()),
                                out.as_mut_ptr(),
                                n,
                            );
                        }
                    }
                    for i in 0..m {
                        for j in 0..n {
                            let want: f64 = (0..k)
                                .map(|p| {
                                    let wv = if half {
                                        from_bf16(wh[j * k + p])
                                    } else {
                                        w[j * k + p]
                                    };
                                    wv as f64 * x[i * k + p] as f64
                                })
                                .sum::<f64>()
                                + b[j] as f64;
                            let got = out[i * n + j] as f64;
                            assert!(
                                (got - want).abs() < 1e-4,
                                "n={n} k={k} m={m} half={half} ({i},{j}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Q4_1 and Q8_0 blocks: every ISA, every tile shape (1 to 9 input rows, odd and even
    /// weight rows), against an f64 dot product of the decoded weights.
    #[test]
    fn block_kernels_match_reference() {
        for &(n, k, m) in &[(13, 32, 1), (8, 64, 4), (9, 96, 7), (3, 32, 2), (21, 64, 9)] {
            let nb = n * k / q4::BLOCK;
            let raw = values(nb * 2 + n * k, 8);
            let q4_scales: Vec<[f32; 2]> = (0..nb)
                .map(|b| [raw[2 * b].abs() * 0.1, raw[2 * b + 1]])
                .collect();
            let q8_scales: Vec<f32> = (0..nb).map(|b| raw[2 * b].abs() * 0.01).collect();
            let bytes: Vec<u8> = raw[2 * nb..]
                .iter()
                .map(|v| ((v + 1.0) * 127.9) as u8)
                .collect();
            let signed: Vec<i8> = bytes.iter().map(|&b| (b as i8).max(-127)).collect();
            let x = values(m * k, 9);
            let b = values(n, 10);
            let kinds = [
                BlockRows::Q4(q4_scales.as_ptr(), bytes.as_ptr()),
                BlockRows::Q8(q8_scales.as_ptr(), signed.as_ptr()),
                BlockRows::Q40(q8_scales.as_ptr(), bytes.as_ptr()),
            ];
            for (kind, w) in kinds.into_iter().enumerate() {
                for isa in isas() {
                    let mut out = vec![f32::NAN; m * n];
                    // SAFETY: sizes as documented; `isa` is supported (see `isas`).
                    unsafe {
                        run_blocks(
                            isa,
                            w,
                            n,
                            k,
                            x.as_ptr(),
                            m,
                            Some(b.as_ptr()),
                            out.as_mut_ptr(),
                            n,
                        );
                    }
                    for j in 0..n {
                        let decoded = match kind {
                            0 => q4::decode_blocks(
                                &q4_scales[j * k / 32..(j + 1) * k / 32],
                                &bytes[j * k / 2..(j + 1) * k / 2],
                            ),
                            1 => q8::decode_blocks(
                                &q8_scales[j * k / 32..(j + 1) * k / 32],
                                &signed[j * k..(j + 1) * k],
                            ),
                            _ => q4::decode_q4_0_blocks(
                                &q8_scales[j * k / 32..(j + 1) * k / 32],
                                &bytes[j * k / 2..(j + 1) * k / 2],
                            ),
                        };
                        for i in 0..m {
                            let want: f64 = (0..k)
                                .map(|p| decoded[p] as f64 * x[i * k + p] as f64)
                                .sum::<f64>()
                                + b[j] as f64;
                            let got = out[i * n + j] as f64;
                            assert!(
                                (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                                "{isa:?} kind {kind} n={n} k={k} m={m} ({i},{j}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Q4_K super-blocks: every ISA and tile shape against an f64 dot product of the decoded
    /// weights (`Q4KMatrix::row`, the scalar fallback's decoding).
    #[test]
    fn q4_k_kernels_match_reference() {
        for &(n, k, m) in &[(13, 256, 1), (8, 512, 4), (3, 256, 9), (5, 768, 2)] {
            let q = Q4KMatrix::quantize(&values(n * k, 11), n, k).expect("whole super-blocks");
            let x = values(m * k, 12);
            let b = values(n, 13);
            let w = BlockRows::Q4K(q.supers.as_ptr(), q.subs.as_ptr(), q.nibbles.as_ptr());
            for isa in isas() {
                let mut out = vec![f32::NAN; m * n];
                // SAFETY: sizes as documented; `isa` is supported (see `isas`).
                unsafe {
                    let (xp, op) = (x.as_ptr(), out.as_mut_ptr());
                    run_blocks(isa, w, n, k, xp, m, Some(b.as_ptr()), op, n);
                }
                for j in 0..n {
                    let decoded = q.row(j);
                    for i in 0..m {
                        let want: f64 = (0..k)
                            .map(|p| decoded[p] as f64 * x[i * k + p] as f64)
                            .sum::<f64>()
                            + b[j] as f64;
                        let got = out[i * n + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{isa:?} n={n} k={k} m={m} ({i},{j}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// Interleaved Q8_0 / Q4_0 / Q4_K with int8 activations (where the CPU has AVX2), through the
    /// job split of `linear_rows_many`: what the decoded weights times the rounded activations
    /// give, in f64, for every tile shape (1 to 9 input rows) and a bias.
    #[test]
    fn interleaved_kernels_match_reference() -> Result<()> {
        if !crate::kernels::x8::available() {
            return Ok(());
        }
        let dev = Device::Cpu;
        for &(n, k, m) in &[
            (8, 32, 1),
            (16, 64, 2),
            (24, 96, 3),
            (40, 64, 9),
            (1024, 64, 1),
            (16, 512, 3),
            (1032, 256, 1),
            (24, 768, 5),
        ] {
            let w = values(n * k, 14);
            let x = values(m * k, 15);
            let b = values(n, 16);
            let bias = Tensor::from_vec(b.clone(), n, &dev)?;
            let xt = Tensor::from_vec(x.clone(), (m, k), &dev)?;
            let rounded = QuantizedRows::of(&x);
            let q8 = X8Matrix::from_q8_0(&Q8Matrix::quantize(&w, n, k).unwrap()).unwrap();
            let q4 = X8Matrix::from_q4_0(&Q40Matrix::quantize(&w, n, k).unwrap()).unwrap();
            let mut kinds = vec![q8, q4];
            if k % 256 == 0 {
                let q = Q4KMatrix::quantize(&w, n, k).unwrap();
                kinds.push(X8Matrix::from_q4_k(&q).unwrap());
            }
            for q in &kinds {
                let got = linear_rows_many(&xt, &[(RowWeights::X8(q), Some(&bias))])?;
                for (i, got_i) in got[0].to_vec2::<f32>()?.iter().enumerate() {
                    let xi = rounded.row(i, k);
                    for j in 0..n {
                        let want: f64 = q
                            .row(j)
                            .unwrap()
                            .iter()
                            .zip(&xi)
                            .map(|(a, c)| *a as f64 * *c as f64)
                            .sum::<f64>()
                            + b[j] as f64;
                        let g = got_i[j] as f64;
                        assert!(
                            (g - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{:?} n={n} k={k} m={m} ({i},{j}): {g} vs {want}",
                            q.kind
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Levels still arriving (`pending.rs`) are waited for: the product is the one of levels
    /// held from the start; levels whose read failed make the product an error, not a panic.
    #[test]
    fn interleaved_levels_arriving_later_are_waited_for_or_their_failure_returned() -> Result<()> {
        if !crate::kernels::x8::available() {
            return Ok(());
        }
        let (n, k, m) = (16, 64, 2);
        let held =
            X8Matrix::from_q8_0(&Q8Matrix::quantize(&values(n * k, 3), n, k).unwrap()).unwrap();
        let xt = Tensor::from_vec(values(m * k, 4), (m, k), &Device::Cpu)?;
        let want = linear_rows_many(&xt, &[(RowWeights::X8(&held), None)])?[0].to_vec2::<f32>()?;
        let bytes = held.levels.get()?.to_vec();
        let (levels, fill) = crate::kernels::pending::PendingBytes::pending(bytes.len());
        let arriving = X8Matrix {
            levels,
            ..held.clone()
        };
        let reader = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            fill.fill(Ok(crate::kernels::pending::AlignedBytes::from_vec(bytes)));
        });
        let got = linear_rows_many(&xt, &[(RowWeights::X8(&arriving), None)])?;
        reader.join().unwrap();
        assert_eq!(got[0].to_vec2::<f32>()?, want);
        let (levels, fill) = crate::kernels::pending::PendingBytes::pending(held.levels.len());
        fill.fill(Err("disk gone".into()));
        let failed = X8Matrix { levels, ..held };
        let err = linear_rows_many(&xt, &[(RowWeights::X8(&failed), None)]).unwrap_err();
        assert!(err.to_string().contains("disk gone"), "{err}");
        Ok(())
    }

    /// Several projections in one pass give what candle's matmul gives for each.
    #[test]
    fn many_projections_match_matmul() -> Result<()> {
        let dev = Device::Cpu;
        let (m, k) = (3, 40);
        let x = Tensor::from_vec(values(m * k, 4), (1, m, k), &dev)?;
        let w1 = Tensor::from_vec(values(70 * k, 5), (70, k), &dev)?;
        let w2 = Tensor::from_vec(values(6 * k, 6), (6, k), &dev)?;
        let b2 = Tensor::from_vec(values(6, 7), 6, &dev)?;
        let got = linear_rows_many(
            &x,
            &[
                (RowWeights::F32(&w1), None),
                (RowWeights::F32(&w2), Some(&b2)),
            ],
        )?;
        let want1 = x.broadcast_matmul(&w1.t()?)?;
        let want2 = x.broadcast_matmul(&w2.t()?)?.broadcast_add(&b2)?;
        for (g, w) in got.iter().zip([want1, want2]) {
            assert_eq!(g.dims(), w.dims());
            let d = (g - w)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            assert!(d < 1e-4, "max diff {d}");
        }
        Ok(())
    }
}
