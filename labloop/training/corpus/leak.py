"""Leak check: no training text may mention a held-out compound by canonical SMILES, InChIKey or name.

Thousands of held-out names are searched at once through one regex built from a trie of the names (linear in the
text, not in the number of names). Names shorter than 4 characters and SMILES shorter than 5 would match ordinary
words and unit symbols ("C", "CCO" inside other SMILES); they are not searched as text, their compounds are still
caught by their other identifiers, and the manifest says how many were skipped. A SMILES written differently from
the canonical one (Kekulé form, another atom order) is caught by parsing SMILES-like tokens with RDKit and comparing
their InChIKeys.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MIN_NAME_CHARS = 4
MIN_SMILES_CHARS = 5
TRIE_MAX_CHARS = 120  # longer names are few; they are found by a plain substring test (the trie recurses per char)
_INCHIKEY = re.compile(r"\b[A-Z]{14}-[A-Z]{10}-[A-Z]\b")
_SMILES_CHARS = r"A-Za-z0-9@+\-\[\]()=#$/\\%"
_SMILES_TOKEN = re.compile(rf"[{_SMILES_CHARS}]{{{MIN_SMILES_CHARS},}}")
_SMILES_HINT = re.compile(r"[()=#\[\]]|[A-Za-z]\d")  # branches, bonds or ring closures: not a plain word


@functools.lru_cache(maxsize=65536)
def _inchikey_of(token: str) -> str:
    """The InChIKey of a SMILES-like token ("" when it is not a structure); prose brackets around it are dropped."""
    from labloop.knowledge_base.chem import InvalidSmiles, canonicalize

    lead, trail = token.startswith("("), token.endswith(")")
    for candidate in (token, token[lead:len(token) - trail], token[lead:], token[:len(token) - trail]):
        try:
            return canonicalize(candidate, allow_mixtures=True).inchikey
        except InvalidSmiles:
            continue
    return ""


def _trie_pattern(terms: Iterable[str]) -> str:
    """A regex matching exactly `terms`, shaped as a trie so matching cost does not grow with their number."""
    trie: dict[str, dict] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@dataclass
class HeldOut:
    """Identifiers of held-out compounds (names compared case-insensitively)."""

    inchikeys: set[str] = field(default_factory=set)
    smiles: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(self, *, inchikey: str = "", smiles: str = "", names: Iterable[str] = ()) -> None:
        if inchikey:
            self.inchikeys.add(inchikey)
        if smiles:
            self.smiles.add(smiles)
        self.names.update(n.strip().lower() for n in names if n and n.strip())


class LeakMatcher:
    """`find(text)` returns the held-out identifiers that `text` mentions (empty when it is clean)."""

    def __init__(self, held_out: HeldOut) -> None:
        self.held_out = held_out
        names = sorted(n for n in held_out.names if MIN_NAME_CHARS <= len(n) <= TRIE_MAX_CHARS)
        self._long_names = sorted(n for n in held_out.names if len(n) > TRIE_MAX_CHARS)
        smiles = sorted(s for s in held_out.smiles if len(s) >= MIN_SMILES_CHARS)
        n_names = len(names) + len(self._long_names)
        self.skipped = {"names": len(held_out.names) - n_names, "smiles": len(held_out.smiles) - len(smiles)}
        self.searched = {"names": n_names, "smiles": len(smiles), "inchikeys": len(held_out.inchikeys)}
        self._names = (
            re.compile(rf"(?<![a-z0-9]){_trie_pattern(names)}(?![a-z0-9])") if names else None
        )
        self._smiles = (
            re.compile(rf"(?<![{_SMILES_CHARS}]){_trie_pattern(smiles)}(?![{_SMILES_CHARS}])") if smiles else None
        )

    def find(self, text: str) -> list[str]:
        hits = [k for k in _INCHIKEY.findall(text) if k in self.held_out.inchikeys]
        if self._smiles is not None:
            hits += self._smiles.findall(text)
        lowered = text.lower()
        if self._names is not None:
            hits += self._names.findall(lowered)
        hits += [n for n in self._long_names if n in lowered]
        if self.held_out.inchikeys:
            hits += [t for t in _SMILES_TOKEN.findall(text) if t not in hits and _SMILES_HINT.search(t)
                     and _inchikey_of(t) in self.held_out.inchikeys]
        return hits

    def describe(self) -> dict[str, dict[str, int]]:
        return {"searched": self.searched, "skipped_too_short": self.skipped}
