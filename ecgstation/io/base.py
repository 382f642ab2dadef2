"""The face every importer shows: a cheap content sniff and ``read(path) -> Recording``."""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from ecgstation.core.errors import EcgFormatError, SignalError
from ecgstation.core.recording import Recording

logger = logging.getLogger(__name__)

#: Bytes a sniff may look at.
SNIFF_BYTES = 4096

PathLike = str | os.PathLike[str]


def read_head(path: Path, n_bytes: int = SNIFF_BYTES) -> bytes:
    """The first ``n_bytes`` of a file (fewer if it is shorter)."""
    with open(path, "rb") as handle:
        return handle.read(n_bytes)


class Importer(ABC):
    """Reads one file format into a :class:`Recording`.

    Subclasses set ``name`` (shown to users, e.g. ``"WFDB"``), ``extensions``
    (lower-case with the dot, e.g. ``(".hea", ".dat")``) and ``option_names``
    (the keyword options ``read`` accepts), and implement ``_sniff``,
    ``_check_options`` and ``_read``.

    ``read`` guarantees its failure contract: a file that cannot be read raises
    exactly one :class:`EcgFormatError` naming the file and a reason; any other
    exception raised while reading (the libraries underneath raise many types)
    is logged and converted. Misuse of the API itself (an unknown option, an
    option of the wrong type) raises ``TypeError``/``ValueError`` before any
    file is touched.
    """

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    option_names: ClassVar[frozenset[str]] = frozenset()

    def sniff(self, path: PathLike) -> bool:
        """Whether the content at ``path`` looks like this format (reads only the first bytes).

        Never raises: an unreadable path is simply not this format.
        """
        try:
            return bool(self._sniff(Path(path)))
        except Exception:
            logger.debug("%s sniff of %s failed", self.name, path, exc_info=True)
            return False

    def read(self, path: PathLike, **options: Any) -> Recording:
        """Read the file at ``path``; raise :class:`EcgFormatError` if it cannot be read."""
        unknown = sorted(set(options) - self.option_names)
        if unknown:
            raise TypeError(f"{self.name} importer got unknown option(s): {', '.join(unknown)}")
        parsed = self._check_options(**options)
        p = Path(path)
        try:
            return self._read(p, parsed)
        except EcgFormatError:
            raise
        except SignalError as exc:
            raise EcgFormatError(p, str(exc)) from exc
        except IsADirectoryError as exc:
            raise EcgFormatError(p, "this is a folder, not a file") from exc
        except FileNotFoundError as exc:
            missing = exc.filename or p
            raise EcgFormatError(p, f"file not found: {missing}") from exc
        except PermissionError as exc:
            raise EcgFormatError(p, "permission denied: the file cannot be opened") from exc
        except OSError as exc:
            raise EcgFormatError(p, f"the file cannot be read ({exc.strerror or exc})") from exc
        except MemoryError as exc:
            raise EcgFormatError(p, "the file is too large to load into memory") from exc
        except Exception as exc:
            logger.warning("unexpected %s while reading %s as %s", type(exc).__name__, p, self.name, exc_info=True)
            detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise EcgFormatError(p, f"the file is damaged or not a valid {self.name} file ({detail})") from exc

    @abstractmethod
    def _sniff(self, path: Path) -> bool:
        """Content check; may raise (``sniff`` turns any exception into False)."""

    @abstractmethod
    def _check_options(self, **options: Any) -> Any:
        """Validate the keyword options; return them in the form ``_read`` takes."""

    @abstractmethod
    def _read(self, path: Path, options: Any) -> Recording:
        """Read the file; raise :class:`EcgFormatError` for every problem it recognises."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
