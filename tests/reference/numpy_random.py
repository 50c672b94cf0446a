"""Reference draws for the prelude's NumPy-compatible generators (prelude/src/random) and the
scikit-learn splits and generators built on them, written by NumPy and scikit-learn.

Regenerate (outside CI; versions in requirements.txt):
    /tmp/ref/bin/python tests/reference/numpy_random.py > tests/reference/numpy_random.json
"""

import hashlib
import json

import numpy as np
from sklearn.datasets import make_blobs, make_classification, make_moons, make_regression
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split


def listed(value):
    return np.asarray(value).tolist()


reference = {}

# The global legacy generator, as a notebook uses it: one seed, then a sequence of calls.
# Seven normals leave the second of a Gaussian pair for the next call.
np.random.seed(42)
legacy = {
    "normal": listed(np.random.normal(1.5, 2.0, size=(7,))),
    "normal_after_spare": listed(np.random.normal(0.0, 1.0, size=(2, 3))),
    "uniform": listed(np.random.uniform(-1.0, 3.0, size=(2, 4))),
    "integers": listed(np.random.randint(0, 10, size=12)),
    "integers_wide": listed(np.random.randint(-5, 2**40, size=4)),
    "permutation": listed(np.random.permutation(20)),
    "choice": listed(np.random.choice([10, 20, 30, 40, 50], 8)),
    "choice_unique": listed(np.random.choice([10, 20, 30, 40, 50], 3, replace=False)),
}
rows = np.arange(12.0).reshape(6, 2)
np.random.shuffle(rows)
legacy["shuffled_rows"] = listed(rows)
reference["legacy"] = legacy
state = np.random.RandomState(2**32 - 1)
reference["legacy_largest_seed"] = listed(state.random_sample(3))

# np.random.default_rng: PCG64 seeded through a SeedSequence.
generators = {}
for seed in [42, 2**40 + 7]:
    rng = np.random.default_rng(seed)
    generators[str(seed)] = {
        "random": listed(rng.random(5)),
        "uniform": listed(rng.uniform(2.0, 5.0, 3)),
        "integers": listed(rng.integers(0, 10, 9)),
        "integers_wide": listed(rng.integers(5, 5 + 2**40, 3)),
        "permutation": listed(rng.permutation(15)),
        "choice": listed(rng.choice(7, 6)),
        "choice_unique": listed(rng.choice(100, 50, replace=False)),
        "choice_unique_tail": listed(rng.choice(20_000, 500, replace=False)[:20]),
        "standard_normal": listed(rng.standard_normal(6)),
        "normal": listed(rng.normal(1.0, 2.0, 4)),
    }
reference["default_rng"] = generators
# Enough Gaussian draws to pass through every layer, the wedges and the tail: compared by a
# digest of their little-endian bytes.
rng = np.random.default_rng(7)
reference["default_rng_normal_digest"] = {
    "seed": 7,
    "count": 200_000,
    "sha256": hashlib.sha256(rng.standard_normal(200_000).astype("<f8").tobytes()).hexdigest(),
}

# scikit-learn: splits of sample indices, then the generators.
indices = np.arange(30)
train, test = train_test_split(indices, random_state=0)
splits = {"plain": {"train": listed(train), "test": listed(test)}}
labels = np.array([2] * 5 + [0] * 14 + [1] * 11)
train, test = train_test_split(indices, test_size=0.3, stratify=labels, random_state=3)
splits["stratified"] = {"train": listed(train), "test": listed(test)}
np.random.seed(5)
train, test = train_test_split(indices, test_size=0.2)
splits["global_seed_5"] = {"train": listed(train), "test": listed(test)}
splits["kfold"] = [listed(test) for _, test in KFold(5, shuffle=True, random_state=1).split(np.arange(23))]
labels = np.array([1, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 1, 0, 2, 1, 0, 0, 1, 2, 1, 1, 0])
splits["stratified_kfold"] = [
    listed(test) for _, test in StratifiedKFold(4, shuffle=True, random_state=3).split(labels, labels)
]
reference["splits"] = splits


def dataset(x, y, *extra):
    return {"x": listed(x), "y": listed(y), **({"coef": listed(extra[0])} if extra else {})}


reference["make_moons"] = dataset(*make_moons(50, noise=0.1, random_state=0))
reference["make_blobs"] = dataset(*make_blobs(40, 3, centers=4, cluster_std=1.5, random_state=2))
reference["make_classification"] = dataset(*make_classification(
    n_samples=60, n_features=8, n_informative=3, n_redundant=2, n_repeated=1, n_classes=3,
    n_clusters_per_class=1, flip_y=0.1, class_sep=1.0, random_state=4))
reference["make_classification_default"] = dataset(*make_classification(random_state=0))
reference["make_regression"] = dataset(*make_regression(
    n_samples=30, n_features=6, n_informative=3, bias=2.5, noise=1.0, random_state=5, coef=True))
print(json.dumps(reference))
