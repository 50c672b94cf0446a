"""The course built once per test session, as learners get it: the site's build
(`install/site` after its set-up, which install/test has done) runs every notebook (as CI and
teachers do, with nbconvert) and exports the site; the notebook tests read the executed
notebooks it keeps beside each page. Plus Chromium, driven by Playwright, for the tests that
look at pages as a learner's browser shows them."""

import contextlib
import functools
import os
import pathlib
import signal
import subprocess
import tempfile

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SITE = tempfile.TemporaryDirectory(prefix="ferrolab-site-")
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which a
# machine without a network refuses, many times a second.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


BUILD_LOG = tempfile.NamedTemporaryFile(prefix="ferrolab-site-build-", suffix=".log")
# The lessons save models under fixed names in the temporary folder; the tests that run a
# lesson at the same time (tests/test_mlflow.py) must not meet the build's files there.
BUILD_TMP = tempfile.TemporaryDirectory(prefix="ferrolab-site-tmp-")
_build = []


def start_course_site():
    """Starts the site's build in the background, one notebook at a time: it takes about 20
    minutes of one core, which the other tests, mostly waiting on one rustc or one kernel,
    leave free (conftest starts it once the tests that need it are collected)."""
    if not _build:
        _build.append(subprocess.Popen(
            [ROOT / ".venv" / "bin" / "python", ROOT / "install" / "course-site" / "build.py", SITE.name,
             "--jobs", "1"], stdout=BUILD_LOG, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "TMPDIR": BUILD_TMP.name}))


def stop_course_site():
    """Ends a build still running when the tests end (a failure under -x): its nbconvert
    processes with it, and with them their kernels."""
    if _build and _build[0].poll() is None:
        os.killpg(_build[0].pid, signal.SIGTERM)
        _build[0].wait()


@functools.cache
def course_site():
    """The site's folder, once its build has finished."""
    start_course_site()
    if _build[0].wait() != 0:
        raise RuntimeError(f"the course site's build failed:\n{pathlib.Path(BUILD_LOG.name).read_text()[-5000:]}")
    return pathlib.Path(SITE.name)


@contextlib.contextmanager
def browser():
    """Debian's Chromium, headless (install/test installs it; Playwright downloads nothing)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
