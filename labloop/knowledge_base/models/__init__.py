"""All knowledge-base tables. Importing this module registers every table on SQLModel.metadata."""

from labloop.knowledge_base.models.experiments import DeviceEvent, Experiment, Frame, Gap, Result, Run, RunStatus
from labloop.knowledge_base.models.molecules import (
    Molecule,
    MoleculeName,
    PropertyConsensus,
    PropertyMeasurement,
)
from labloop.knowledge_base.models.observations import (
    HumanLabel,
    Note,
    NoteKind,
    NoteRevision,
    Observation,
    ObserverEvent,
    ProvenanceMixin,
)
from labloop.knowledge_base.models.training import CorpusBuild, ModelVersion, TrainingRun

__all__ = [
    "CorpusBuild",
    "DeviceEvent",
    "Experiment",
    "Frame",
    "Gap",
    "HumanLabel",
    "ModelVersion",
    "Molecule",
    "MoleculeName",
    "Note",
    "NoteKind",
    "NoteRevision",
    "Observation",
    "ObserverEvent",
    "PropertyConsensus",
    "PropertyMeasurement",
    "ProvenanceMixin",
    "Result",
    "Run",
    "RunStatus",
    "TrainingRun",
]
