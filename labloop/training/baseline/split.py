"""Compound-level train/test splits for the baseline: random, or by Bemis-Murcko scaffold (unseen chemotypes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np


def random_split(n: int, *, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction))) if n > 1 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def scaffold_split(smiles: Sequence[str], *, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole scaffold groups go to train, largest first, until it is full; the rarer scaffolds form the test set."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(smiles):
        mol = Chem.MolFromSmiles(text)
        key = MurckoScaffold.MurckoScaffoldSmiles(mol=mol) if mol is not None else text
        groups[key].append(i)
    rng = np.random.default_rng(seed)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), rng.random()))
    limit = len(smiles) * (1.0 - test_fraction)
    train: list[int] = []
    test: list[int] = []
    for group in ordered:
        (train if len(train) + len(group) <= limit else test).extend(group)
    return np.array(sorted(train), dtype=int), np.array(sorted(test), dtype=int)
