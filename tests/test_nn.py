"""The prelude's neural-net pieces on candle, against PyTorch (tests/reference/torch_nn.py,
tests/reference/torch_layers.py): losses and their gradients, autograd through a fixed small
network, optimizers, attention and the transformer block; the model summary and seeding."""

import json
import pathlib

from conftest import max_difference, printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "torch_nn.json").read_text())
LAYERS = json.loads((pathlib.Path(__file__).parent / "reference" / "torch_layers.json").read_text())


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


OPTIMIZERS = {
    "sgd_momentum": "nn::optim::Sgd::new(vars.clone(), nn::optim::SgdConfig { lr: 0.1, momentum: 0.9, dampening: 0.1, weight_decay: 0.01, nesterov: false })?",
    "sgd_nesterov": "nn::optim::Sgd::new(vars.clone(), nn::optim::SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() })?",
    "adam": "nn::optim::Adam::new(vars.clone(), nn::optim::AdamConfig { lr: 0.01, weight_decay: 0.01, ..Default::default() })?",
    "adamw": "nn::optim::AdamW::new(vars.clone(), nn::optim::ParamsAdamW { lr: 0.01, weight_decay: 0.1, ..Default::default() })?",
    "sgd_clipped": "nn::optim::Sgd::new(vars.clone(), nn::optim::SgdConfig { lr: 0.5, ..Default::default() })?",
}


def test_optimizers_and_clipping_step_exactly_as_pytorch(kernel):
    mlp = REFERENCE["mlp"]
    for name, make in OPTIMIZERS.items():
        clip = name == "sgd_clipped"
        code = "{\nuse nn::optim::Optimizer;\n" + "\n".join(var(n, v) for n, v in mlp["params"].items()) + f"""
let vars = vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()];
let x = {f64_tensor(mlp["x"])}.to_dtype(DType::F64)?;
let y = Tensor::new(&{mlp["y"]!r}[..], &Device::Cpu)?.to_dtype(DType::U32)?;
let mut optimizer = {make};
let (mut losses, mut norms) = (Vec::new(), Vec::new());
for _ in 0..5 {{
    let out = x.matmul(&w1.t()?)?.broadcast_add(&b1)?.tanh()?.matmul(&w2.t()?)?.broadcast_add(&b2)?;
    let loss = nn::loss::cross_entropy(&out, &y)?;
    let mut grads = loss.backward()?;
    if {str(clip).lower()} {{ norms.push(nn::optim::clip_grad_norm(&mut grads, &vars, 0.5)?); }}
    optimizer.step(&grads)?;
    losses.push(loss.to_scalar::<f64>()?);
}}
println!("losses {{:?}}", losses);
println!("norms {{:?}}", norms);
for (name, var) in [("w1", &w1), ("b1", &b1), ("w2", &w2), ("b2", &b2)] {{
    println!("{{name}} {{:?}}", var.as_tensor().flatten_all()?.to_vec1::<f64>()?);
}}
}}"""
        values = printed_values(kernel.run(code))
        expected = REFERENCE["optimizers"][name]
        assert max_difference(values["losses"], expected["losses"]) < 1e-12, name
        assert max_difference(values["norms"], expected["norms"]) < 1e-12, name
        for param, trained in expected["params"].items():
            assert max_difference(values[param], flat(trained)) < 1e-12, (name, param)


def test_learning_rate_schedules_match_pytorch(kernel):
    run = kernel.run("""
use nn::optim::Schedule;
for (name, schedule) in [
    ("step", Schedule::Step { lr: 0.1, step_size: 3, gamma: 0.5 }),
    ("cosine", Schedule::Cosine { lr: 0.1, total: 10, min_lr: 0.001 }),
    ("warmup", Schedule::Warmup { lr: 0.1, warmup: 4, start_factor: 0.1 }),
    ("warmup_cosine", Schedule::WarmupCosine { lr: 0.1, warmup: 3, total: 12, min_lr: 0.0 }),
] {
    println!("{name} {:?}", (0..12).map(|t| schedule.at(t)).collect::<Vec<_>>());
}
""")
    values = printed_values(run)
    for name, expected in REFERENCE["schedules"].items():
        # Past T_max PyTorch's cosine climbs back (it is periodic); ours stays at min_lr.
        steps = 11 if name == "cosine" else len(expected)
        assert max_difference(values[name][:steps], expected[:steps]) < 1e-12, name
    assert values["cosine"][11] == 0.001
    # Warmup then cosine: rises to the peak, then falls to the floor at `total`.
    warm = values["warmup_cosine"]
    assert warm[:3] == sorted(warm[:3]) and abs(warm[2] - 0.1) < 1e-12 and warm[3:] == sorted(warm[3:], reverse=True)


