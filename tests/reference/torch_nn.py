"""Reference losses and gradients from PyTorch for the prelude's `nn`: fixed inputs, and a
fixed 3-4-2 network whose parameter gradients autograd must reproduce.

Regenerate (outside CI; PyTorch is large):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.15.0
    /tmp/torchenv/bin/python tests/reference/torch_nn.py > tests/reference/torch_nn.json
"""

import json

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def with_grad(values):
    return torch.tensor(values, requires_grad=True)


def loss_and_grad(loss_fn, inputs, *rest):
    x = with_grad(inputs)
    loss = loss_fn(x, *rest)
    loss.backward()
    return {"loss": loss.item(), "grad": x.grad.tolist()}


logits = [-30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 35.0, 100.0]
binary = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
# Away from 0 and 1: there PyTorch's BCE gradient divides by max(p(1 - p), 1e-12), not the
# exact derivative; the clamped value at 0 and 1 is checked on its own ("bce_saturated").
probabilities = [0.001, 0.1, 0.45, 0.5, 0.7, 0.99, 0.999, 0.3]
class_logits = [[2.0, -1.0, 0.5, 0.0], [0.1, 0.2, 0.3, 0.4], [-3.0, 4.0, 1.0, -2.0]]
classes = [0, 3, 1]
predictions = [0.5, -1.5, 2.0, 3.25]
targets = [1.0, -1.0, 2.5, 3.0]

reference = {
    "inputs": {"logits": logits, "binary": binary, "probabilities": probabilities, "class_logits": class_logits,
               "classes": classes, "predictions": predictions, "targets": targets},
    "bce_with_logits": loss_and_grad(F.binary_cross_entropy_with_logits, logits, torch.tensor(binary)),
    "bce": loss_and_grad(F.binary_cross_entropy, probabilities, torch.tensor(binary)),
    "cross_entropy": loss_and_grad(F.cross_entropy, class_logits, torch.tensor(classes)),
    "nll": loss_and_grad(lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t), class_logits, torch.tensor(classes)),
    "mse": loss_and_grad(F.mse_loss, predictions, torch.tensor(targets)),
    "bce_saturated": F.binary_cross_entropy(torch.tensor([0.0, 1.0, 1.0]), torch.tensor([1.0, 0.0, 1.0])).item(),
}

# A 3-4-2 network: Linear, tanh, Linear, cross-entropy; fixed parameters and batch.
generator = torch.Generator().manual_seed(0)
params = {
    "w1": torch.randn(4, 3, generator=generator), "b1": torch.randn(4, generator=generator),
    "w2": torch.randn(2, 4, generator=generator), "b2": torch.randn(2, generator=generator),
}
x = torch.randn(5, 3, generator=generator)
y = torch.tensor([0, 1, 1, 0, 1])
for p in params.values():
    p.requires_grad_(True)
out = torch.tanh(x @ params["w1"].T + params["b1"]) @ params["w2"].T + params["b2"]
loss = F.cross_entropy(out, y)
loss.backward()
reference["mlp"] = {
    "params": {k: v.tolist() for k, v in params.items()},
    "x": x.tolist(),
    "y": y.tolist(),
    "loss": loss.item(),
    "grads": {k: v.grad.tolist() for k, v in params.items()},
}


def train(make_optimizer, clip=None, steps=5):
    """Five steps of an optimizer on the network above, from its initial parameters."""
    trained = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    optimizer = make_optimizer(list(trained.values()))
    losses, norms = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        out = torch.tanh(x @ trained["w1"].T + trained["b1"]) @ trained["w2"].T + trained["b2"]
        loss = F.cross_entropy(out, y)
        loss.backward()
        if clip is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(list(trained.values()), clip).item())
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "norms": norms, "params": {k: v.tolist() for k, v in trained.items()}}


reference["optimizers"] = {
    "sgd_momentum": train(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": train(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "adam": train(lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01)),
    "adamw": train(lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    "sgd_clipped": train(lambda p: torch.optim.SGD(p, lr=0.5), clip=0.5),
}


def schedule(make):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make(optimizer)
    lrs = []
    for _ in range(12):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


reference["schedules"] = {
    "step": schedule(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": schedule(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "warmup": schedule(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4)),
}
print(json.dumps(reference))
