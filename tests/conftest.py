"""Shared helpers: a real ferrolab-kernel started by jupyter_client over a temporary
connection file, and a way to run a cell and collect everything it published."""

import json
import os
import pathlib
import queue
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

from course import start_course_site, stop_course_site

KERNEL = "ferrolab"
# A fresh kernel loads the prelude before its first cell; that is seconds, not minutes,
# once install/setup has prebuilt it.
FIRST_CELL_TIMEOUT = 120


@dataclass
class CellRun:
    reply: dict
    outputs: list = field(default_factory=list)

    @property
    def status(self):
        return self.reply["content"]["status"]

    def of_type(self, msg_type):
        return [m for m in self.outputs if m["msg_type"] == msg_type]

    def stdout(self):
        return "".join(m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == "stdout")

    def error(self):
        """The reply's content, which must be an error."""
        assert self.status == "error", self.reply["content"]
        return self.reply["content"]

    def result(self, mime="text/plain"):
        results = self.of_type("execute_result")
        assert results, f"no execute_result in {[m['msg_type'] for m in self.outputs]}"
        return results[0]["content"]["data"][mime]


class Kernel:
    def __init__(self, km, kc):
        self.km, self.kc = km, kc
        # Messages read while waiting for another request, by parent msg_id.
        self.iopub = defaultdict(list)
        self.replies = {}

    def collect(self, msg_id, timeout=FIRST_CELL_TIMEOUT):
        """Every iopub message msg_id caused, read as it arrives, up to idle; then its reply."""
        outputs = []
        deadline = time.monotonic() + timeout
        while True:
            if self.iopub[msg_id]:
                msg = self.iopub[msg_id].pop(0)
            else:
                msg = self.kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
                msg["arrived"] = time.monotonic()
                parent = msg["parent_header"].get("msg_id")
                if parent != msg_id:
                    self.iopub[parent].append(msg)
                    continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] not in ("status", "execute_input"):
                outputs.append(msg)
        while msg_id not in self.replies:
            reply = self.kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.1))
            self.replies[reply["parent_header"].get("msg_id")] = reply
        return CellRun(self.replies.pop(msg_id), outputs)

    def run(self, code, timeout=FIRST_CELL_TIMEOUT, **options):
        return self.collect(self.kc.execute(code, **options), timeout)

    def drain_iopub(self):
        try:
            while True:
                self.kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            pass
        self.iopub.clear()


def start_kernel():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
    return Kernel(km, kc)


@pytest.fixture(scope="module")
def kernel():
    k = start_kernel()
    k.run("1")  # wait for the prelude to load, so per-test timeouts measure the test
    yield k
    k.kc.stop_channels()
    k.km.shutdown_kernel(now=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended; only its parent has not collected it yet.
    return pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def wait_for_spare():
    """The pid of a spare session (kernel/src/spare.rs) ready to be taken over by the next
    kernel; one is started if none waits."""
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    env = {**os.environ, **spec.env, "FERROLAB_SPARE": "on"}
    waited = subprocess.run([spec.argv[0], "spare", "wait"], env=env,
                            check=True, capture_output=True, text=True)
    return int(waited.stdout)


def max_difference(a, b):
    if isinstance(a, list):
        assert len(a) == len(b), (a, b)
        return max((max_difference(x, y) for x, y in zip(a, b)), default=0.0)
    return abs(a - b)


def printed_values(run):
    """Lines `name json` printed by a cell, as a dict."""
    assert run.status == "ok", run.reply["content"]
    return {name: json.loads(value) for name, value in (line.split(" ", 1) for line in run.stdout().splitlines())}


@pytest.fixture(scope="module")
def notebook_dir(tmp_path_factory):
    """A course folder in git, with one uncommitted change, as a learner's checkout."""
    folder = tmp_path_factory.mktemp("course")
    git = lambda *args: subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)
    git("init", "-q", "-b", "main")
    (folder / "lesson.txt").write_text("first\n")
    git("add", "lesson.txt")
    git("-c", "user.name=Learner", "-c", "user.email=learner@example.org", "commit", "-q", "-m", "start")
    (folder / "lesson.txt").write_text("first\nchanged\n")
    return folder


def start_in(folder, **env):
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60, cwd=str(folder),
                              env={**os.environ, **env})
    kernel = Kernel(km, kc)
    kernel.run("1")
    return kernel


def pytest_collection_finish(session):
    # The course site's build runs every notebook: started now, it runs beside the tests that
    # come before the ones reading it.
    if any(item.module.__name__ in ("test_notebooks", "test_site") for item in session.items):
        start_course_site()


def pytest_sessionfinish(session):
    stop_course_site()
