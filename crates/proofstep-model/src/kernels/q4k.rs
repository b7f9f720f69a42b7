//! ggml's Q4_K rounding of inference weights (`Precision::Q4K`, reduced precision): rows cut
//! into super-blocks of 256, each with an f16 scale `d` and min scale `dmin`, and eight
//! sub-blocks of 32 with a 6-bit scale `sc` and min `m`; a weight is `q · (d·sc) − dmin·m`, `q`
//! in 0..=15. The rounding is ggml's `quantize_row_q4_K_ref` (weighted least squares over 20
//! candidate scales per sub-block, then the 6-bit scales), so the numbers are llama.cpp's
//! Q4_K numbers; `tests/model_weights_q4_k.rs` checks that against bytes ggml wrote.
//! Held here as `d`, `dmin` (f32), the sub-blocks' `sc`, `m` unpacked (a byte each) and the
//! nibbles in the Q4_1 order of `q4.rs` (16 bytes per sub-block: element `j` low, `j + 16`
//! high): 152 bytes per 256 weights (ggml packs the scales into 144).

use half::f16;
use rayon::prelude::*;

use crate::kernels::q4::BLOCK;

/// Weights per super-block (ggml's `QK_K`).
pub const SUPER: usize = 256;
/// Sub-blocks of 32 per super-block.
const SUBS: usize = SUPER / BLOCK;

/// A row-major `[rows, cols]` matrix as Q4_K super-blocks (`cols` a multiple of 256).
#[derive(Clone, Debug, PartialEq)]
pub struct Q4KMatrix {
    /// Per super-block (`row * cols / 256 + s`): `d` and `dmin` (f16 values, widened).
    pub supers: Vec<[f32; 2]>,
    /// Per sub-block of 32 (`row * cols / 32 + b`): the 6-bit scale `sc` and min `m`.
    pub subs: Vec<[u8; 2]>,
    /// 16 bytes per sub-block: byte `j` holds element `j` (low nibble) and `j + 16` (high).
    pub nibbles: Vec<u8>,
    /// Number of rows (output features).
    pub rows: usize,
    /// Row length (input features), a multiple of 256.
    pub cols: usize,
}

/// The `(scale, offset)` sub-block `b` (counted over the whole matrix) decodes with:
/// `q · scale + offset`, with `scale = d·sc` and `offset = −dmin·m` as ggml's dequantizer
/// computes them.
#[inline(always)]
pub fn sub_scale(supers: &[f32; 2], sub: [u8; 2]) -> (f32, f32) {
    (supers[0] * sub[0] as f32, -(supers[1] * sub[1] as f32))
}

/// ggml's `nearest_int`: round half to even (the magic-number trick), for |x| < 2²².
fn nearest_int(x: f32) -> i32 {
    x.round_ties_even() as i32
}