def test_a_shape_error_is_one_line_not_a_backtrace(kernel):
    error = kernel.run("tensor![[1., 2.]].matmul(&tensor![[1., 2.]])?").error()
    assert error["evalue"].startswith("shape mismatch in matmul, lhs: [1, 2], rhs: [1, 2]")
    assert "Error::bt" not in error["evalue"] and "Error::bt" not in "".join(error["traceback"])
    # ...followed by what to do about it.
    assert error["evalue"].splitlines()[1].startswith("hint: matmul multiplies [.., m, k] by [.., k, n]")
    error = kernel.run("(tensor![1., 2.] + tensor![[1.], [2.]])?").error()
    assert "hint: `add` needs both operands of one shape" in error["evalue"] and "`.broadcast_add(..)`" in error["evalue"]
    error = kernel.run("tensor![[1.]].to_dtype(DType::F64)?.matmul(&tensor![[1.]])?").error()
    assert "the left operand is f64 and the right f32: convert one with `.to_dtype(DType::F64)`" in error["evalue"]


def with_weights(weights):
    """Lines that overwrite a model's freshly initialised variables with PyTorch's."""
    return "\n".join(f"varmap.set_one({name!r}, tensor!{values!r})?;".replace("'", '"') for name, values in weights.items())


def test_attention_and_the_transformer_block_match_pytorch(kernel):
    run = kernel.run(f"""{{
let mut varmap = candle_nn::VarMap::new();
let vb = nn::var_builder(&varmap, &Device::Cpu);
let attention = nn::MultiHeadAttention::new(8, 2, true, vb.pp("mha"))?;
let block = nn::TransformerBlock::new(8, 2, true, 0.1, vb.pp("block"))?;
{with_weights({f"mha.{n}": v for n, v in LAYERS["attention"]["weights"].items()})}
{with_weights({f"block.{n}": v for n, v in LAYERS["block"]["weights"].items()})}
let x = tensor!{LAYERS["input"]!r};
let (weights, out) = attention.forward_with_weights(&x)?;
println!("attention {{:?}}", out.to_vec3::<f32>()?);
println!("averaged {{:?}}", weights.mean(1)?.to_vec3::<f32>()?);
let gradients = out.sqr()?.sum_all()?.backward()?;
let data = varmap.data().lock().unwrap();
for name in ["query", "key"] {{
    println!("{{name}}_grad {{:?}}", gradients.get(&data[&format!("mha.{{name}}.weight")]).expect("a gradient").to_vec2::<f32>()?);
}}
drop(data);
let input = candle_core::Var::from_tensor(&x)?;
let block_out = block.forward_t(input.as_tensor(), false)?;
println!("block {{:?}}", block_out.to_vec3::<f32>()?);
let gradients = block_out.sqr()?.sum_all()?.backward()?;
println!("input_grad {{:?}}", gradients.get(&input).expect("a gradient").to_vec3::<f32>()?);
println!("norm1_weight_grad {{:?}}", gradients.get(&varmap.data().lock().unwrap()["block.norm1.weight"]).expect("a gradient").to_vec1::<f32>()?);
println!("dropout_in_eval {{}}", block.forward_t(&x, false)?.eq(&block.forward_t(&x, false)?)?.flatten_all()?.min(0)?.to_scalar::<u8>()?);
println!("dropout_in_training {{}}", block.forward_t(&x, true)?.eq(&block.forward_t(&x, false)?)?.flatten_all()?.min(0)?.to_scalar::<u8>()?);
}}""")
    values = printed_values(run)
    assert max_difference(values["attention"], LAYERS["attention"]["output"]) < 1e-5
    assert max_difference(values["averaged"], LAYERS["attention"]["averaged_weights"]) < 1e-6
    for name in ["query_grad", "key_grad"]:
        assert max_difference(values[name], LAYERS["attention"][name]) < 1e-4, name
    assert max_difference(values["block"], LAYERS["block"]["output"]) < 1e-5
    for name in ["input_grad", "norm1_weight_grad"]:  # gradients flow through the layer norms
        assert max_difference(values[name], LAYERS["block"][name]) < 1e-4, name
    assert values["dropout_in_eval"] == 1 and values["dropout_in_training"] == 0


