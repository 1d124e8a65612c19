"""Packing: tokenize texts, join them with end-of-sequence tokens and cut the stream into fixed-length blocks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def pack_texts(texts: Iterable[str], tokenizer, block_size: int, *, batch: int = 1000) -> np.ndarray:
    """An int array of shape (n_blocks, block_size). The tail shorter than one block is dropped;
    when the whole stream is shorter than a block, it is padded with EOS so no data set is silently empty."""
    eos = tokenizer.eos_token_id
    bos = tokenizer.bos_token_id
    stream: list[int] = []
    pending: list[str] = []

    def flush() -> None:
        if not pending:
            return
        encoded = tokenizer(pending, add_special_tokens=False)["input_ids"]
        for ids in encoded:
            if bos is not None:
                stream.append(bos)
            stream.extend(ids)
            stream.append(eos)
        pending.clear()

    for text in texts:
        if text:
            pending.append(text)
        if len(pending) >= batch:
            flush()
    flush()
    if not stream:
        return np.zeros((0, block_size), dtype=np.int64)
    if len(stream) < block_size:
        stream.extend([eos] * (block_size - len(stream)))
    n_blocks = len(stream) // block_size
    return np.asarray(stream[: n_blocks * block_size], dtype=np.int64).reshape(n_blocks, block_size)
