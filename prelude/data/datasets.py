"""Writes the datasets scikit-learn ships with its wheel as plain CSV files (a header of feature
names and `target`, full precision), and their class names and titles in datasets.json, for
the prelude's `datasets` module. The values are what scikit-learn's loaders return with their
default arguments (the diabetes features are scikit-learn's scaled ones).

Regenerate (outside CI):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install -r tests/reference/requirements.txt
    /tmp/ref/bin/python prelude/data/datasets.py
"""

import json
import pathlib

import numpy as np
from sklearn import datasets

HERE = pathlib.Path(__file__).parent
LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
    "digits": datasets.load_digits,
}

meta = {}
for name, load in LOADERS.items():
    bunch = load()
    header = ",".join([str(f) for f in bunch.feature_names] + ["target"])
    table = np.column_stack([bunch.data, bunch.target])
    # Shortest text that reads back to the same float: 5.1, not 5.0999999999999996.
    rows = (",".join(str(int(v)) if v.is_integer() else repr(float(v)) for v in row) for row in table)
    (HERE / f"{name}.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    title = next(line for line in bunch.DESCR.splitlines() if line.strip() and not line.startswith(".."))
    meta[name] = {
        "title": title.strip(),
        "target_names": [str(t) for t in getattr(bunch, "target_names", [])],
    }
(HERE / "datasets.json").write_text(json.dumps(meta, indent=1) + "\n")
