#!/usr/bin/env python3
"""Cell latency as a notebook user feels it, through jupyter_client.

Runs ../shared/bench/kernel_probe.py (the shared timing method) against the installed
`ferrolab` kernel and prints the figures docs/performance.md records. Run after install/setup:

    .venv/bin/python bench/cell_latency.py [--kernel ferrolab] [--runs 3]

Each run starts two fresh kernels (the prelude already prebuilt, as after an install): one
that takes over a waiting spare session (kernel/src/spare.rs), as a restart or a new
notebook usually does, and one with spares turned off, as the first kernel after a reboot.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROBE = ROOT.parent / "shared" / "bench" / "kernel_probe.py"
sys.path.insert(0, str(ROOT / "tests"))
from conftest import wait_for_spare  # noqa: E402

PRELUDE_CELL = (
    "let a = Array2::<f64>::ones((100, 100));\n"
    "let df = df!(\"x\" => [1.0, 2.0, 3.0], \"y\" => [4.0, 5.0, 6.0]).unwrap();\n"
    "(a.sum(), df.height())"
)
CELLS = [
    # In order, in one fresh kernel: the first cell also waits for the session to load.
    {"name": "first cell using ndarray + polars", "code": PRELUDE_CELL, "repeat": 1},
    {"name": "later ndarray + polars cells", "code": PRELUDE_CELL, "repeat": 5},
    {"name": "trivial cell (warm-up)", "code": "let x = 2 + 2; x", "repeat": 1},
    {"name": "trivial cell", "code": "let x = 2 + 2; x", "repeat": 10},
    {"name": "fn + struct cell", "code": "struct P { x: f64 }\nfn norm(p: &P) -> f64 { p.x.abs() }\nnorm(&P { x: -2.0 })", "repeat": 3},
]


def probe(kernel, **env):
    with tempfile.TemporaryDirectory() as tmp:
        cells = pathlib.Path(tmp) / "cells.json"
        out = pathlib.Path(tmp) / "result.json"
        cells.write_text(json.dumps(CELLS))
        subprocess.run([sys.executable, PROBE, kernel, cells, "--out", out], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, **env})
        return json.loads(out.read_text())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", default="ferrolab")
    parser.add_argument("--runs", type=int, default=3, help="fresh kernels to start")
    args = parser.parse_args()

    first = CELLS[0]["name"]
    later = [c["name"] for c in CELLS[1:] if "warm-up" not in c["name"]]
    figures = {"launch to ready": [], f"{first}, spare ready": [], f"{first}, no spare": [],
               **{name: [] for name in later}}
    for _ in range(args.runs):
        for start, spare in [("spare ready", True), ("no spare", False)]:
            if spare:
                wait_for_spare()
            result = probe(args.kernel, FERROLAB_SPARE="on" if spare else "off")
            figures["launch to ready"].append(result["startup_s"])
            for cell in result["cells"]:
                if cell["status"] != "ok":
                    sys.exit(f"{cell['name']}: {cell['status']} {cell['outputs']}")
                name = f"{first}, {start}" if cell["name"] == first else cell["name"]
                if name in figures:
                    figures[name].extend(cell["times_s"])

    print(f"{'measure':50} {'median s':>9} {'min s':>7} {'max s':>7} {'n':>4}")
    for name, times in figures.items():
        print(f"{name:50} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f} {len(times):4d}")


if __name__ == "__main__":
    main()
