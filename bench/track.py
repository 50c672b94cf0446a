#!/usr/bin/env python3
"""Experiment tracking's cost, in a fresh `ferrolab` kernel: logging 100,000 metric points
to one run (the aim: under 1 s, so that logging never slows training), then reading a
project of 100 runs back as a DataFrame (the aim: under 100 ms). Run after install/setup:

    .venv/bin/python bench/track.py

Prints lines `figure milliseconds`; docs/performance.md records them.
"""

import os
import tempfile

from common import run_rust

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


def main():
    with tempfile.TemporaryDirectory() as store:
        figures = run_rust(CELL.format(store=os.path.join(store, "runs")))
    for name, ms in figures.items():
        print(f"{name}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
