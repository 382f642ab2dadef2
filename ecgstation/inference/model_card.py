"""Model cards: the JSON document beside each ONNX model, read and validated into a frozen dataclass."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ecgstation.inference.errors import ModelError

__all__ = ["ANY_ONE_LEAD", "CARD_KEYS", "SUPPORTED_DTYPES", "InputSpec", "ModelCard", "load_model_card"]

#: The ``leads`` entry of a single-lead model that accepts any lead (the first one is taken).
ANY_ONE_LEAD = "any-1"

#: Input dtypes a card may declare (the ONNX type each one maps to is in onnx_model.py).
SUPPORTED_DTYPES = ("float32",)

#: Every key a card must carry; any other key is kept in ``ModelCard.extra``.
CARD_KEYS = (
    "name",
    "version",
    "task",
    "classes",
    "inputs",
    "output_name",
    "fs_hz",
    "window_samples",
    "window_start_s",
    "leads",
    "normalisation",
    "onnx_file",
    "onnx_sha256",
    "training",
    "metrics",
    "date",
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class InputSpec:
    """One named input tensor of a model.

    ``shape`` has one entry per axis: a positive size, or ``None`` for a free axis (the
    batch axis, first, is always free). ``dtype`` is a numpy dtype name (``"float32"``).
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"

    def describe(self) -> str:
        """The shape as text, the batch axis as ``n`` and other free axes as ``?``: ``(n, 1, 64)``."""
        return format_shape(self.shape)


def format_shape(shape: tuple[int | None, ...]) -> str:
    """``(None, 1, 64)`` -> ``"(n, 1, 64)"``; free axes after the first are shown as ``?``."""
    parts = [("n" if i == 0 else "?") if d is None else str(d) for i, d in enumerate(shape)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


@dataclass(frozen=True)
class ModelCard:
    """A model's card: what it is, what it expects (the input contract), how it was made and how well it does.

    ``fs_hz`` is the sampling rate (Hz) the model was trained at; ``window_samples`` the
    number of samples per lead of one input window at ``fs_hz``; ``window_start_s`` where
    that window starts relative to its anchor (e.g. the R peak of a beat model), in
    seconds (negative = before). ``leads`` names the leads in input order, or is
    ``("any-1",)`` for a single-lead model that takes any lead. ``normalisation`` is
    free text (e.g. "per-lead z-score over the window"). ``onnx_file`` is relative to
    the card's folder; ``onnx_sha256`` the lowercase hex digest of that file.
    ``card_path`` is where the card was read from (``None`` for a card built in code);
    ``extra`` keeps every key of the JSON document that is not a field here.
    """

    name: str
    version: str
    task: str
    classes: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    output_name: str
    fs_hz: float
    window_samples: int
    window_start_s: float
    leads: tuple[str, ...]
    normalisation: str
    onnx_file: str
    onnx_sha256: str
    training: Mapping[str, Any]
    metrics: Mapping[str, Any]
    date: dt.date
    card_path: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "training", _frozen(self.training))
        object.__setattr__(self, "metrics", _frozen(self.metrics))
        object.__setattr__(self, "extra", _frozen(self.extra))

    @property
    def onnx_path(self) -> Path:
        """The ONNX file: ``onnx_file`` resolved against the card's folder (or the working directory)."""
        base = self.card_path.parent if self.card_path is not None else Path.cwd()
        return base / self.onnx_file

    @property
    def n_classes(self) -> int:
        """Number of output classes."""
        return len(self.classes)

    @property
    def any_lead(self) -> bool:
        """True for a single-lead model that accepts any lead."""
        return self.leads == (ANY_ONE_LEAD,)

    @property
    def window_s(self) -> float:
        """Duration of one input window in seconds."""
        return self.window_samples / self.fs_hz

    def input(self, name: str) -> InputSpec:
        """The input called ``name``; ModelError when the card has none."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise ModelError(self.card_path or self.name, f"the model has no input '{name}'")


class _Reader:
    """Reads typed fields from a card's JSON object; every failure names the card and the field."""

    def __init__(self, where: Path, document: Mapping[str, Any]) -> None:
        self.where = where
        self.doc = document

    def fail(self, reason: str) -> ModelError:
        return ModelError(self.where, f"invalid model card: {reason}")

    def get(self, key: str) -> Any:
        if key not in self.doc:
            raise self.fail(f"the field '{key}' is missing")
        return self.doc[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{key}' must be a non-empty string, got {value!r}")
        return value.strip()

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(f"'{key}' must be a finite number, got {value!r}")
        return float(value)

    def positive_int(self, key: str) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"'{key}' must be a positive integer, got {value!r}")
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"'{key}' must be a non-empty list of strings, got {value!r}")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"'{key}' must be a non-empty list of strings, got {value!r}")
        items = tuple(v.strip() for v in value)
        lowered = [v.lower() for v in items]
        if len(set(lowered)) != len(lowered):
            dupes = sorted({v for v in items if lowered.count(v.lower()) > 1})
            raise self.fail(f"'{key}' repeats {', '.join(dupes)}")
        return items

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(f"'{key}' must be a JSON object, got {type(value).__name__}")
        return value

    def input_spec(self, index: int, value: Any) -> InputSpec:
        where = f"inputs[{index}]"
        if not isinstance(value, dict):
            raise self.fail(f"'{where}' must be a JSON object with name, shape and dtype")
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(f"'{where}.name' must be a non-empty string, got {name!r}")
        shape = value.get("shape")
        if not isinstance(shape, list) or not shape:
            raise self.fail(f"'{where}.shape' must be a non-empty list, got {shape!r}")
        dims: list[int | None] = []
        for axis, d in enumerate(shape):
            if d is None or d == -1:
                if axis > 0:
                    raise self.fail(f"'{where}.shape' may leave only the batch axis (the first) free, got {shape!r}")
                dims.append(None)
            elif isinstance(d, int) and not isinstance(d, bool) and d >= 1:
                if axis == 0:
                    raise self.fail(f"'{where}.shape' must start with the batch axis (-1 or null), got {shape!r}")
                dims.append(d)
            else:
                raise self.fail(f"'{where}.shape' entries must be positive integers, -1 or null, got {shape!r}")
        dtype = value.get("dtype", "float32")
        if dtype not in SUPPORTED_DTYPES:
            raise self.fail(f"'{where}.dtype' must be one of {', '.join(SUPPORTED_DTYPES)}, got {dtype!r}")
        return InputSpec(name=name, shape=tuple(dims), dtype=str(dtype))

    def inputs(self) -> tuple[InputSpec, ...]:
        value = self.get("inputs")
        if not isinstance(value, list) or not value:
            raise self.fail("'inputs' must be a non-empty list of {name, shape, dtype} objects")
        specs = tuple(self.input_spec(i, v) for i, v in enumerate(value))
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise self.fail(f"'inputs' repeats a name: {names}")
        return specs

    def sha256(self) -> str:
        value = self.text("onnx_sha256").lower()
        if not _SHA256.match(value):
            raise self.fail(f"'onnx_sha256' must be 64 hexadecimal digits, got {value!r}")
        return value

    def onnx_file(self) -> str:
        value = self.text("onnx_file")
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or path.suffix.lower() != ".onnx":
            raise self.fail(f"'onnx_file' must be an .onnx file name relative to the card's folder, got {value!r}")
        return value

    def date(self) -> dt.date:
        value = self.text("date")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(f"'date' must be an ISO date (YYYY-MM-DD), got {value!r}") from None

    def leads(self) -> tuple[str, ...]:
        leads = self.text_list("leads")
        if any(lead.lower() == ANY_ONE_LEAD for lead in leads) and len(leads) != 1:
            raise self.fail(f"'leads' may hold '{ANY_ONE_LEAD}' only alone, got {list(leads)}")
        return (ANY_ONE_LEAD,) if leads[0].lower() == ANY_ONE_LEAD else leads


