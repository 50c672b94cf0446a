#!/usr/bin/env python3
"""How long a learner waits for each typical mistake's error (tests/mistakes.py), in one
fresh kernel, from execute_request to the reply; a correct cell of the same size for scale.
Run after install/setup:

    .venv/bin/python bench/mistakes.py [--runs 2]

Each mistake runs `--runs` times in a row: the first is what a learner meets first."""

import argparse
import pathlib
import re
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
from conftest import start_kernel  # noqa: E402
from mistakes import MISTAKES, SETUP  # noqa: E402

CORRECT = ("correct cell, for scale", "let a2 = 2.0 * 3.0;\nlet b2 = a2 + 1.0;\nb2", None, None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    kernel = start_kernel()
    try:
        assert kernel.run(SETUP).status == "ok"
        print(f"{'cell':36} {'first s':>8} {'again s':>8}  error")
        for name, code, _, _ in [CORRECT, *MISTAKES]:
            times = []
            for _ in range(args.runs):
                began = time.monotonic()
                run = kernel.run(code, timeout=600)
                times.append(time.monotonic() - began)
            content = run.reply["content"]
            cited = re.search(r"cell:(\d+)", "\n".join(content.get("traceback", [])))
            error = f"{content['ename']} at line {cited[1] if cited else '?'}" if run.status == "error" else "ok"
            again = f"{min(times[1:]):8.2f}" if len(times) > 1 else " " * 8
            print(f"{name:36} {times[0]:8.2f} {again}  {error}")
    finally:
        kernel.km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
