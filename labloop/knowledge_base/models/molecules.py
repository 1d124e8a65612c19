"""Molecules and their measured properties (e.g. Bradley melting points), with a consensus per structure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from labloop.knowledge_base.types import utc_field


class Molecule(SQLModel, table=True):
    """One structure, identified by its RDKit canonical SMILES."""

    id: int | None = Field(default=None, primary_key=True)
    smiles: str = Field(unique=True, description="RDKit canonical SMILES")
    inchikey: str = Field(index=True)
    name: str = Field(default="", index=True, description="Preferred name (first seen)")
    created_at: datetime = utc_field(default_now=True)


class MoleculeName(SQLModel, table=True):
    """Every name a molecule was recorded under; `name_lower` makes case-insensitive lookup indexable."""

    __table_args__ = (UniqueConstraint("molecule_id", "name", name="uq_moleculename"),)

    id: int | None = Field(default=None, primary_key=True)
    molecule_id: int = Field(foreign_key="molecule.id", index=True)
    name: str
    name_lower: str = Field(index=True)


class PropertyMeasurement(SQLModel, table=True):
    """One reported value with its source; re-importing the same dataset row adds nothing."""

    __table_args__ = (UniqueConstraint("dataset", "source_key", "property", name="uq_measurement_source"),)

    id: int | None = Field(default=None, primary_key=True)
    molecule_id: int = Field(foreign_key="molecule.id", index=True)
    property: str = Field(index=True)
    value: float
    unit: str
    dataset: str = Field(description="Which import this came from (the --source name)")
    source_key: str = Field(description="Row identity inside the dataset (e.g. Bradley's key column)")
    source: str = Field(default="", description="Who reported it (publisher, paper)")
    link: str = ""
    raw_smiles: str = ""
    raw_name: str = ""
    created_at: datetime = utc_field(default_now=True)


class PropertyConsensus(SQLModel, table=True):
    """Median of all measurements of one property of one molecule, with their spread."""

    __table_args__ = (UniqueConstraint("molecule_id", "property", name="uq_consensus"),)

    id: int | None = Field(default=None, primary_key=True)
    molecule_id: int = Field(foreign_key="molecule.id", index=True)
    property: str = Field(index=True)
    value: float
    unit: str
    n_measurements: int
    min_value: float
    max_value: float
    updated_at: datetime = utc_field(default_now=True)
