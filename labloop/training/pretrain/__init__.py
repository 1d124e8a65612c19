"""Continued pretraining of a local causal LM on a corpus directory."""

from labloop.training.pretrain.config import TrainConfig
from labloop.training.pretrain.loop import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
