"""Importers that turn ECG files into :class:`~ecgstation.core.recording.Recording` objects."""

from __future__ import annotations

from typing import Any

from ecgstation.core.recording import Recording
from ecgstation.io.base import Importer, PathLike
from ecgstation.io.registry import ImporterRegistry, default_registry

__all__ = ["Importer", "ImporterRegistry", "default_registry", "read_recording", "sniff_format"]


def read_recording(
    path: PathLike,
    *,
    registry: ImporterRegistry | None = None,
    format: str | None = None,
    **options: Any,
) -> Recording:
    """Read the ECG at ``path`` with the importer its content (else its extension) calls for.

    ``format`` forces an importer by name (``"WFDB"``, ``"CSV"``); ``options`` go to
    the importer that accepts them (e.g. ``fs=500`` in Hz and ``units="uV"`` for CSV,
    ``annotator="qrs"`` for WFDB). Raises :class:`~ecgstation.core.errors.EcgFormatError`
    naming the file when it cannot be read.
    """
    reg = registry if registry is not None else default_registry()
    return reg.read(path, format=format, **options)


def sniff_format(path: PathLike, *, registry: ImporterRegistry | None = None) -> str | None:
    """Name of the importer that would read ``path`` (``"WFDB"``, ``"CSV"``), or None."""
    reg = registry if registry is not None else default_registry()
    return reg.sniff_format(path)
