"""Greedy continuations of the tiny Llama of tests/tiny_models.py, computed by Hugging Face
transformers on PyTorch from the same files: token ids that the prelude's TextGenerator must
reproduce.

Regenerate (outside CI; transformers comes with sentence-transformers):
    /tmp/torchenv/bin/python -P tests/reference/generation.py > tests/reference/generation.json
"""

import json
import pathlib
import sys
import tempfile

import torch
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM, PreTrainedTokenizerFast

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tiny_models import tiny_llama  # noqa: E402

PROMPTS = ["the cat sat on the", "a big dog ran to the park and"]

with tempfile.TemporaryDirectory() as directory:
    tiny_llama(directory, seed=0)
    model = LlamaForCausalLM.from_pretrained(directory, torch_dtype=torch.float32).eval()
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(pathlib.Path(directory) / "tokenizer.json"))
    continuations = {}
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=0)
        continuations[prompt] = {"prompt_ids": ids[0].tolist(), "new_ids": out[0, ids.shape[1]:].tolist(),
                                 "text": tokenizer.decode(out[0])}

print(json.dumps({"versions": {"torch": torch.__version__, "transformers": transformers.__version__}, "greedy": continuations}))