def parse_model_card(document: Any, where: Path) -> ModelCard:
    """Validate a card's parsed JSON ``document`` (read from ``where``) into a ModelCard; ModelError if invalid."""
    if not isinstance(document, dict):
        raise ModelError(where, "invalid model card: expected a JSON object")
    r = _Reader(where, document)
    fs_hz = r.number("fs_hz")
    if fs_hz <= 0:
        raise r.fail(f"'fs_hz' must be positive, got {fs_hz:g}")
    return ModelCard(
        name=r.text("name"),
        version=r.text("version"),
        task=r.text("task"),
        classes=r.text_list("classes"),
        inputs=r.inputs(),
        output_name=r.text("output_name"),
        fs_hz=fs_hz,
        window_samples=r.positive_int("window_samples"),
        window_start_s=r.number("window_start_s"),
        leads=r.leads(),
        normalisation=r.text("normalisation"),
        onnx_file=r.onnx_file(),
        onnx_sha256=r.sha256(),
        training=r.mapping("training"),
        metrics=r.mapping("metrics"),
        date=r.date(),
        card_path=where,
        extra={k: v for k, v in document.items() if k not in CARD_KEYS},
    )


def load_model_card(json_path: str | Path) -> ModelCard:
    """Read and validate the model card at ``json_path``.

    Raises ModelError, naming the card and the reason, when the file is missing, is not
    JSON, or a field is missing or invalid.
    """
    where = Path(json_path)
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(where, "the model card does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(where, f"cannot read the model card ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(where, f"the model card is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_model_card(document, where.resolve())
