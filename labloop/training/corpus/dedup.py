"""Exact and near-duplicate removal. Exact: identical text after case and whitespace folding. Near: MinHash of
word 3-gram shingles with LSH, confirmed by the estimated Jaccard similarity. The first text seen is kept, so the
result is deterministic for a given input order.
"""

from __future__ import annotations

import hashlib
import re
import zlib

from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"\w+")
NUM_PERM = 64


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)


class Deduplicator:
    """`seen(text)` returns "duplicate_exact", "duplicate_near" or "" (new; it is then remembered)."""

    def __init__(self, threshold: float = 0.8, num_perm: int = NUM_PERM, shingle: int = 3) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self._exact: set[bytes] = set()
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[int, MinHash] = {}
        template = MinHash(num_perm=num_perm, seed=1, hashfunc=_crc32)
        self._permutations, self._scheme = template.permutations, template.scheme  # generated once, not per text

    def _minhash(self, words: list[str]) -> MinHash:
        n = self.shingle
        shingles = {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}
        mh = MinHash(num_perm=self.num_perm, seed=1, hashfunc=_crc32, permutations=self._permutations,
                     scheme=self._scheme)
        mh.update_batch([s.encode() for s in sorted(shingles)])
        return mh

    def seen(self, text: str) -> str:
        words = _WORD.findall(text.lower())
        digest = hashlib.blake2b(" ".join(words).encode(), digest_size=16).digest()
        if digest in self._exact:
            return "duplicate_exact"
        self._exact.add(digest)
        if not words:
            return ""
        mh = self._minhash(words)
        for other in self._lsh.query(mh):
            if self._hashes[other].jaccard(mh) >= self.threshold:
                return "duplicate_near"
        key = len(self._hashes)
        self._hashes[key] = mh
        self._lsh.insert(key, mh)
        return ""
