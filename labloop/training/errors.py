"""Typed errors of the learning loop; each message says what was wrong and what to do about it."""

from __future__ import annotations


class TrainingError(RuntimeError):
    """Base class: an expected failure of training, evaluation, registry or serving (no traceback in the CLI)."""


class BaseModelError(TrainingError):
    """The base-model directory is missing, not a directory, or not a causal language model."""


class CorpusInputError(TrainingError):
    """A corpus directory is incomplete or its manifest does not match its files."""


class EvalDataError(TrainingError):
    """An evaluation or baseline CSV cannot be used (missing columns, no usable rows)."""


class RegistryError(TrainingError):
    """A model version is unknown, incomplete, or a promotion/rollback is not possible."""


class RetrainLocked(TrainingError):
    """Another `labloop retrain` holds the lock."""
