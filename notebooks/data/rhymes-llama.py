"""Trains rhymes-llama/: a tiny Llama-family language model (2 layers, 64 wide, 0.1M
parameters) on rhymes.txt, saved as a Hugging Face model directory (config.json,
model.safetensors, tokenizer.json) for the generation lesson of 11-hugging-face. Its
tokenizer is a byte-level BPE trained on the same text.

Regenerate (outside CI; PyTorch is large), from the repository root:
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.15.0 transformers
    /tmp/torchenv/bin/python -P notebooks/data/rhymes-llama.py
"""

import pathlib

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import LlamaConfig, LlamaForCausalLM

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "rhymes-llama"
STEPS, BATCH, WINDOW = 1500, 16, 64

torch.manual_seed(0)
text = (HERE / "rhymes.txt").read_text()
tokenizer = ByteLevelBPETokenizer()
tokenizer.train_from_iterator([text], vocab_size=384, min_frequency=2, show_progress=False)
ids = torch.tensor(tokenizer.encode(text).ids)

config = LlamaConfig(
    vocab_size=tokenizer.get_vocab_size(), hidden_size=64, intermediate_size=176, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
    rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=None, eos_token_id=None, pad_token_id=None,
)
model = LlamaForCausalLM(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, STEPS)
for step in range(STEPS):
    starts = torch.randint(0, len(ids) - WINDOW - 1, (BATCH,))
    batch = torch.stack([ids[s:s + WINDOW + 1] for s in starts])
    loss = model(input_ids=batch[:, :-1], labels=batch[:, :-1].clone()).loss
    # labels are shifted inside the model: position t predicts token t + 1.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    if step % 250 == 0 or step == STEPS - 1:
        print(f"step {step} loss {loss.item():.3f}")

OUT.mkdir(exist_ok=True)
model.save_pretrained(OUT, safe_serialization=True)
(OUT / "generation_config.json").unlink(missing_ok=True)
tokenizer.save(str(OUT / "tokenizer.json"))
prompt = torch.tensor([tokenizer.encode("Twinkle, twinkle").ids])
print(tokenizer.decode(model.generate(prompt, max_new_tokens=30, do_sample=False)[0].tolist()))
