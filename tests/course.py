"""The course built once per test session, as learners get it: `install/site` runs every
notebook (as CI and teachers do, with nbconvert) and exports the site; the notebook tests read
the executed notebooks it keeps beside each page. Plus Chromium, driven by Playwright, for the
tests that look at pages as a learner's browser shows them."""

import contextlib
import functools
import pathlib
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


@functools.cache
def course_site():
    """The site's folder; built on first use (about 8 minutes: every notebook runs)."""
    site = pathlib.Path(SITE.name)
    subprocess.run([ROOT / "install" / "site", site], check=True)
    return site


@contextlib.contextmanager
def browser():
    """Debian's Chromium, headless (install/test installs it; Playwright downloads nothing)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
