"""Exception types of the inference layer; messages name the model file and the reason."""

from __future__ import annotations

from pathlib import Path

from ecgstation.core.errors import EcgStationError


class ModelError(EcgStationError):
    """A model cannot be used: card missing or invalid, ONNX file missing, checksum mismatch, ...

    ``model`` is the file the message is about (a card or an ``.onnx`` file), ``reason``
    the cause; ``str(error)`` is ``"<model>: <reason>"``.
    """

    def __init__(self, model: str | Path | None, reason: str) -> None:
        self.model = None if model is None else str(model)
        self.reason = reason
        super().__init__(f"{self.model}: {reason}" if self.model else reason)


class ModelContractError(ModelError):
    """An input does not match a model's contract (wrong shape or dtype, missing lead, fs out of range, ...)."""
