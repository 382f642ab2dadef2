"""The models on disk: every model card in a folder, and where that folder is.

The models live in ``models/`` at the repository root, outside the package. The folder
is found, first match wins, at:

1. ``$ECGSTATION_MODELS`` (an explicit override; it must be a folder);
2. ``<sys._MEIPASS>/models`` in a PyInstaller-frozen application;
3. ``<repository>/models`` beside the ``ecgstation`` package (source checkout and
   ``pip install -e .``);
4. ``<prefix>/share/ecgstation/models`` where a wheel installs its data files.
"""

from __future__ import annotations

import logging
import os
import site
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from ecgstation.inference.errors import ModelError
from ecgstation.inference.model_card import ModelCard, load_model_card
from ecgstation.inference.onnx_model import OnnxModel

__all__ = ["ENV_VAR", "ModelRegistry", "candidate_dirs", "default_models_dir"]

logger = logging.getLogger(__name__)

#: Environment variable that points at a models folder and overrides the search.
ENV_VAR = "ECGSTATION_MODELS"

#: Where a wheel's data files land, relative to the installation prefix.
_INSTALLED_SUBDIR = Path("share") / "ecgstation" / "models"


def candidate_dirs() -> Iterator[Path]:
    """Yield, in order of preference, every folder that may hold the models."""
    override = os.environ.get(ENV_VAR)
    if override:
        yield Path(override).expanduser()
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        yield Path(meipass) / "models"
    yield Path(__file__).resolve().parents[2] / "models"
    seen: set[Path] = set()
    for prefix in (sysconfig.get_path("data"), sys.prefix, site.getuserbase()):
        if not prefix:
            continue
        candidate = Path(prefix) / _INSTALLED_SUBDIR
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def default_models_dir() -> Path:
    """The models folder; ModelError when ``$ECGSTATION_MODELS`` is not a folder or none is found."""
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise ModelError(path, f"{ENV_VAR} names this folder, but it does not exist; fix or unset {ENV_VAR}")
        return path.resolve()
    for candidate in candidate_dirs():
        if candidate.is_dir():
            logger.debug("models found at %s", candidate)
            return candidate.resolve()
    raise ModelError(None, f"The models folder of ECG Station was not found; reinstall it or set {ENV_VAR}.")


class ModelRegistry:
    """The valid model cards of one folder, by model name; the invalid ones listed in ``problems``.

    Cards are read and checked (including that their ONNX file exists) when the registry
    is built; a session is opened only by :meth:`load`, which also checks the checksum.
    """

    def __init__(self, folder: Path, cards: dict[str, ModelCard], problems: list[str]) -> None:
        self.folder = folder
        self._cards = dict(cards)
        #: One message per card that could not be registered (file and reason).
        self.problems: list[str] = list(problems)

    @classmethod
    def from_folder(cls, models_dir: str | Path | None = None) -> ModelRegistry:
        """Read every ``*.json`` card in ``models_dir`` (default: :func:`default_models_dir`).

        Never raises for a bad card: a card that is unreadable or invalid, names a missing
        ONNX file, or repeats another card's model name goes to ``problems``. A folder
        that does not exist is itself a problem (and gives an empty registry).
        """
        folder = default_models_dir() if models_dir is None else Path(models_dir)
        cards: dict[str, ModelCard] = {}
        problems: list[str] = []
        if not folder.is_dir():
            problems.append(f"{folder}: the models folder does not exist")
            return cls(folder, cards, problems)
        for path in sorted(folder.glob("*.json")):
            try:
                card = load_model_card(path)
            except ModelError as exc:
                problems.append(str(exc))
                continue
            if not card.onnx_path.is_file():
                problems.append(f"{path}: the ONNX file {card.onnx_file} named by the card does not exist")
                continue
            if card.name in cards:
                first = cards[card.name].card_path
                problems.append(f"{path}: the model name '{card.name}' is already used by {first}")
                continue
            cards[card.name] = card
        for problem in problems:
            logger.warning("model card skipped: %s", problem)
        return cls(folder, cards, problems)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the registered models, sorted."""
        return tuple(sorted(self._cards))

    def cards(self) -> tuple[ModelCard, ...]:
        """The registered cards, sorted by model name."""
        return tuple(self._cards[name] for name in self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._cards

    def __len__(self) -> int:
        return len(self._cards)

    def get(self, name: str) -> ModelCard:
        """The card of the model called ``name``; ModelError listing the known models if there is none."""
        try:
            return self._cards[name]
        except KeyError:
            known = ", ".join(self.names) or "none"
            raise ModelError(self.folder, f"there is no model '{name}'; the models are: {known}") from None

    def load(self, name: str, intra_op_threads: int | None = None) -> OnnxModel:
        """Open the model called ``name`` (checksum and session checks as :meth:`OnnxModel.load`)."""
        return OnnxModel.from_card(self.get(name), intra_op_threads=intra_op_threads)
