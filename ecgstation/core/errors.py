"""Exception types of ECG Station; each carries a message a user can act on."""

from __future__ import annotations

from pathlib import Path


class EcgStationError(Exception):
    """Base of every error ECG Station raises on purpose.

    ``str(error)`` is the user-facing message.
    """


class EcgFormatError(EcgStationError):
    """A file cannot be read as an ECG; the message names the file and the reason."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.reason = reason
        where = f"Cannot read {self.path}: " if self.path else "Cannot read ECG: "
        super().__init__(f"{where}{reason}")


class SignalError(EcgStationError):
    """A signal cannot be processed as asked (wrong shape, sampling rate out of range, ...)."""
