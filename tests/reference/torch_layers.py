"""Reference outputs from PyTorch for the prelude's `nn::layers`, and the moons benchmark of
issue 7: the test accuracy PyTorch's 2-16-1 MLP reaches on make_moons.

Regenerate (outside CI; PyTorch is large):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.15.0 scikit-learn
    /tmp/torchenv/bin/python -P tests/reference/torch_layers.py
writes tests/reference/torch_layers.json and tests/reference/moons.csv.
"""

import json
import pathlib

import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

HERE = pathlib.Path(__file__).parent
torch.set_default_dtype(torch.float64)
generator = torch.Generator().manual_seed(0)

d_model, heads, time = 8, 2, 5
x = torch.randn(2, time, d_model, generator=generator)
causal = torch.triu(torch.full((time, time), float("-inf")), diagonal=1)


def randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)


def attention_weights(mha):
    """nn.MultiheadAttention's packed projections as the prelude names them."""
    q, k, v = mha.in_proj_weight.chunk(3)
    qb, kb, vb = mha.in_proj_bias.chunk(3)
    return {"query.weight": q, "query.bias": qb, "key.weight": k, "key.bias": kb,
            "value.weight": v, "value.bias": vb,
            "out.weight": mha.out_proj.weight, "out.bias": mha.out_proj.bias}


def listed(weights):
    return {name: t.detach().tolist() for name, t in weights.items()}


mha = torch.nn.MultiheadAttention(d_model, heads, batch_first=True)
randomize(mha)
out, averaged = mha(x, x, x, attn_mask=causal, need_weights=True)
# Gradients reach the query and key projections (through the softmax) too.
(out ** 2).sum().backward()
query_grad, key_grad, _ = mha.in_proj_weight.grad.chunk(3)

# The prelude's block is GPT-2's pre-norm block: PyTorch's encoder layer with norm_first,
# GELU and a 4x MLP.
block = torch.nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=0.0,
                                         activation="gelu", batch_first=True, norm_first=True)
randomize(block)
block_weights = {f"attention.{n}": t for n, t in attention_weights(block.self_attn).items()}
block_weights |= {"norm1.weight": block.norm1.weight, "norm1.bias": block.norm1.bias,
                  "norm2.weight": block.norm2.weight, "norm2.bias": block.norm2.bias,
                  "expand.weight": block.linear1.weight, "expand.bias": block.linear1.bias,
                  "project.weight": block.linear2.weight, "project.bias": block.linear2.bias}
x.requires_grad_(True)
block_out = block(x, src_mask=causal, is_causal=True)
# Gradients pass through the layer norms, to their weights and to the input.
(block_out ** 2).sum().backward()

# Moons: scikit-learn's data and split, and PyTorch's test accuracy over five seeds with the
# recipe the test repeats (tanh 2-16-1, BCE with logits, AdamW lr 0.01, 500 full-batch epochs).
points, labels = make_moons(n_samples=1000, noise=0.2, random_state=42)
train_idx, test_idx = train_test_split(range(1000), test_size=0.2, random_state=42)
with open(HERE / "moons.csv", "w") as f:
    f.write("x0,x1,label,test\n")
    test_set = set(test_idx)
    for i, ((a, b), label) in enumerate(zip(points, labels)):
        f.write(f"{float(a)!r},{float(b)!r},{label},{int(i in test_set)}\n")

torch.set_default_dtype(torch.float32)
xs = torch.tensor(points, dtype=torch.float32)
ys = torch.tensor(labels, dtype=torch.float32).unsqueeze(1)
accuracies = []
for seed in range(5):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    for _ in range(500):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(xs[train_idx]), ys[train_idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = (model(xs[test_idx]) > 0).float()
    accuracies.append((predicted == ys[test_idx]).float().mean().item())

reference = {
    "input": x.detach().tolist(),
    "attention": {"weights": listed(attention_weights(mha)), "output": out.tolist(),
                  "averaged_weights": averaged.tolist(),
                  "query_grad": query_grad.tolist(), "key_grad": key_grad.tolist()},
    "block": {"weights": listed(block_weights), "output": block_out.tolist(),
              "input_grad": x.grad.tolist(), "norm1_weight_grad": block.norm1.weight.grad.tolist()},
    "moons_accuracy": accuracies,
    "versions": {"torch": torch.__version__},
}
(HERE / "torch_layers.json").write_text(json.dumps(reference))
