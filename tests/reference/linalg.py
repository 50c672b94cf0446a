"""Reference values for the prelude's `linalg` module, computed by NumPy.

Regenerate (outside CI):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install -r tests/reference/requirements.txt
    /tmp/ref/bin/python tests/reference/linalg.py > tests/reference/linalg.json
"""

import json

import numpy as np

rng = np.random.default_rng(7)
square = rng.normal(size=(5, 5))
tall = rng.normal(size=(7, 4))
spd = square @ square.T + 5 * np.eye(5)
rank_deficient = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5, 2.0])
b = rng.normal(size=5)
b_tall = rng.normal(size=7)
b_matrix = rng.normal(size=(5, 2))

eigenvalues = np.linalg.eigvals(square)
order = np.lexsort((eigenvalues.imag, eigenvalues.real))

reference = {
    "inputs": {
        "square": square.tolist(),
        "tall": tall.tolist(),
        "spd": spd.tolist(),
        "rank_deficient": rank_deficient.tolist(),
        "b": b.tolist(),
        "b_tall": b_tall.tolist(),
        "b_matrix": b_matrix.tolist(),
    },
    "matmul": (tall @ square[:4, :]).tolist(),
    "solve": np.linalg.solve(square, b).tolist(),
    "solve_matrix": np.linalg.solve(square, b_matrix).tolist(),
    "inv": np.linalg.inv(square).tolist(),
    "det": float(np.linalg.det(square)),
    "singular_values": np.linalg.svd(tall, compute_uv=False).tolist(),
    "eigh_values": np.linalg.eigvalsh(spd).tolist(),
    "eig_values_sorted": [[float(z.real), float(z.imag)] for z in eigenvalues[order]],
    "cholesky": np.linalg.cholesky(spd).tolist(),
    "qr_r_abs": np.abs(np.linalg.qr(tall)[1]).tolist(),
    "norm": float(np.linalg.norm(tall)),
    "matrix_norms": [float(np.linalg.norm(tall, ord)) for ord in ["fro", "nuc", 1, 2, np.inf]],
    "pinv": np.linalg.pinv(rank_deficient).tolist(),
    "lstsq": np.linalg.lstsq(tall, b_tall, rcond=None)[0].tolist(),
    "lstsq_rank_deficient": np.linalg.lstsq(rank_deficient, np.array([1.0, 2.0, 3.5]), rcond=None)[0].tolist(),
}
print(json.dumps(reference, indent=1))
