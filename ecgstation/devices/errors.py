"""Errors of the device layer: a device that cannot be reached and a frame that is refused."""

from __future__ import annotations

from ecgstation.core.errors import EcgStationError

__all__ = ["DeviceError", "FrameError"]


class DeviceError(EcgStationError):
    """A device cannot be used as asked (not found, not paired, link lost, bad setting).

    ``str(error)`` is the user-facing message: what went wrong and what to do.
    """


class FrameError(DeviceError):
    """A received frame was refused; ``reason`` says why (e.g. "truncated: 17 of 229 bytes").

    Sources log it, emit an ``error`` status and go on with the next frame.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"frame refused: {reason}")
