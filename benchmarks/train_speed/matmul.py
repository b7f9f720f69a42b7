"""PyTorch side of the matmul probe (see train_speed/src/bin/matmul.rs and README.md,
"train_speed"): the same shapes and layouts, f32, median of 5 after one warm-up.
Usage: python matmul.py [--threads 2]"""
import argparse, json, time

import torch

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
torch.set_num_threads(p.parse_args().threads)
for m, k, n, tl, tr in [(2048, 256, 8192, False, True), (2048, 8192, 256, False, False),
                        (8192, 2048, 256, True, False), (2048, 256, 1024, False, True)]:
    a = torch.randn(k, m).t() if tl else torch.randn(m, k)
    b = torch.randn(n, k).t() if tr else torch.randn(k, n)
    a @ b
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    s = sorted(times)[2]
    print(json.dumps({"impl": f"pytorch {torch.__version__}", "m": m, "k": k, "n": n, "lhs_t": tl,
                      "rhs_t": tr, "ms": s * 1e3, "gflops": 2 * m * k * n / s / 1e9}), flush=True)
