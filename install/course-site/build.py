"""The course as a static site for learners: every notebook run, then exported by nbconvert.

Usage: build.py OUTPUT_FOLDER [--jobs N] (install/site runs it after setting up what is
missing). N notebooks run at a time, 2 by default: while one waits on rustc (one core), the
other has the second. The test suite builds the site with 1 beside its other tests.

Why nbconvert: it is what teachers and CI already run on these notebooks (tests/test_notebooks.py
checks its HTML export), it renders Ferrolab's outputs exactly as JupyterLab shows them, and
its templates take the course's navigation without a second toolchain. Jupyter Book 1 would add
Sphinx and a theme for the same pages; Jupyter Book 2 (mystmd) needs Node.js and fetches its
theme from the network when it builds.

The site needs no network: images are embedded as data URIs, styles are inlined or in the
site's folder, and formulas are typeset by MathJax from the site's folder.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import io
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

import jinja2
import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune

HERE = pathlib.Path(__file__).resolve().parent
NOTEBOOKS = HERE.parent.parent / "notebooks"
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"
COURSE = "Ferrolab: machine learning in Rust notebooks"
TAGLINE = ("From vectors to transformers, the Python stack's workflow in Rust: arrays, dataframes, "
           "pipelines, neural networks and Hugging Face models, each lesson run as you will run it.")
# MathJax 3's one-file TeX-to-SVG build: its glyphs are paths inside the script, so a page
# opened from a folder (file://) typesets with no font to fetch (browsers refuse web fonts to
# file:// pages, which MathJax 2's HTML output needs). From npm's registry, checked against
# the integrity npm records for it; kept beside .venv's packages once fetched.
MATHJAX_TARBALL = "https://registry.npmjs.org/mathjax/-/mathjax-3.2.2.tgz"
MATHJAX_SHA512 = "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
MATHJAX_FILES = {"package/es5/tex-svg.js": "tex-svg.js", "package/LICENSE": "LICENSE"}


def mathjax():
    """The folder holding MathJax's tex-svg.js and its licence, fetched the first time."""
    folder = pathlib.Path(sys.prefix) / "share" / "ferrolab" / "mathjax-3.2.2"
    if all((folder / name).exists() for name in MATHJAX_FILES.values()):
        return folder
    tarball = urllib.request.urlopen(MATHJAX_TARBALL, timeout=60).read()
    if base64.b64encode(hashlib.sha512(tarball).digest()).decode() != MATHJAX_SHA512:
        sys.exit(f"{MATHJAX_TARBALL} is not the tarball npm's registry recorded: not used")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for member, name in MATHJAX_FILES.items():
            (folder / name).write_bytes(archive.extractfile(member).read())
    return folder


def run(notebook, folder):
    """Executes a notebook as nbconvert does for teachers and CI; returns it and its seconds."""
    started = time.monotonic()
    subprocess.run(
        [JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--output-dir", folder,
         "--ExecutePreprocessor.timeout=600", notebook],
        check=True, capture_output=True, text=True,
    )
    return nbformat.read(folder / notebook.name, as_version=4), time.monotonic() - started


def headings(nb):
    """(level, text, id) of every h1 and h2, with the ids nbconvert gives them."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for heading in BeautifulSoup(markdown2html_mistune(cell.source), "html.parser").find_all(["h1", "h2"]):
            for anchor in heading.select("a.anchor-link"):
                anchor.decompose()
            found.append({"level": int(heading.name[1]), "text": heading.get_text().strip(), "id": heading["id"]})
    return found


def summary(nb):
    """The lesson's first paragraph, as plain text: what it teaches."""
    first = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    paragraph = BeautifulSoup(markdown2html_mistune(first.source), "html.parser").find("p")
    return " ".join(paragraph.get_text().split()) if paragraph else ""


def duration(seconds):
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def build(output, jobs=2):
    output.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="ferrolab-site-") as scratch:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            runs = {nb: pool.submit(run, nb, pathlib.Path(scratch) / nb.stem) for nb in notebooks}
            executed, failed = [], []
            for notebook, future in runs.items():
                try:
                    executed.append(future.result())
                    print(f"ran {notebook.name} in {duration(executed[-1][1])}", flush=True)
                except subprocess.CalledProcessError as error:
                    failed.append(f"{notebook.name} failed:\n{error.stderr[-3000:]}")
                    print(failed[-1], flush=True)
    if failed:
        sys.exit(f"No site: {len(failed)} of {len(notebooks)} notebooks failed to run (above).")

    built = datetime.date.today().isoformat()
    lessons = []
    for notebook, (nb, seconds) in zip(notebooks, executed):
        title, *toc = headings(nb)
        lessons.append({"href": notebook.stem + ".html", "notebook": notebook.name, "title": title["text"],
                        "summary": summary(nb), "run_time": duration(seconds), "toc": toc, "course": COURSE,
                        "built": built})
    exporter = HTMLExporter(template_name="ferrolab-lesson", extra_template_basedirs=[str(HERE / "templates")],
                            embed_images=True)
    for i, (lesson, (nb, _)) in enumerate(zip(lessons, executed)):
        neighbours = {"previous": lessons[i - 1] if i > 0 else None,
                      "next": lessons[i + 1] if i + 1 < len(lessons) else None}
        page, _ = exporter.from_notebook_node(nb, resources={"lesson": {**lesson, **neighbours},
                                                            "metadata": {"name": lesson["title"]}})
        (output / lesson["href"]).write_text(page, encoding="utf-8")
        nbformat.write(nb, output / lesson["notebook"])

    index = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    page = index.get_template("course-index.html.j2").render(course=COURSE, tagline=TAGLINE, lessons=lessons,
                                                             built=built)
    (output / "index.html").write_text(page, encoding="utf-8")
    shutil.copy(HERE / "course.css", output / "course.css")
    shutil.copytree(mathjax(), output / "mathjax", dirs_exist_ok=True)
    print(f"The course site is in {output}: open {output / 'index.html'}")


if __name__ == "__main__":
    match sys.argv[1:]:
        case [folder]:
            build(pathlib.Path(folder).resolve())
        case [folder, "--jobs", jobs] if jobs.isdigit() and int(jobs) > 0:
            build(pathlib.Path(folder).resolve(), int(jobs))
        case _:
            sys.exit(__doc__)
