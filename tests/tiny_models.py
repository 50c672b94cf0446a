"""Tiny randomly initialised models written as Hugging Face model directories (config.json,
model.safetensors, tokenizer.json) with nothing but the standard library, for tests of code
paths that real weights would make slow: the same seed gives the same weights here and in
the reference script that runs them in PyTorch."""

import json
import pathlib
import random
import struct

WORDS = ("the a cat dog sat on mat ran to park and saw bird sky blue red big small happy sad "
         "tree house car road sun moon star night day went home ate fish bread milk water").split()


def write_tokenizer(directory, bert=False):
    """A word-level tokenizer: whitespace split, one id per word, [UNK] for the rest; with
    `bert`, also BERT's [PAD] (id 0), [CLS] and [SEP] around every text."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] if bert else ["[UNK]"]
    vocab = {token: i for i, token in enumerate(specials + list(WORDS))}
    post_processor = None
    if bert:
        cls, sep = ({"SpecialToken": {"id": token, "type_id": 0}} for token in ("[CLS]", "[SEP]"))
        post_processor = {
            "type": "TemplateProcessing", "single": [cls, {"Sequence": {"id": "A", "type_id": 0}}, sep],
            "pair": [cls, {"Sequence": {"id": "A", "type_id": 0}}, sep, {"Sequence": {"id": "B", "type_id": 1}}, sep],
            "special_tokens": {token: {"id": token, "ids": [vocab[token]], "tokens": [token]} for token in ("[CLS]", "[SEP]")},
        }
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": vocab[token], "content": token, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for token in specials],
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": post_processor, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer))
    return len(vocab)


def write_safetensors(path, tensors):
    """tensors: name -> (shape, flat list of floats), stored as F32."""
    header, offset, blobs = {}, 0, []
    for name, (shape, values) in tensors.items():
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def normal_values(rng, *shape, scale=0.5):
    """A (shape, values) entry for write_safetensors, drawn from N(0, scale²)."""
    count = 1
    for n in shape:
        count *= n
    return shape, [rng.gauss(0.0, scale) for _ in range(count)]


def tiny_llama(directory, seed=0):
    """A 2-layer Llama with grouped-query attention and tied embeddings; returns its config."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = write_tokenizer(directory)
    hidden, intermediate, layers, heads, kv_heads = 32, 64, 2, 4, 2
    head_dim = hidden // heads
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
        "intermediate_size": intermediate, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "vocab_size": vocab, "max_position_embeddings": 128,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True, "hidden_act": "silu",
        "bos_token_id": None, "eos_token_id": None, "torch_dtype": "float32",
    }
    (directory / "config.json").write_text(json.dumps(config))
    rng = random.Random(seed)

    def normal(*shape, scale=0.5):
        return normal_values(rng, *shape, scale=scale)

    def ones(n):
        return (n,), [1.0 + rng.gauss(0.0, 0.1) for _ in range(n)]

    tensors = {"model.embed_tokens.weight": normal(vocab, hidden, scale=1.0), "model.norm.weight": ones(hidden)}
    for i in range(layers):
        prefix = f"model.layers.{i}"
        tensors.update({
            f"{prefix}.self_attn.q_proj.weight": normal(heads * head_dim, hidden, scale=0.3),
            f"{prefix}.self_attn.k_proj.weight": normal(kv_heads * head_dim, hidden, scale=0.3),
            f"{prefix}.self_attn.v_proj.weight": normal(kv_heads * head_dim, hidden, scale=0.3),
            f"{prefix}.self_attn.o_proj.weight": normal(hidden, heads * head_dim, scale=0.3),
            f"{prefix}.mlp.gate_proj.weight": normal(intermediate, hidden, scale=0.3),
            f"{prefix}.mlp.up_proj.weight": normal(intermediate, hidden, scale=0.3),
            f"{prefix}.mlp.down_proj.weight": normal(hidden, intermediate, scale=0.3),
            f"{prefix}.input_layernorm.weight": ones(hidden),
            f"{prefix}.post_attention_layernorm.weight": ones(hidden),
        })
    write_safetensors(directory / "model.safetensors", tensors)
    return config


BERT_LABELS = ("negative", "neutral", "positive")


def new_classifier(directory, seed, config):
    """Starts a tiny classifier's directory: its BERT tokenizer, and config.json with the
    settings every family shares and BERT_LABELS; returns the directory, the config and the
    generator its weights are drawn from."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {**config, "vocab_size": write_tokenizer(directory, bert=True), "max_position_embeddings": 64,
              "initializer_range": 0.02, "pad_token_id": 0, "id2label": dict(enumerate(BERT_LABELS)),
              "label2id": {label: i for i, label in enumerate(BERT_LABELS)}, "torch_dtype": "float32"}
    (directory / "config.json").write_text(json.dumps(config))
    return directory, config, random.Random(seed)


def linear_maker(rng):
    """dense(name, inputs, outputs): a linear layer's weight and bias entries."""
    return lambda name, inputs, outputs: {f"{name}.weight": normal_values(rng, outputs, inputs, scale=0.3),
                                          f"{name}.bias": normal_values(rng, outputs, scale=0.1)}


