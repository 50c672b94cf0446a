"""The training loop helper (`Trainer`) through a real kernel: a small network learns the
moons as well as PyTorch's does on the same split (tests/reference/torch_layers.py), the plot
redraws in place, early stopping stops, a checkpoint resumes exactly where training stopped."""

import json
import pathlib
import statistics

from conftest import printed_values

REFERENCE = pathlib.Path(__file__).parent / "reference"

MOONS = """
use candle_nn::{Module, VarBuilder, VarMap};
use nn::optim::Optimizer;
random::seed(0);
let (points, labels) = datasets::make_moons(1000, 0.2, 42);
let (x_train, x_test, y_train, y_test) = train_test_split(&points, &labels, Split { test_size: 0.2, random_state: Some(0), ..Default::default() })?;
let to_tensors = |x: &Array2<f64>, y: &Array1<f64>| -> candle_core::Result<TensorDataset> {
    TensorDataset::new(x.mapv(|v| v as f32).to_tensor(&Device::Cpu)?, y.mapv(|v| v as f32).to_tensor(&Device::Cpu)?.unsqueeze(1)?)
};
let (train_set, test_set) = (to_tensors(&x_train, &y_train)?, to_tensors(&x_test, &y_test)?);
let varmap = VarMap::new();
let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
let model = candle_nn::seq()
    .add(candle_nn::linear(2, 16, vb.pp("hidden"))?)
    .add_fn(|x| x.tanh())
    .add(candle_nn::linear(16, 1, vb.pp("out"))?);
"""


def test_a_small_network_learns_the_moons_with_a_live_plot(kernel):
    run = kernel.run("{" + MOONS + """
let mut optimizer = nn::optim::AdamW::new(varmap.all_vars(), nn::optim::ParamsAdamW { lr: 0.02, ..Default::default() })?;
let train = DataLoader::new(train_set.clone()).batch_size(32).shuffle(1);
let validation = DataLoader::new(test_set.clone()).batch_size(200);
let history = Trainer::new(40).fit(&mut optimizer, &train, Some(&validation), |(x, y)| {
    nn::loss::binary_cross_entropy_with_logits(&model.forward(x)?, y)
})?;
let logits = model.forward(&test_set.inputs)?.flatten_all()?.to_vec1::<f32>()?;
let predicted: Vec<f64> = logits.iter().map(|&z| if z > 0.0 { 1.0 } else { 0.0 }).collect();
println!("accuracy {}", metrics::accuracy_score(&y_test, &predicted));
println!("epochs {}", history.train_loss.len());
println!("first_last {:?}", [history.train_loss[0], *history.train_loss.last().unwrap()]);
}""", timeout=300)
    values = printed_values(run)
    assert values["accuracy"] >= 0.95
    assert values["epochs"] == 40 and values["first_last"][1] < values["first_last"][0] / 2
    displays = run.of_type("display_data")
    assert len(displays) == 2  # the progress bar and the loss plot, each then updated in place
    plots = [d for d in displays if "image/svg+xml" in d["content"]["data"]]
    assert len(plots) == 1 and "validation" in plots[0]["content"]["data"]["image/svg+xml"]
    assert any("image/svg+xml" in u["content"]["data"] for u in run.of_type("update_display_data"))


def test_mixed_precision_on_the_cpu_says_it_trains_in_f32(kernel):
    run = kernel.run("{" + MOONS + """
let mut optimizer = nn::optim::Sgd::new(varmap.all_vars(), nn::optim::SgdConfig { lr: 0.1, ..Default::default() })?;
let train = DataLoader::new(train_set.clone()).batch_size(100);
let history = Trainer::new(2).live_plot(false).mixed_precision(DType::BF16).fit(&mut optimizer, &train, None, |(x, y)| {
    nn::loss::binary_cross_entropy_with_logits(&model.forward(x)?, y)
})?;
println!("epochs {}", history.train_loss.len());
}""", timeout=300)
    assert run.stdout().splitlines()[0] == (
        "Mixed precision (bf16) runs on a CUDA GPU; this model is on the CPU, so it trains in f32.")
    assert run.stdout().splitlines()[1] == "epochs 2"


def test_early_stopping_ends_a_run_that_stopped_improving(kernel):
    run = kernel.run("{" + MOONS + """
// A learning rate of zero: the loss never improves after the first epoch.
let mut optimizer = nn::optim::Sgd::new(varmap.all_vars(), nn::optim::SgdConfig { lr: 0.0, ..Default::default() })?;
let train = DataLoader::new(train_set.clone()).batch_size(100);
let history = Trainer::new(50).early_stopping(3).live_plot(false).fit(&mut optimizer, &train, None, |(x, y)| {
    nn::loss::binary_cross_entropy_with_logits(&model.forward(x)?, y)
})?;
println!("stopped_at {}", history.stopped_at.unwrap_or(0));
println!("epochs {}", history.train_loss.len());
}""", timeout=300)
    values = printed_values(run)
    assert values["stopped_at"] == 4 and values["epochs"] == 4
    assert not [d for d in run.of_type("display_data") if "image/svg+xml" in d["content"]["data"]]


