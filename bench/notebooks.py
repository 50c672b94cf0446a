#!/usr/bin/env python3
"""How long the course's training notebooks take, run as CI and teachers run them (jupyter
nbconvert --execute, a fresh kernel each):

    .venv/bin/python bench/notebooks.py [NOTEBOOK ...]   # default: 09, 10 and 11

Per notebook: the wall time of the whole run, the time its cells took (their execute_input
to execute_reply, as nbconvert records them) and its slowest cell.
"""

import datetime
import json
import pathlib
import subprocess
import sys
import tempfile
import time

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT = ["09-cnn-digits.ipynb", "10-attention-minigpt.ipynb", "11-hugging-face.ipynb"]


def seconds(start, end):
    parse = lambda stamp: datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def run(name, out_dir):
    started = time.monotonic()
    subprocess.run([pathlib.Path(sys.executable).parent / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=1800", "--output-dir", out_dir, NOTEBOOKS / name],
                   check=True, capture_output=True, cwd=NOTEBOOKS)
    wall = time.monotonic() - started
    cells = []
    for index, cell in enumerate(json.loads((pathlib.Path(out_dir) / name).read_text())["cells"]):
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            cells.append((seconds(timing["iopub.execute_input"], timing["shell.execute_reply"]), index))
    slowest = max(cells)
    return wall, sum(s for s, _ in cells), slowest


if __name__ == "__main__":
    names = [pathlib.Path(n).name for n in sys.argv[1:]] or DEFAULT
    print("| notebook | wall (s) | cells (s) | slowest cell (s) |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as out_dir:
        for name in names:
            wall, cells, (slowest, index) = run(name, out_dir)
            print(f"| {name} | {wall:.1f} | {cells:.1f} | {slowest:.1f} (cell {index}) |", flush=True)
