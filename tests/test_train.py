"""The training loop helper (`Trainer`) through a real kernel: a small network learns the
moons, the plot redraws in place, early stopping stops."""

from conftest import printed_values

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
