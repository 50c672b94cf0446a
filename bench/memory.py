#!/usr/bin/env python3
"""What a kernel holds in memory, as a class on one server would pay for it (issue #23):

    .venv/bin/python bench/memory.py [NOTEBOOK ...]   # default: 00, 06 and 11

Prints, for a fresh kernel (spares off) and its evaluation process: resident (RSS) and
proportional (PSS: shared pages such as libferrolab.so split between the processes mapping
them) memory after its first cell; after 25, 50 and 100 cells that each define new
variables (a long session must stay bounded); after running each course notebook given,
each in a kernel of its own; and for a spare session waiting to be taken over.
"""

import json
import os
import pathlib
import signal
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import start_in, start_kernel, wait_for_spare  # noqa: E402

DEFAULT = ["00-tour.ipynb", "06-training-loop.ipynb", "11-hugging-face.ipynb"]
# Each cell defines a vector, an array and a dataframe of its own: new variables whose types
# rust-analyzer infers and evcxr stores, as a learner's cells do.
CELL = ("let v{i} = vec![{i}u8; 1000];\n"
        "let a{i} = Array2::<f64>::ones((10, 10)) * {i}.0;\n"
        "let d{i} = df!(\"x\" => [{i}.0, 2.0]).unwrap();\n"
        "a{i}.sum() + v{i}.len() as f64 + d{i}.height() as f64")


def family(pid):
    """The process and all its descendants."""
    found = [pid]
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += family(int(child))
    return found


def megabytes(pid, field):
    """VmRSS from status, or Pss from smaps_rollup, in MB."""
    source = "status" if field == "VmRSS" else "smaps_rollup"
    for line in pathlib.Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(label, pid):
    processes = [p for p in family(pid) if pathlib.Path(f"/proc/{p}/status").exists()]
    rss = [megabytes(p, "VmRSS") for p in processes]
    pss = sum(megabytes(p, "Pss") for p in processes)
    print(f"| {label} | {rss[0]:.0f} | {sum(rss[1:]):.0f} | {pss:.0f} |", flush=True)


def kernel_pid(kernel):
    return kernel.km.provisioner.process.pid


def run_notebook(path):
    kernel = start_in(path.parent)
    try:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                kernel.run("".join(cell["source"]), timeout=1800)
        measure(f"after {path.name}", kernel_pid(kernel))
    finally:
        kernel.km.shutdown_kernel(now=True)


def main():
    os.environ["FERROLAB_SPARE"] = "off"
    print("| kernel | kernel RSS (MB) | evaluation process RSS (MB) | PSS, both (MB) |")
    print("| --- | --- | --- | --- |")
    kernel = start_kernel()
    try:
        kernel.run("1")
        measure("after its first cell", kernel_pid(kernel))
        for i in range(1, 101):
            run = kernel.run(CELL.format(i=i))
            assert run.status == "ok", run.reply["content"]
            if i in (25, 50, 100):
                measure(f"after {i} cells defining variables", kernel_pid(kernel))
    finally:
        kernel.km.shutdown_kernel(now=True)
    for name in sys.argv[1:] or DEFAULT:
        run_notebook(ROOT / "notebooks" / pathlib.Path(name).name)
    spare = wait_for_spare()
    measure("a spare session, waiting", spare)
    os.kill(spare, signal.SIGTERM)


if __name__ == "__main__":
    main()