def test_the_moons_mlp_matches_pytorchs_test_accuracy_on_the_same_split(kernel):
    run = kernel.run("""{
type Failure = Box<dyn std::error::Error + Send + Sync>;
let moons = CsvReadOptions::default().with_has_header(true)
    .try_into_reader_with_file_path(Some("%s".into()))?.finish()?;
let part = |test: i64| -> Result<(Tensor, Tensor), Failure> {
    let rows = moons.clone().lazy().filter(col("test").eq(lit(test))).collect()?;
    let x = rows.select(["x0", "x1"])?.to_tensor(&Device::Cpu)?.to_dtype(DType::F32)?;
    let y = rows.select(["label"])?.to_tensor(&Device::Cpu)?.to_dtype(DType::F32)?;
    Ok((x, y))
};
let ((x_train, y_train), (x_test, y_test)) = (part(0)?, part(1)?);
let mut accuracies = Vec::new();
for seed in 0..5 {
    random::seed(seed);
    let varmap = candle_nn::VarMap::new();
    let vb = nn::var_builder(&varmap, &Device::Cpu);
    let model = nn::Sequential::new(&varmap)
        .add("hidden", candle_nn::linear(2, 16, vb.pp("hidden"))?)
        .add("tanh", nn::Tanh)
        .add("out", candle_nn::linear(16, 1, vb.pp("out"))?);
    let mut optimizer = nn::optim::AdamW::new(varmap.all_vars(), nn::optim::ParamsAdamW { lr: 0.01, ..Default::default() })?;
    for _ in 0..500 {
        optimizer.backward_step(&nn::loss::binary_cross_entropy_with_logits(&model.forward(&x_train)?, &y_train)?)?;
    }
    let predicted = model.forward(&x_test)?.gt(0.0)?.to_dtype(DType::F32)?;
    accuracies.push(predicted.eq(&y_test)?.to_dtype(DType::F32)?.mean_all()?.to_scalar::<f32>()?);
}
println!("accuracies {:?}", accuracies);
}""" % (REFERENCE / "moons.csv"), timeout=300)
    ours = printed_values(run)["accuracies"]
    pytorch = json.loads((REFERENCE / "torch_layers.json").read_text())["moons_accuracy"]
    # 200 test points: one point is 0.005. Different initial draws, the same recipe.
    assert statistics.mean(ours) >= statistics.mean(pytorch) - 0.01, (ours, pytorch)
    assert min(ours) >= min(pytorch) - 0.015, (ours, pytorch)


CHECKPOINTED = """
fn train(seed: u64, hidden: usize, epochs: usize, checkpoint: Option<&std::path::Path>) -> candle_core::Result<(History, Vec<f32>)> {
    random::seed(seed);
    let (points, labels) = datasets::make_moons(300, 0.2, 42);
    let x = points.mapv(|v| v as f32).to_tensor(&Device::Cpu)?;
    let y = labels.mapv(|v| v as f32).to_tensor(&Device::Cpu)?.unsqueeze(1)?;
    let varmap = candle_nn::VarMap::new();
    let vb = nn::var_builder(&varmap, &Device::Cpu);
    let model = nn::Sequential::new(&varmap)
        .add("hidden", candle_nn::linear(2, hidden, vb.pp("hidden"))?)
        .add("tanh", nn::Tanh)
        .add("out", candle_nn::linear(hidden, 1, vb.pp("out"))?);
    let mut optimizer = nn::optim::AdamW::new(varmap.all_vars(), nn::optim::ParamsAdamW { lr: 0.02, ..Default::default() })?;
    let loader = DataLoader::new(TensorDataset::new(x, y)?).batch_size(32).shuffle(5);
    let mut trainer = Trainer::new(epochs).live_plot(false);
    if let Some(path) = checkpoint {
        trainer = trainer.checkpoint(path, &varmap);
    }
    let history = trainer.fit(&mut optimizer, &loader, None, |(x, y)| {
        let logits = model.forward_t(x, true)?;
        let mean_logit = logits.mean_all()?.to_scalar::<f32>()? as f64;
        Ok((nn::loss::binary_cross_entropy_with_logits(&logits, y)?, [("mean_logit", mean_logit)]))
    })?;
    let weights = model.forward(&Tensor::new(&[[0.5f32, 0.25]], &Device::Cpu)?)?.flatten_all()?.to_vec1::<f32>()?;
    Ok((history, weights))
}
let path = std::env::temp_dir().join(format!("ferrolab-checkpoint-{}.safetensors", std::process::id()));
let _ = std::fs::remove_file(&path);
"""


def test_a_checkpoint_resumes_training_exactly_where_it_stopped(kernel):
    run = kernel.run("{" + CHECKPOINTED + """
let (straight, straight_output) = train(3, 8, 6, None)?;
train(3, 8, 3, Some(&path))?;
// Another seed: the resumed model's weights must come from the file, not from its initialisation.
let (resumed, resumed_output) = train(99, 8, 6, Some(&path))?;
println!("VALUE straight {:?}", straight.train_loss);
println!("VALUE resumed {:?}", resumed.train_loss);
println!("VALUE metrics {:?}", [&straight.metrics["train_mean_logit"], &resumed.metrics["train_mean_logit"]]);
println!("VALUE outputs {:?}", [straight_output[0], resumed_output[0]]);
let stale = train(3, 4, 6, Some(&path)).unwrap_err().to_string();
println!("VALUE stale {:?}", stale);
std::fs::remove_file(&path)?;
}""", timeout=300)
    assert run.status == "ok", run.reply["content"]
    lines = run.stdout().splitlines()
    values = {name: json.loads(v) for name, v in (line.split(" ", 2)[1:] for line in lines if line.startswith("VALUE "))}
    resumed = [line for line in lines if line.startswith("Resumed from")]
    assert len(resumed) == 1 and resumed[0].endswith("after epoch 3 of 6."), lines
    assert values["resumed"] == values["straight"]
    # The closure's metric per epoch: the three before the checkpoint come back from it.
    assert len(values["metrics"][0]) == 6 and values["metrics"][1] == values["metrics"][0]
    assert values["outputs"][0] == values["outputs"][1]
    assert "has no hidden.bias of shape [4]: it was saved from another model" in values["stale"]
