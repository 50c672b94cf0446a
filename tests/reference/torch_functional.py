"""Reference outputs and gradients from PyTorch for the prelude's fused operations
(`nn::functional`: gelu, softmax, layer_norm, cross_entropy, conv2d, max_pool2d), in float32
and, for the element-wise and row-wise ones, bfloat16. Each case's backward pass starts from
a fixed random upstream gradient (`grad_output`), so every element of every gradient counts.

Regenerate (outside CI; PyTorch is large):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.15.0
    /tmp/torchenv/bin/python -P tests/reference/torch_functional.py
writes tests/reference/torch_functional.json.
"""

import json
import pathlib

import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).parent
generator = torch.Generator().manual_seed(7)


def randn(*shape, scale=1.0):
    return torch.randn(shape, generator=generator) * scale


def values(t):
    return t.detach().float().flatten().tolist()


def case(function, inputs, dtype):
    """Runs `function` on `inputs` (name -> float32 tensor) cast to `dtype`, backward from a
    random upstream gradient; returns inputs, output and every input's gradient as float32."""
    cast = {name: t.detach().to(dtype).clone().requires_grad_() if t.is_floating_point() else t
            for name, t in inputs.items()}
    out = function(**cast)
    upstream = randn(*out.shape).to(dtype)
    out.backward(upstream)
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "inputs": {name: {"shape": list(t.shape), "values": t.detach().double().flatten().tolist()}
                   for name, t in cast.items()},
        "grad_output": values(upstream),
        "output": {"shape": list(out.shape), "values": values(out)},
        "grads": {name: values(t.grad) for name, t in cast.items() if t.is_floating_point()},
    }


# Element-wise and row-wise operations, with extreme values and a masked (-inf) score.
gelu_input = torch.cat([randn(4, 30, scale=2.0), torch.tensor([[-10.0, -3.5, 0.0, 3.5, 10.0, 1e-4]]).repeat(4, 1)], dim=1)
scores = randn(3, 4, 9, scale=3.0)
scores[:, :, 5:] = float("-inf")  # a causal-style mask: the last positions are never attended to
scores[0, 0, :] = torch.arange(9.0)  # one row with distinct, ordered scores
norm_input = randn(5, 3, 16, scale=2.0) + 1.5
logits = randn(6, 5, scale=2.0)
targets = torch.tensor([0, 4, 2, 2, 1, 3])

row_wise = {
    "gelu": (lambda x: F.gelu(x), {"x": gelu_input}),
    "softmax": (lambda x: torch.softmax(x, dim=-1), {"x": scores}),
    "layer_norm": (lambda x, weight, bias: F.layer_norm(x, (16,), weight, bias, 1e-5),
                   {"x": norm_input, "weight": randn(16) + 1.0, "bias": randn(16)}),
    "cross_entropy": (lambda logits, target: F.cross_entropy(logits, target),
                      {"logits": logits, "target": targets}),
}

reference = {}
for name, (function, inputs) in row_wise.items():
    for dtype in (torch.float32, torch.bfloat16):
        reference[f"{name}_{str(dtype).removeprefix('torch.')}"] = case(function, inputs, dtype)

# Convolutions in several geometries, and pooling with ties (small integers tie often) and
# a size the window does not divide.
image = randn(2, 3, 7, 6)
for label, kernel_shape, options in [
    ("conv2d_same", (4, 3, 3, 3), {"padding": 1}),
    ("conv2d_strided", (5, 3, 3, 2), {"stride": 2}),
    ("conv2d_dilated", (2, 3, 2, 2), {"padding": 2, "dilation": 2, "stride": 3}),
]:
    reference[label] = case(lambda x, weight, bias: F.conv2d(x, weight, bias, **options),
                            {"x": image, "weight": randn(*kernel_shape, scale=0.5), "bias": randn(kernel_shape[0])},
                            torch.float32)
    reference[label]["options"] = {"stride": 1, "padding": 0, "dilation": 1} | options
reference["max_pool2d"] = case(lambda x: F.max_pool2d(x, 2),
                               {"x": torch.randint(0, 3, (2, 3, 6, 7), generator=generator).float()},
                               torch.float32)
reference["versions"] = {"torch": torch.__version__}
(HERE / "torch_functional.json").write_text(json.dumps(reference))
