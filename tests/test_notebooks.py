"""Every course notebook executed as CI and teachers run them (jupyter nbconvert, through the
course site's build), then checked for its key outputs and exported to HTML."""

import base64
import functools
from collections import Counter
import json
import pathlib
import subprocess
import sys
import tempfile

import pytest
from bs4 import BeautifulSoup

from course import NOTEBOOKS, ROOT, course_site

JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"
EXPORTS = tempfile.TemporaryDirectory(prefix="ferrolab-exports-")


def execute(notebook):
    """The executed notebook (run once per test session) and the folder it is in."""
    site = course_site()
    return json.loads((site / notebook.name).read_text()), site


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


@functools.cache
def export_html(notebook):
    """The executed notebook exported as teachers do, parsed."""
    _, site = execute(notebook)
    out_dir = pathlib.Path(EXPORTS.name)
    subprocess.run([JUPYTER, "nbconvert", "--to", "html", "--output-dir", out_dir, site / notebook.name], check=True)
    return BeautifulSoup((out_dir / (notebook.stem + ".html")).read_text(), "html.parser")


def text(value):
    return "".join(value) if isinstance(value, list) else value


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_without_unexpected_errors(notebook):
    nb, _ = execute(notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        assert bool(outputs(cell, "error")) == expected, "".join(cell["source"])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_metadata_is_what_the_kernel_reports(notebook):
    # JupyterLab writes the kernel's language_info into an opened notebook: any difference
    # marks a course notebook modified before the learner has typed anything.
    nb, _ = execute(notebook)
    shipped = json.loads(notebook.read_text())["metadata"]
    assert shipped["language_info"] == nb["metadata"]["language_info"], (
        "the kernel reports a different language_info (a new rustc?): update the notebooks' metadata")
    assert shipped["kernelspec"] == nb["metadata"]["kernelspec"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_html_export_shows_every_table_plot_and_image_offline(notebook):
    nb, _ = execute(notebook)
    expected = Counter()
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" in data:
                expected["plots"] += 1
            elif "image/png" in data:
                expected["images"] += 1
            else:
                html = text(data.get("text/html", ""))
                expected["tables"] += html.count('class="ferrolab-table"')
                expected["diagrams"] += html.count('class="ferrolab-estimator"')
                # A tracked run's card draws its curves as an SVG image inside its HTML.
                expected["plots"] += html.count('src="data:image/svg+xml;base64,')
    soup = export_html(notebook)
    # nbconvert embeds plots and images as data URIs: nothing to fetch when offline.
    sources = [img["src"] for img in soup.find_all("img")]
    assert all(src.startswith("data:") for src in sources), [src[:60] for src in sources]
    plots = [base64.b64decode(src.split(",", 1)[1]).decode() for src in sources if src.startswith("data:image/svg+xml;base64,")]
    assert len(plots) == expected["plots"]
    for svg in plots:
        assert 'xmlns="http://www.w3.org/2000/svg"' in svg and "<text" in svg
        assert "<image" not in svg or 'href="data:image/png;base64,' in svg
    images = [src for src in sources if src.startswith("data:image/png;base64,")]
    assert len(images) == expected["images"]
    tables = soup.select(".ferrolab-table table")
    assert len(tables) == expected["tables"]
    assert all(table.find("td") is not None for table in tables)
    # Estimator diagrams: each step a box with its parameters.
    diagrams = soup.select(".ferrolab-estimator")
    assert len(diagrams) == expected["diagrams"]
    assert all(diagram.find("details") and diagram.find("td") for diagram in diagrams)


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


def stdout(cell):
    return "".join(text(o["text"]) for o in outputs(cell, "stream") if o["name"] == "stdout")


def test_arrays_outputs():
    nb, _ = execute(ROOT / "notebooks" / "01-arrays.ipynb")
    cells = cells_by_tag(nb)
    assert result(cells["norm"]) == "5.0"
    assert "perpendicular" in stdout(cells["dot"])
    assert "(3, 4) @ (3, 4): shapes do not match" in stdout(cells["matmul"])
    assert result(cells["broadcast"]).startswith("shape=(3, 4), dtype=f64")
    normalised = result(cells["normalise"]).splitlines()
    assert normalised[0] == "shape=(1000, 3), dtype=f64" and " ...," in normalised
    for tag in ["hist", "svd", "low-rank"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    assert "singular matrix" in stdout(cells["linalg"])
    assert len(stdout(cells["svd"]).splitlines()) == 5
    assert "strides [2000, 1]" in stdout(cells["layout"]) and "strides [1, 2000]" in stdout(cells["layout"])
    for tag in ["timings", "matmul-timings"]:
        assert len(stdout(cells[tag]).splitlines()) == 2, tag
    # The progress bar was updated in place: one output in the saved notebook, at its end.
    bars = outputs(cells["rank-errors"], "display_data")
    assert len(bars) == 1
    assert text(bars[0]["data"]["text/plain"]).startswith("ranks: 100% |") and "60/60" in text(bars[0]["data"]["text/plain"])


def test_dataframes_outputs():
    nb, _ = execute(ROOT / "notebooks" / "02-dataframes.ipynb")
    cells = cells_by_tag(nb)
    penguins = result(cells["read"], "text/html")
    assert "344 rows × 8 columns" in penguins and '<td class="null">null</td>' in penguins
    assert "<td>…</td>" in penguins  # head and tail of a long frame
    assert "plan:" in result(cells["lazy"])
    every_species = result(cells["join"], "text/html")
    assert "Emperor" in every_species and '<td class="null">null</td>' in every_species
    assert "48 rows × 3 columns" in result(cells["resample"], "text/html")
    for tag in ["bar", "scatter", "rolling"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    assert "bytes" in stdout(cells["memory"])
    csv_size, parquet_size = (int(line.split()[1]) for line in stdout(cells["parquet"]).splitlines())
    assert parquet_size < csv_size


def test_pipelines_outputs():
    nb, _ = execute(ROOT / "notebooks" / "03-pipelines.ipynb")
    cells = cells_by_tag(nb)
    leaky = float(stdout(cells["leak"]).split(": ")[1])
    honest = float(stdout(cells["honest"]).split(": ")[1])
    assert leaky > 0.7 and honest < 0.7
    assert "ocean_proximity" in result(cells["table"], "text/html")
    diagram = result(cells["diagram"], "text/html")
    for step in ["prep: ColumnTransformer", "counts [total_rooms, total_bedrooms, population, households]: Pipeline",
                 "log: FunctionTransformer", "category [ocean_proximity]: OneHotEncoder", "model: Ridge"]:
        assert step in diagram, step
    assert "mean" in stdout(cells["cv"])
    grid = result(cells["grid"], "text/html")
    assert "param_model__alpha" in grid and "param_prep__counts__impute__strategy" in grid and "rank_test_score" in grid
    assert "8 rows" in grid or grid.count("<tr>") >= 9
    assert "(fitted)" in result(cells["final"], "text/html")


def test_first_models_outputs():
    nb, _ = execute(ROOT / "notebooks" / "04-first-models.ipynb")
    cells = cells_by_tag(nb)
    for tag in ["loss", "boundary", "importances", "boosting", "confusion", "kmeans", "similarity"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    assert "coef" in result(cells["library"], "text/html")
    rules = stdout(cells["tree"])
    assert rules.startswith("|--- petal") and "class: 2" in rules
    assert "R²" in stdout(cells["boosting"])
    report = result(cells["imbalanced"], "text/html")
    assert "precision" in report and "recall" in report
    assert stdout(cells["recommend"]).splitlines()[1].split()[0] == "Ronin"


def test_hugging_face_outputs():
    nb, _ = execute(ROOT / "notebooks" / "11-hugging-face.ipynb")
    cells = cells_by_tag(nb)
    assert "not found; looked in:" in outputs(cells["missing"], "error")[0]["evalue"]
    tokens = result(cells["tokens"], "text/html")
    assert "[CLS]" in tokens and "[SEP]" in tokens
    assert "pad" in result(cells["batch"], "text/html")
    assert "image/svg+xml" in outputs(cells["similarity"], "execute_result")[0]["data"]
    assert result(cells["index"]) == "SemanticIndex: 20 documents × 384 dimensions"
    for tag, found in [("search", "Tomato plants"), ("search-rust", "ownership")]:
        assert found in result(cells[tag], "text/html").split("</tr>")[1], tag
    # The head on the frozen encoder: trained with a live plot, better than chance on reviews
    # it never saw, and sure about two new ones.
    assert any("image/svg+xml" in o["data"] for o in outputs(cells["classifier"], "display_data"))
    assert float(stdout(cells["classifier-accuracy"]).split()[2]) >= 0.7
    good, bad = (float(line.split()[0]) for line in stdout(cells["classifier-new"]).splitlines())
    assert good > 0.8 and bad < 0.2
    # LoRA inside the encoder: 12 adapted layers, better on the same test reviews than the
    # frozen head's bar, sure about the new ones, saved and reloaded to the same predictions.
    assert stdout(cells["lora"]).startswith("12 linear layers adapted; 74498 trainable numbers")
    assert any("image/svg+xml" in o["data"] for o in outputs(cells["lora-train"], "display_data"))
    assert float(stdout(cells["lora-accuracy"]).split()[2]) >= 0.8
    table = result(cells["lora-new"], "text/html")
    assert table.count(">positive<") == 1 and table.count(">negative<") == 1
    assert "KB of adapters and head" in stdout(cells["lora-save"])
    # Generation with the shipped tiny Llama: greedy recites, sampling varies, streaming grows.
    assert result(cells["greedy"]).startswith("Twinkle, twinkle, little star,\nHow I wonder what you are!")
    samples = stdout(cells["sampling"]).split("temperature ")[1:]
    assert len(samples) == 3 and len(set(samples)) == 3
    streamed = outputs(cells["stream"], "display_data")
    assert len(streamed) == 1 and text(streamed[0]["data"]["text/plain"]).startswith("Mary had ")


def test_tensors_autograd_outputs():
    nb, _ = execute(ROOT / "notebooks" / "05-tensors-autograd.ipynb")
    cells = cells_by_tag(nb)
    assert result(cells["tensor"]).startswith("Tensor shape=[2, 3], dtype=f32, device=cpu")
    error = outputs(cells["shape-error"], "error")[0]
    assert error["evalue"].startswith("shape mismatch in matmul, lhs: [2, 3], rhs: [2, 3]")
    automatic, by_hand = (line.split(":", 1)[1] for line in stdout(cells["autograd"]).splitlines())
    assert len(json.loads(automatic)) == len(json.loads(by_hand)) == 3
    assert "image/svg+xml" in outputs(cells["descent"], "execute_result")[0]["data"]
    assert "parameters: 41" in stdout(cells["module"])
    assert result(cells["device"]).startswith("cpu")


def test_nn_from_scratch_outputs():
    nb, _ = execute(ROOT / "notebooks" / "08-nn-from-scratch.ipynb")
    cells = cells_by_tag(nb)
    for tag in ["data", "by-hand", "boundary"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    # The Trainer's progress bar and loss plot: one display each, redrawn in place.
    shown = outputs(cells["candle"], "display_data")
    assert len(shown) == 2 and "image/svg+xml" in shown[1]["data"] and text(shown[0]["data"]["text/plain"]).startswith("epochs:")
    accuracies = stdout(cells["accuracy"])
    assert "by hand 0.9" in accuracies and "candle 0.9" in accuracies


def test_training_loop_outputs():
    nb, _ = execute(ROOT / "notebooks" / "06-training-loop.ipynb")
    cells = cells_by_tag(nb)
    for tag in ["by-hand", "optimizer"]:  # both recover y = 3x + 2 from the noisy points
        w, b = (float(part.split("=")[1]) for part in stdout(cells[tag]).split(","))
        assert abs(w - 3) < 0.2 and abs(b - 2) < 0.1, tag
    resumed = stdout(cells["resume"])
    assert "after epoch 10 of 25." in resumed and "25 epochs in all; the first 10 came from the checkpoint" in resumed
    # The resumed run's progress bar counts on from the checkpoint's epochs.
    bar = text(outputs(cells["resume"], "display_data")[0]["data"]["text/plain"])
    assert bar.startswith("epochs:") and "25/25" in bar
    difference, message = stdout(cells["mixed-precision"]).splitlines()
    assert 0 < float(difference.split(":")[1]) < 0.1
    assert message == "Mixed precision (bf16) runs on a CUDA GPU; this model is on the CPU, so it trains in f32."


def test_cnn_digits_outputs():
    nb, _ = execute(ROOT / "notebooks" / "09-cnn-digits.ipynb")
    cells = cells_by_tag(nb)
    summary = result(cells["summary"])
    assert "conv2    Conv2d" in summary and "[32, 32, 2, 2]" in summary and summary.endswith("6090 parameters")
    accuracy = float(stdout(cells["accuracy"]).split()[2])
    assert accuracy >= 0.95
    for tag in ["digits", "edges", "accuracy", "filters"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag


def test_attention_minigpt_outputs():
    nb, _ = execute(ROOT / "notebooks" / "10-attention-minigpt.ipynb")
    cells = cells_by_tag(nb)
    assert float(stdout(cells["library"]).split(":")[1]) < 1e-5  # by hand == nn::MultiHeadAttention
    first, last = (float(v) for v in stdout(cells["training"]).split("training loss")[1].split("→"))
    assert first > 2.5 and last < 1.0
    # Streamed into one display, then printed: a continuation of the prompt, in lines.
    streamed = text(outputs(cells["generate"], "display_data")[0]["data"]["text/plain"])
    written = stdout(cells["generate"]).rstrip("\n")
    assert streamed == written and written.startswith("Twinkle") and written.count("\n") >= 3
    untrained = text(outputs(cells["model"], "display_data")[0]["data"]["text/plain"])
    assert untrained.startswith("Twinkle") and untrained not in written
    for tag in ["by-hand", "attention"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    # LoRA: a few thousand trainable numbers teach the frozen model a rhyme it did not know;
    # the adapters saved apart and loaded into a fresh base give the same model back.
    lora = stdout(cells["lora"])
    assert lora.startswith("4 layers adapted: 2048 trainable numbers beside 109368 frozen ones")
    before, after = (json.loads(line.split(":", 1)[1]) for line in lora.splitlines()[1:3])
    assert "Piper" not in before and "Peter Piper" in after
    assert stdout(cells["lora-reload"]).rstrip().endswith("reloaded model writes the same: true")


def test_data_loaders_outputs():
    nb, _ = execute(ROOT / "notebooks" / "07-data-loaders.ipynb")
    cells = cells_by_tag(nb)
    assert "image/svg+xml" in outputs(cells["dataset"], "execute_result")[0]["data"]
    assert stdout(cells["batches"]).startswith("28 batches of images [64, 1, 8, 8] and labels [64]")
    epochs = [json.loads(line.split(":", 1)[1]) for line in stdout(cells["shuffle"]).splitlines()]
    assert len(epochs) == 3 and all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    masks = [json.loads(line.split(" ", 1)[1]) for line in stdout(cells["collate"]).splitlines()]
    assert masks[0] == [[1] * 6, [1] * 4 + [0] * 2, [1] * 4 + [0] * 2]  # tensor | grad, loss padded
    assert not outputs(cells["collate"], "execute_result")  # a loop's () shows nothing
    assert stdout(cells["workers"]).rstrip().endswith("same order: true")
    streamed = stdout(cells["stream"])
    assert streamed.startswith("200000 rows in 40 chunks per pass")
    w = json.loads(streamed.split("w = ")[1].split("]")[0] + "]")
    assert abs(w[0] - 2) < 0.05 and abs(w[1] + 3) < 0.05


def test_experiment_tracking_outputs():
    nb, _ = execute(ROOT / "notebooks" / "12-experiment-tracking.ipynb")
    cells = cells_by_tag(nb)
    # The first run's card, in its final state: finished, with every metric the Trainer logs.
    card = text(outputs(cells["first-run"], "display_data")[0]["data"]["text/plain"])
    assert card.startswith("run baseline (") and ": finished at step 31" in card
    for metric in ("train_loss", "validation_loss", "learning_rate", "epoch_time", "val_accuracy"):
        assert f"  {metric} = " in card
    files = stdout(cells["files"])
    assert "rustc 1." in files and '("random::seed", 0)' in files
    assert "shape: (30, 4)" in result(cells["files"])  # metrics.csv read back by polars
    # The sweep: six trials in the live table; early stopping ends the poor ones at epoch 5.
    table = text(outputs(cells["sweep"], "display_data")[0]["data"]["text/plain"])
    stopped = table.count(" stopped early ")
    assert table.count(" finished ") + stopped == 6 and stopped >= 2 and table.count("★") == 1
    assert stdout(cells["sweep"]).count("Stopped after epoch 5") == stopped
    for tag in ["parallel", "curves"]:
        assert "image/svg+xml" in outputs(cells[tag], "execute_result")[0]["data"], tag
    assert "shape: (5, 6)" in result(cells["compare"])
    assert "same validation losses: true" in stdout(cells["reproduce"])
    registry = stdout(cells["registry"])
    trained = registry.split("(trained: ")[1].split(")")[0]
    assert f"validation accuracy: {trained} " in registry and float(trained) > 0.9
    # With no MLflow server set (as in CI), the last cell says how to set one up.
    assert "No MLflow server set: start one with `install/mlflow`" in stdout(cells["mlflow"])


def test_capstone_outputs():
    nb, _ = execute(ROOT / "notebooks" / "13-capstone.ipynb")
    cells = cells_by_tag(nb)
    assert "shape: (3, 6)" in result(cells["data"])  # the species, with what was missing
    assert "258 training and 86 test rows of 10 features" in stdout(cells["prep"])
    assert "categories__sex_unknown" in stdout(cells["prep"])
    # The sweep: four tracked trials of the network, the best well above chance (1/3).
    table = text(outputs(cells["sweep"], "display_data")[0]["data"]["text/plain"])
    assert table.count(" finished ") == 4 and table.count("★") == 1
    best = stdout(cells["sweep-best"])
    assert float(best.split("validation accuracy ")[1].split()[0]) > 0.95
    assert "registered as penguin-species version " in best
    # The LoRA fine-tune's card: finished, with the accuracy the loss closure returned.
    card = text(outputs(cells["lora"], "display_data")[0]["data"]["text/plain"])
    assert card.startswith("run reviews lora (") and ": finished at step 8" in card
    lora_run = card.split("(")[1].split(")")[0]
    assert float(card.split("validation_accuracy = ")[1].split()[0]) >= 0.75
    # Four trials and the fine-tune (more where the course folder kept earlier executions' runs).
    assert int(result(cells["runs"]).split("shape: (")[1].split(",")[0]) >= 5
    # The model in production, traced back to the run that wrote it, and served.
    lineage = stdout(cells["lineage"])
    assert f" was written by run {lora_run} (\"reviews lora\")" in lineage
    assert '"lora":{"alpha":16.0,"rank":8' in lineage
    served = result(cells["lineage"])
    assert served.index("┆ positive ┆") < served.index("┆ negative ┆")
