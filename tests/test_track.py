"""Experiment tracking (`track`) through real kernels: what a run records (config, metrics,
provenance), read back as plain files the way a user without Ferrolab would (json, csv);
a panic and the stop button mark a run and keep its metrics; the Trainer logs every epoch
and a rerun from a run's record repeats it exactly; two kernels share a store; a project's
runs as a DataFrame."""

import csv
import hashlib
import json
import pathlib
import subprocess
import time

import pytest

from conftest import printed_values, start_in

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tracked(notebook_dir):
    """A kernel started in the course folder, as Jupyter starts one for a notebook there."""
    kernel = start_in(notebook_dir, JPY_SESSION_NAME=str(notebook_dir / "12-experiment-tracking.ipynb"))
    yield kernel
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def another(notebook_dir):
    """A second notebook's kernel in the same folder."""
    kernel = start_in(notebook_dir)
    yield kernel
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


def run_dir(notebook_dir, project, run_id):
    return notebook_dir / "runs" / project / run_id


def metrics_rows(folder):
    with open(folder / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_a_run_records_its_config_metrics_and_what_produced_it(tracked, notebook_dir):
    run = tracked.run("""
random::seed(7);
let run = track::run("moons").name("baseline").tag("first")
    .config(json!({"lr": 0.01, "hidden": 16, "optimizer": {"name": "adamw", "betas": [0.9, 0.999]}}))
    .start()?;
for step in 0..3 {
    run.log([("loss", 1.0 / (step as f64 + 1.0)), ("accuracy", 0.5 + 0.1 * step as f64)]);
}
run.finish();
println!("id \\"{}\\"", run.id());
println!("lr {}", run.config_value::<f64>("lr"));
println!("optimizer \\"{}\\"", run.config_value::<String>("optimizer.name"));
""")
    values = printed_values(run)
    assert values["lr"] == 0.01 and values["optimizer"] == "adamw"
    folder = run_dir(notebook_dir, "moons", values["id"])
    record = json.loads((folder / "run.json").read_text())
    assert record["name"] == "baseline" and record["tags"] == ["first"]
    assert record["status"] == "finished" and record["end_time"] >= record["start_time"]
    assert record["config"]["optimizer"] == {"name": "adamw", "betas": [0.9, 0.999]}
    assert record["summary"]["loss"]["last"] == pytest.approx(1 / 3)
    assert record["summary"]["accuracy"]["max"] == pytest.approx(0.7)
    rows = metrics_rows(folder)
    assert [(r["step"], r["metric"]) for r in rows] == [
        (str(s), m) for s in range(3) for m in ("loss", "accuracy")]
    assert [float(r["value"]) for r in rows if r["metric"] == "loss"] == [1.0, 0.5, 1 / 3]

    provenance = record["provenance"]
    head = subprocess.run(["git", "-C", str(notebook_dir), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert provenance["git"] == {"commit": head, "branch": "main", "dirty": True}
    assert "+changed" in (folder / "git.diff").read_text()
    assert provenance["notebook"].endswith("12-experiment-tracking.ipynb")
    assert provenance["directory"] == str(notebook_dir)
    assert provenance["rustc"].startswith("rustc 1.")
    assert provenance["lock_sha256"] == hashlib.sha256((REPO / "Cargo.lock").read_bytes()).hexdigest()
    assert {"source": "random::seed", "seed": 7} in provenance["seeds"]
    assert provenance["device"] == "cpu" and provenance["pid"] > 0 and provenance["host"]

    # The card: shown as the run starts, redrawn in place, with config and metrics.
    cards = run.of_type("display_data")
    assert len(cards) == 1 and "baseline" in cards[0]["content"]["data"]["text/plain"]
    final = run.of_type("update_display_data")[-1]["content"]["data"]
    assert "finished" in final["text/plain"] and "loss = 0.3333" in final["text/plain"]
    assert "optimizer.name" in final["text/html"] and "data:image/svg+xml;base64," in final["text/html"]


def test_a_panic_and_the_stop_button_mark_the_run_and_keep_what_it_logged(tracked, notebook_dir):
    started = tracked.run("""
let fragile = track::run("moons").name("fragile").quiet().start()?;
println!("id \\"{}\\"", fragile.id());
""")
    folder = run_dir(notebook_dir, "moons", printed_values(started)["id"])
    failing = tracked.run("""
for step in 0..5 { fragile.log([("loss", step as f64)]); }
let values: Vec<f64> = vec![];
values[3]
""")
    assert failing.status == "error"
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "failed" and record["summary"]["loss"]["count"] == 5
    assert len(metrics_rows(folder)) == 5

    # Logging again resumes it; the stop button ends it as interrupted.
    msg_id = tracked.kc.execute("""
for step in (5..).interruptible() {
    fragile.log([("loss", step as f64)]);
    std::thread::sleep(std::time::Duration::from_millis(10));
}
""")
    time.sleep(3)
    assert json.loads((folder / "run.json").read_text())["status"] == "running"
    tracked.km.interrupt_kernel()
    assert tracked.collect(msg_id, timeout=30).reply["content"]["ename"] == "Interrupted"
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "interrupted"
    rows = metrics_rows(folder)
    assert len(rows) == record["summary"]["loss"]["count"] > 5
    assert [int(r["step"]) for r in rows] == list(range(len(rows)))


MOONS_RUN = """
use candle_nn::{{Module, VarMap}};
random::seed(run.config_value("seed"));
let (points, labels) = datasets::make_moons(400, 0.2, 42);
let inputs = points.mapv(|v| v as f32).to_tensor(&Device::Cpu)?;
let targets = labels.mapv(|v| v as f32).to_tensor(&Device::Cpu)?.unsqueeze(1)?;
let data = TensorDataset::new(inputs, targets)?;
let varmap = VarMap::new();
let vb = nn::var_builder(&varmap, &Device::Cpu);  // weights from random's seeded generator
let hidden: usize = run.config_value("hidden");
let model = candle_nn::seq()
    .add(candle_nn::linear(2, hidden, vb.pp("hidden"))?)
    .add_fn(|x| x.tanh())
    .add(candle_nn::linear(hidden, 1, vb.pp("out"))?);
let params = nn::optim::ParamsAdamW {{ lr: run.config_value("lr"), ..Default::default() }};
let mut optimizer = nn::optim::AdamW::new(varmap.all_vars(), params)?;
let train = DataLoader::new(data.clone()).batch_size(50).shuffle(run.config_value("shuffle_seed"));
let validation = DataLoader::new(data.clone()).batch_size(400);
let accuracy = |logits: &Tensor, y: &Tensor| -> candle_core::Result<f64> {{
    Ok(logits.ge(0.0)?.to_dtype(DType::F32)?.eq(y)?.to_dtype(DType::F32)?.mean_all()?.to_scalar::<f32>()? as f64)
}};
let history = Trainer::new(run.config_value("epochs")).live_plot(false).track(&run)
    .fit(&mut optimizer, &train, Some(&validation), |(x, y)| {{
        let logits = model.forward(x)?;
        Ok((nn::loss::binary_cross_entropy_with_logits(&logits, y)?, [("accuracy", accuracy(&logits, y)?)]))
    }})?;
run.finish();
println!("{name} \\"{{}}\\"", run.id());
println!("accuracy {{:?}}", [accuracy(&model.forward(&data.inputs)?, &data.targets)?, history.metrics["validation_accuracy"][5]]);
"""


def test_the_trainer_logs_every_epoch_and_a_rerun_of_the_record_repeats_it(tracked, notebook_dir):
    original = tracked.run("""{
let run = track::run("moons").quiet()
    .config(json!({"lr": 0.02, "hidden": 8, "epochs": 6, "seed": 3, "shuffle_seed": 11}))
    .start()?;
""" + MOONS_RUN.format(name="original") + "}", timeout=300)
    original_id = printed_values(original)["original"]
    # Reproduce: the config comes from the record alone, in a fresh block.
    rerun = tracked.run(f"""{{
let past = track::load("{original_id}")?;
let run = track::run("moons").name("rerun").quiet().config(past.config()).start()?;
""" + MOONS_RUN.format(name="rerun") + "}", timeout=300)
    rerun_id = printed_values(rerun)["rerun"]

    def series(run_id):
        by_metric = {}
        for row in metrics_rows(run_dir(notebook_dir, "moons", run_id)):
            by_metric.setdefault(row["metric"], []).append((int(row["step"]), float(row["value"])))
        return by_metric

    first, second = series(original_id), series(rerun_id)
    assert set(first) == {"train_loss", "validation_loss", "learning_rate", "epoch_time",
                          "train_accuracy", "validation_accuracy"}
    # The closure's metric, averaged over the epoch's one validation batch: the model's own.
    trained, logged = printed_values(original)["accuracy"]
    assert logged == trained == first["validation_accuracy"][-1][1] > 0.8
    assert [step for step, _ in first["train_loss"]] == [1, 2, 3, 4, 5, 6]
    assert first["train_loss"][-1][1] < first["train_loss"][0][1]
    assert {value for _, value in first["learning_rate"]} == {0.02}
    for metric in ("train_loss", "validation_loss", "train_accuracy", "validation_accuracy"):
        assert first[metric] == second[metric]
    record = json.loads((run_dir(notebook_dir, "moons", original_id) / "run.json").read_text())
    assert {"source": "DataLoader::shuffle", "seed": 11} in record["provenance"]["seeds"]


def test_two_kernels_logging_to_one_store_at_once_lose_nothing(tracked, another, notebook_dir):
    code = """
let store = track::Store::at("runs");
for writer in 0..4 {{
    let run = store.run("shared").name(&format!("{who}-{{writer}}")).quiet().start()?;
    for step in 0..5000 {{ run.log([("value", step as f64), ("square", (step * step) as f64)]); }}
}}
"""
    # Both cells run at the same time, one in each kernel.
    first = tracked.kc.execute(code.format(who="first"))
    second = another.kc.execute(code.format(who="second"))
    assert tracked.collect(first, timeout=120).status == "ok"
    assert another.collect(second, timeout=120).status == "ok"
    folders = sorted((notebook_dir / "runs" / "shared").iterdir())
    names = sorted(json.loads((f / "run.json").read_text())["name"] for f in folders)
    assert names == sorted(f"{who}-{n}" for who in ("first", "second") for n in range(4))
    for folder in folders:
        record = json.loads((folder / "run.json").read_text())
        assert record["status"] == "finished"
        rows = metrics_rows(folder)
        assert len(rows) == 10000
        assert [float(r["value"]) for r in rows if r["metric"] == "value"] == [float(s) for s in range(5000)]


def test_a_projects_runs_as_a_dataframe_filtered_and_compared(tracked, notebook_dir):
    # A run whose kernel was killed while it ran: its record still says running.
    crashed = tracked.run("""
let lost = track::run("sweep").name("lost").quiet().start()?;
lost.log([("val_accuracy", 0.1)]);
println!("id \\"{}\\"", lost.id());
std::mem::forget(lost);
""")
    lost = run_dir(notebook_dir, "sweep", printed_values(crashed)["id"]) / "run.json"
    record = json.loads(lost.read_text())
    record["provenance"]["pid"] = 2**22 + 1  # above Linux's pid_max: never a live process
    lost.write_text(json.dumps(record))
    run = tracked.run("""
let mut runs = vec![];
for (lr, width) in [(0.1, 8), (0.01, 16), (0.001, 32)] {
    let run = track::run("sweep").name(&format!("lr={lr}")).quiet()
        .config(json!({"lr": lr, "width": width, "optimizer": {"name": "sgd"}})).start()?;
    for epoch in 0..4 { run.log([("val_accuracy", 0.5 + lr * epoch as f64), ("loss", lr / (epoch as f64 + 1.0))]); }
    run.finish();
    runs.push(run);
}
let table = track::runs("sweep")?;
println!("shape {:?}", [table.height(), table.width()]);
println!("columns {:?}", table.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>());
println!("status {:?}", table.column("status")?.str()?.iter().flatten().collect::<Vec<_>>());
let fast = table.clone().lazy().filter(col("config.lr").gt_eq(lit(0.01))).collect()?;
{
    let names = fast.column("name")?.str()?.iter().flatten();
    let best = fast.column("best.val_accuracy")?.f64()?.iter().flatten();
    println!("fast {:?}", names.zip(best).collect::<std::collections::BTreeMap<_, _>>());
}
println!("width_type \\"{}\\"", table.column("config.width")?.dtype());
track::curves("val_accuracy", &runs)
""")
    values = printed_values(run)
    assert values["shape"][0] == 4
    assert values["columns"][:8] == ["id", "name", "status", "start", "duration", "tags", "commit", "dirty"]
    assert {"config.lr", "config.width", "config.optimizer.name", "metrics.loss", "best.loss",
            "metrics.val_accuracy", "best.val_accuracy"} <= set(values["columns"])
    assert values["status"] == ["crashed", "finished", "finished", "finished"]
    # Accuracy's best is its highest value.
    assert values["fast"] == pytest.approx({"lr=0.1": 0.8, "lr=0.01": 0.53})
    assert values["width_type"] == "i64"
    svg = run.result("image/svg+xml")
    assert all(f"lr={lr}" in svg for lr in ("0.1", "0.01", "0.001"))


def test_a_record_cut_short_by_a_killed_kernel_loads_and_resumes(tracked, notebook_dir):
    started = tracked.run("""
let cut = track::run("moons").quiet().start()?;
cut.log([("loss", 0.5)]);
cut.log([("loss", 0.25)]);
cut.finish();
println!("id \\"{}\\"", cut.id());
""")
    run_id = printed_values(started)["id"]
    folder = run_dir(notebook_dir, "moons", run_id)
    with open(folder / "metrics.csv", "a") as metrics:
        metrics.write("2,loss,0.1")  # the kernel died mid-line
    loaded = tracked.run(f"""
let cut = track::load("{run_id}")?;
println!("loss {{:?}}", cut.metric("loss").to_vec());
println!("status \\"{{}}\\"", cut.status().as_str());
""")
    assert printed_values(loaded) == {"loss": [0.5, 0.25], "status": "finished"}


def test_mistakes_in_tracking_calls_say_what_to_write(tracked):
    bad_metric = tracked.run('let r = track::run("moons").quiet().start()?; r.log([("loss,val", 1.0)]);')
    assert "metric name `loss,val`: use letters, digits" in bad_metric.error()["evalue"]
    bad_config = tracked.run('track::run("moons").config(vec![1, 2]).start()?;')
    assert "a run's config is a map of names to values, not [1,2]" in bad_config.error()["evalue"]
    missing = tracked.run('let r = track::run("moons").quiet().start()?; let lr: f64 = r.config_value("lr");')
    assert "config has no `lr`" in missing.error()["evalue"]
    missing_run = tracked.run('track::load("nosuchid")?;')
    assert "no run `nosuchid` in runs" in missing_run.error()["evalue"]


def test_a_registered_model_loads_by_alias_in_another_notebook_with_its_lineage(tracked, another, notebook_dir):
    written = tracked.run("""
let trainer_run = track::run("moons").name("trainer").quiet().start()?;
std::fs::write("weights.bin", "first weights")?;
let first = trainer_run.register_model("moons-mlp", "weights.bin", &["best"])?;
std::fs::write("weights.bin", "second weights")?;
let second = trainer_run.register_model("moons-mlp", "weights.bin", &["production"])?;
trainer_run.finish();
println!("versions {:?}", [first.version, second.version]);
println!("id \\"{}\\"", trainer_run.id());
""")
    values = printed_values(written)
    assert values["versions"] == [1, 2]
    # Another notebook loads it by alias; its run records what it read and who wrote it.
    read = another.run("""
let serving = track::run("serve").quiet().start()?;
let weights = serving.use_model("moons-mlp", "best")?;
println!("content \\"{}\\"", std::fs::read_to_string(&weights)?);
println!("latest {}", track::model("moons-mlp", "latest")?.version);
println!("id \\"{}\\"", serving.id());
serving.finish();
""")
    served = printed_values(read)
    assert served["content"] == "first weights" and served["latest"] == 2
    store = notebook_dir / "runs"
    digest = hashlib.sha256(b"first weights").hexdigest()
    assert (store / "artifacts" / digest).read_text() == "first weights"
    assert (store / "models" / "moons-mlp" / "aliases" / "best").read_text().strip() == "1"
    writer = json.loads((run_dir(notebook_dir, "moons", values["id"]) / "run.json").read_text())
    assert [a["sha256"] for a in writer["outputs"]] == [digest, hashlib.sha256(b"second weights").hexdigest()]
    reader = json.loads((run_dir(notebook_dir, "serve", served["id"]) / "run.json").read_text())
    assert reader["inputs"] == [{"name": "weights.bin", "sha256": digest, "size": 13, "run": values["id"]}]
    missing = another.run('track::model("moons-mlp", "staging")?;')
    assert "no model `moons-mlp` version `staging`" in missing.error()["evalue"]
    assert "(registered: 1, 2)" in missing.error()["evalue"]


def records(notebook_dir, project):
    return [json.loads(p.read_text()) for p in sorted((notebook_dir / "runs" / project).glob("*/run.json"))]


def test_a_grid_sweep_runs_every_combination_as_children_and_finds_the_best(tracked, notebook_dir):
    run = tracked.run("""
let grid = track::sweep("grid").name("lr-width")
    .config(json!({"epochs": 5}))
    .grid("lr", [0.1, 0.01, 0.001])
    .grid("model.width", [8, 16])
    .minimize("loss")
    .run(|run| {
        let (lr, width): (f64, f64) = (run.config_value("lr"), run.config_value("model.width"));
        for epoch in 1..=run.config_value::<u64>("epochs") {
            run.log_at(epoch, [("loss", (lr - 0.01).abs() + 1.0 / width + 1.0 / epoch as f64)]);
        }
        Ok::<_, String>(())
    })?;
let best = grid.best().unwrap();
println!("best {:?}", [best.config_value::<f64>("lr"), best.config_value::<f64>("model.width")]);
println!("sweep \\"{}\\"", grid.run().id());
grid.parallel_coordinates()
""")
    values = printed_values(run)
    assert values["best"] == [0.01, 16]
    found = records(notebook_dir, "grid")
    sweep = next(r for r in found if r["id"] == values["sweep"])
    trials = [r for r in found if r["parent"] == values["sweep"]]
    assert sweep["name"] == "lr-width" and "sweep" in sweep["tags"] and sweep["status"] == "finished"
    assert sweep["config"]["method"] == "grid" and sweep["config"]["trials"] == 6
    assert sorted((t["config"]["lr"], t["config"]["model"]["width"]) for t in trials) == sorted(
        (lr, w) for lr in (0.1, 0.01, 0.001) for w in (8, 16))
    assert all(t["status"] == "finished" and t["config"]["epochs"] == 5 for t in trials)
    assert sweep["summary"]["best loss"]["last"] == pytest.approx(1 / 16 + 1 / 5)
    # One live table, redrawn in place, that ends with every trial and the best marked.
    tables = [d for d in run.of_type("display_data") if "trial" in d["content"]["data"].get("text/html", "")]
    assert len(tables) == 1
    final = run.of_type("update_display_data")[-1]["content"]["data"]["text/plain"]
    assert final.count("finished") == 6 and "★" in final and "model.width=16" in final
    # Parallel coordinates: an axis per swept key and the metric's, a line per trial.
    svg = run.result("image/svg+xml")
    assert all(f"\n{name}\n" in svg for name in ("lr", "model.width", "best loss")), svg[:2000]
    assert svg.count("<polyline") >= 6


def test_early_stopping_stops_trials_that_fall_behind(tracked, notebook_dir):
    run = tracked.run("""
let hyperband = track::sweep("hyperband")
    .grid("offset", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    .minimize("loss")
    .early_stopping(2, 2)
    .run(|run| {
        let offset: f64 = run.config_value("offset");
        for step in 1..=16u64 {
            run.log_at(step, [("loss", offset + 1.0 / step as f64)]);
            if run.should_stop() { break; }
        }
        Ok::<_, String>(())
    })?;
""")
    assert run.status == "ok", run.reply["content"]
    trials = {t["config"]["offset"]: t["summary"]["loss"]["step"] for t in records(notebook_dir, "hyperband")
              if t["parent"]}
    # Trials come in order of offset, each worse than all before it: the first goes all the way,
    # the second (not in the best half at step 2 once two have been there) stops there.
    assert trials[0.0] == 16
    assert all(trials[offset] == 2 for offset in (1.0, 2.0, 3.0, 4.0, 5.0)), trials


def test_failing_trials_are_marked_and_the_sweep_goes_on_in_parallel(tracked, notebook_dir):
    run = tracked.run("""
let mixed = track::sweep("mixed").grid("case", ["ok", "error", "panic", "ok too"]).parallel(2)
    .run(|run| {
        match run.config_value::<String>("case").as_str() {
            "error" => return Err(format!("diverged at lr {}", 10)),
            "panic" => { let empty: Vec<f64> = vec![]; let _ = empty[1]; }
            _ => run.log([("loss", 1.0)]),
        }
        Ok(())
    })?;
println!("statuses {:?}", mixed.trials().iter().map(|t| (t.config_value::<String>("case"), t.status().as_str())).collect::<std::collections::BTreeMap<_, _>>());
""")
    values = printed_values(run)  # the cell itself succeeds
    assert values["statuses"] == {"ok": "finished", "ok too": "finished", "error": "failed", "panic": "failed"}
    notes = {r["config"]["case"]: r["notes"] for r in records(notebook_dir, "mixed") if r["parent"]}
    assert notes["error"] == "diverged at lr 10" and "index out of bounds" in notes["panic"]
    stderr = "".join(m["content"]["text"] for m in run.of_type("stream") if m["content"]["name"] == "stderr")
    assert "2 trial(s) failed" in stderr


def test_the_stop_button_ends_a_sweep_keeping_finished_trials(tracked, notebook_dir):
    msg_id = tracked.kc.execute("""
let stopped = track::sweep("stopped").grid("trial", [1, 2, 3, 4, 5, 6, 7, 8]).run(|run| {
    for step in (0..20).interruptible() {
        run.log([("loss", step as f64)]);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok::<_, String>(())
})?;
""")
    # Stop once two trials have finished (each takes about a second).
    deadline = time.monotonic() + 60
    while sum(r["status"] == "finished" for r in records(notebook_dir, "stopped") if r["parent"]) < 2:
        assert time.monotonic() < deadline, "no two trials finished in a minute"
        time.sleep(0.1)
    tracked.km.interrupt_kernel()
    run = tracked.collect(msg_id, timeout=30)
    assert run.status == "ok", run.reply["content"]
    assert "Sweep stopped by the user" in run.stdout()
    found = records(notebook_dir, "stopped")
    statuses = sorted(r["status"] for r in found if r["parent"])
    assert statuses.count("interrupted") == 1 and statuses.count("finished") >= 2
    assert len(statuses) < 8
    assert [r["status"] for r in found if not r["parent"]] == ["interrupted"]
    assert tracked.run("stopped.trials().len()").result() == str(len(statuses))
