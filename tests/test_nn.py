"""The prelude's neural-net pieces on candle, against PyTorch (tests/reference/torch_nn.py):
losses and their gradients, and autograd through a fixed small network."""

import json
import pathlib

from conftest import max_difference, printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "torch_nn.json").read_text())


def flat(values):
    return [v for row in values for v in (row if isinstance(row, list) else [row])]


def shape(values):
    return [len(values), len(values[0])] if isinstance(values[0], list) else [len(values)]


def var(name, values):
    """A line binding `name` to an f64 candle Var holding `values`."""
    return f"let {name} = candle::Var::from_tensor(&Tensor::new(&{flat(values)!r}[..], &Device::Cpu)?.to_dtype(DType::F64)?.reshape({tuple(shape(values))!r})?)?;"


def f64_tensor(values):
    return f"Tensor::new(&{[float(v) for v in flat(values)]!r}[..], &Device::Cpu)?.reshape({tuple(shape(values))!r})?"


def test_losses_and_their_gradients_match_pytorch(kernel):
    inputs = REFERENCE["inputs"]
    classes = f"Tensor::new(&{inputs['classes']!r}[..], &Device::Cpu)?.to_dtype(DType::U32)?"
    cases = {
        "bce_with_logits": ("logits", f"nn::loss::binary_cross_entropy_with_logits(x.as_tensor(), &{f64_tensor(inputs['binary'])})?"),
        "bce": ("probabilities", f"nn::loss::binary_cross_entropy(x.as_tensor(), &{f64_tensor(inputs['binary'])})?"),
        "cross_entropy": ("class_logits", f"nn::loss::cross_entropy(x.as_tensor(), &{classes})?"),
        "nll": ("class_logits", f"nn::loss::nll(&candle_nn::ops::log_softmax(x.as_tensor(), 1)?, &{classes})?"),
        "mse": ("predictions", f"nn::loss::mse(x.as_tensor(), &{f64_tensor(inputs['targets'])})?"),
    }
    for name, (input_name, loss) in cases.items():
        code = "{" + var("x", [float(v) for v in flat(inputs[input_name])] if not isinstance(inputs[input_name][0], list) else [[float(v) for v in row] for row in inputs[input_name]]) + f"""
let loss = {loss};
let grad = loss.backward()?.get(x.as_tensor()).unwrap().flatten_all()?.to_vec1::<f64>()?;
println!("loss {{}}", loss.to_scalar::<f64>()?);
println!("grad {{:?}}", grad);
}}"""
        values = printed_values(kernel.run(code))
        expected = REFERENCE[name]
        assert abs(values["loss"] - expected["loss"]) < 1e-9, (name, values["loss"], expected["loss"])
        assert max_difference(values["grad"], flat(expected["grad"])) < 1e-9, name


def test_probability_cross_entropy_is_clamped_like_pytorch(kernel):
    run = kernel.run("nn::loss::binary_cross_entropy(&tensor![0.0, 1.0, 1.0], &tensor![1.0, 0.0, 1.0])?.to_scalar::<f32>()?")
    assert abs(float(run.result()) - REFERENCE["bce_saturated"]) < 1e-4


def test_stable_logit_loss_stays_finite_where_candles_overflows(kernel):
    run = kernel.run("""
let logits = tensor![-200.0, 60.0];
let targets = tensor![1.0, 0.0];
println!("ours {}", nn::loss::binary_cross_entropy_with_logits(&logits, &targets)?.to_scalar::<f32>()?);
println!("candle_finite {}", candle_nn::loss::binary_cross_entropy_with_logit(&logits, &targets)?.to_scalar::<f32>()?.is_finite());
""")
    values = printed_values(run)
    assert abs(values["ours"] - 130.0) < 1e-3  # (200 + 60) / 2
    assert values["candle_finite"] is False


def test_autograd_through_a_small_network_matches_pytorch(kernel):
    mlp = REFERENCE["mlp"]
    code = "\n".join(var(name, values) for name, values in mlp["params"].items()) + f"""
let x = {f64_tensor(mlp["x"])}.to_dtype(DType::F64)?;
let y = Tensor::new(&{mlp["y"]!r}[..], &Device::Cpu)?.to_dtype(DType::U32)?;
let hidden = x.matmul(&w1.t()?)?.broadcast_add(&b1)?.tanh()?;
let out = hidden.matmul(&w2.t()?)?.broadcast_add(&b2)?;
let loss = nn::loss::cross_entropy(&out, &y)?;
let grads = loss.backward()?;
println!("loss {{}}", loss.to_scalar::<f64>()?);
for (name, var) in [("w1", &w1), ("b1", &b1), ("w2", &w2), ("b2", &b2)] {{
    println!("{{name}} {{:?}}", grads.get(var.as_tensor()).unwrap().flatten_all()?.to_vec1::<f64>()?);
}}
"""
    values = printed_values(kernel.run(code))
    assert abs(values["loss"] - mlp["loss"]) < 1e-12
    for name, grad in mlp["grads"].items():
        assert max_difference(values[name], flat(grad)) < 1e-12, name


def test_tensor_literals_and_the_device_say_what_they_are(kernel):
    assert kernel.run("tensor![[1., 2.], [3., 4.]]").result().startswith("Tensor shape=[2, 2], dtype=f32, device=cpu")
    assert kernel.run("device()").result() == "cpu (this Ferrolab was built without CUDA)"
