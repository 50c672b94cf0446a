#!/usr/bin/env python3
"""Where training time goes on the CPU: each operation of the course's networks at the shape
it has there, forward and backward, as candle composes it, as the prelude's fused
`nn::functional` runs it, and (with --torch) as PyTorch runs it, side by side:

- MiniGPT (notebook 10, batch 64 × 32 tokens, d 64, 4 heads): layer norm, attention
  softmax, GELU, cross-entropy over 56 tokens, a linear layer;
- digits CNN (notebook 09, batches of 32): both convolutions, max pooling.

    .venv/bin/python bench/ops.py [--torch PYTHON]

Median milliseconds of 30 runs after 5 warm-ups. A backward figure is the backward pass
through the operation alone: candle has no backward from a given upstream gradient, so the
cost of seeding one (a product and a sum over the output, measured alone) is subtracted.
"""

import argparse

from common import run_python, run_rust

# name: (shape of the input, candle's composed form, the fused form); inputs are f32.
OPS = {
    "layer_norm 2048×64": ((2048, 64), "composed_norm(x)", "nn::functional::layer_norm(x, &w64, &b64, 1e-5)"),
    "softmax 64×4×32×32": ((64, 4, 32, 32), "candle_nn::ops::softmax(x, D::Minus1)", "nn::functional::softmax(x)"),
    "gelu 2048×256": ((2048, 256), "x.gelu_erf()", "nn::functional::gelu(x)"),
    "cross_entropy 2048×56": ((2048, 56), "candle_nn::loss::cross_entropy(x, &t56)", "nn::functional::cross_entropy(x, &t56)"),
    "linear 2048×64→256": ((2048, 64), "lin.forward(x)", "lin.forward(x)"),
    "conv2d 32×1×8×8→16": ((32, 1, 8, 8), "x.conv2d(&k1, 1, 1, 1, 1)", "nn::functional::conv2d(x, &k1, None, 1, 1, 1)"),
    "conv2d 32×16×4×4→32": ((32, 16, 4, 4), "x.conv2d(&k2, 1, 1, 1, 1)", "nn::functional::conv2d(x, &k2, None, 1, 1, 1)"),
    "max_pool2d 32×16×8×8": ((32, 16, 8, 8), "x.max_pool2d(2)", "nn::functional::max_pool2d(x, 2)"),
}

RUST = """{
use std::time::Instant;
use candle_core::D;
fn median(mut times: Vec<f64>) -> f64 { times.sort_by(f64::total_cmp); times[times.len() / 2] }
// forward and backward milliseconds of `f` on a random input of `shape`; the backward
// less the cost of seeding it (the same upstream product and sum, on a variable of the
// output's shape)
fn profile(shape: &[usize], f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>) -> candle_core::Result<(f64, f64)> {
    let x = candle::Var::from_tensor(&Tensor::randn(0f32, 1.0, shape, &Device::Cpu)?)?;
    let (mut forward, mut backward, mut seeding) = (vec![], vec![], vec![]);
    for round in 0..35 {
        let start = Instant::now();
        let out = f(x.as_tensor())?;
        let f_ms = start.elapsed().as_secs_f64() * 1e3;
        let upstream = Tensor::randn(0f32, 1.0, out.shape(), &Device::Cpu)?;
        let loss = (&out * &upstream)?.sum_all()?;
        let start = Instant::now();
        loss.backward()?;
        let b_ms = start.elapsed().as_secs_f64() * 1e3;
        let alone = candle::Var::from_tensor(&out.detach())?;
        let loss = (alone.as_tensor() * &upstream)?.sum_all()?;
        let start = Instant::now();
        loss.backward()?;
        if round >= 5 { forward.push(f_ms); backward.push(b_ms); seeding.push(start.elapsed().as_secs_f64() * 1e3); }
    }
    Ok((median(forward), (median(backward) - median(seeding)).max(0.0)))
}
let w64 = Tensor::ones(64, DType::F32, &Device::Cpu)?;
let b64 = Tensor::zeros(64, DType::F32, &Device::Cpu)?;
let t56 = Tensor::from_vec((0..2048u32).map(|i| i * 7 % 56).collect::<Vec<_>>(), 2048, &Device::Cpu)?;
let k1 = Tensor::randn(0f32, 0.3, (16, 1, 3, 3), &Device::Cpu)?;
let k2 = Tensor::randn(0f32, 0.3, (32, 16, 3, 3), &Device::Cpu)?;
let lin_params = candle_nn::VarMap::new();
let lin = candle_nn::linear(64, 256, nn::var_builder(&lin_params, &Device::Cpu))?;
let composed_norm = |x: &Tensor| -> candle_core::Result<Tensor> {
    let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
    let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
    centred.broadcast_div(&(variance + 1e-5)?.sqrt()?)?.broadcast_mul(&w64)?.broadcast_add(&b64)
};
PROFILES
}"""

