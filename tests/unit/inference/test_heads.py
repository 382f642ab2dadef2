"""Model-card output heads: default single softmax head; declared heads must add up to the classes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from ecgstation.inference.errors import ModelError
from ecgstation.inference.heads import output_heads
from ecgstation.inference.model_card import ModelCard, load_model_card

TINY_CARD = Path(__file__).resolve().parents[2] / "data" / "tiny_beat_model.json"


@pytest.fixture()
def card() -> ModelCard:
    return load_model_card(TINY_CARD)


def _with(card, classes, heads):
    return dataclasses.replace(card, classes=tuple(classes), extra=MappingProxyType({"heads": heads}))


def test_default_head_is_one_softmax(card) -> None:
    (head,) = output_heads(card)
    assert head.activation == "softmax" and head.classes == card.classes and head.start == 0


def test_two_heads_slice_the_output(card) -> None:
    c = _with(card, ["A", "B", "X", "Y", "Z"], [
        {"name": "rhythm", "activation": "softmax", "classes": ["A", "B"]},
        {"name": "dx", "activation": "sigmoid", "classes": ["X", "Y", "Z"], "thresholds": [0.3, 0.5, 0.7]},
    ])  # fmt: skip
    rhythm, dx = output_heads(c)
    assert dx.start == 2 and dx.thresholds == (0.3, 0.5, 0.7)
    out = np.arange(10, dtype=np.float32).reshape(2, 5)
    assert dx.probabilities(out).tolist() == [[2, 3, 4], [7, 8, 9]]
    assert rhythm.probabilities(out).shape == (2, 2)


@pytest.mark.parametrize(
    ("heads", "message"),
    [
        ([{"name": "r", "activation": "softmax", "classes": ["A"]}], "are not the card's classes"),
        ([{"name": "r", "activation": "relu", "classes": ["A", "B"]}], "softmax or sigmoid"),
        ([{"name": "r", "activation": "sigmoid", "classes": ["A", "B"], "thresholds": [2, 0]}], "thresholds"),
        ([{"activation": "softmax", "classes": ["A", "B"]}], "needs a name"),
        ("rhythm", "non-empty list"),
    ],
)
def test_bad_heads_are_refused(card, heads, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        output_heads(_with(card, ["A", "B"], heads))
