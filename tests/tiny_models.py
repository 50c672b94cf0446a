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


def write_tokenizer(directory):
    """A word-level tokenizer: whitespace split, one id per word, [UNK] for the rest."""
    vocab = {"[UNK]": 0, **{word: i + 1 for i, word in enumerate(WORDS)}}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
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
        count = 1
        for n in shape:
            count *= n
        return shape, [rng.gauss(0.0, scale) for _ in range(count)]

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
