#!/usr/bin/env python3
"""Experiment tracking's cost, in a fresh `ferrolab` kernel: logging 100,000 metric points
to one run (the aim: under 1 s, so that logging never slows training), then reading a
project of 100 runs back as a DataFrame (the aim: under 100 ms). With `--mlflow`, the same
100,000 points logged to a run that an MLflow server (install/mlflow, started here) mirrors:
the training side's cost, and how long until the server has every point. Run after
install/setup:

    .venv/bin/python bench/track.py [--mlflow]

Prints lines `figure: milliseconds`; docs/performance.md records them.
"""

import argparse
import os
import pathlib
import tempfile

from common import run_rust
from test_mlflow import MlflowServer

CELL = """
let store = track::Store::at(r"{store}");
let run = store.run("bench").quiet().start()?;
let started = std::time::Instant::now();
for step in 0..50_000u64 {{
    run.log([("loss", 1.0 / (step as f64 + 1.0)), ("accuracy", step as f64 / 50_000.0)]);
}}
run.finish();
println!("log 100,000 points {{}}", started.elapsed().as_secs_f64() * 1e3);
for i in 0..99 {{
    let run = store.run("bench").quiet().config(json!({{"lr": 0.001 * i as f64, "width": i}})).start()?;
    for epoch in 0..20 {{ run.log([("loss", 1.0 / (epoch + i + 1) as f64), ("accuracy", 0.5)]); }}
}}
let started = std::time::Instant::now();
let table = store.runs("bench")?;
println!("read 100 runs as a DataFrame {{}}", started.elapsed().as_secs_f64() * 1e3);
assert_eq!(table.height(), 100);
"""


MLFLOW_CELL = """
track::set_tracking_uri(r"{uri}");
let run = track::Store::at(r"{store}").run("bench").quiet().start()?;
let started = std::time::Instant::now();
for step in 0..50_000u64 {{
    run.log([("loss", 1.0 / (step as f64 + 1.0)), ("accuracy", step as f64 / 50_000.0)]);
}}
println!("log 100,000 points, MLflow set {{}}", started.elapsed().as_secs_f64() * 1e3);
run.finish();
println!("finish (waits for the server at most 10 s) {{}}", started.elapsed().as_secs_f64() * 1e3);
// The background sender goes on after `finish`: done when mlflow.json counts every byte.
let total = std::fs::metadata(run.dir().join("metrics.csv"))?.len();
while !std::fs::read_to_string(run.dir().join("mlflow.json"))?.contains(&format!("\\"metrics_bytes\\": {{total}},")) {{
    std::thread::sleep(std::time::Duration::from_millis(20));
}}
println!("every point on the server {{}}", started.elapsed().as_secs_f64() * 1e3);
"""


def mlflow_figures(folder):
    """100,000 points logged with a server set: milliseconds from the first log."""
    server = MlflowServer(pathlib.Path(folder))
    server.start()
    try:
        return run_rust(MLFLOW_CELL.format(uri=server.uri, store=os.path.join(folder, "runs")))
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlflow", action="store_true", help="also log to an MLflow server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = run_rust(CELL.format(store=os.path.join(folder, "runs")))
        if args.mlflow:
            figures.update(mlflow_figures(folder))
    for name, ms in figures.items():
        print(f"{name}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
