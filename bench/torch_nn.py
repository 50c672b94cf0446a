#!/usr/bin/env python3
"""Neural-net training speed on the CPU: Ferrolab (candle) next to PyTorch on this machine,
on the workloads of issue 7 with the same shapes on both sides (random inputs: speed only):

- moons MLP: 2-16-1 tanh network, 500 full-batch AdamW epochs on 800 points;
- digits CNN: one epoch of notebook 09's network (conv 16, conv 32, linear) on 1,437 8×8
  images in batches of 32;
- MiniGPT step: forward, backward and AdamW step of notebook 10's GPT (2 blocks, d 64,
  4 heads, context 32, vocabulary 56) on a batch of 64 windows; median of 20 steps.

    .venv/bin/python bench/torch_nn.py [--torch PYTHON]

Milliseconds; with --torch, a Python with PyTorch runs the same (CI never needs it).
"""

from common import main

RUST = """{
use std::time::Instant;
fn ms(start: Instant) -> f64 { start.elapsed().as_secs_f64() * 1e3 }
let cpu = Device::Cpu;
random::seed(0);
let adamw = |varmap: &candle_nn::VarMap| nn::optim::AdamW::new(varmap.all_vars(), nn::optim::ParamsAdamW { lr: 0.01, ..Default::default() }).unwrap();

let x = Tensor::randn(0f32, 1.0, (800, 2), &cpu).unwrap();
let y = Tensor::rand(0f32, 1.0, (800, 1), &cpu).unwrap().round().unwrap();
let varmap = candle_nn::VarMap::new();
let vb = nn::var_builder(&varmap, &cpu);
let mlp = nn::Sequential::new(&varmap)
    .add("hidden", candle_nn::linear(2, 16, vb.pp("hidden")).unwrap())
    .add("tanh", nn::Tanh)
    .add("out", candle_nn::linear(16, 1, vb.pp("out")).unwrap());
let mut optimizer = adamw(&varmap);
let start = Instant::now();
for _ in 0..500 {
    optimizer.backward_step(&nn::loss::binary_cross_entropy_with_logits(&mlp.forward(&x).unwrap(), &y).unwrap()).unwrap();
}
println!("moons MLP, 500 epochs {}", ms(start));

let images = Tensor::randn(0f32, 1.0, (1437, 1, 8, 8), &cpu).unwrap();
let labels = Tensor::from_vec((0..1437u32).map(|i| i % 10).collect::<Vec<_>>(), 1437, &cpu).unwrap();
let varmap = candle_nn::VarMap::new();
let vb = nn::var_builder(&varmap, &cpu);
let same = candle_nn::Conv2dConfig { padding: 1, ..Default::default() };
let cnn = nn::Sequential::new(&varmap)
    .add("conv1", candle_nn::conv2d(1, 16, 3, same, vb.pp("conv1")).unwrap())
    .add("relu1", candle_nn::Activation::Relu)
    .add("pool1", nn::MaxPool2d(2))
    .add("conv2", candle_nn::conv2d(16, 32, 3, same, vb.pp("conv2")).unwrap())
    .add("relu2", candle_nn::Activation::Relu)
    .add("pool2", nn::MaxPool2d(2))
    .add("flatten", nn::Flatten)
    .add("out", candle_nn::linear(128, 10, vb.pp("out")).unwrap());
let mut optimizer = adamw(&varmap);
let start = Instant::now();
for first in (0..1437).step_by(32) {
    let n = 32.min(1437 - first);
    let logits = cnn.forward_t(&images.narrow(0, first, n).unwrap(), true).unwrap();
    optimizer.backward_step(&nn::loss::cross_entropy(&logits, &labels.narrow(0, first, n).unwrap()).unwrap()).unwrap();
}
println!("digits CNN, one epoch {}", ms(start));

let varmap = candle_nn::VarMap::new();
let config = nn::GptConfig { vocab_size: 56, context: 32, d_model: 64, heads: 4, layers: 2, dropout: 0.1 };
let gpt = nn::Gpt::new(config, nn::var_builder(&varmap, &cpu)).unwrap();
let ids = Tensor::from_vec((0..64 * 33u32).map(|i| (i * 7 + i / 5) % 56).collect::<Vec<_>>(), (64, 33), &cpu).unwrap();
let (inputs, targets) = (ids.narrow(1, 0, 32).unwrap(), ids.narrow(1, 1, 32).unwrap());
let mut optimizer = adamw(&varmap);
let mut steps: Vec<f64> = (0..23).map(|_| {
    let start = Instant::now();
    optimizer.backward_step(&gpt.loss(&inputs, &targets, true).unwrap()).unwrap();
    ms(start)
}).skip(3).collect();
steps.sort_by(f64::total_cmp);
println!("MiniGPT step {}", steps[steps.len() / 2]);
}"""

PYTHON = """
import time, torch
from torch import nn
torch.manual_seed(0)
ms = lambda start: (time.perf_counter() - start) * 1e3
adamw = lambda model: torch.optim.AdamW(model.parameters(), lr=0.01)

def step(optimizer, loss):
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

x, y = torch.randn(800, 2), torch.rand(800, 1).round()
mlp = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = adamw(mlp)
start = time.perf_counter()
for _ in range(500):
    step(optimizer, nn.functional.binary_cross_entropy_with_logits(mlp(x), y))
print("moons MLP, 500 epochs", ms(start))

images, labels = torch.randn(1437, 1, 8, 8), torch.arange(1437) % 10
cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                    nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10))
optimizer = adamw(cnn)
start = time.perf_counter()
for first in range(0, 1437, 32):
    step(optimizer, nn.functional.cross_entropy(cnn(images[first:first + 32]), labels[first:first + 32]))
print("digits CNN, one epoch", ms(start))

class Gpt(nn.Module):
    def __init__(self, vocab=56, context=32, d=64, heads=4, layers=2, dropout=0.1):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(d, heads, 4 * d, dropout, activation="gelu",
                                                               batch_first=True, norm_first=True) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)
        self.register_buffer("mask", torch.triu(torch.full((context, context), float("-inf")), diagonal=1))

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x, src_mask=self.mask, is_causal=True)
        return self.head(self.norm(x))

gpt = Gpt()
ids = (torch.arange(64 * 33) * 7 + torch.arange(64 * 33) // 5).remainder(56).reshape(64, 33)
optimizer = adamw(gpt)
times = []
for _ in range(23):
    start = time.perf_counter()
    step(optimizer, nn.functional.cross_entropy(gpt(ids[:, :32]).reshape(-1, 56), ids[:, 1:].reshape(-1)))
    times.append(ms(start))
print("MiniGPT step", sorted(times[3:])[10])
"""

if __name__ == "__main__":
    main(RUST, PYTHON, "torch", "PyTorch")
