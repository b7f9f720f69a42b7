//! Test support for the fused training ops: each is checked against the composed candle ops
//! it replaces, on values and on the gradients of every input.

use candle_core::{Device, Tensor, Var};

/// Deterministic test values in [-2, 2).
pub fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 250.0 - 2.0)
        .collect()
}

/// Values and gradients (of a weighted sum of the output) of `fused` and `composed` agree.
pub fn check(
    shapes: &[&[usize]],
    fused: impl Fn(&[Tensor]) -> Tensor,
    composed: impl Fn(&[Tensor]) -> Tensor,
) {
    let run = |f: &dyn Fn(&[Tensor]) -> Tensor| {
        let vars: Vec<Var> = shapes
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let n = s.iter().product();
                Var::from_vec(values(n, k + 1), *s, &Device::Cpu).unwrap()
            })
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let y = f(&ts);
        let wts = Tensor::from_vec(values(y.elem_count(), 9), y.shape(), &Device::Cpu).unwrap();
        let grads = (y.clone() * wts)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let mut all = vec![y.flatten_all().unwrap().to_vec1::<f32>().unwrap()];
        for t in &ts {
            all.push(
                grads
                    .get(t)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap(),
            );
        }
        all
    };
    let (a, b) = (run(&fused), run(&composed));
    for (va, vb) in a.iter().zip(&b) {
        assert_eq!(va.len(), vb.len());
        for (x, y) in va.iter().zip(vb) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }
}
