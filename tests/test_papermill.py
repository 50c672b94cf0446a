"""papermill runs Ferrolab notebooks with parameters, as CI jobs do: its command line, the
translator shipped in install/papermill, and a real kernel."""

import json
import pathlib
import subprocess
import sys

import nbformat
from papermill.translators import translate_parameters

BIN = pathlib.Path(sys.executable).parent
DECLARATIONS = """\
let learning_rate: f64 = 0.001; // step size
let name = "baseline";
let title: String = String::from("untitled");
let layers: Vec<usize> = vec![32, 16];
let epochs: u64 = 5;
let weights: BTreeMap<String, f32> = BTreeMap::new();
let verbose = false;"""
REPORT = 'format!("{learning_rate:?}|{name}|{title}|{layers:?}|{epochs}|{weights:?}|{verbose}")'


def notebook(folder):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "ferrolab", "display_name": "Rust (Ferrolab)", "language": "rust"}
    nb.cells = [
        nbformat.v4.new_code_cell("use std::collections::BTreeMap;"),
        nbformat.v4.new_code_cell(DECLARATIONS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(REPORT),
    ]
    path = folder / "in.ipynb"
    nbformat.write(nb, path)
    return path


def test_papermill_injects_parameters_with_their_declared_types(tmp_path):
    out = tmp_path / "out.ipynb"
    subprocess.run(
        [BIN / "papermill", notebook(tmp_path), out, "-p", "learning_rate", "0.01", "-p", "name", "run é \"1\"",
         "-p", "title", "Ünïcode\ttab", "-p", "layers", "[16, 8]", "-p", "epochs", "10",
         "-y", "weights: {a: 0.5, b: 2}", "-p", "verbose", "True"],
        check=True, capture_output=True, text=True,
    )
    cells = json.loads(out.read_text())["cells"]
    injected = next(c for c in cells if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'let layers = parameter(&layers, "layers", r#""[16, 8]""#);' in "".join(injected["source"])
    assert not any(o["output_type"] == "error" for c in cells for o in c.get("outputs", []))
    report = "".join(cells[-1]["outputs"][0]["data"]["text/plain"])
    # An integer stays an integer (u64), floats and f32s keep their types, strings arrive as
    # written (as &str or String), lists and maps become the declared Vec<usize> and BTreeMap.
    assert report == '"0.01|run é \\"1\\"|Ünïcode\\ttab|[16, 8]|10|{\\"a\\": 0.5, \\"b\\": 2.0}|true"', report


def test_a_value_that_does_not_fit_its_declaration_names_the_parameter(tmp_path):
    run = subprocess.run(
        [BIN / "papermill", notebook(tmp_path), tmp_path / "out.ipynb", "-p", "epochs", "-3"],
        capture_output=True, text=True,
    )
    assert run.returncode != 0
    assert "parameter `epochs`: -3 is not a u64" in run.stderr, run.stderr[-2000:]


def test_undeclared_parameter_is_an_error_that_names_it(tmp_path):
    run = subprocess.run(
        [BIN / "papermill", notebook(tmp_path), tmp_path / "out.ipynb", "-p", "momentum", "0.9"],
        capture_output=True, text=True,
    )
    assert run.returncode != 0
    assert "momentum" in run.stderr


def test_translator_is_found_by_kernel_name_or_by_language():
    parameters = {"rate": 1e-05, "label": 'say "#hi"', "sizes": [], "nothing": None, "big": float("inf")}
    by_kernel = translate_parameters("ferrolab", "python", parameters, "Parameters")
    by_language = translate_parameters("another-rust-kernel", "rust", parameters, "Parameters")
    assert by_kernel == by_language
    assert by_kernel.splitlines() == [
        "// Parameters",
        'let rate = parameter(&rate, "rate", r"1e-05");',
        # A raw string with one more # than the text holds after a quote.
        'let label = parameter(&label, "label", r##""say \\"#hi\\"""##);',
        'let sizes = parameter(&sizes, "sizes", r"[]");',
        'let nothing = parameter(&nothing, "nothing", r"null");',
        'let big = parameter(&big, "big", r#""inf""#);',
    ]


def test_help_notebook_lists_the_declared_parameters(tmp_path):
    run = subprocess.run([BIN / "papermill", "--help-notebook", notebook(tmp_path)],
                         check=True, capture_output=True, text=True)
    assert "learning_rate: f64 (default 0.001)" in run.stdout and "step size" in run.stdout
    assert "layers: Vec<usize> (default vec![32, 16])" in run.stdout
