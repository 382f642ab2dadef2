"""prepare_signal: the card's leads by name, resampled to the card's sampling rate, or a clear refusal."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.recording import Recording
from ecgstation.inference.contract import prepare_recording, prepare_signal, select_leads
from ecgstation.inference.errors import ModelContractError
from ecgstation.inference.model_card import ModelCard, load_model_card

CARD_PATH = Path(__file__).resolve().parents[2] / "data" / "tiny_beat_model.json"
FS = 360.0


@pytest.fixture(scope="module")
def card() -> ModelCard:
    loaded = load_model_card(CARD_PATH)
    assert loaded.leads == ("MLII",) and loaded.fs_hz == 128.0
    return loaded


def _record(seconds: float = 10.0) -> tuple[NDArray[np.float32], tuple[str, ...]]:
    """Two leads at 360 Hz: V1 a constant 2 mV, MLII a 1 mV 5 Hz sine."""
    t = np.arange(int(seconds * FS)) / FS
    v1 = np.full(t.size, 2.0)
    mlii = np.sin(2 * np.pi * 5.0 * t)
    return np.vstack([v1, mlii]).astype(np.float32), ("V1", "mlii")


def test_selects_the_lead_by_name_and_resamples(card: ModelCard) -> None:
    signals, names = _record(10.0)
    out = prepare_signal(signals, FS, card, lead_names=names)
    assert out.dtype == np.float32
    assert out.shape == (1, 1280)  # 3600 samples at 360 Hz = 10 s = 1280 samples at 128 Hz
    t = np.arange(1280) / 128.0
    expected = np.sin(2 * np.pi * 5.0 * t)
    # The MLII sine, not the constant V1, away from the resampler's edge transients.
    np.testing.assert_allclose(out[0, 50:-50], expected[50:-50], atol=0.02)


def test_same_rate_keeps_the_samples(card: ModelCard) -> None:
    signals, names = _record(2.0)
    out = prepare_signal(signals, 128.0, card, lead_names=names)
    np.testing.assert_array_equal(out, signals[1:2])


def test_leads_come_in_the_cards_order(card: ModelCard) -> None:
    two = dataclasses.replace(card, leads=("MLII", "V1"))
    assert select_leads(["V1", "aVR", " MLii "], two) == [2, 0]
    signals, names = _record(1.0)
    out = prepare_signal(signals, FS, two, lead_names=names)
    assert out.shape == (2, 128)
    assert out[1, 20:-20] == pytest.approx(2.0, abs=1e-3)  # V1 second, as the card asks


def test_any_one_lead_takes_the_first(card: ModelCard) -> None:
    anyone = dataclasses.replace(card, leads=("any-1",))
    signals, names = _record(1.0)
    out = prepare_signal(signals, FS, anyone, lead_names=names)
    assert out.shape == (1, 128)
    assert out[0, 20:-20] == pytest.approx(2.0, abs=1e-3)  # V1, the first lead


def test_missing_lead_is_refused(card: ModelCard) -> None:
    signals, _ = _record(1.0)
    with pytest.raises(ModelContractError) as info:
        prepare_signal(signals, FS, card, lead_names=("V1", "V5"))
    assert str(info.value) == ("tiny_beat_model.onnx: needs lead MLII, which the recording lacks (it has V1, V5)")


@pytest.mark.parametrize("fs", [10.0, 30000.0, float("nan")])
def test_fs_out_of_range_is_refused(card: ModelCard, fs: float) -> None:
    signals, names = _record(1.0)
    with pytest.raises(ModelContractError, match="Hz is outside 50-20000 Hz"):
        prepare_signal(signals, fs, card, lead_names=names)


def test_record_shorter_than_one_window_is_refused(card: ModelCard) -> None:
    signals, names = _record(0.4)
    with pytest.raises(ModelContractError, match=r"lasts 0\.400 s; the model needs at least one window of 0\.500 s"):
        prepare_signal(signals, FS, card, lead_names=names)


def test_malformed_signals_are_refused(card: ModelCard) -> None:
    signals, names = _record(1.0)
    with pytest.raises(ModelContractError, match="signals must be \\(leads, samples\\)"):
        prepare_signal(signals[1], FS, card, lead_names=names)
    with pytest.raises(ModelContractError, match="signals have 2 rows but 1 lead names"):
        prepare_signal(signals, FS, card, lead_names=("MLII",))
    bad = signals.copy()
    bad[1, 5] = np.inf
    with pytest.raises(ModelContractError, match="NaN or infinite"):
        prepare_signal(bad, FS, card, lead_names=names)


def test_prepare_recording(card: ModelCard) -> None:
    signals, names = _record(10.0)
    recording = Recording(signals=signals, fs=FS, lead_names=names)
    np.testing.assert_array_equal(
        prepare_recording(recording, card), prepare_signal(signals, FS, card, lead_names=names)
    )
