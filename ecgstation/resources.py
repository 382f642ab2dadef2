"""Locate the bundled resources (sample recordings) in a source tree, a wheel or a frozen app.

The resources live in ``resources/`` at the repository root, outside the package.
They are found, first match wins, at:

1. ``$ECGSTATION_RESOURCES`` (an explicit override; it must hold ``samples/samples.json``);
2. ``<sys._MEIPASS>/resources`` in a PyInstaller-frozen application;
3. ``<repository>/resources`` beside the ``ecgstation`` package (source checkout and
   ``pip install -e .``);
4. ``<prefix>/share/ecgstation/resources`` where a wheel installs its data files
   (``sys.prefix`` for a virtual environment or system install, the user base for
   ``pip install --user``).
"""

from __future__ import annotations

import json
import logging
import os
import site
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecgstation.core.errors import EcgStationError

__all__ = [
    "ENV_VAR",
    "ResourceError",
    "Sample",
    "candidate_dirs",
    "get_sample",
    "list_samples",
    "resources_dir",
    "samples_dir",
]

logger = logging.getLogger(__name__)

#: Environment variable that points at a resources folder and overrides the search.
ENV_VAR = "ECGSTATION_RESOURCES"

#: The catalogue that marks a folder as ECG Station's resources, relative to that folder.
_CATALOGUE = Path("samples") / "samples.json"

#: Where a wheel's data files land, relative to the installation prefix.
_INSTALLED_SUBDIR = Path("share") / "ecgstation" / "resources"


class ResourceError(EcgStationError):
    """The bundled resources are missing or damaged; the message says what to do."""


@dataclass(frozen=True)
class Sample:
    """One bundled sample recording, as described by ``samples/samples.json``.

    ``path`` is the absolute path of the file to open (a WFDB ``.hea`` header);
    ``files`` every file that belongs to the record; ``fs_hz`` the sampling rate in Hz;
    ``duration_s`` the length in seconds; ``annotator`` the WFDB annotation extension
    (``"atr"``) or ``None`` when the record carries no reference annotations.
    """

    id: str
    title: str
    description: str
    path: Path
    files: tuple[Path, ...]
    leads: tuple[str, ...]
    fs_hz: float
    n_samples: int
    duration_s: float
    annotator: str | None
    source: str
    licence: str

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return len(self.leads)


def _is_resources_dir(path: Path) -> bool:
    return (path / _CATALOGUE).is_file()


def candidate_dirs() -> Iterator[Path]:
    """Yield, in order of preference, every folder that may hold the resources."""
    override = os.environ.get(ENV_VAR)
    if override:
        yield Path(override).expanduser()
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        yield Path(meipass) / "resources"
    yield Path(__file__).resolve().parent.parent / "resources"
    prefixes = [sysconfig.get_path("data"), sys.prefix, site.getuserbase()]
    seen: set[Path] = set()
    for prefix in prefixes:
        if not prefix:
            continue
        candidate = Path(prefix) / _INSTALLED_SUBDIR
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def resources_dir() -> Path:
    """The folder of the bundled resources.

    Raises ResourceError when ``$ECGSTATION_RESOURCES`` names a folder without a
    sample catalogue, or when no candidate folder holds one.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not _is_resources_dir(path):
            raise ResourceError(
                f"{ENV_VAR} is set to {path}, but {path / _CATALOGUE} does not exist; "
                f"point {ENV_VAR} at the 'resources' folder of ECG Station or unset it."
            )
        return path.resolve()
    for candidate in candidate_dirs():
        if _is_resources_dir(candidate):
            logger.debug("resources found at %s", candidate)
            return candidate.resolve()
    raise ResourceError(
        "The bundled sample recordings of ECG Station were not found; reinstall ECG Station "
        f"or set {ENV_VAR} to its 'resources' folder."
    )


def samples_dir() -> Path:
    """The folder of the bundled sample recordings."""
    return resources_dir() / "samples"


def _field(entry: dict[str, Any], key: str, where: Path) -> Any:
    try:
        return entry[key]
    except KeyError:
        raise ResourceError(f"{where}: a sample entry lacks the field '{key}'") from None


def _parse_sample(entry: Any, folder: Path, where: Path) -> Sample:
    if not isinstance(entry, dict):
        raise ResourceError(f"{where}: each sample must be a JSON object")
    annotator = entry.get("annotator")
    try:
        files = tuple(folder / str(name) for name in _field(entry, "files", where))
        return Sample(
            id=str(_field(entry, "id", where)),
            title=str(_field(entry, "title", where)),
            description=str(_field(entry, "description", where)),
            path=folder / str(_field(entry, "file", where)),
            files=files,
            leads=tuple(str(lead) for lead in _field(entry, "leads", where)),
            fs_hz=float(_field(entry, "fs_hz", where)),
            n_samples=int(_field(entry, "n_samples", where)),
            duration_s=float(_field(entry, "duration_s", where)),
            annotator=None if annotator is None else str(annotator),
            source=str(_field(entry, "source", where)),
            licence=str(_field(entry, "licence", where)),
        )
    except (TypeError, ValueError) as exc:
        raise ResourceError(f"{where}: a sample entry has a field of the wrong type ({exc})") from None


def _load_catalogue(folder: Path) -> tuple[Sample, ...]:
    where = folder / "samples.json"
    try:
        document = json.loads(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResourceError(f"Cannot read the sample catalogue {where}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ResourceError(f"The sample catalogue {where} is not valid JSON (line {exc.lineno}).") from None
    entries = document.get("samples") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ResourceError(f"{where}: expected an object with a 'samples' list")
    return tuple(_parse_sample(entry, folder, where) for entry in entries)


def list_samples() -> tuple[Sample, ...]:
    """Every bundled sample, in catalogue order."""
    return _load_catalogue(samples_dir())


def get_sample(sample_id: str) -> Sample:
    """The bundled sample called ``sample_id`` (e.g. ``"100"``); ResourceError if unknown."""
    samples = list_samples()
    for sample in samples:
        if sample.id == sample_id:
            return sample
    known = ", ".join(s.id for s in samples)
    raise ResourceError(f"There is no bundled sample '{sample_id}'; the samples are: {known}.")
