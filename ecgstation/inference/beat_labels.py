"""Label detected beats N/S/V/F with the beat classifier."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ecgstation.inference import beat_inputs
from ecgstation.inference.contract import select_leads
from ecgstation.inference.errors import ModelContractError
from ecgstation.inference.onnx_model import OnnxModel

log = logging.getLogger(__name__)

__all__ = ["BeatLabels", "check_beat_model", "label_beats"]

WAVEFORM_INPUT = "waveform"
CONTEXT_INPUT = "rr"


@dataclass(frozen=True)
class BeatLabels:
    """One label per R peak, in peak order, with the model's class probabilities.

    ``probabilities`` is float32 ``(n_beats, len(classes))``; ``model`` is ``"name version"``.
    """

    labels: tuple[str, ...]
    probabilities: NDArray[np.float32]
    classes: tuple[str, ...]
    model: str

    def confidence(self) -> NDArray[np.float32]:
        """Probability of the chosen label, per beat."""
        if self.probabilities.shape[0] == 0:
            return np.zeros(0, np.float32)
        return self.probabilities.max(axis=1)


def check_beat_model(model: OnnxModel) -> None:
    """ModelContractError unless the card describes the inputs :mod:`beat_inputs` makes."""
    card = model.card
    wave = card.input(WAVEFORM_INPUT)
    ctx = card.input(CONTEXT_INPUT)
    expected = {
        "fs_hz": (card.fs_hz, beat_inputs.MODEL_FS),
        "window_samples": (card.window_samples, beat_inputs.WINDOW),
        "window_start_s": (card.window_start_s, beat_inputs.WINDOW_START_S),
        "waveform width": (wave.shape[-1], beat_inputs.WINDOW),
        "context features": (ctx.shape[-1], len(beat_inputs.RR_FEATURES)),
    }
    wrong = [f"{k} {have} (this version computes {want})" for k, (have, want) in expected.items() if have != want]
    if wrong:
        raise ModelContractError(model.name, "card does not match the beat inputs: " + "; ".join(wrong))


def label_beats(
    model: OnnxModel,
    signals: ArrayLike,
    fs: float,
    lead_names: Sequence[str],
    r_peaks: ArrayLike,
) -> BeatLabels:
    """Class of every beat at ``r_peaks`` (samples at ``fs`` Hz) of ``signals`` (leads, n) in mV.

    The model's lead (the first lead for an ``any-1`` model) is used; beats are windowed
    and given RR context by :func:`ecgstation.inference.beat_inputs.beat_features`.
    """
    check_beat_model(model)
    arr = np.asarray(signals, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != len(lead_names):
        raise ModelContractError(model.name, f"signals of shape {arr.shape} do not match {len(lead_names)} lead names")
    row = select_leads(lead_names, model.card)[0]
    lead = arr[row]
    if not np.isfinite(lead).all():
        raise ModelContractError(model.name, f"lead {lead_names[row]} holds NaN or infinite values")
    peaks = np.asarray(r_peaks, dtype=np.int64)
    waves, context = beat_inputs.beat_features(lead, float(fs), peaks)
    probs = model.run({WAVEFORM_INPUT: waves, CONTEXT_INPUT: context}, batch_size=4096)
    classes = model.classes
    labels = tuple(classes[i] for i in probs.argmax(axis=1)) if len(peaks) else ()
    card = model.card
    log.info("labelled %d beats with %s %s on lead %s", len(labels), card.name, card.version, lead_names[row])
    return BeatLabels(labels, probs, classes, f"{card.name} {card.version}")
