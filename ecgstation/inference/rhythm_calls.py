"""Run the rhythm models over 10 s windows: the single-lead model and the 12-lead model."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.filters import highpass
from ecgstation.core.recording import Recording
from ecgstation.inference.contract import prepare_signal
from ecgstation.inference.errors import ModelContractError
from ecgstation.inference.fusion import ModelCall
from ecgstation.inference.heads import OutputHead, output_heads
from ecgstation.inference.onnx_model import OnnxModel

log = logging.getLogger(__name__)

__all__ = ["RHYTHM_LEAD_PREFERENCE", "TwelveLeadCall", "choose_rhythm_lead", "rhythm_calls", "twelve_lead_calls"]

#: Leads the single-lead rhythm model prefers, best first (then the first lead).
RHYTHM_LEAD_PREFERENCE = ("II", "MLII", "ECG", "V1", "I")
ECG_INPUT = "ecg"


def choose_rhythm_lead(lead_names: Sequence[str]) -> int:
    """Row of the lead to give a single-lead rhythm model: lead II or the like, else the first."""
    lower = [n.strip().lower() for n in lead_names]
    for want in RHYTHM_LEAD_PREFERENCE:
        if want.lower() in lower:
            return lower.index(want.lower())
    return 0


def _model_label(model: OnnxModel) -> str:
    return f"{model.card.name} {model.card.version}"


def rhythm_calls(
    model: OnnxModel, lead_mv: NDArray[np.floating], fs: float, starts_s: Sequence[float]
) -> list[ModelCall]:
    """The single-lead rhythm model's call for each window starting at ``starts_s`` (s).

    ``lead_mv`` is one lead in mV at ``fs`` Hz; each window lasts the card's window
    (10 s) and must lie inside the signal. Pre-processing is
    :func:`ecgstation.inference.rhythm_inputs.rhythm_window_input`, the function the model
    was trained with.
    """
    from ecgstation.inference.rhythm_inputs import rhythm_window_input

    card = model.card
    x = np.asarray(lead_mv, dtype=np.float32)
    win = round(card.window_s * fs)
    if not starts_s:
        return []
    batch = []
    for start in starts_s:
        a = round(start * fs)
        if a < 0 or a + win > x.size:
            raise ModelContractError(model.name, f"window at {start:.1f} s lies outside the signal")
        batch.append(rhythm_window_input(x[a : a + win], fs))
    probs = model.run({ECG_INPUT: np.stack(batch).astype(np.float32)}, batch_size=256)
    label = _model_label(model)
    return [ModelCall(model.classes, p, label) for p in probs]


@dataclass(frozen=True)
class TwelveLeadCall:
    """The 12-lead model's answer for one window: a rhythm call and the superclass probabilities."""

    rhythm: ModelCall
    superclass: dict[str, float]
    superclass_thresholds: dict[str, float]


def _heads(model: OnnxModel) -> tuple[OutputHead, OutputHead | None]:
    heads = output_heads(model.card)
    rhythm = next((h for h in heads if h.activation == "softmax"), None)
    if rhythm is None:
        raise ModelContractError(model.name, "the 12-lead model has no softmax rhythm head")
    superclass = next((h for h in heads if h.activation == "sigmoid"), None)
    return rhythm, superclass


def _baseline_cutoff_hz(model: OnnxModel) -> float | None:
    """The high-pass cut-off (Hz) of the card's ``preprocessing`` (``highpass_hz``), if any."""
    pre = model.card.extra.get("preprocessing")
    if not isinstance(pre, Mapping):
        return None
    cutoff = pre.get("highpass_hz")
    if cutoff is None:
        return None
    if not isinstance(cutoff, (int, float)) or not 0 < float(cutoff) < model.card.fs_hz / 2:
        raise ModelContractError(model.name, f"preprocessing highpass_hz {cutoff!r} is not a valid cut-off")
    return float(cutoff)


def twelve_lead_calls(model: OnnxModel, recording: Recording, starts_s: Sequence[float]) -> list[TwelveLeadCall]:
    """The 12-lead model's call for each window starting at ``starts_s`` (s).

    Leads are chosen by name and resampled to the card's fs (:func:`prepare_signal`); each
    window is high-passed on its own when the card's ``preprocessing`` names ``highpass_hz``
    (zero-phase 2nd-order Butterworth, :func:`ecgstation.core.filters.highpass`); a window
    shorter than the model's is padded with zeros at its end, as in training.
    Raises ModelContractError when a lead is missing.
    """
    card = model.card
    rhythm_head, super_head = _heads(model)
    x = prepare_signal(recording.signals, recording.fs, card, lead_names=recording.lead_names) if starts_s else None
    if x is None:
        return []
    cutoff = _baseline_cutoff_hz(model)
    win = card.window_samples
    batch = np.zeros((len(starts_s), x.shape[0], win), dtype=np.float32)
    for k, start in enumerate(starts_s):
        a = round(start * card.fs_hz)
        part = x[:, a : a + win]
        if cutoff is not None and part.shape[1] > 12:  # each window filtered on its own, as in training
            part = highpass(part, card.fs_hz, cutoff)
        batch[k, :, : part.shape[1]] = part
    probs = model.run({ECG_INPUT: batch}, batch_size=64)
    label = _model_label(model)
    out: list[TwelveLeadCall] = []
    for p in probs:
        rhythm = ModelCall(rhythm_head.classes, rhythm_head.probabilities(p[None])[0], label, af_includes_flutter=True)
        sup: dict[str, float] = {}
        thr: dict[str, float] = {}
        if super_head is not None:
            sp = super_head.probabilities(p[None])[0]
            sup = {c: float(v) for c, v in zip(super_head.classes, sp)}
            thr = dict(zip(super_head.classes, super_head.thresholds))
        out.append(TwelveLeadCall(rhythm, sup, thr))
    log.info("12-lead model %s ran on %d window(s)", label, len(out))
    return out
