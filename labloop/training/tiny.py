"""A tiny Llama with a tokenizer trained locally on the corpus: the whole loop on a laptop CPU in minutes.

It is a TOY: a few hundred thousand random-initialised parameters, labelled `toy` in its config, in the
registry and in every prediction. It exists so that tests and the demo run the real training code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

TOY_MARKER = "labloop_toy"
SPECIAL_TOKENS = ["<|bos|>", "<|eos|>", "<|pad|>"]
# The messages verbatim, so that vLLM's chat endpoint sends the toy exactly the text it was trained on.
CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


def train_tokenizer(texts: Iterable[str], *, vocab_size: int = 1024):
    """A byte-level BPE tokenizer trained on `texts`; digits are split one by one so numbers stay learnable."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_base(
    texts: Iterable[str], out_dir: Path, *, seed: int = 0, hidden_size: int = 128, layers: int = 2,
    max_positions: int = 1024, vocab_size: int = 1024,
) -> Path:
    """Write a random-weight tiny Llama + its tokenizer into `out_dir`, a regular local model directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    mark_toy(out_dir)
    log.info("built a tiny toy Llama (%d parameters) in %s", sum(p.numel() for p in model.parameters()), out_dir)
    return out_dir


def mark_toy(model_dir: Path) -> None:
    """Label a model directory as a toy in its own config.json, so the label travels with the files."""
    config_file = model_dir / "config.json"
    config = json.loads(config_file.read_text())
    config[TOY_MARKER] = True
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True))


def is_toy(model_dir: Path) -> bool:
    try:
        return bool(json.loads((Path(model_dir) / "config.json").read_text()).get(TOY_MARKER))
    except (OSError, ValueError):
        return False
