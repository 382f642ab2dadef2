"""Chooses the importer for a file: by content first, then by extension."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Recording
from ecgstation.io.base import Importer, PathLike

logger = logging.getLogger(__name__)


class ImporterRegistry:
    """An ordered set of importers; earlier ones win when several claim a file.

    There is no global instance: build one with :func:`default_registry` (or by
    hand, for tests and plug-ins) and pass it where it is needed.
    """

    def __init__(self, importers: Iterable[Importer] = ()) -> None:
        self._importers: list[Importer] = []
        for importer in importers:
            self.register(importer)

    def register(self, importer: Importer) -> None:
        """Add ``importer`` after those already registered; ValueError if its name is taken."""
        if any(i.name.lower() == importer.name.lower() for i in self._importers):
            raise ValueError(f"an importer called {importer.name!r} is already registered")
        self._importers.append(importer)

    @property
    def importers(self) -> tuple[Importer, ...]:
        """The registered importers, in order of preference."""
        return tuple(self._importers)

    @property
    def option_names(self) -> frozenset[str]:
        """Every option some registered importer accepts."""
        names: set[str] = set()
        for importer in self._importers:
            names |= importer.option_names
        return frozenset(names)

    def get(self, name: str) -> Importer:
        """The importer called ``name`` (case-insensitive); KeyError if none."""
        for importer in self._importers:
            if importer.name.lower() == name.lower():
                return importer
        raise KeyError(name)

    def choose(self, path: PathLike) -> Importer:
        """The importer for ``path``: the first whose sniff accepts the content, else the
        first that lists the file's extension; EcgFormatError naming the file if none."""
        p = Path(path)
        if p.is_dir():
            raise EcgFormatError(p, "this is a folder, not a file")
        if p.exists() and not p.is_file():
            raise EcgFormatError(p, "not a regular file")
        for importer in self._importers:
            if importer.sniff(p):
                logger.debug("%s chosen for %s by content", importer.name, p)
                return importer
        if not p.exists():
            raise EcgFormatError(p, "file not found")
        try:
            empty = p.stat().st_size == 0
        except OSError as exc:
            raise EcgFormatError(p, f"the file cannot be read ({exc.strerror or exc})") from exc
        if empty:
            raise EcgFormatError(p, "the file is empty")
        suffix = p.suffix.lower()
        for importer in self._importers:
            if suffix and suffix in importer.extensions:
                logger.debug("%s chosen for %s by extension", importer.name, p)
                return importer
        supported = "; ".join(f"{i.name} ({', '.join(i.extensions)})" for i in self._importers)
        raise EcgFormatError(p, f"not a recognised ECG file format (supported: {supported or 'none'})")

    def sniff_format(self, path: PathLike) -> str | None:
        """Name of the importer :meth:`read` would use for ``path``, or None if none fits."""
        try:
            return self.choose(path).name
        except EcgFormatError:
            return None

    def read(self, path: PathLike, *, format: str | None = None, **options: Any) -> Recording:
        """Read ``path`` with the importer chosen by :meth:`choose` (or the one named ``format``).

        ``options`` are passed on to the importer that accepts them and ignored by
        the others (``fs=`` matters to CSV, not to WFDB); an option no registered
        importer knows raises TypeError.
        """
        unknown = sorted(set(options) - self.option_names)
        if unknown:
            raise TypeError(f"unknown import option(s): {', '.join(unknown)}")
        if format is not None:
            try:
                importer = self.get(format)
            except KeyError:
                names = ", ".join(i.name for i in self._importers)
                raise ValueError(f"no importer called {format!r} (registered: {names})") from None
        else:
            importer = self.choose(path)
        accepted = {k: v for k, v in options.items() if k in importer.option_names}
        return importer.read(path, **accepted)


def default_registry() -> ImporterRegistry:
    """A fresh registry with ECG Station's importers, most specific first (WFDB, CSV)."""
    from ecgstation.io.csv_reader import CsvImporter
    from ecgstation.io.wfdb_reader import WfdbImporter

    return ImporterRegistry([WfdbImporter(), CsvImporter()])