def layer_norm_maker(rng):
    """norm(name, n): a LayerNorm's weight (near 1) and bias entries."""
    return lambda name, n: {f"{name}.weight": ((n,), [1.0 + rng.gauss(0.0, 0.1) for _ in range(n)]),
                            f"{name}.bias": normal_values(rng, n, scale=0.1)}


def tiny_bert_classifier(directory, seed=0):
    """A 2-layer BertForSequenceClassification over three labels, with a pooler; returns its
    config."""
    hidden, intermediate, layers, heads = 32, 64, 2, 4
    directory, config, rng = new_classifier(directory, seed, {
        "architectures": ["BertForSequenceClassification"], "model_type": "bert", "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
    })
    vocab = config["vocab_size"]
    dense, norm = linear_maker(rng), layer_norm_maker(rng)
    tensors = {
        "bert.embeddings.word_embeddings.weight": normal_values(rng, vocab, hidden, scale=1.0),
        "bert.embeddings.position_embeddings.weight": normal_values(rng, 64, hidden, scale=0.3),
        "bert.embeddings.token_type_embeddings.weight": normal_values(rng, 2, hidden, scale=0.3),
        **norm("bert.embeddings.LayerNorm", hidden),
    }
    for i in range(layers):
        prefix = f"bert.encoder.layer.{i}"
        for part in ("query", "key", "value"):
            tensors.update(dense(f"{prefix}.attention.self.{part}", hidden, hidden))
        tensors.update({**dense(f"{prefix}.attention.output.dense", hidden, hidden),
                        **norm(f"{prefix}.attention.output.LayerNorm", hidden),
                        **dense(f"{prefix}.intermediate.dense", hidden, intermediate),
                        **dense(f"{prefix}.output.dense", intermediate, hidden),
                        **norm(f"{prefix}.output.LayerNorm", hidden)})
    tensors.update({**dense("bert.pooler.dense", hidden, hidden), **dense("classifier", hidden, len(BERT_LABELS))})
    write_safetensors(directory / "model.safetensors", tensors)
    return config


def tiny_bert_lora(path, seed=0, rank=4, targets=("query", "value")):
    """LoRA adapters for every layer of tiny_bert_classifier, as the prelude names them
    (`layer{i}.{target}.lora_a`, `.lora_b`), both random so that every gradient is non-zero."""
    rng = random.Random(seed)
    tensors = {}
    for i in range(2):
        for target in targets:
            tensors[f"layer{i}.{target}.lora_a"] = normal_values(rng, rank, 32, scale=0.3)
            tensors[f"layer{i}.{target}.lora_b"] = normal_values(rng, 32, rank, scale=0.3)
    write_safetensors(pathlib.Path(path), tensors)


def tiny_distilbert_classifier(directory, seed=0):
    """A 2-layer DistilBertForSequenceClassification over the same three labels (no token
    types; a pre-classifier layer with ReLU where BERT has its pooler); returns its config."""
    dim, hidden_dim, layers, heads = 32, 64, 2, 4
    directory, config, rng = new_classifier(directory, seed, {
        "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert", "dim": dim,
        "n_layers": layers, "n_heads": heads, "hidden_dim": hidden_dim, "activation": "gelu", "dropout": 0.1,
        "attention_dropout": 0.1, "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False,
    })
    vocab = config["vocab_size"]
    dense, norm = linear_maker(rng), layer_norm_maker(rng)
    tensors = {
        "distilbert.embeddings.word_embeddings.weight": normal_values(rng, vocab, dim, scale=1.0),
        "distilbert.embeddings.position_embeddings.weight": normal_values(rng, 64, dim, scale=0.3),
        **norm("distilbert.embeddings.LayerNorm", dim),
    }
    for i in range(layers):
        prefix = f"distilbert.transformer.layer.{i}"
        for part in ("q_lin", "k_lin", "v_lin", "out_lin"):
            tensors.update(dense(f"{prefix}.attention.{part}", dim, dim))
        tensors.update({**norm(f"{prefix}.sa_layer_norm", dim), **dense(f"{prefix}.ffn.lin1", dim, hidden_dim),
                        **dense(f"{prefix}.ffn.lin2", hidden_dim, dim), **norm(f"{prefix}.output_layer_norm", dim)})
    tensors.update({**dense("pre_classifier", dim, dim), **dense("classifier", dim, len(BERT_LABELS))})
    write_safetensors(directory / "model.safetensors", tensors)
    return config
