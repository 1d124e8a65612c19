"""Driver for Marlin/RepRap-protocol dispensing robots (G-code over a pyserial URL)."""

from labloop.devices.marlin.driver import DriverStats, MarlinDriver, ProgramSummary
from labloop.devices.marlin.errors import (
    CommandInterrupted,
    CommandTimeout,
    FirmwareError,
    ProgramStopped,
    ResendLimitError,
    RobotConnectionError,
    RobotError,
)
from labloop.devices.marlin.gcode import GCodeLimits, GCodeValidationError, parse_program
from labloop.devices.marlin.protocol import Position, Reply, ReplyKind, checksum, classify, frame_line

__all__ = [
    "CommandInterrupted", "CommandTimeout", "DriverStats", "FirmwareError", "GCodeLimits", "GCodeValidationError",
    "MarlinDriver", "Position", "ProgramStopped", "ProgramSummary", "Reply", "ReplyKind", "ResendLimitError", "RobotConnectionError",
    "RobotError", "checksum", "classify", "frame_line", "parse_program",
]
