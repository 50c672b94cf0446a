"""The tiny BertForSequenceClassification and DistilBertForSequenceClassification of
tests/tiny_models.py run by Hugging Face transformers on PyTorch, from the same files: label
probabilities of a padded batch, and, for the BERT,
with the LoRA adapters of tiny_bert_lora added to the query and value projections
(y = W x + b + (alpha / rank) B A x, PEFT's formula, written out here as forward hooks), the
cross-entropy loss and its gradient for every adapter matrix. The prelude's TextClassifier
must reproduce all of them.

Regenerate (outside CI; transformers comes with sentence-transformers):
    /tmp/torchenv/bin/python -P tests/reference/classification.py > tests/reference/classification.json
"""

import json
import pathlib
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file
from transformers import BertForSequenceClassification, DistilBertForSequenceClassification, PreTrainedTokenizerFast

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tiny_models import tiny_bert_classifier, tiny_bert_lora, tiny_distilbert_classifier  # noqa: E402

TEXTS = ["the cat sat on the mat", "a dog ran", "happy sun and blue sky went home", "sad night"]
LABELS = [0, 2, 2, 0]
RANK, ALPHA = 4, 8.0

with tempfile.TemporaryDirectory() as directory:
    directory = pathlib.Path(directory)
    tiny_distilbert_classifier(directory, seed=0)
    model = DistilBertForSequenceClassification.from_pretrained(directory, torch_dtype=torch.float32).eval()
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(directory / "tokenizer.json"), pad_token="[PAD]")
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        distilbert_probabilities = model(**batch).logits.softmax(-1)

with tempfile.TemporaryDirectory() as directory:
    directory = pathlib.Path(directory)
    tiny_bert_classifier(directory, seed=0)
    tiny_bert_lora(directory / "lora.safetensors", seed=1, rank=RANK)
    model = BertForSequenceClassification.from_pretrained(directory, torch_dtype=torch.float32).eval()
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(directory / "tokenizer.json"), pad_token="[PAD]")
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        probabilities = model(**batch).logits.softmax(-1)

    adapters = {name: tensor.requires_grad_() for name, tensor in load_file(directory / "lora.safetensors").items()}
    for i, layer in enumerate(model.bert.encoder.layer):
        for target in ("query", "value"):
            a, b = adapters[f"layer{i}.{target}.lora_a"], adapters[f"layer{i}.{target}.lora_b"]
            getattr(layer.attention.self, target).register_forward_hook(
                lambda module, inputs, output, a=a, b=b: output + (ALPHA / RANK) * inputs[0] @ a.T @ b.T)
    loss = torch.nn.functional.cross_entropy(model(**batch).logits, torch.tensor(LABELS))
    loss.backward()

print(json.dumps({
    "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    "texts": TEXTS, "input_ids": batch["input_ids"].tolist(), "probabilities": {"bert": probabilities.tolist(), "distilbert": distilbert_probabilities.tolist()},
    "labels": LABELS, "rank": RANK, "alpha": ALPHA, "lora_loss": loss.item(),
    "lora_gradients": {name: tensor.grad.tolist() for name, tensor in adapters.items()},
}))
