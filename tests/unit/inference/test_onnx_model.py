"""OnnxModel on the committed tiny ONNX model: checksum, session/card agreement, input checks, outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.inference.errors import ModelContractError, ModelError
from ecgstation.inference.onnx_model import OnnxModel, file_sha256

DATA = Path(__file__).resolve().parents[2] / "data"
CARD = DATA / "tiny_beat_model.json"
ONNX = DATA / "tiny_beat_model.onnx"
CLASSES = ("N", "S", "V", "F")
P_WIN = float(np.exp(4.0) / (np.exp(4.0) + 3.0))  # logit 4 for the chosen class, 0 for the three others


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return OnnxModel.load(CARD, intra_op_threads=1)


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    card, onnx = tmp_path / CARD.name, tmp_path / ONNX.name
    shutil.copy(CARD, card)
    shutil.copy(ONNX, onnx)
    return card, onnx


def _edit_card(card: Path, **changes: Any) -> None:
    doc = json.loads(card.read_text(encoding="utf-8"))
    doc.update(changes)
    card.write_text(json.dumps(doc), encoding="utf-8")


def _beats(classes: list[int]) -> dict[str, NDArray[np.float32]]:
    """One input row per entry: ones in the 16-sample waveform segment of that class, rr = 0."""
    n = len(classes)
    waveform = np.zeros((n, 1, 64), dtype=np.float32)
    for row, k in enumerate(classes):
        waveform[row, 0, 16 * k : 16 * (k + 1)] = 1.0
    return {"waveform": waveform, "rr": np.zeros((n, 4), dtype=np.float32)}


def test_committed_test_model_is_tiny_and_matches_its_card() -> None:
    assert ONNX.stat().st_size < 50_000
    assert file_sha256(ONNX) == json.loads(CARD.read_text(encoding="utf-8"))["onnx_sha256"]


def test_load_gives_classes_and_card(model: OnnxModel) -> None:
    assert model.classes == CLASSES
    assert model.card.name == "tiny_beat_model"
    assert model.name == "tiny_beat_model.onnx"


def test_known_inputs_give_known_classes(model: OnnxModel) -> None:
    probs = model.run(_beats([2, 0, 3, 1]))
    assert probs.dtype == np.float32
    assert probs.shape == (4, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert (probs >= 0).all()
    assert probs.argmax(axis=1).tolist() == [2, 0, 3, 1]
    np.testing.assert_allclose(probs[0], [(1 - P_WIN) / 3, (1 - P_WIN) / 3, P_WIN, (1 - P_WIN) / 3], rtol=1e-5)


def test_rr_input_is_used(model: OnnxModel) -> None:
    inputs = _beats([0])
    inputs["rr"][0] = [0.0, 0.0, 0.0, 10.0]  # logit 10 for F beats logit 4 for N
    assert model.classes[int(model.run(inputs).argmax())] == "F"


def test_batching_gives_the_same_result(model: OnnxModel) -> None:
    rng = np.random.default_rng(0)
    inputs = {
        "waveform": rng.normal(size=(37, 1, 64)).astype(np.float32),
        "rr": rng.normal(size=(37, 4)).astype(np.float32),
    }
    whole = model.run(inputs)
    np.testing.assert_allclose(model.run(inputs, batch_size=5), whole, rtol=1e-6, atol=1e-7)
    assert whole.shape == (37, 4)


def test_empty_batch(model: OnnxModel) -> None:
    probs = model.run(_beats([]))
    assert probs.shape == (0, 4)
    assert probs.dtype == np.float32


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    card, onnx = _copy(tmp_path)
    data = bytearray(onnx.read_bytes())
    data[-1] ^= 0x01
    onnx.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 mismatch") as info:
        OnnxModel.load(card)
    assert str(info.value).startswith(str(onnx))
    assert "tiny_beat_model.onnx" in str(info.value)


def test_missing_onnx_file_is_refused(tmp_path: Path) -> None:
    card, onnx = _copy(tmp_path)
    onnx.unlink()
    with pytest.raises(ModelError, match="tiny_beat_model.onnx: the ONNX file named by the model card"):
        OnnxModel.load(card)


def test_card_that_disagrees_with_the_session_is_refused(tmp_path: Path) -> None:
    card, _ = _copy(tmp_path)
    doc = json.loads(card.read_text(encoding="utf-8"))
    _edit_card(card, inputs=[doc["inputs"][0], {"name": "rr", "shape": [None, 8], "dtype": "float32"}])
    with pytest.raises(ModelError, match=r"input 'rr' has shape \(n, 4\) in the model, \(n, 8\) on the card"):
        OnnxModel.load(card)
    _edit_card(card, inputs=doc["inputs"], output_name="logits")
    with pytest.raises(ModelError, match="the model's outputs are \\['probabilities'\\], the card names 'logits'"):
        OnnxModel.load(card)
    _edit_card(card, output_name="probabilities", classes=["N", "S", "V"])
    with pytest.raises(ModelError, match="the card's 3 classes need \\(n, 3\\)"):
        OnnxModel.load(card)
    _edit_card(card, classes=list(CLASSES), inputs=doc["inputs"][:1])
    with pytest.raises(ModelError, match="the model's inputs are \\['rr', 'waveform'\\], the card's \\['waveform'\\]"):
        OnnxModel.load(card)


def test_wrong_shape_is_refused_with_a_clear_message(model: OnnxModel) -> None:
    inputs = _beats([0, 1])
    inputs["waveform"] = np.zeros((2, 2, 64), dtype=np.float32)
    with pytest.raises(ModelContractError) as info:
        model.run(inputs)
    assert str(info.value) == "tiny_beat_model.onnx: expects waveform of shape (n, 1, 64), got (n, 2, 64)"
    inputs["waveform"] = np.zeros((2, 64), dtype=np.float32)
    with pytest.raises(ModelContractError, match=r"expects waveform of shape \(n, 1, 64\), got \(n, 64\)"):
        model.run(inputs)


def test_wrong_dtype_is_refused(model: OnnxModel) -> None:
    inputs = _beats([0])
    inputs["rr"] = inputs["rr"].astype(np.float64)
    with pytest.raises(ModelContractError, match="tiny_beat_model.onnx: expects rr as float32, got float64"):
        model.run(inputs)


def test_missing_unknown_and_mismatched_inputs_are_refused(model: OnnxModel) -> None:
    inputs = _beats([0, 1])
    with pytest.raises(ModelContractError, match="input rr is missing \\(the model takes waveform, rr\\)"):
        model.run({"waveform": inputs["waveform"]})
    with pytest.raises(ModelContractError, match="has no input qrs_width"):
        model.run({**inputs, "qrs_width": np.zeros((2, 1), dtype=np.float32)})
    with pytest.raises(ModelContractError, match="same number of rows; rr has 3, waveform has 2"):
        model.run({"waveform": inputs["waveform"], "rr": np.zeros((3, 4), dtype=np.float32)})
    inputs["rr"][1, 2] = np.nan
    with pytest.raises(ModelContractError, match="input rr holds NaN or infinite values"):
        model.run(inputs)


def test_contract_error_is_a_model_error() -> None:
    assert issubclass(ModelContractError, ModelError)


def test_bad_batch_size_and_thread_count(model: OnnxModel) -> None:
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        model.run(_beats([0]), batch_size=0)
    with pytest.raises(ValueError, match="intra_op_threads must be >= 1"):
        OnnxModel.load(CARD, intra_op_threads=0)