PYTHON = """
import time, torch
import torch.nn.functional as F
def profile(shape, f):
    x = torch.randn(*shape, requires_grad=True)
    forward, backward = [], []
    for round in range(35):
        start = time.perf_counter(); out = f(x); f_ms = (time.perf_counter() - start) * 1e3
        upstream = torch.randn_like(out)
        start = time.perf_counter(); out.backward(upstream)
        if round >= 5: forward.append(f_ms); backward.append((time.perf_counter() - start) * 1e3)
        x.grad = None
    return sorted(forward)[15], sorted(backward)[15]
w64, b64 = torch.ones(64), torch.zeros(64)
t56 = torch.arange(2048) * 7 % 56
k1, k2 = torch.randn(16, 1, 3, 3) * 0.3, torch.randn(32, 16, 3, 3) * 0.3
lin = torch.nn.Linear(64, 256)
OPS = {
    "layer_norm 2048×64": ((2048, 64), lambda x: F.layer_norm(x, (64,), w64, b64, 1e-5)),
    "softmax 64×4×32×32": ((64, 4, 32, 32), lambda x: torch.softmax(x, -1)),
    "gelu 2048×256": ((2048, 256), F.gelu),
    "cross_entropy 2048×56": ((2048, 56), lambda x: F.cross_entropy(x, t56)),
    "linear 2048×64→256": ((2048, 64), lin),
    "conv2d 32×1×8×8→16": ((32, 1, 8, 8), lambda x: F.conv2d(x, k1, padding=1)),
    "conv2d 32×16×4×4→32": ((32, 16, 4, 4), lambda x: F.conv2d(x, k2, padding=1)),
    "max_pool2d 32×16×8×8": ((32, 16, 8, 8), lambda x: F.max_pool2d(x, 2)),
}
for name, (shape, f) in OPS.items():
    forward, backward = profile(shape, f)
    print(name, "forward", forward)
    print(name, "backward", backward)
"""


def rust_cell():
    lines = []
    for name, (shape, composed, fused) in OPS.items():
        for label, code in (("candle", composed), ("fused", fused)):
            lines.append(f'let (f, b) = profile(&{list(shape)}, &|x| {code})?;')
            lines.append(f'println!("{name} forward {label} {{f}}"); println!("{name} backward {label} {{b}}");')
    return RUST.replace("PROFILES", "\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--torch", help="a Python with PyTorch, for its column")
    args = parser.parse_args()
    rust = run_rust(rust_cell())
    torch = {}
    if args.torch:
        torch, version = run_python(args.torch, PYTHON, "torch")
        print(f"PyTorch {version}, {args.torch}")
    print("| operation | pass | candle (ms) | fused (ms) | PyTorch (ms) | candle / fused | PyTorch / fused |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in OPS:
        for direction in ("forward", "backward"):
            candle, fused = rust[f"{name} {direction} candle"], rust[f"{name} {direction} fused"]
            theirs = torch.get(f"{name} {direction}")
            cells = [f"{candle:.3f}", f"{fused:.3f}", f"{theirs:.3f}" if theirs else "",
                     f"{candle / fused:.1f}" if fused else "", f"{theirs / fused:.2f}" if theirs and fused else ""]
            print(f"| {name} | {direction} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