CNN = """
let varmap = candle_nn::VarMap::new();
// A variable of something else in the same VarMap: no layer of the model may claim it.
candle_nn::linear(3, 3, nn::var_builder(&varmap, &Device::Cpu).pp("other"))?;
let model = {
    let vb = nn::var_builder(&varmap, &Device::Cpu);
    let same = candle_nn::Conv2dConfig { padding: 1, ..Default::default() };
    nn::Sequential::new(&varmap)
        .add("conv", candle_nn::conv2d(1, 4, 3, same, vb.pp("conv"))?)
        .add("relu", candle_nn::Activation::Relu)
        .add("pool", nn::MaxPool2d(2))
        .add("flatten", nn::Flatten)
        .add("dropout", nn::Dropout(0.5))
        .add("out", candle_nn::linear(64, 10, vb.pp("out"))?)
};
"""


def test_a_model_summary_lists_layers_shapes_and_parameters(kernel):
    run = kernel.run("{" + CNN + "model.summary(&[32, 1, 8, 8])?}")
    plain = run.result().splitlines()
    assert plain[0].split() == ["layer", "type", "output", "shape", "params"]
    rows = {line.split()[0]: line for line in plain[1:-1]}
    assert "Conv2d" in rows["conv"] and "[32, 4, 8, 8]" in rows["conv"] and rows["conv"].endswith(" 40")
    assert "[32, 4, 4, 4]" in rows["pool"] and "[32, 64]" in rows["flatten"]
    assert "Linear" in rows["out"] and rows["out"].endswith(" 650")
    assert plain[-1] == "input [32, 1, 8, 8]; 690 parameters"
    assert "ferrolab-table" in run.result("text/html")
    error = kernel.run("{" + CNN + "model.summary(&[32, 1, 6, 6])?}").error()
    assert 'layer "out" (Linear) on input [32, 36]' in error["evalue"]


def test_the_global_seed_makes_models_and_dropout_repeat(kernel):
    run = kernel.run("""{
fn draw() -> candle_core::Result<Vec<f32>> {
    let varmap = candle_nn::VarMap::new();
    let layer = candle_nn::linear(3, 2, nn::var_builder(&varmap, &Device::Cpu))?;
    let dropped = nn::Dropout(0.5).forward_t(&Tensor::ones(16, DType::F32, &Device::Cpu)?, true)?;
    Ok([layer.weight().flatten_all()?.to_vec1::<f32>()?, dropped.to_vec1::<f32>()?].concat())
}
random::seed(7);
let first = draw()?;
random::seed(7);
println!("same {}", first == draw()?);
println!("different {}", first != draw()?);
println!("dropout_values {:?}", &first[6..]);
}""")
    values = printed_values(run)
    assert values["same"] is True and values["different"] is True
    assert set(values["dropout_values"]) == {0.0, 2.0}


