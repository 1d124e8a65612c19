"""Typed errors of the robot driver, each with a message an operator can act on."""

from __future__ import annotations


class RobotError(RuntimeError):
    """Base class of everything the robot driver raises."""


class RobotConnectionError(RobotError):
    """The serial link could not be opened or was lost and could not be re-established."""


class CommandTimeout(RobotError):
    """No `ok` arrived in time (and no `busy:` keepalive extended the wait)."""

    def __init__(self, message: str, *, command: str, line_number: int | None) -> None:
        super().__init__(message)
        self.command, self.line_number = command, line_number


class FirmwareError(RobotError):
    """The firmware answered `Error:` to a command (e.g. a move outside the build volume)."""

    def __init__(self, message: str, *, command: str, line_number: int | None, firmware_message: str) -> None:
        super().__init__(message)
        self.command, self.line_number, self.firmware_message = command, line_number, firmware_message


class ResendLimitError(RobotError):
    """The firmware kept asking for the same line again: the link is too noisy to continue safely."""


class CommandInterrupted(RobotError):
    """The link dropped (or the firmware restarted) while a command was in flight. Whether the firmware
    executed it is unknown, so it is NOT resent; the caller decides (e.g. check the syringe volume)."""

    def __init__(self, message: str, *, command: str, line_number: int | None) -> None:
        super().__init__(message)
        self.command, self.line_number = command, line_number


class ProgramStopped(RobotError):
    """A G-code program was stopped on request between two commands (nothing was in flight)."""
