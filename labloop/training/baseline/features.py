"""RDKit features for the baseline: all RDKit 2D descriptors plus a 1024-bit Morgan count fingerprint (radius 2)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

FINGERPRINT_BITS = 1024
FINGERPRINT_RADIUS = 2
FEATURE_SPEC = {"descriptors": "rdkit.Chem.Descriptors.CalcMolDescriptors (all)",
                "morgan": {"radius": FINGERPRINT_RADIUS, "bits": FINGERPRINT_BITS, "counts": True}}
_CLIP = 1e9


def descriptor_names() -> list[str]:
    from rdkit.Chem import Descriptors

    return [name for name, _ in Descriptors._descList]


def _one(smiles: str) -> np.ndarray | None:
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Descriptors, rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    descriptors = np.fromiter(Descriptors.CalcMolDescriptors(mol).values(), dtype=np.float64)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=FINGERPRINT_RADIUS, fpSize=FINGERPRINT_BITS)
    return np.concatenate([descriptors, generator.GetCountFingerprintAsNumPy(mol).astype(np.float64)])


def featurize(smiles: Sequence[str], *, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(features, ok): one row per SMILES; rows RDKit cannot parse are zeros with ok=False."""
    if n_jobs > 1 and len(smiles) > 500:
        with ProcessPoolExecutor(n_jobs) as pool:
            vectors = list(pool.map(_one, smiles, chunksize=250))
    else:
        vectors = [_one(s) for s in smiles]
    width = len(descriptor_names()) + FINGERPRINT_BITS
    ok = np.array([v is not None for v in vectors], dtype=bool)
    out = np.zeros((len(vectors), width), dtype=np.float32)
    for i, vector in enumerate(vectors):
        if vector is not None:
            out[i] = np.clip(np.nan_to_num(vector, nan=0.0, posinf=_CLIP, neginf=-_CLIP), -_CLIP, _CLIP)
    return out, ok
