"""Reference values for the prelude's `metrics`, computed by scikit-learn on fixed vectors.

Regenerate (outside CI):
    /tmp/ref/bin/python tests/reference/metrics.py > tests/reference/metrics.json
"""

import json

import numpy as np
from sklearn import metrics

binary_true = [0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
binary_pred = [0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1]
# Scores with ties, across and within the classes.
binary_score = [0.1, 0.8, 0.4, 0.35, 0.8, 0.9, 0.4, 0.2, 0.7, 0.6, 0.3, 0.95]
multi_true = [0, 1, 2, 2, 1, 0, 2, 1, 1, 0, 2, 2, 3]
multi_pred = [0, 2, 2, 2, 1, 0, 1, 1, 0, 0, 2, 1, 2]
reg_true = [3.0, -0.5, 2.0, 7.0, 4.2, 1.1]
reg_pred = [2.5, 0.0, 2.0, 8.0, 3.9, 1.6]
a = np.array([[1.0, 0.0, 2.0], [0.5, 0.5, 0.5], [0.0, 0.0, 0.0]])
b = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])

reference = {"inputs": {k: v for k, v in locals().items() if k.endswith(("_true", "_pred", "_score"))}}
reference["inputs"].update({"a": a.tolist(), "b": b.tolist()})
reference["accuracy"] = [metrics.accuracy_score(binary_true, binary_pred), metrics.accuracy_score(multi_true, multi_pred)]
for name in ["precision", "recall", "f1"]:
    score = getattr(metrics, f"{name}_score")
    reference[name] = [
        score(binary_true, binary_pred),
        score(multi_true, multi_pred, average="macro", zero_division=0),
        score(multi_true, multi_pred, average="weighted", zero_division=0),
    ]
reference["confusion_matrix"] = metrics.confusion_matrix(multi_true, multi_pred).tolist()
reference["roc_auc"] = metrics.roc_auc_score(binary_true, binary_score)
reference["mse"] = metrics.mean_squared_error(reg_true, reg_pred)
reference["rmse"] = metrics.root_mean_squared_error(reg_true, reg_pred)
reference["mae"] = metrics.mean_absolute_error(reg_true, reg_pred)
reference["r2"] = metrics.r2_score(reg_true, reg_pred)
reference["cosine_similarity"] = metrics.pairwise.cosine_similarity(a, b).tolist()
report = metrics.classification_report(multi_true, multi_pred, output_dict=True, zero_division=0)
reference["report_weighted_f1"] = report["weighted avg"]["f1-score"]
print(json.dumps(reference, indent=1))
