//! Exact GELU (`gelu`, GPT-NeoX / pythia's activation) for inference, split across threads.
//! candle's `gelu_erf` maps the values on one thread; at pythia-2.8b's shapes with 16 samples
//! that left the second core idle for ~15 % of each decoding step (benchmarks/README.md,
//! real_size). Same formula and the same `erf` candle calls (`candle_core::cpu::erf::erf_f32`),
//! so the values are bit-identical; training keeps candle's differentiable op.

use candle_core::Tensor;
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::matvec::with_values;

/// Values per parallel chunk; a tensor of at most this many is mapped on the calling thread.
const CHUNK: usize = 4096;

/// `0.5 · x · (1 + erf(x / √2))` of every value of `t` (f32, CPU), as candle's `gelu_erf`.
pub fn gelu_erf(t: &Tensor) -> Result<Tensor> {
    let one = |v: f32| {
        (candle_core::cpu::erf::erf_f32(v * std::f32::consts::FRAC_1_SQRT_2) + 1.) * 0.5 * v
    };
    let out = with_values(t, |values| {
        let mut out = vec![0f32; values.len()];
        if values.len() <= CHUNK {
            out.iter_mut().zip(values).for_each(|(o, &v)| *o = one(v));
        } else {
            out.par_chunks_mut(CHUNK)
                .zip(values.par_chunks(CHUNK))
                .for_each(|(o, v)| o.iter_mut().zip(v).for_each(|(o, &v)| *o = one(v)));
        }
        out
    })?;
    Ok(Tensor::from_vec(out, t.dims(), t.device())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn the_values_are_candles_bit_for_bit_on_one_thread_and_on_many() {
        for n in [7usize, CHUNK, 3 * CHUNK + 5] {
            let mut v: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 2001) as f32 / 100.0 - 10.0)
                .collect();
            v[0] = 0.0;
            v[1] = -0.0;
            v[2] = f32::MIN_POSITIVE;
            v[3] = 1e30;
            v[4] = -1e30;
            v[5] = f32::NAN;
            v[6] = -3.5e-3;
            let t = Tensor::from_vec(v, (n, 1), &Device::Cpu).unwrap();
            let want = t
                .gelu_erf()
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let got = gelu_erf(&t).unwrap();
            assert_eq!(got.dims(), [n, 1]);
            let got = got.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert!(bits(&got) == bits(&want), "{n} values differ");
        }
    }
}
