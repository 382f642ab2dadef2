"""Model cards: the committed tiny card loads; every field is validated with an exact message; the registry."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ecgstation.core.errors import EcgStationError
from ecgstation.inference.errors import ModelError
from ecgstation.inference.model_card import InputSpec, load_model_card
from ecgstation.inference.registry import ENV_VAR, ModelRegistry, default_models_dir

DATA = Path(__file__).resolve().parents[2] / "data"
CARD = DATA / "tiny_beat_model.json"
ONNX = DATA / "tiny_beat_model.onnx"


def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(CARD.read_text(encoding="utf-8"))
    return doc


def _write(folder: Path, doc: Any, name: str = "card.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_tiny_card_loads() -> None:
    card = load_model_card(CARD)
    assert card.name == "tiny_beat_model"
    assert card.version == "0.1.0"
    assert card.task == "beat-classification"
    assert card.classes == ("N", "S", "V", "F")
    assert card.n_classes == 4
    assert card.inputs == (
        InputSpec("waveform", (None, 1, 64), "float32"),
        InputSpec("rr", (None, 4), "float32"),
    )
    assert card.output_name == "probabilities"
    assert card.fs_hz == 128.0
    assert card.window_samples == 64
    assert card.window_s == pytest.approx(0.5)
    assert card.window_start_s == -0.25
    assert card.leads == ("MLII",)
    assert not card.any_lead
    assert card.onnx_path == ONNX.resolve()
    assert len(card.onnx_sha256) == 64
    assert card.date == dt.date(2026, 11, 23)
    assert "intended_use" in card.extra
    assert card.input("rr").describe() == "(n, 4)"


def test_card_is_frozen() -> None:
    card = load_model_card(CARD)
    with pytest.raises(AttributeError):
        card.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        card.training["data"] = "x"  # type: ignore[index]


def test_unknown_keys_are_kept_in_extra(tmp_path: Path) -> None:
    doc = _document()
    doc["citations"] = ["Moody G.B., Mark R.G. (2001)"]
    card = load_model_card(_write(tmp_path, doc))
    assert card.extra["citations"] == ["Moody G.B., Mark R.G. (2001)"]
    assert "name" not in card.extra


def test_minus_one_means_free_batch_axis(tmp_path: Path) -> None:
    doc = _document()
    doc["inputs"][0]["shape"] = [-1, 1, 64]
    assert load_model_card(_write(tmp_path, doc)).inputs[0].shape == (None, 1, 64)


def test_any_one_lead(tmp_path: Path) -> None:
    doc = _document()
    doc["leads"] = ["ANY-1"]
    card = load_model_card(_write(tmp_path, doc))
    assert card.leads == ("any-1",)
    assert card.any_lead


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("classes"), "the field 'classes' is missing"),
        (lambda d: d.update(name=""), "'name' must be a non-empty string, got ''"),
        (lambda d: d.update(classes=[]), "'classes' must be a non-empty list of strings, got []"),
        (lambda d: d.update(classes=["N", "n"]), "'classes' repeats N, n"),
        (lambda d: d.update(fs_hz="360"), "'fs_hz' must be a finite number, got '360'"),
        (lambda d: d.update(fs_hz=0), "'fs_hz' must be positive, got 0"),
        (lambda d: d.update(window_samples=6.5), "'window_samples' must be a positive integer, got 6.5"),
        (lambda d: d.update(window_samples=True), "'window_samples' must be a positive integer, got True"),
        (lambda d: d.update(leads=["any-1", "II"]), "'leads' may hold 'any-1' only alone, got ['any-1', 'II']"),
        (lambda d: d.update(onnx_sha256="abc"), "'onnx_sha256' must be 64 hexadecimal digits, got 'abc'"),
        (lambda d: d.update(onnx_file="../x.onnx"), "'onnx_file' must be an .onnx file name relative to"),
        (lambda d: d.update(date="23/11/2026"), "'date' must be an ISO date (YYYY-MM-DD), got '23/11/2026'"),
        (lambda d: d.update(training=[]), "'training' must be a JSON object, got list"),
        (lambda d: d.update(inputs=[]), "'inputs' must be a non-empty list of {name, shape, dtype} objects"),
        (lambda d: d["inputs"][0].update(dtype="float64"), "'inputs[0].dtype' must be one of float32, got 'float64'"),
        (lambda d: d["inputs"][1].update(shape=[None, -1]), "'inputs[1].shape' may leave only the batch axis"),
        (lambda d: d["inputs"][1].update(shape=[4, 4]), "'inputs[1].shape' must start with the batch axis"),
        (lambda d: d["inputs"][1].update(shape=[None, 0]), "'inputs[1].shape' entries must be positive integers"),
        (lambda d: d["inputs"][1].update(name="waveform"), "'inputs' repeats a name: ['waveform', 'waveform']"),
    ],
)
def test_invalid_fields_are_refused_with_exact_messages(tmp_path: Path, change: Any, message: str) -> None:
    doc = _document()
    change(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(ModelError) as info:
        load_model_card(path)
    text = str(info.value)
    assert text.startswith(f"{path.resolve()}: invalid model card: ")
    assert message in text


def test_missing_and_malformed_card_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="the model card does not exist") as info:
        load_model_card(tmp_path / "absent.json")
    assert "absent.json" in str(info.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"broken\.json: the model card is not valid JSON \(line 1"):
        load_model_card(broken)
    with pytest.raises(ModelError, match="expected a JSON object"):
        load_model_card(_write(tmp_path, [1, 2]))


def test_model_error_is_an_ecgstation_error() -> None:
    assert issubclass(ModelError, EcgStationError)


# --- registry -------------------------------------------------------------------------------------------------------


def _folder_with_tiny_model(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(CARD, folder / CARD.name)
    shutil.copy(ONNX, folder / ONNX.name)
    return folder


def test_registry_reports_broken_cards_without_raising(tmp_path: Path) -> None:
    folder = _folder_with_tiny_model(tmp_path)
    (folder / "garbage.json").write_text("{ not json", encoding="utf-8")
    doc = _document()
    doc.pop("fs_hz")
    _write(folder, doc, "no_fs.json")
    doc = _document()
    doc["name"] = "orphan"
    doc["onnx_file"] = "orphan.onnx"
    _write(folder, doc, "orphan.json")
    _write(folder, _document(), "zz_duplicate.json")

    registry = ModelRegistry.from_folder(folder)

    assert registry.names == ("tiny_beat_model",)
    assert len(registry) == 1
    assert "tiny_beat_model" in registry
    assert registry.get("tiny_beat_model").classes == ("N", "S", "V", "F")
    assert len(registry.problems) == 4
    joined = "\n".join(registry.problems)
    assert "garbage.json: the model card is not valid JSON" in joined
    assert "no_fs.json: invalid model card: the field 'fs_hz' is missing" in joined
    assert "orphan.json: the ONNX file orphan.onnx named by the card does not exist" in joined
    assert "zz_duplicate.json: the model name 'tiny_beat_model' is already used by" in joined


def test_registry_get_unknown_and_load(tmp_path: Path) -> None:
    registry = ModelRegistry.from_folder(_folder_with_tiny_model(tmp_path))
    with pytest.raises(ModelError, match="there is no model 'rhythm'; the models are: tiny_beat_model"):
        registry.get("rhythm")
    model = registry.load("tiny_beat_model", intra_op_threads=1)
    assert model.classes == ("N", "S", "V", "F")


def test_registry_of_missing_folder_is_empty_with_a_problem(tmp_path: Path) -> None:
    registry = ModelRegistry.from_folder(tmp_path / "nowhere")
    assert len(registry) == 0
    assert registry.problems == [f"{tmp_path / 'nowhere'}: the models folder does not exist"]


def test_default_models_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_models_dir() == tmp_path.resolve()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match=f"{ENV_VAR} names this folder, but it does not exist"):
        default_models_dir()


def test_default_models_dir_in_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = Path(__file__).resolve().parents[3]
    assert default_models_dir() == (repo / "models").resolve()
