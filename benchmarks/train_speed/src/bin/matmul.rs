//! Matmul throughput of candle's CPU backend (the `gemm` crate) on the shapes of llama-8m's
//! training step, next to `../matmul.py` (PyTorch) in `../matmul.sh`:
//! where the gap in training speed lies (see ../README.md, "train_speed").
//! Prints one JSON line per shape: `m × k` times `k × n`, f32, median of 5 after one warm-up.

use std::time::Instant;

use candle_core::{Device, Tensor};

fn main() {
    let dev = Device::Cpu;
    // (m, k, n, lhs stored transposed, rhs stored transposed): the LM head forward
    // (x · Wᵀ), its input gradient (g · W), its weight gradient (gᵀ · x), an MLP projection.
    let shapes = [
        (2048, 256, 8192, false, true),
        (2048, 8192, 256, false, false),
        (8192, 2048, 256, true, false),
        (2048, 256, 1024, false, true),
    ];
    for (m, k, n, tl, tr) in shapes {
        let a = if tl {
            Tensor::randn(0f32, 1., (k, m), &dev).unwrap().t().unwrap()
        } else {
            Tensor::randn(0f32, 1., (m, k), &dev).unwrap()
        };
        let b = if tr {
            Tensor::randn(0f32, 1., (n, k), &dev).unwrap().t().unwrap()
        } else {
            Tensor::randn(0f32, 1., (k, n), &dev).unwrap()
        };
        let _ = a.matmul(&b).unwrap();
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let _ = a.matmul(&b).unwrap();
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let s = times[2];
        let line = serde_json::json!({
            "impl": "candle", "m": m, "k": k, "n": n, "lhs_t": tl, "rhs_t": tr,
            "ms": s * 1e3, "gflops": 2.0 * (m * k * n) as f64 / s / 1e9,
        });
        println!("{line}");
    }
}
