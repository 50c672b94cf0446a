"""JupyterLab in headless Chromium, driven as a learner works: open a course notebook, run all
cells, look at what is shown, complete, inspect, make a mistake, stop a loop, restart. Each
step leaves a screenshot (the folder is printed) for a person to look at."""

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from course import ROOT, browser

SCREENSHOTS = pathlib.Path(tempfile.mkdtemp(prefix="ferrolab-lab-screens-"))
NOTEBOOK = "01-arrays.ipynb"
# JupyterLab's settings for the test, as a user would set them: no news or update checks
# (no network), and the completer's documentation panel on, which shows the signature.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/completer-extension/manager.jupyterlab-settings": {"showDocumentationPanel": True},
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server on 127.0.0.1 with token auth, on a copy of the course (its autosave
    must not touch the repository's notebooks); yields the notebook's URL."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="ferrolab-lab-"))
    # Without runs/: the course site's build may be writing runs there meanwhile.
    shutil.copytree(ROOT / "notebooks", home / "notebooks", ignore=shutil.ignore_patterns("runs"))
    for name, values in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    server = subprocess.Popen(
        [pathlib.Path(sys.executable).parent / "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--notebook-dir={home / 'notebooks'}", "--allow-root",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         # window.jupyterapp: menu commands by name (Run All Cells) rather than by pixel.
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(home / "server.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, (home / "server.log").read_text()[-3000:]
            time.sleep(0.3)
    yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(home, ignore_errors=True)


class Learner:
    """One JupyterLab page and the steps a learner takes in it."""

    def __init__(self, page):
        self.page = page
        self.shots = 0

    def shot(self, step):
        self.shots += 1
        self.page.screenshot(path=SCREENSHOTS / f"{self.shots:02d}-{step}.png")

    def wait_idle(self, timeout=120):
        """Until the notebook's kernel is started and idle and no cell waits to run. (The
        toolbar's indicator reads idle before the kernel has started: cells run then are
        skipped.)"""
        self.page.wait_for_function(
            """() => {
                const session = window.jupyterapp.shell.currentWidget?.sessionContext;
                return session?.isReady && session.session?.kernel?.status === 'idle'
                    && ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
            }""",
            timeout=timeout * 1000,
        )

    def wait_all_ran(self, timeout):
        """Until every code cell has run (an execution count, no longer running) and the kernel
        is idle: Run All queues its cells asynchronously, so an idle kernel right after it may
        be one that has not started yet."""
        self.page.wait_for_function(
            """() => window.jupyterapp.shell.currentWidget.content.widgets
                  .filter(cell => cell.model.type === 'code')
                  .every(cell => cell.model.executionCount !== null && cell.model.executionState === 'idle')""",
            timeout=timeout * 1000,
        )
        self.wait_idle(timeout)

    def command(self, command):
        """A JupyterLab command, as its menu entry runs it."""
        self.page.evaluate("command => { window.jupyterapp.commands.execute(command); }", command)

    def type_cell(self, code):
        """Types into the active cell, in edit mode, as a learner types (brackets auto-close
        in JupyterLab, so code goes in as one paste, then the cursor moves to its end)."""
        self.page.keyboard.insert_text(code)

    def run(self, code, timeout=120):
        """Types a cell, runs it with Shift+Enter (which opens a new cell below) and returns
        the cell's output as shown."""
        self.type_cell(code)
        self.page.keyboard.press("Shift+Enter")
        self.wait_idle(timeout)
        return self.cell(-2).locator(".jp-OutputArea").inner_text()

    def cell(self, index):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)


def test_a_learner_in_jupyterlab(lab):
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        learner = Learner(page)
        page.goto(lab)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        learner.wait_idle()
        learner.shot("opened")
        # Opening a course notebook changes nothing in it.
        page.wait_for_timeout(1000)
        assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, "opened notebook marked modified"
        # Rust is highlighted: the first code cell's tokens come in more than one colour. The
        # editor and its language mode load after the cell is drawn (slow on a cold machine).
        colours = """(() => [...document.querySelectorAll('.jp-CodeCell .cm-content')].slice(0, 1)
            .flatMap(content => [...content.querySelectorAll('span')].map(span => getComputedStyle(span).color)))()"""
        try:
            page.wait_for_function(f"new Set({colours}).size >= 2", timeout=60_000)
        except PlaywrightTimeout:
            pytest.fail(f"the first code cell is not highlighted: its token colours are {page.evaluate(colours)}")

        # Run > Run All Cells: every table and plot is shown, drawn and inside the output area.
        learner.command("notebook:run-all-cells")
        learner.wait_all_ran(timeout=240)
        learner.shot("ran-all")
        outputs = page.evaluate("""(() => {
            const area = img => img.closest('.jp-OutputArea-output').getBoundingClientRect();
            const images = [...document.querySelectorAll('.jp-OutputArea-output img')];
            return {
                images: images.length,
                undrawn: images.filter(img => !(img.complete && img.naturalWidth > 0)).length,
                clipped: images.filter(img => img.getBoundingClientRect().right > area(img).right + 1).length,
                tables: [...document.querySelectorAll('.jp-OutputArea-output .ferrolab-table table')]
                    .filter(t => t.getBoundingClientRect().height > 0).length,
            };
        })()""")
        assert outputs["images"] >= 3 and outputs["tables"] >= 1, outputs
        assert outputs["undrawn"] == 0 and outputs["clipped"] == 0, outputs

        # A new cell at the end, as a learner adds one.
        page.keyboard.press("Escape")
        learner.command("notebook:insert-cell-below")
        page.keyboard.press("Enter")
        assert learner.run("let values: Vec<f64> = vec![1.0, 2.0, 3.0];\nvalues.len()").strip().endswith("3")

        # Tab after a dot: the Vec's methods, nothing private, each with its signature.
        learner.type_cell("values.")
        page.keyboard.press("Tab")
        page.wait_for_selector(".jp-Completer .jp-Completer-item", timeout=30_000)
        offered = page.locator(".jp-Completer .jp-Completer-item .jp-Completer-match").all_inner_texts()
        assert {"len", "push", "iter"} <= set(offered), offered
        assert not {"buf", "extend_trusted", "render", "evcxr_display"} & set(offered), offered
        page.wait_for_selector(".jp-Completer-docpanel", timeout=30_000)
        learner.shot("completion")
        assert "fn" in page.locator(".jp-Completer-docpanel").inner_text()
        page.keyboard.press("Escape")

        # Shift+Tab on a method: the tooltip with its signature and documentation.
        learner.type_cell("len")
        page.keyboard.press("Shift+Tab")
        tooltip = page.wait_for_selector(".jp-Tooltip", timeout=30_000)
        learner.shot("tooltip")
        assert "fn len(&self) -> usize" in tooltip.inner_text()
        page.keyboard.press("Escape")
        page.keyboard.press("Enter")  # back to editing the cell
        page.keyboard.press("Control+a")
        page.keyboard.press("Backspace")

        # A compile error points at the cell's line.
        shown = learner.run("let fine = 1;\nlet wrong: i32 = \"text\";")
        learner.shot("compile-error")
        assert "E0308" in shown and "cell:2:" in shown, shown

        # The stop button ends a long loop within 2 s; the message names the cell's line and
        # links nowhere; the variables are still there.
        learner.run("let kept = 42;")
        learner.type_cell("let mut spins = 0u64;\nloop { spins += 1; check_interrupt(); }")
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="busy"]')
        page.wait_for_timeout(3000)  # compiled and spinning
        pressed = time.monotonic()
        page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').click()
        learner.wait_idle(timeout=10)
        stopped_after = time.monotonic() - pressed
        learner.shot("interrupted")
        stopped = learner.cell(-2).locator(".jp-OutputArea")
        assert stopped_after < 2, stopped_after
        assert "Interrupted at cell:2:" in stopped.inner_text(), stopped.inner_text()
        assert stopped.locator("a").count() == 0
        assert learner.run("kept").strip().endswith("42")

        # Restart (toolbar button, then the dialog's Restart): the next cell runs.
        page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:restart-kernel"]').click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.wait_for_timeout(500)
        learner.wait_idle(timeout=60)
        assert learner.run("6 * 7").strip().endswith("42")
        learner.shot("restarted")
        print(f"screenshots: {SCREENSHOTS}")
        assert not errors, errors
