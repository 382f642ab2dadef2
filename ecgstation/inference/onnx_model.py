"""An ONNX model opened from its model card, its contract checked before every run."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from ecgstation.inference.errors import ModelContractError, ModelError
from ecgstation.inference.model_card import InputSpec, ModelCard, format_shape, load_model_card

__all__ = ["OnnxModel", "file_sha256"]

logger = logging.getLogger(__name__)

#: The ONNX tensor type of each card dtype.
_ONNX_TYPES = {"float32": "tensor(float)"}


def file_sha256(path: Path) -> str:
    """Lowercase hex sha256 of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _session_dims(shape: Any) -> tuple[int | None, ...]:
    """onnxruntime's shape (ints, symbolic names or None) -> ints with None for every free axis."""
    return tuple(d if isinstance(d, int) and d >= 0 else None for d in shape)


class OnnxModel:
    """An onnxruntime session (CPU) and the card it was checked against.

    Build it with :meth:`load`; call :meth:`run` with one array per card input.
    """

    def __init__(self, card: ModelCard, session: Any) -> None:
        self._card = card
        self._session = session

    @classmethod
    def load(cls, card_path: str | Path, intra_op_threads: int | None = None) -> OnnxModel:
        """Open the model described by the card at ``card_path``.

        Checks that the ONNX file exists and its sha256 equals the card's, opens an
        onnxruntime session on the CPU (``intra_op_threads`` threads per operator, the
        runtime's default when ``None``), and checks that the session's input names,
        types and fixed sizes and its output name agree with the card. Raises ModelError
        naming the file and the reason.
        """
        card = load_model_card(card_path)
        return cls.from_card(card, intra_op_threads=intra_op_threads)

    @classmethod
    def from_card(cls, card: ModelCard, intra_op_threads: int | None = None) -> OnnxModel:
        """Open the model of an already loaded ``card`` (see :meth:`load`)."""
        onnx_path = card.onnx_path
        if not onnx_path.is_file():
            raise ModelError(onnx_path, f"the ONNX file named by the model card {card.card_path} does not exist")
        actual = file_sha256(onnx_path)
        if actual != card.onnx_sha256:
            raise ModelError(
                onnx_path,
                f"sha256 mismatch: the model card says {card.onnx_sha256}, the file has {actual}; "
                "the file is damaged or does not belong to this card",
            )
        options = ort.SessionOptions()
        # Idle worker threads must not spin: the workstation runs models now and then (a slice every
        # 10 s per bed), and busy-waiting threads would burn a core between runs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if intra_op_threads is not None:
            if intra_op_threads < 1:
                raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
            options.intra_op_num_threads = intra_op_threads
        try:
            session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime's errors (Fail, InvalidProtobuf, ...) derive from Exception
            raise ModelError(onnx_path, f"onnxruntime cannot open the model ({exc})") from None
        model = cls(card, session)
        model._check_session()
        logger.debug("model %s %s loaded from %s", card.name, card.version, onnx_path)
        return model

    def _fail(self, reason: str) -> ModelError:
        return ModelError(self._card.onnx_path, f"does not agree with its model card: {reason}")

    def _check_session(self) -> None:
        card = self._card
        session_inputs = {i.name: i for i in self._session.get_inputs()}
        card_names = [s.name for s in card.inputs]
        if set(session_inputs) != set(card_names):
            raise self._fail(f"the model's inputs are {sorted(session_inputs)}, the card's {sorted(card_names)}")
        for spec in card.inputs:
            node = session_inputs[spec.name]
            if node.type != _ONNX_TYPES[spec.dtype]:
                raise self._fail(f"input '{spec.name}' is {node.type} in the model, {spec.dtype} on the card")
            dims = _session_dims(node.shape)
            if len(dims) != len(spec.shape):
                raise self._fail(
                    f"input '{spec.name}' has shape {format_shape(dims)} in the model, {spec.describe()} on the card"
                )
            for got, want in zip(dims, spec.shape, strict=True):
                if got is not None and got != want:
                    raise self._fail(
                        f"input '{spec.name}' has shape {format_shape(dims)} in the model, {spec.describe()} on the card"
                    )
        outputs = {o.name: o for o in self._session.get_outputs()}
        if card.output_name not in outputs:
            raise self._fail(f"the model's outputs are {sorted(outputs)}, the card names '{card.output_name}'")
        out_dims = _session_dims(outputs[card.output_name].shape)
        if len(out_dims) != 2 or out_dims[1] not in (None, card.n_classes):
            raise self._fail(
                f"output '{card.output_name}' has shape {format_shape(out_dims)}, "
                f"the card's {card.n_classes} classes need (n, {card.n_classes})"
            )

    @property
    def card(self) -> ModelCard:
        """The model card the model was checked against."""
        return self._card

    @property
    def classes(self) -> tuple[str, ...]:
        """Output labels, in output column order."""
        return self._card.classes

    @property
    def name(self) -> str:
        """The ONNX file name, as used in messages."""
        return self._card.onnx_path.name

    def _contract(self, reason: str) -> ModelContractError:
        return ModelContractError(self.name, reason)

    def check_inputs(self, inputs: Mapping[str, Any]) -> tuple[dict[str, NDArray[np.float32]], int]:
        """Check ``inputs`` against the card: names, dtype, shape, one batch size, finite values.

        Returns the arrays (C-contiguous) and the batch size ``n``; raises
        ModelContractError naming the model, the input and what is wrong.
        """
        card = self._card
        wanted = [s.name for s in card.inputs]
        missing = [name for name in wanted if name not in inputs]
        if missing:
            raise self._contract(f"input {', '.join(missing)} is missing (the model takes {', '.join(wanted)})")
        unknown = sorted(set(inputs) - set(wanted))
        if unknown:
            raise self._contract(f"has no input {', '.join(unknown)} (the model takes {', '.join(wanted)})")
        arrays: dict[str, NDArray[np.float32]] = {}
        batch: int | None = None
        for spec in card.inputs:
            arr = inputs[spec.name]
            if not isinstance(arr, np.ndarray):
                raise self._contract(f"input {spec.name} must be a numpy array, got {type(arr).__name__}")
            self._check_array(spec, arr)
            if batch is not None and arr.shape[0] != batch:
                raise self._contract(
                    f"all inputs must hold the same number of rows; {spec.name} has {arr.shape[0]}, "
                    f"{card.inputs[0].name} has {batch}"
                )
            batch = arr.shape[0]
            arrays[spec.name] = np.ascontiguousarray(arr)
        assert batch is not None  # a card has at least one input
        return arrays, batch

    def _check_array(self, spec: InputSpec, arr: NDArray[Any]) -> None:
        if arr.dtype != np.dtype(spec.dtype):
            raise self._contract(f"expects {spec.name} as {spec.dtype}, got {arr.dtype}")
        got = tuple(None if i == 0 else int(d) for i, d in enumerate(arr.shape))
        ok = len(got) == len(spec.shape) and all(w is None or g == w for g, w in zip(got, spec.shape, strict=True))
        if not ok:
            shown = format_shape(got) if got else "a scalar"
            raise self._contract(f"expects {spec.name} of shape {spec.describe()}, got {shown}")
        if arr.size and not np.isfinite(arr).all():
            raise self._contract(f"input {spec.name} holds NaN or infinite values")

    def run(self, inputs: Mapping[str, NDArray[np.float32]], batch_size: int = 1024) -> NDArray[np.float32]:
        """Class probabilities, float32 of shape ``(n, n_classes)``, for ``n`` input rows.

        ``inputs`` maps every input name on the card to a float32 array whose first
        axis is the batch (``n`` rows, the same for all inputs). Inputs are fed to the
        session ``batch_size`` rows at a time. Raises ModelContractError when an input
        does not match the card, ModelError when the model's output does not.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        arrays, n = self.check_inputs(inputs)
        card = self._card
        if n == 0:
            return np.empty((0, card.n_classes), dtype=np.float32)
        parts: list[NDArray[np.float32]] = []
        for start in range(0, n, batch_size):
            feed = {name: arr[start : start + batch_size] for name, arr in arrays.items()}
            try:
                (out,) = self._session.run([card.output_name], feed)
            except Exception as exc:  # noqa: BLE001 - onnxruntime's errors derive from Exception only
                raise ModelError(
                    self.name,
                    f"onnxruntime failed on rows {start}-{start + len(next(iter(feed.values()))) - 1} ({exc})",
                ) from None
            parts.append(np.asarray(out, dtype=np.float32))
        probs = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        if probs.shape != (n, card.n_classes):
            raise ModelError(
                self.name, f"returned {card.output_name} of shape {probs.shape}, expected ({n}, {card.n_classes})"
            )
        return probs

    def __repr__(self) -> str:
        return f"OnnxModel({self._card.name!r}, version={self._card.version!r}, file={self.name!r})"
