"""Reference values for the prelude's `datasets` loaders, computed by scikit-learn's own loaders.

Regenerate (outside CI):
    /tmp/ref/bin/python tests/reference/datasets.py > tests/reference/datasets.json
"""

import json

from sklearn import datasets

reference = {}
for name in ["iris", "wine", "breast_cancer", "diabetes", "digits"]:
    bunch = getattr(datasets, f"load_{name}")()
    reference[name] = {
        "shape": list(bunch.data.shape),
        "first_row": bunch.data[0].tolist(),
        "column_sums": bunch.data.sum(axis=0).tolist(),
        "target_sum": float(bunch.target.sum()),
        "feature_names": [str(f) for f in bunch.feature_names],
        "target_names": [str(t) for t in getattr(bunch, "target_names", [])],
    }
print(json.dumps(reference, indent=1))
