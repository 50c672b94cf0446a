"""The prelude's fused operations (`nn::functional`), forward and backward, against PyTorch
(tests/reference/torch_functional.py): f32 everywhere and bf16 for the row-wise ones, each
gradient taken from a random upstream gradient so that every element counts; and the
mistakes they name."""

import json
import pathlib

import pytest

from conftest import printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "torch_functional.json").read_text())

# |ours - PyTorch| <= rtol·|PyTorch| + atol·max|PyTorch|: f32 differs in summation order
# only; bf16 rounds each result to 8 significant bits (a relative step of 2^-8), PyTorch and
# the prelude both computing in f32 in between.
TOLERANCE = {"float32": (1e-5, 1e-6), "bfloat16": (2**-6, 2**-7)}

CALLS = {
    "gelu": "nn::functional::gelu(&x)?",
    "softmax": "nn::functional::softmax(&x)?",
    "layer_norm": "nn::functional::layer_norm(&x, &weight, &bias, 1e-5)?",
    "cross_entropy": "nn::functional::cross_entropy(&logits, &target)?",
    "max_pool2d": "nn::functional::max_pool2d(&x, 2)?",
}
DTYPES = {"float32": "DType::F32", "bfloat16": "DType::BF16"}


def floats(values):
    """A Rust slice literal of f64s (the masked scores are -inf)."""
    return "&[" + ", ".join("f64::NEG_INFINITY" if v == float("-inf") else repr(v) for v in values) + "][..]"


def call(name, case):
    if name.startswith("conv2d"):
        o = case["options"]
        return f"nn::functional::conv2d(&x, &weight, Some(&bias), {o['stride']}, {o['padding']}, {o['dilation']})?"
    return CALLS[name.removesuffix("_float32").removesuffix("_bfloat16")]


def cell(name, case):
    """Builds each input as a variable, runs the operation, back-propagates the reference's
    upstream gradient and prints the output and each gradient as f64."""
    dtype = DTYPES[case["dtype"]]
    lines = []
    for input_name, tensor in case["inputs"].items():
        if input_name == "target":
            lines.append(f"let target = Tensor::new(&{[int(v) for v in tensor['values']]!r}[..], &Device::Cpu)?.to_dtype(DType::U32)?;")
        else:
            lines.append(f"let {input_name}_var = candle::Var::from_tensor(&Tensor::new({floats(tensor['values'])}, &Device::Cpu)?"
                         f".reshape({tuple(tensor['shape'])!r})?.to_dtype({dtype})?)?;")
            lines.append(f"let {input_name} = {input_name}_var.as_tensor().clone();")
    lines.append(f"let out = {call(name, case)};")
    lines.append(f"let upstream = Tensor::new({floats(case['grad_output'])}, &Device::Cpu)?.to_dtype({dtype})?.reshape(out.shape())?;")
    lines.append("let grads = (&out * &upstream)?.sum_all()?.backward()?;")
    lines.append('let f64s = |t: &Tensor| t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>();')
    lines.append('println!("output {:?}", f64s(&out)?);')
    for input_name in case["grads"]:
        lines.append(f'println!("grad_{input_name} {{:?}}", f64s(grads.get(&{input_name}).expect("a gradient for {input_name}"))?);')
    return "{\n" + "\n".join(lines) + "\n}"


def assert_close(ours, theirs, dtype, what):
    rtol, atol = TOLERANCE[dtype]
    assert len(ours) == len(theirs), what
    scale = max(abs(v) for v in theirs) or 1.0
    worst = max(abs(a - b) - rtol * abs(b) for a, b in zip(ours, theirs))
    assert worst <= atol * scale, (what, worst, atol * scale)


@pytest.mark.parametrize("name", [n for n in REFERENCE if n != "versions"])
def test_forward_and_gradients_match_pytorch(kernel, name):
    case = REFERENCE[name]
    values = printed_values(kernel.run(cell(name, case)))
    assert_close(values["output"], case["output"]["values"], case["dtype"], f"{name} output")
    for input_name, expected in case["grads"].items():
        assert_close(values[f"grad_{input_name}"], expected, case["dtype"], f"{name} gradient of {input_name}")


