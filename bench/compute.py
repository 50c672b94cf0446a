#!/usr/bin/env python3
"""Compute speed of the prelude, run in a notebook session, next to NumPy on the same machine.

    .venv/bin/python bench/compute.py [--numpy PYTHON]

The Rust side runs as one cell in a fresh `ferrolab` kernel (prelude code is optimised;
the cell itself only calls it). With --numpy, the same operations run under that Python
(one with NumPy installed, e.g. the reference environment of tests/reference/requirements.txt;
CI never needs it). Each figure is the best of 5 runs, in milliseconds.
"""

from common import main

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
print("solve 500x500", best(lambda: np.linalg.solve(a, b)))
print("inv 500x500", best(lambda: np.linalg.inv(a)))
print("svd 300x300", best(lambda: np.linalg.svd(s, full_matrices=False)))
print("eigh 300x300", best(lambda: np.linalg.eigh(spd)))
print("eig 300x300", best(lambda: np.linalg.eig(s)))
print("normal 1e6 draws", best(lambda: rng.normal(size=1_000_000)))
"""


if __name__ == "__main__":
    main(RUST, NUMPY, "numpy", "NumPy")
