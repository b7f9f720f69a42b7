//! Throughput of the decoding step's interleaved int8 row kernel (`kernels/matvec_x8.rs`) on one
//! pythia-2.8b MLP projection (10240 × 2560) in Q8_0, Q4_0 and Q4_K, for 1, 4, 16 and 64 input
//! rows: GMAC/s and GB/s of weights, median of 5 after a warm-up. `COPIES=48` cycles through 48
//! copies of the matrix (630 MB in Q4_0), so the weights come from memory rather than the cache,
//! as in a real-size model. Where the real_size benchmark's time goes (see ../README.md,
//! "real_size"): `cargo build --release -p train-speed --bin x8_rows && COPIES=48
//! target/release/x8_rows`.
use std::time::Instant;

use candle_core::{Device, Tensor};
use proofstep::model::kernels::matvec::{linear_rows_many, RowWeights};
use proofstep::model::kernels::q4::Q40Matrix;
use proofstep::model::kernels::q4k::Q4KMatrix;
use proofstep::model::kernels::q8::Q8Matrix;
use proofstep::model::kernels::x8::X8Matrix;

fn main() {
    let (n, k) = (10240usize, 2560usize);
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 7919 % 1013) as f32 - 506.0) / 500.0)
        .collect();
    let mats = [
        (
            "q8_0",
            X8Matrix::from_q8_0(&Q8Matrix::quantize(&w, n, k).unwrap()).unwrap(),
        ),
        (
            "q4_0",
            X8Matrix::from_q4_0(&Q40Matrix::quantize(&w, n, k).unwrap()).unwrap(),
        ),
        (
            "q4_k",
            X8Matrix::from_q4_k(&Q4KMatrix::quantize(&w, n, k).unwrap()).unwrap(),
        ),
    ];
    let copies: usize = std::env::var("COPIES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    for (name, q) in &mats {
        let qs: Vec<X8Matrix> = (0..copies).map(|_| q.clone()).collect();
        for m in [1usize, 4, 16, 64] {
            let x = Tensor::randn(0f32, 1., (m, k), &Device::Cpu).unwrap();
            for q in &qs {
                let _ = linear_rows_many(&x, &[(RowWeights::X8(q), None)]).unwrap();
            }
            let mut t: Vec<f64> = (0..5)
                .map(|_| {
                    let s = Instant::now();
                    for q in &qs {
                        let _ = linear_rows_many(&x, &[(RowWeights::X8(q), None)]).unwrap();
                    }
                    s.elapsed().as_secs_f64() / copies as f64
                })
                .collect();
            t.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let gmac = (m * n * k) as f64 / t[2] / 1e9;
            let gbs = q.bytes() as f64 / t[2] / 1e9;
            println!(
                "{name} m={m:3} {:.3} ms {gmac:.1} GMAC/s {gbs:.1} GB/s of weights",
                t[2] * 1e3
            );
        }
    }
}
