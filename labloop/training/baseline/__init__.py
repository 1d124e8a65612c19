"""The random-forest baseline on RDKit descriptors and a Morgan fingerprint."""

from labloop.training.baseline.model import LABEL, Baseline, load_baseline, train_baseline

__all__ = ["LABEL", "Baseline", "load_baseline", "train_baseline"]