def test_lora_starts_as_the_base_model_and_trains_only_its_adapters(kernel):
    run = kernel.run("""{
random::seed(1);
let (base, adapters) = (candle_nn::VarMap::new(), candle_nn::VarMap::new());
let config = nn::GptConfig { vocab_size: 11, context: 8, d_model: 16, heads: 2, layers: 2, dropout: 0.0 };
let mut gpt = nn::Gpt::new(config, nn::var_builder(&base, &Device::Cpu))?;
let ids = Tensor::new(&[[1u32, 2, 3, 4, 5, 6]], &Device::Cpu)?;
let before = gpt.forward_t(&ids, false)?;
let frozen: Vec<Vec<f32>> = base.all_vars().iter().map(|v| v.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect();
println!("adapted {}", gpt.add_lora(&nn::LoraConfig::new(2, 4.0, &["query", "value", "head"]), nn::var_builder(&adapters, &Device::Cpu))?);
println!("unchanged_at_start {}", (gpt.forward_t(&ids, false)? - &before)?.abs()?.max_all()?.to_scalar::<f32>()? == 0.0);
let mut optimizer = nn::optim::AdamW::new(adapters.all_vars(), nn::optim::ParamsAdamW { lr: 0.05, ..Default::default() })?;
let targets = Tensor::new(&[[2u32, 3, 4, 5, 6, 7]], &Device::Cpu)?;
let first = gpt.loss(&ids, &targets, true)?.to_scalar::<f32>()?;
for _ in 0..30 { optimizer.backward_step(&gpt.loss(&ids, &targets, true)?)?; }
println!("loss_falls {}", gpt.loss(&ids, &targets, true)?.to_scalar::<f32>()? < first / 2.0);
let still: Vec<Vec<f32>> = base.all_vars().iter().map(|v| v.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect();
println!("base_frozen {}", still == frozen);
println!("unknown {:?}", gpt.add_lora(&nn::LoraConfig::new(2, 4.0, &["fc1"]), nn::var_builder(&adapters, &Device::Cpu)).unwrap_err().to_string());
}""")
    values = printed_values(run)
    assert values["adapted"] == 5  # query and value in both blocks, and the head
    assert values["unchanged_at_start"] is True and values["loss_falls"] is True and values["base_frozen"] is True
    assert 'LoRA target "fc1"' in values["unknown"] and '"query"' in values["unknown"]


def test_autocast_multiplies_in_16_bits_and_keeps_f32_weights_and_gradients(kernel):
    run = kernel.run("""{
random::seed(2);
let varmap = candle_nn::VarMap::new();
let layer = nn::linear(32, 8, nn::var_builder(&varmap, &Device::Cpu))?;
let x = Tensor::randn(0f32, 1.0, (4, 32), &Device::Cpu)?;
let exact = layer.forward(&x)?;
let (low, gradient_dtype) = {
    let _autocast = nn::autocast(DType::BF16);
    let low = layer.forward(&x)?;
    let gradients = low.sqr()?.sum_all()?.backward()?;
    (low, gradients.get(&varmap.data().lock().unwrap()["weight"]).expect("a gradient").dtype())
};
println!("dtype {:?}", low.dtype().as_str());
println!("gradient_dtype {:?}", gradient_dtype.as_str());
println!("close {}", (low - &exact)?.abs()?.max_all()?.to_scalar::<f32>()?);
println!("restored {}", layer.forward(&x)?.eq(&exact)?.min_all()?.to_scalar::<u8>()?);
}""")
    values = printed_values(run)
    assert values["dtype"] == "f32" and values["gradient_dtype"] == "f32"
    assert 0 < values["close"] < 0.1  # bf16 keeps about three significant digits
    assert values["restored"] == 1  # the guard switched autocast off again


def test_a_var_builder_and_a_gpt_live_in_top_level_variables(kernel):
    # A top-level `vb` failed with "cannot find trait SimpleBackend"; `gpt.forward` did not exist.
    assert kernel.run("let varmap_top = candle_nn::VarMap::new();\nlet vb_top = nn::var_builder(&varmap_top, &Device::Cpu);").status == "ok"
    run = kernel.run("""let config = nn::GptConfig { vocab_size: 11, context: 8, d_model: 16, heads: 2, layers: 1, dropout: 0.5 };
let gpt_top = nn::Gpt::new(config, vb_top.pp("gpt"))?;
let ids = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu)?;
let gap = (gpt_top.forward(&ids)? - gpt_top.forward_t(&ids, false)?)?.abs()?.max_all()?.to_scalar::<f32>()?;
(gpt_top.forward(&ids)?.dims().to_vec(), gap)""")
    assert run.result() == "([1, 3, 11], 0.0)"