/// ggml's `make_qkx2_quants(32, 15, x, weights, L, &min, Laux, -1, 0.1, 20, false)`: the scale
/// and (negated) min of one sub-block minimizing the weighted squared error, and its levels.
fn make_qkx2_quants(x: &[f32], weights: &[f32], levels: &mut [u8]) -> (f32, f32) {
    const NMAX: f32 = 15.0;
    let (rmin, rdelta, nstep) = (-1.0f32, 0.1f32, 20);
    let n = x.len();
    let mut min = x[0];
    let mut max = x[0];
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for i in 1..n {
        min = min.min(x[i]);
        max = max.max(x[i]);
        let w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        levels.iter_mut().for_each(|l| *l = 0);
        return (0.0, -min);
    }
    let mut iscale = NMAX / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for i in 0..n {
        let l = nearest_int(iscale * (x[i] - min)).clamp(0, NMAX as i32);
        levels[i] = l as u8;
        let diff = scale * l as f32 + min - x[i];
        best_error += weights[i] * diff * diff;
    }
    let mut aux = [0u8; BLOCK];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + NMAX) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..n {
            let l = nearest_int(iscale * (x[i] - min)).clamp(0, NMAX as i32);
            aux[i] = l as u8;
            let (w, l) = (weights[i], l as f32);
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        let det = sum_w * sum_l2 - sum_l * sum_l;
        if det > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0.0f32;
            for i in 0..n {
                let diff = this_scale * aux[i] as f32 + this_min - x[i];
                cur_error += weights[i] * diff * diff;
            }
            if cur_error < best_error {
                levels[..n].copy_from_slice(&aux[..n]);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// One super-block of 256 values, as `quantize_row_q4_K_ref` rounds it: `([d, dmin], the
/// eight [sc, m], 128 bytes of nibbles in this module's order)`.
fn quantize_super(x: &[f32]) -> ([f32; 2], [[u8; 2]; SUBS], [u8; SUPER / 2]) {
    let mut levels = [0u8; SUPER];
    let mut scales = [0f32; SUBS];
    let mut mins = [0f32; SUBS];
    let (mut max_scale, mut max_min) = (0f32, 0f32);
    for j in 0..SUBS {
        let xs = &x[j * BLOCK..(j + 1) * BLOCK];
        let sum_x2: f32 = xs.iter().map(|v| v * v).sum();
        let av_x = (sum_x2 / BLOCK as f32).sqrt();
        let mut weights = [0f32; BLOCK];
        for (w, v) in weights.iter_mut().zip(xs) {
            *w = av_x + v.abs();
        }
        let (s, m) = make_qkx2_quants(xs, &weights, &mut levels[j * BLOCK..(j + 1) * BLOCK]);
        scales[j] = s;
        mins[j] = m;
        max_scale = max_scale.max(s);
        max_min = max_min.max(m);
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let mut subs = [[0u8; 2]; SUBS];
    for j in 0..SUBS {
        // ggml stores nearest_int(...) in a uint8_t before MIN(63, ·): keep the wrap.
        let ls = (nearest_int(inv_scale * scales[j]) as u8).min(63);
        let lm = (nearest_int(inv_min * mins[j]) as u8).min(63);
        subs[j] = [ls, lm];
    }
    let d = f16::from_f32(max_scale / 63.0).to_f32();
    let dmin = f16::from_f32(max_min / 63.0).to_f32();
    for j in 0..SUBS {
        let sd = d * subs[j][0] as f32;
        if sd == 0.0 {
            continue;
        }
        let dm = dmin * subs[j][1] as f32;
        for i in 0..BLOCK {
            let l = nearest_int((x[j * BLOCK + i] + dm) / sd).clamp(0, 15);
            levels[j * BLOCK + i] = l as u8;
        }
    }
    let mut nibbles = [0u8; SUPER / 2];
    for j in 0..SUBS {
        for i in 0..BLOCK / 2 {
            nibbles[j * 16 + i] = levels[j * BLOCK + i] | (levels[j * BLOCK + i + 16] << 4);
        }
    }
    ([d, dmin], subs, nibbles)
}

impl Q4KMatrix {
    /// ggml's Q4_K rounding of a row-major `[rows, cols]` matrix; `None` when `cols` is not a
    /// multiple of 256 (ggml has no Q4_K for such rows either).
    pub fn quantize(values: &[f32], rows: usize, cols: usize) -> Option<Self> {
        if !cols.is_multiple_of(SUPER) || cols == 0 || values.len() != rows * cols {
            return None;
        }
        let blocks: Vec<_> = values.par_chunks_exact(SUPER).map(quantize_super).collect();
        Some(Q4KMatrix {
            supers: blocks.iter().map(|b| b.0).collect(),
            subs: blocks.iter().flat_map(|b| b.1).collect(),
            nibbles: blocks.iter().flat_map(|b| b.2).collect(),
            rows,
            cols,
        })
    }

    /// The same matrix from ggml's own `block_q4_K` bytes (144 per super-block: `d`, `dmin` f16,
    /// 12 bytes of packed 6-bit scales, 128 bytes of nibbles: for each 64 values, 32 bytes with
    /// values `0..32` low and `32..64` high); `None` if the sizes disagree.
    pub fn from_ggml(bytes: &[u8], rows: usize, cols: usize) -> Option<Self> {
        if !cols.is_multiple_of(SUPER) || bytes.len() != rows * cols / SUPER * 144 {
            return None;
        }
        let mut m = Q4KMatrix {
            supers: Vec::new(),
            subs: Vec::new(),
            nibbles: Vec::new(),
            rows,
            cols,
        };
        for b in bytes.chunks_exact(144) {
            let half = |i: usize| f16::from_le_bytes([b[i], b[i + 1]]).to_f32();
            m.supers.push([half(0), half(2)]);
            let scales = &b[4..16];
            for j in 0..SUBS {
                m.subs.push(if j < 4 {
                    [scales[j] & 63, scales[j + 4] & 63]
                } else {
                    [
                        (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4),
                        (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
                    ]
                });
            }
            let qs = &b[16..144];
            for j in 0..SUBS {
                let (chunk, shift) = (&qs[(j / 2) * 32..(j / 2) * 32 + 32], 4 * (j % 2));
                let level = |i: usize| (chunk[i] >> shift) & 0xF;
                m.nibbles
                    .extend((0..16).map(|i| level(i) | (level(i + 16) << 4)));
            }
        }
        Some(m)
    }

    /// Row `r` decoded to f32.
    pub fn row(&self, r: usize) -> Vec<f32> {
        let nb = self.cols / BLOCK;
        decode_blocks(
            &self.supers[r * nb / SUBS..(r + 1) * nb / SUBS],
            &self.subs[r * nb..(r + 1) * nb],
            &self.nibbles[r * self.cols / 2..(r + 1) * self.cols / 2],
        )
    }

    /// Bytes the matrix occupies.
    pub fn bytes(&self) -> usize {
        8 * self.supers.len() + 2 * self.subs.len() + self.nibbles.len()
    }
}

/// The f32 values of consecutive super-blocks (`supers[s]`, their eight `subs`, 16 bytes of
/// `nibbles` per sub-block): `q · (d·sc) − dmin·m` by one FMA.
pub fn decode_blocks(supers: &[[f32; 2]], subs: &[[u8; 2]], nibbles: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(subs.len() * BLOCK);
    for (b, (&sub, bytes)) in subs.iter().zip(nibbles.chunks_exact(BLOCK / 2)).enumerate() {
        let (d, m) = sub_scale(&supers[b / SUBS], sub);
        out.extend(bytes.iter().map(|&x| ((x & 0x0F) as f32).mul_add(d, m)));
        out.extend(bytes.iter().map(|&x| ((x >> 4) as f32).mul_add(d, m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-0.05, 0.05) with a few outliers.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(3);
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let v = ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.1;
                if i % 97 == 5 {
                    v * 8.0
                } else {
                    v
                }
            })
            .collect()
    }

    #[test]
    fn q4_k_rounding_is_close_to_every_weight() {
        let (rows, cols) = (3, 512);
        let w = values(rows * cols, 1);
        let q = Q4KMatrix::quantize(&w, rows, cols).expect("whole super-blocks");
        assert_eq!(q.bytes(), rows * cols / SUPER * 152);
        for r in 0..rows {
            let back = q.row(r);
            let x = &w[r * cols..(r + 1) * cols];
            for b in 0..cols / BLOCK {
                let xs = &x[b * BLOCK..(b + 1) * BLOCK];
                let range = xs.iter().fold(0f32, |a, v| a.max(v.abs())) * 2.0;
                for (i, v) in back[b * BLOCK..(b + 1) * BLOCK].iter().enumerate() {
                    // Within a 15th of the sub-block's range plus the 6-bit scales' slack.
                    assert!((v - xs[i]).abs() <= range / 15.0 * 1.2, "{} → {v}", xs[i]);
                }
            }
        }
        assert!(Q4KMatrix::quantize(&w[..3 * 288], 3, 288).is_none());
    }

    #[test]
    fn a_zero_matrix_decodes_to_zeros() {
        let q = Q4KMatrix::quantize(&[0.0; 256], 1, 256).unwrap();
        assert!(q.row(0).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn ggml_bytes_round_trip_through_this_layout() {
        // Pack a quantized matrix into ggml's block_q4_K layout by hand and read it back.
        let (rows, cols) = (2, 256);
        let q = Q4KMatrix::quantize(&values(rows * cols, 7), rows, cols).unwrap();
        let mut bytes = Vec::new();
        for s in 0..rows {
            bytes.extend(f16::from_f32(q.supers[s][0]).to_le_bytes());
            bytes.extend(f16::from_f32(q.supers[s][1]).to_le_bytes());
            let mut sc = [0u8; 12];
            for j in 0..SUBS {
                let [ls, lm] = q.subs[s * SUBS + j];
                if j < 4 {
                    sc[j] = ls;
                    sc[j + 4] = lm;
                } else {
                    sc[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
                    sc[j - 4] |= (ls >> 4) << 6;
                    sc[j] |= (lm >> 4) << 6;
                }
            }
            bytes.extend(sc);
            let level = |j: usize, i: usize| {
                let byte = q.nibbles[(s * SUBS + j) * 16 + i % 16];
                if i < 16 {
                    byte & 0xF
                } else {
                    byte >> 4
                }
            };
            for pair in 0..SUBS / 2 {
                for i in 0..32 {
                    bytes.push(level(2 * pair, i) | (level(2 * pair + 1, i) << 4));
                }
            }
        }
        let back = Q4KMatrix::from_ggml(&bytes, rows, cols).unwrap();
        assert_eq!(back.supers, q.supers);
        assert_eq!(back.subs, q.subs);
        assert_eq!(back.nibbles, q.nibbles);
    }
}
