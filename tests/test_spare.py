"""Spare sessions (kernel/src/spare.rs): a kernel started while a spare waits becomes that
spare, in the directory and environment Jupyter started it with, and the process Jupyter
started and the kernel end together."""

import os
import signal
import time

from jupyter_client.manager import KernelManager

from conftest import KERNEL, Kernel, alive, printed_values, wait_for_spare

REPORT = (
    'println!("cwd {:?}", std::env::current_dir().unwrap().display().to_string());\n'
    'println!("mark {:?}", std::env::var("NOTEBOOK_MARK").unwrap_or_default());\n'
    'println!("parent {}", std::os::unix::process::parent_id());'
)


def start_kernel_in(cwd, **env):
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel(cwd=str(cwd), env={**os.environ, "FERROLAB_SPARE": "on", **env})
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return Kernel(km, kc)


def stop(kernel):
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


# Each test finds a spare waiting (and makes one if none does: ~25 s). The first leaves its
# spare waiting for the second, which takes it over.


def test_spares_can_be_turned_off(tmp_path):
    spare = wait_for_spare()
    kernel = start_kernel_in(tmp_path, FERROLAB_SPARE="off")
    try:
        assert kernel.kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok"
        assert wait_for_spare() == spare  # still waiting: the new kernel started its own session
    finally:
        stop(kernel)


def test_a_new_kernel_takes_over_a_waiting_spare_where_jupyter_started_it(tmp_path):
    spare = wait_for_spare()
    kernel = start_kernel_in(tmp_path, NOTEBOOK_MARK="from the launcher")
    try:
        values = printed_values(kernel.run(REPORT))
        assert values["parent"] == spare  # the evaluation process is the spare's
        assert values["cwd"] == str(tmp_path)
        assert values["mark"] == "from the launcher"
        assert kernel.run('std::fs::write("written.txt", "here").unwrap();').status == "ok"
        assert (tmp_path / "written.txt").read_text() == "here"
        assert kernel.run("let kept = 40; kept + 2").result() == "42"
        # The spare's warm-up leaves no variables behind.
        variables = kernel.run(":vars").result()
        assert "kept" in variables and "ferrolab_warm_up" not in variables
        assert "cannot find value" in kernel.run("ferrolab_warm_up").error()["evalue"]

        # A client in signal mode signals the process it started, which forwards it; sent
        # once the loop runs (not while it compiles, which may take seconds here).
        msg_id = kernel.kc.execute('println!("looping");\nloop { check_interrupt(); }')
        while True:
            msg = kernel.kc.get_iopub_msg(timeout=60)
            kernel.iopub[msg["parent_header"].get("msg_id")].append(msg)
            if msg["msg_type"] == "stream" and "looping" in msg["content"]["text"]:
                break
        kernel.km.signal_kernel(signal.SIGINT)
        assert kernel.collect(msg_id, timeout=60).error()["ename"] == "Interrupted"
        assert kernel.run("kept").result() == "40"
    finally:
        stop(kernel)
    deadline = time.monotonic() + 20
    while alive(spare) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(spare), "the kernel outlived the process Jupyter started"
