"""What one observer invocation is given (not checkpointed): database, frame store, vision model, knobs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from labloop.agents.describe import VisionDescriber
from labloop.agents.observer.alerts import AlertSink
from labloop.agents.vision import Calibration, Roi
from labloop.knowledge_base.frame_store import FrameStore


@dataclass
class ObserverContext:
    engine: Engine
    frame_store: FrameStore
    describer: VisionDescriber | None = None
    calibration: Calibration = field(default_factory=Calibration.default)
    roi: Roi | None = None
    describe_every: int = 12
    """ask the vision model about every N-th frame ..."""
    haze_trigger: float = 0.08
    """... or as soon as the haze index moved this much since the last description"""
    baseline_frames: int = 3
    onset_rise: float = 0.75
    """score points above the run's baseline, on two frames in a row, that mark the turbidity onset"""
    sudden_change: float = 1.5
    disagreement: float = 1.5
    gap_factor: float = 3.0
    """a pause between frames longer than this many typical intervals is a camera gap"""
    follow: bool = False
    """wait for new frames while the run is still recording"""
    poll_s: float = 2.0
    frame_signal: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    alerts: AlertSink = field(default_factory=AlertSink)
    on_frame: Callable[[dict[str, Any]], None] | None = None