def test_f32_agrees_with_f64_from_the_tails_to_saturation(kernel):
    """In f32 the kernels evaluate exp and erf as polynomials that vectorize; in f64 they call
    libm. Over inputs from where exp underflows to where erf saturates (GELU on -12..12,
    softmax and cross-entropy rows
    spanning 96, past where f32's e^x underflows, layer norm), f32 output and gradients are
    the f64 ones to f32's precision: worst |f32 - f64| - 1e-5·|f64| within 1e-6·max|f64|."""
    values = printed_values(kernel.run("""{
// output and input gradient of `f` in `dtype`, from a fixed upstream gradient, as f64s
fn run(dtype: DType, x: &Tensor, f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>) -> candle_core::Result<[Vec<f64>; 2]> {
    let var = candle::Var::from_tensor(&x.to_dtype(dtype)?)?;
    let out = f(var.as_tensor())?;
    let upstream = Tensor::arange(0u32, out.elem_count() as u32, &Device::Cpu)?.to_dtype(DType::F64)?
        .affine(0.37, 0.5)?.sin()?.to_dtype(dtype)?.reshape(out.shape())?;
    let grads = (&out * &upstream)?.sum_all()?.backward()?;
    let f64s = |t: &Tensor| t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>();
    Ok([f64s(&out)?, f64s(grads.get(var.as_tensor()).expect("a gradient"))?])
}
fn worst(ours: &[f64], exact: &[f64]) -> f64 {
    let scale = exact.iter().fold(0f64, |m, v| m.max(v.abs()));
    let error = |(a, b): (&f64, &f64)| ((a - b).abs() - 1e-5 * b.abs()) / (1e-6 * scale);
    // a NaN anywhere (or an all-zero reference) fails
    ours.iter().zip(exact).map(error).fold(f64::MIN, |m, e| if e.is_nan() { f64::INFINITY } else { m.max(e) })
}
let grid = (Tensor::arange(-4800i64, 4800, &Device::Cpu)?.to_dtype(DType::F64)? / 400.0)?;
let wide_rows = (grid.reshape((96, 100))?.t()?.contiguous()? * 4.0)?;
let target = Tensor::new((0..100u32).map(|i| i * 7 % 96).collect::<Vec<_>>(), &Device::Cpu)?;
let weight = (Tensor::arange(0u32, 64, &Device::Cpu)?.to_dtype(DType::F64)? / 32.0)?;
let cases: [(&str, Tensor, Box<dyn Fn(&Tensor) -> candle_core::Result<Tensor>>); 4] = [
    ("gelu", grid.reshape((48, 200))?, Box::new(|x| nn::functional::gelu(x))),
    ("softmax", wide_rows.clone(), Box::new(|x| nn::functional::softmax(x))),
    ("cross_entropy", wide_rows.clone(), Box::new(|x| nn::functional::cross_entropy(x, &target))),
    ("layer_norm", (grid.reshape((64, 150))?.t()?.contiguous()? * 3.0)?, Box::new(|x| {
        let w = weight.to_dtype(x.dtype())?;
        nn::functional::layer_norm(x, &w, &(&w / 2.0)?, 1e-5)
    })),
];
for (name, x, f) in cases {
    let ([out32, grad32], [out64, grad64]) = (run(DType::F32, &x, &*f)?, run(DType::F64, &x, &*f)?);
    println!("{name} {:?}", [worst(&out32, &out64), worst(&grad32, &grad64)]);
}
}"""))
    assert set(values) == {"gelu", "softmax", "cross_entropy", "layer_norm"}, values
    for name, (output, gradient) in values.items():
        assert output <= 1 and gradient <= 1, (name, output, gradient)


def test_conv_layer_equals_candles(kernel):
    """`nn::conv2d` is candle-nn's layer with the fused backward: the same parameters give
    the same output and gradients as `candle_nn::conv2d` (candle's own convolution). Stride 1:
    candle's backward fails on a strided input whose height and width differ in parity (it
    pads both dimensions of the input's gradient by the height's remainder), which the
    PyTorch cases above cover for the fused one."""
    values = printed_values(kernel.run("""{
random::seed(0);
let varmap = candle_nn::VarMap::new();
let vb = nn::var_builder(&varmap, &Device::Cpu);
let config = candle_nn::Conv2dConfig { padding: 1, ..Default::default() };
let ours = nn::conv2d(3, 5, 3, config, vb.pp("conv"))?;
let candles = candle_nn::conv2d(3, 5, 3, config, vb.pp("conv"))?;
let x = candle::Var::from_tensor(&Tensor::randn(0f32, 1.0, (4, 3, 9, 8), &Device::Cpu)?)?;
// the largest difference, relative to the largest value
let relative = |a: &Tensor, b: &Tensor| -> candle_core::Result<f32> {
    Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()? / b.abs()?.max_all()?.to_scalar::<f32>()?)
};
let (a, b) = (ours.forward(x.as_tensor())?, candles.forward(x.as_tensor())?);
let mut differences = vec![relative(&a, &b)?];
let (ga, gb) = (a.sqr()?.sum_all()?.backward()?, b.sqr()?.sum_all()?.backward()?);
for var in varmap.all_vars().iter().map(|v| v.as_tensor()).chain([x.as_tensor()]) {
    differences.push(relative(ga.get(var).unwrap(), gb.get(var).unwrap())?);
}
println!("differences {differences:?}");
}"""))
    assert len(values["differences"]) == 4 and max(values["differences"]) < 1e-5, values


def test_mistakes_are_named(kernel):
    cases = {
        "nn::functional::cross_entropy(&tensor![[1.0, 2.0], [0.5, 0.1]], &tensor![0.0, 1.0])?":
            "the target holds class indices, an integer dtype",
        "nn::functional::cross_entropy(&tensor![[1.0, 2.0], [0.5, 0.1]], &Tensor::new(&[0u32, 2], &Device::Cpu)?)?":
            "class index 2 in the target, but the logits have 2 classes",
        "nn::functional::cross_entropy(&tensor![[1.0, 2.0], [0.5, 0.1]], &Tensor::new(&[0u32], &Device::Cpu)?)?":
            "a target of shape [2]",
        "nn::functional::conv2d(&Tensor::zeros((1, 2, 5, 5), DType::F32, &Device::Cpu)?, &Tensor::zeros((4, 3, 3, 3), DType::F32, &Device::Cpu)?, None, 1, 0, 1)?":
            "the input has 2 channels",
        "nn::functional::layer_norm(&Tensor::zeros((2, 4), DType::F32, &Device::Cpu)?, &Tensor::ones(3, DType::F32, &Device::Cpu)?, &Tensor::zeros(3, DType::F32, &Device::Cpu)?, 1e-5)?":
            "weight and a bias of shape [4]",
        "nn::functional::max_pool2d(&Tensor::zeros((1, 1, 3, 3), DType::F32, &Device::Cpu)?, 4)?":
            "a 4×4 window does not fit a 3×3 input",
    }
    for code, message in cases.items():
        error = kernel.run(code).error()
        assert message in "\n".join(error["traceback"]) + error["evalue"], (code, error)
