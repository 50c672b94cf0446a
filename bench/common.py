"""What the benchmark scripts share: one cell run in a fresh `ferrolab` kernel, the same
figures computed under another Python, and the table that puts them side by side. Each
side prints lines `name milliseconds`."""

import argparse
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
from conftest import start_kernel  # noqa: E402


def parse(text):
    figures = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        figures[name] = float(value)
    return figures


def run_rust(cell):
    kernel = start_kernel()
    try:
        run = kernel.run(cell, timeout=600)
        if run.status != "ok":
            sys.exit(run.reply["content"])
        return parse(run.stdout())
    finally:
        kernel.km.shutdown_kernel(now=True)


def run_python(python, code, package):
    """Figures from `code` under `python`, and that Python's version of `package`."""
    figures = parse(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)
    version = subprocess.run([python, "-c", f"import {package}; print({package}.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return figures, version


def print_table(rust, other, label):
    print(f"| operation | Ferrolab (ms) | {label} (ms) | {label} / Ferrolab |")
    print("| --- | --- | --- | --- |")
    for name, ms in rust.items():
        theirs = other.get(name)
        ratio = f"{theirs / ms:.2f}" if theirs else ""
        print(f"| {name} | {ms:.2f} | {f'{theirs:.2f}' if theirs else ''} | {ratio} |")


def main(rust_cell, python_code, package, label):
    """Runs the Rust cell and, given `--PACKAGE PYTHON`, the same figures under that Python;
    prints them side by side and returns both (name: milliseconds)."""
    parser = argparse.ArgumentParser()
    parser.add_argument(f"--{package}", dest="python", help=f"a Python with {label}, for the comparison column")
    args = parser.parse_args()
    rust = run_rust(rust_cell)
    other = {}
    if args.python:
        other, version = run_python(args.python, python_code, package)
        print(f"{label} {version}, {args.python}")
    print_table(rust, other, label)
    return rust, other
