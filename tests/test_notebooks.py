"""Every course notebook executed as CI and teachers run them (jupyter nbconvert), then
checked for its key outputs and exported to HTML."""

import functools
import json
import pathlib
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"


@functools.cache
def execute(notebook):
    """Runs the notebook once per test session; returns the executed notebook and its folder."""
    out_dir = pathlib.Path(tempfile.mkdtemp(prefix="ferrolab-nb-"))
    subprocess.run(
        [JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--output-dir", out_dir,
         "--ExecutePreprocessor.timeout=300", str(notebook)],
        check=True,
    )
    return json.loads((out_dir / notebook.name).read_text()), out_dir


def cells_by_tag(nb):
    tagged = {}
    for cell in nb["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            tagged[tag] = cell
    return tagged


def outputs(cell, output_type):
    return [o for o in cell["outputs"] if o["output_type"] == output_type]


def result(cell, mime="text/plain"):
    data = outputs(cell, "execute_result")[0]["data"][mime]
    return "".join(data) if isinstance(data, list) else data


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_without_unexpected_errors(notebook):
    nb, out_dir = execute(notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        assert bool(outputs(cell, "error")) == expected, "".join(cell["source"])
    html = out_dir / (notebook.stem + ".html")
    subprocess.run([JUPYTER, "nbconvert", "--to", "html", "--output-dir", out_dir, out_dir / notebook.name], check=True)
    assert html.stat().st_size > 0


def test_tour_outputs():
    nb, _ = execute(ROOT / "notebooks" / "00-tour.ipynb")
    cells = cells_by_tag(nb)
    assert result(cells["greeting"]) == "15"
    printed = "".join("".join(o["text"]) for o in outputs(cells["printing"], "stream"))
    assert printed.splitlines() == [f"step {i}: HELLO FROM RUST" for i in (1, 2, 3)]
    assert result(cells["distance"]) == "5.0"
    assert "7.0" in result(cells["matmul"]) and "22.0" in result(cells["matmul"])
    assert "grace" in result(cells["frame"])
    error = outputs(cells["compile-error"], "error")[0]
    assert error["ename"] == "E0308"
    assert "cell:1:" in "\n".join(error["traceback"])
    assert outputs(cells["panic"], "error")[0]["ename"] == "panic"
    assert result(cells["kept"]) == '"Hello from Rust"'
    # nbclient applies update_display_data to the saved output: only the final state remains.
    shown = outputs(cells["updating"], "display_data")
    assert len(shown) == 1
    markdown = shown[0]["data"]["text/markdown"]
    assert ("".join(markdown) if isinstance(markdown, list) else markdown) == "Step 3 of 3 done"
    assert result(cells["html"], "text/html") == "<b>HTML</b> renders as HTML"
