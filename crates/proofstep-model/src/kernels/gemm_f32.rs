//! One f32 matrix product on the CPU through the `gemm` crate (candle's own CPU matmul
//! kernel), with every operand given by pointer and strides: the fused training ops multiply
//! views (transposed weights, row blocks, gradients) in place instead of making candle
//! tensors, each of which backprop would zero and sum again.

use gemm::{gemm, Parallelism};

/// `dst (m × n, row-major; += when `accumulate`) = a · b`, each operand given by its
/// pointer and (row, column) strides; on candle's thread count.
///
/// # Safety
/// Every element addressed by the shapes and strides must be valid; `dst` must not
/// overlap the inputs.
pub unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    accumulate: bool,
    a: *const f32,
    a_strides: (usize, usize),
    b: *const f32,
    b_strides: (usize, usize),
) {
    let threads = candle_core::utils::get_num_threads();
    matmul_rows(
        (m, n, k),
        (dst, n),
        accumulate,
        (a, a_strides),
        (b, b_strides),
        threads,
    );
}

/// `matmul` into `dst` rows `dst_rs` apart, on `threads` threads (1 inside a parallel loop
/// over heads, whose products are small).
///
/// # Safety
/// As `matmul`.
pub unsafe fn matmul_rows(
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs): (*mut f32, usize),
    accumulate: bool,
    (a, (a_rs, a_cs)): (*const f32, (usize, usize)),
    (b, (b_rs, b_cs)): (*const f32, (usize, usize)),
    threads: usize,
) {
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs as isize,
        accumulate,
        a,
        a_cs as isize,
        a_rs as isize,
        b,
        b_cs as isize,
        b_rs as isize,
        1.0,
        1.0,
        false,
        false,
        false,
        par,
    );
}

/// `out (m × n) = x · wᵀ` for row-major `x: m × k` and `w: n × k`: a linear layer's product.
pub fn matmul_xwt(x: &[f32], w: &[f32], dims: (usize, usize, usize), out: &mut [f32]) {
    let (m, _, n) = dims;
    assert!(out.len() >= m * n);
    // SAFETY: out holds m × n elements (checked above).
    unsafe { xwt_into(x, w, dims, out.as_mut_ptr(), false) }
}

/// `x · wᵀ` as a new `m × n` buffer (see `matmul_xwt`).
pub fn xwt(x: &[f32], w: &[f32], dims: (usize, usize, usize)) -> Vec<f32> {
    let (m, _, n) = dims;
    // SAFETY: the product (accumulate false) writes all m × n elements without reading them.
    unsafe { written_whole(m * n, |out| xwt_into(x, w, dims, out, false)) }
}

/// `out (m × k; += when `accumulate`) = g · w` for row-major `g: m × n` and `w: n × k`: a
/// linear layer's input gradient.
pub fn matmul_gw(
    g: &[f32],
    w: &[f32],
    dims: (usize, usize, usize),
    out: &mut [f32],
    accumulate: bool,
) {
    let (m, _, k) = dims;
    assert!(out.len() >= m * k);
    // SAFETY: out holds m × k elements (checked above).
    unsafe { gw_into(g, w, dims, out.as_mut_ptr(), accumulate) }
}

/// `g · w` as a new `m × k` buffer (see `matmul_gw`).
pub fn gw(g: &[f32], w: &[f32], dims: (usize, usize, usize)) -> Vec<f32> {
    let (m, _, k) = dims;
    // SAFETY: the product (accumulate false) writes all m × k elements without reading them.
    unsafe { written_whole(m * k, |out| gw_into(g, w, dims, out, false)) }
}

/// `out (n × k; += when `accumulate`) = gᵀ · x` for row-major `g: m × n` and `x: m × k`: a
/// linear layer's weight gradient.
pub fn matmul_gtx(
    g: &[f32],
    x: &[f32],
    dims: (usize, usize, usize),
    out: &mut [f32],
    accumulate: bool,
) {
    let (_, n, k) = dims;
    assert!(out.len() >= n * k);
    // SAFETY: out holds n × k elements (checked above).
    unsafe { gtx_into(g, x, dims, out.as_mut_ptr(), accumulate) }
}

/// `gᵀ · x` as a new `n × k` buffer (see `matmul_gtx`).
pub fn gtx(g: &[f32], x: &[f32], dims: (usize, usize, usize)) -> Vec<f32> {
    let (_, n, k) = dims;
    // SAFETY: the product (accumulate false) writes all n × k elements without reading them.
    unsafe { written_whole(n * k, |out| gtx_into(g, x, dims, out, false)) }
}

/// `x · wᵀ` into `out` (m × n, row-major); the one place its strides are spelled.
///
/// # Safety
/// `out` must be valid for m × n elements and not overlap the inputs.
unsafe fn xwt_into(
    x: &[f32],
    w: &[f32],
    (m, k, n): (usize, usize, usize),
    out: *mut f32,
    accumulate: bool,
) {
    assert!(x.len() >= m * k && w.len() >= n * k);
    // x is m × k (row stride k), w is n × k read transposed (strides 1, k).
    matmul(
        (m, n, k),
        out,
        accumulate,
        x.as_ptr(),
        (k, 1),
        w.as_ptr(),
        (1, k),
    )
}

/// `g · w` into `out` (m × k, row-major); the one place its strides are spelled.
///
/// # Safety
/// `out` must be valid for m × k elements and not overlap the inputs.
unsafe fn gw_into(
    g: &[f32],
    w: &[f32],
    (m, n, k): (usize, usize, usize),
    out: *mut f32,
    accumulate: bool,
) {
    assert!(g.len() >= m * n && w.len() >= n * k);
    // g is m × n, w is n × k, both row-major.
    matmul(
        (m, k, n),
        out,
        accumulate,
        g.as_ptr(),
        (n, 1),
        w.as_ptr(),
        (k, 1),
    )
}

/// `gᵀ · x` into `out` (n × k, row-major); the one place its strides are spelled.
///
/// # Safety
/// `out` must be valid for n × k elements and not overlap the inputs.
unsafe fn gtx_into(
    g: &[f32],
    x: &[f32],
    (m, n, k): (usize, usize, usize),
    out: *mut f32,
    accumulate: bool,
) {
    assert!(g.len() >= m * n && x.len() >= m * k);
    // g is m × n read transposed (strides 1, n), x is m × k.
    matmul(
        (n, k, m),
        out,
        accumulate,
        g.as_ptr(),
        (1, n),
        x.as_ptr(),
        (k, 1),
    )
}

/// A new buffer of `len` elements filled by `write`: a product that does not accumulate
/// writes its whole output, so zeroing the buffer first would be a wasted pass over memory.
///
/// # Safety
/// `write` must write all `len` elements behind the pointer and read none of them first.
unsafe fn written_whole(len: usize, write: impl FnOnce(*mut f32)) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    write(out.as_mut_ptr());
    out.set_len(len);
    out
}
