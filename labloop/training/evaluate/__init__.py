"""Evaluation with the source's `#Reason`/`#Prediction` prompt against an endpoint or in-process."""

from labloop.training.evaluate.backends import Answer, EndpointBackend, InProcessBackend
from labloop.training.evaluate.data import EvalRow, read_eval_data
from labloop.training.evaluate.extract import Extraction, extract_prediction
from labloop.training.evaluate.metrics import METRIC_KEYS, compute_metrics
from labloop.training.evaluate.prompt import EvalPrompt
from labloop.training.evaluate.run import EvalReport, corpus_splits, evaluate_rows

__all__ = [
    "METRIC_KEYS", "Answer", "EndpointBackend", "EvalPrompt", "EvalReport", "EvalRow", "Extraction",
    "InProcessBackend", "compute_metrics", "corpus_splits", "evaluate_rows", "extract_prediction", "read_eval_data",
]
