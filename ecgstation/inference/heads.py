"""Output heads of a model: which slice of its output vector is a softmax over which classes.

A card may declare ``"heads"``: a list of ``{"name", "activation": "softmax" | "sigmoid",
"classes": [...], "thresholds": [...]}`` whose classes, in order, make up the card's
``classes``. A card without heads has one softmax head over all its classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecgstation.inference.errors import ModelError
from ecgstation.inference.model_card import ModelCard

__all__ = ["OutputHead", "output_heads"]

_ACTIVATIONS = ("softmax", "sigmoid")


@dataclass(frozen=True)
class OutputHead:
    """One head: ``classes`` occupy output columns ``start .. start + len(classes) - 1``.

    ``activation`` is ``"softmax"`` (exactly one class; the output already sums to 1) or
    ``"sigmoid"`` (independent classes, each present when its probability reaches its
    ``thresholds`` entry, 0.5 unless the card says otherwise).
    """

    name: str
    activation: str
    classes: tuple[str, ...]
    start: int
    thresholds: tuple[float, ...]

    def probabilities(self, output: NDArray[np.float32]) -> NDArray[np.float32]:
        """This head's columns of a model output ``(n, n_classes)``."""
        return output[:, self.start : self.start + len(self.classes)]


def _head(card: ModelCard, index: int, raw: Any, start: int) -> OutputHead:
    where = card.card_path or card.name
    if not isinstance(raw, Mapping):
        raise ModelError(where, f"heads[{index}] must be an object")
    name, activation, classes = raw.get("name"), raw.get("activation"), raw.get("classes")
    if not isinstance(name, str) or not name:
        raise ModelError(where, f"heads[{index}] needs a name")
    if activation not in _ACTIVATIONS:
        raise ModelError(where, f"heads[{index}] activation must be softmax or sigmoid, not {activation!r}")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise ModelError(where, f"heads[{index}] needs a non-empty list of class names")
    thresholds_raw = raw.get("thresholds", [0.5] * len(classes))
    if (
        not isinstance(thresholds_raw, list)
        or len(thresholds_raw) != len(classes)
        or not all(isinstance(t, (int, float)) and 0.0 <= float(t) <= 1.0 for t in thresholds_raw)
    ):
        raise ModelError(where, f"heads[{index}] thresholds must be {len(classes)} numbers in 0-1")
    return OutputHead(name, str(activation), tuple(classes), start, tuple(float(t) for t in thresholds_raw))


def output_heads(card: ModelCard) -> tuple[OutputHead, ...]:
    """The card's heads; ModelError when they do not add up to the card's classes."""
    raw = card.extra.get("heads")
    if raw is None:
        return (OutputHead("output", "softmax", card.classes, 0, (0.5,) * card.n_classes),)
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ModelError(card.card_path or card.name, "heads must be a non-empty list")
    heads: list[OutputHead] = []
    start = 0
    for i, item in enumerate(raw):
        head = _head(card, i, item, start)
        heads.append(head)
        start += len(head.classes)
    joined = tuple(c for h in heads for c in h.classes)
    if joined != card.classes:
        raise ModelError(
            card.card_path or card.name,
            f"the heads' classes {list(joined)} are not the card's classes {list(card.classes)}",
        )
    return tuple(heads)
