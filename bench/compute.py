#!/usr/bin/env python3
"""Compute speed of the prelude, run in a notebook session, next to NumPy on the same machine.

    .venv/bin/python bench/compute.py [--numpy PYTHON]

The Rust side runs as one cell in a fresh `ferrolab` kernel (prelude code is optimised;
the cell itself only calls it). With --numpy, the same operations run under that Python
(one with NumPy installed, e.g. the reference environment of tests/reference/requirements.txt;
CI never needs it). Each figure is the best of 5 runs, in milliseconds. The matrix products
are also given in GFLOP/s next to the machine's peak: cores × 2 FMA units × vector lanes ×
2 flops × the clock /proc/cpuinfo reports (nominal: a boost clock would raise it).
"""

import os
import re

from common import main

MATMUL_FLOPS = 2 * 500**3

RUST = r"""{
use std::time::Instant;
fn best<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..5).map(|_| { let t = Instant::now(); std::hint::black_box(f()); t.elapsed().as_secs_f64() * 1e3 })
        .fold(f64::MAX, f64::min)
}
random::seed(0);
let a = random::normal(0.0, 1.0, (500, 500));
let s = random::normal(0.0, 1.0, (300, 300));
let spd = s.dot(&s.t()) + Array2::<f64>::eye(300);
let b = random::normal(0.0, 1.0, 500);
let x: Vec<f64> = (0..1000).map(|i| i as f64 / 100.0).collect();
let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
let points = random::normal(0.0, 1.0, (5000, 2));
let frame = df!("x" => (0..100_000).map(|i| i as f64).collect::<Vec<_>>(), "y" => (0..100_000).map(|i| (i % 7) as i64).collect::<Vec<_>>()).unwrap();
println!("matmul 500x500 (linalg::matmul) {}", best(|| linalg::matmul(&a, &a).unwrap()));
println!("matmul 500x500 (ndarray dot) {}", best(|| a.dot(&a)));
let a32 = Tensor::randn(0f32, 1.0, (500, 500), &Device::Cpu).unwrap();
println!("matmul 500x500 f32 (candle Tensor) {}", best(|| a32.matmul(&a32).unwrap()));
println!("solve 500x500 {}", best(|| linalg::solve(&a, &b).unwrap()));
println!("inv 500x500 {}", best(|| linalg::inv(&a).unwrap()));
println!("svd 300x300 {}", best(|| linalg::svd(&s).unwrap()));
println!("eigh 300x300 {}", best(|| linalg::eigh(&spd).unwrap()));
println!("eig 300x300 {}", best(|| linalg::eig(&s).unwrap()));
println!("normal 1e6 draws {}", best(|| random::normal(0.0, 1.0, 1_000_000)));
println!("line plot 1000 points (SVG + PNG) {}", best(|| Plot::new().line(&x, &y).render()));
println!("scatter 5000 points (SVG + PNG) {}", best(|| Plot::new().scatter(&points.column(0), &points.column(1)).render()));
println!("group_by mean 1e5 rows {}", best(|| frame.clone().lazy().group_by([col("y")]).agg([col("x").mean()]).collect().unwrap()));
println!("render 1e5-row DataFrame {}", best(|| frame.render()));
}"""

NUMPY = r"""
import time, numpy as np
def best(f):
    times = []
    for _ in range(5):
        t = time.perf_counter(); f(); times.append((time.perf_counter() - t) * 1e3)
    return min(times)
rng = np.random.default_rng(0)
a = rng.normal(size=(500, 500)); s = rng.normal(size=(300, 300)); spd = s @ s.T + np.eye(300)
b = rng.normal(size=500)
print("matmul 500x500 (linalg::matmul)", best(lambda: a @ a))
print("matmul 500x500 (ndarray dot)", best(lambda: a @ a))
a32 = a.astype(np.float32)
print("matmul 500x500 f32 (candle Tensor)", best(lambda: a32 @ a32))
print("solve 500x500", best(lambda: np.linalg.solve(a, b)))
print("inv 500x500", best(lambda: np.linalg.inv(a)))
print("svd 300x300", best(lambda: np.linalg.svd(s, full_matrices=False)))
print("eigh 300x300", best(lambda: np.linalg.eigh(spd)))
print("eig 300x300", best(lambda: np.linalg.eig(s)))
print("normal 1e6 draws", best(lambda: rng.normal(size=1_000_000)))
"""


def peak_gflops():
    """{"f64": GFLOP/s, "f32": GFLOP/s} at this machine's peak, from /proc/cpuinfo (None where
    unknown)."""
    info = open("/proc/cpuinfo").read()
    clock = re.search(r"cpu MHz\s*:\s*([0-9.]+)", info)
    flags = re.search(r"flags\s*:(.*)", info)
    if not clock or not flags:
        return None
    f32_lanes = 16 if "avx512f" in flags[1].split() else 8 if "avx2" in flags[1].split() else 4
    per_cycle = os.cpu_count() * 2 * f32_lanes * 2
    f32 = per_cycle * float(clock[1]) / 1e3
    return {"f64": f32 / 2, "f32": f32}


if __name__ == "__main__":
    rust, other = main(RUST, NUMPY, "numpy", "NumPy")
    peak = peak_gflops()
    for name in [n for n in rust if n.startswith("matmul")]:
        precision = "f32" if "f32" in name else "f64"
        line = f"{name}: Ferrolab {MATMUL_FLOPS / rust[name] / 1e6:.1f} GFLOP/s"
        if name in other:
            line += f", NumPy {MATMUL_FLOPS / other[name] / 1e6:.1f}"
        if peak:
            line += f", peak {peak[precision]:.0f}"
        print(line)
