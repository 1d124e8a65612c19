"""Corpus test fixtures: a knowledge base with a dozen well-known compounds (textbook melting points)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from labloop.knowledge_base.chem import canonicalize
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import Molecule, MoleculeName, PropertyConsensus
from labloop.training.corpus.config import CorpusConfig

# name, SMILES, melting point in degC
COMPOUNDS = [
    ("benzoic acid", "OC(=O)c1ccccc1", 122.0),
    ("naphthalene", "c1ccc2ccccc2c1", 80.2),
    ("2,4-dinitrophenol", "Oc1ccc(cc1[N+]([O-])=O)[N+]([O-])=O", 114.5),
    ("urea", "NC(N)=O", 133.0),
    ("phenol", "Oc1ccccc1", 40.9),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", 236.0),
    ("acetanilide", "CC(=O)Nc1ccccc1", 114.3),
    ("vanillin", "COc1cc(C=O)ccc1O", 81.0),
    ("cyclohexane", "C1CCCCC1", 6.5),
    ("acetic acid", "CC(O)=O", 16.6),
    ("p-xylene", "Cc1ccc(C)cc1", 13.2),
    ("tert-butanol", "CC(C)(C)O", 25.5),
]


def add_compounds(engine: Engine, compounds=COMPOUNDS) -> None:
    with session_scope(engine) as session:
        for name, smiles, value in compounds:
            canonical = canonicalize(smiles)
            mol = Molecule(smiles=canonical.smiles, inchikey=canonical.inchikey, name=name)
            session.add(mol)
            session.flush()
            session.add(MoleculeName(molecule_id=mol.id, name=name, name_lower=name.lower()))
            session.add(PropertyConsensus(molecule_id=mol.id, property="melting_point", value=value, unit="degC",
                                          n_measurements=2, min_value=value - 0.5, max_value=value + 0.5))


@pytest.fixture
def kb(engine: Engine) -> Engine:
    add_compounds(engine)
    return engine


@pytest.fixture
def sqlite_kb(sqlite_engine: Engine) -> Engine:
    add_compounds(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def make_config(tmp_path: Path):
    def make(server, **overrides) -> CorpusConfig:
        values = dict(out_dir=tmp_path / "corpus", texts_per_fact=3, base_url=server.base_url, model="scripted-model",
                      test_fraction=0.25, validation_fraction=0.0, retries=1, concurrency=4, timeout_s=5.0)
        values.update(overrides)
        return CorpusConfig(**values)

    return make
