"""Structure identity with RDKit: canonical SMILES and InChIKey, with a reason when a SMILES is refused."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem, RDLogger

RDLogger.DisableLog("rdApp.*")


class InvalidSmiles(ValueError):
    """A SMILES that RDKit cannot turn into one molecule; the message says why."""


@dataclass(frozen=True)
class Canonical:
    smiles: str
    inchikey: str


@lru_cache(maxsize=65536)
def canonicalize(smiles: str, *, allow_mixtures: bool = False) -> Canonical:
    """RDKit canonical SMILES + InChIKey. Salts and mixtures ('.' fragments) are refused unless allowed."""
    text = (smiles or "").strip()
    if not text:
        raise InvalidSmiles("empty SMILES")
    if any(ch.isspace() for ch in text):
        raise InvalidSmiles("SMILES contains whitespace")
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise InvalidSmiles("unparseable SMILES (syntax error)")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several unrelated exception types for chemistry problems
        raise InvalidSmiles(f"unparseable SMILES: {exc}".strip()) from None
    if not allow_mixtures and len(Chem.GetMolFrags(mol)) > 1:
        raise InvalidSmiles("salt or mixture (several disconnected fragments)")
    canonical = Chem.MolToSmiles(mol)
    inchikey = Chem.MolToInchiKey(mol)
    if not inchikey:
        raise InvalidSmiles("RDKit could not compute an InChIKey")
    return Canonical(smiles=canonical, inchikey=inchikey)

