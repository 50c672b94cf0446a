"""docs/from-python.md: every Rust block runs, in the page's order, in a kernel started in
notebooks/ as JupyterLab starts it (the page's paths are relative to it)."""

import pathlib
import re

import pytest
from conftest import KERNEL, Kernel
from jupyter_client.manager import start_new_kernel

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "from-python.md").read_text()


def sections():
    """`(title, [rust blocks])` for each `## ` section of the page."""
    found = []
    for part in re.split(r"^## ", PAGE, flags=re.M)[1:]:
        title, _, body = part.partition("\n")
        blocks = re.findall(r"^```rust\n(.*?)^```", body, flags=re.M | re.S)
        found.append((title.strip(), blocks))
    return found


SECTIONS = sections()


@pytest.fixture(scope="module")
def kernel_in_notebooks():
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60, cwd=str(ROOT / "notebooks"))
    kernel = Kernel(km, kc)
    kernel.run("1")
    yield kernel
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_the_page_covers_each_library_of_the_course():
    titles = [title for title, blocks in SECTIONS if blocks]
    assert titles == ["NumPy", "pandas", "scikit-learn", "PyTorch", "Hugging Face"]


@pytest.mark.parametrize("title, blocks", SECTIONS, ids=[title for title, _ in SECTIONS])
def test_every_rust_block_runs(kernel_in_notebooks, title, blocks):
    for block in blocks:
        run = kernel_in_notebooks.run(block, timeout=300)
        assert run.status == "ok", f"{title}:\n{block}\n{run.reply['content']}"
