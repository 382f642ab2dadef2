"""Bring a recording to a model's input contract: the card's leads, at the card's sampling rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.filters import resample
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ, Recording
from ecgstation.inference.errors import ModelContractError
from ecgstation.inference.model_card import ModelCard

__all__ = ["prepare_recording", "prepare_signal", "select_leads"]


def _model_name(card: ModelCard) -> str:
    return card.onnx_file


def select_leads(lead_names: Sequence[str], card: ModelCard) -> list[int]:
    """Row indices, in the card's lead order, of the card's leads among ``lead_names``.

    Names match case-insensitively and ignoring surrounding spaces; ``("any-1",)``
    takes the first lead. Raises ModelContractError naming every missing lead.
    """
    if not lead_names:
        raise ModelContractError(_model_name(card), "the recording has no leads")
    if card.any_lead:
        return [0]
    index = {name.strip().lower(): i for i, name in reversed(list(enumerate(lead_names)))}
    missing = [lead for lead in card.leads if lead.lower() not in index]
    if missing:
        raise ModelContractError(
            _model_name(card),
            f"needs lead {', '.join(missing)}, which the recording lacks (it has {', '.join(lead_names)})",
        )
    return [index[lead.lower()] for lead in card.leads]


def prepare_signal(signals: ArrayLike, fs: float, card: ModelCard, *, lead_names: Sequence[str]) -> NDArray[np.float32]:
    """The card's leads of ``signals``, resampled to ``card.fs_hz``: float32 ``(leads_selected, n')`` in mV.

    ``signals`` is ``(leads, n)`` in mV sampled at ``fs`` Hz, its rows named by
    ``lead_names``. Leads are selected by name (see :func:`select_leads`) and resampled
    with :func:`ecgstation.core.filters.resample` (polyphase, zero-phase FIR), so
    ``n' ~= n * card.fs_hz / fs``. No normalisation is applied (the card's
    ``normalisation`` belongs to the model's own pre-processing step).

    Raises ModelContractError naming the model when the array is not 2-D or holds
    NaN/inf, ``lead_names`` does not match its rows, ``fs`` is outside
    50-20000 Hz, a lead is missing, or the record is shorter than one window.
    """
    name = _model_name(card)
    arr = np.asarray(signals)
    if arr.ndim != 2:
        raise ModelContractError(name, f"signals must be (leads, samples), got an array of shape {arr.shape}")
    if arr.shape[0] != len(lead_names):
        raise ModelContractError(name, f"signals have {arr.shape[0]} rows but {len(lead_names)} lead names")
    fs_hz = float(fs)
    if not np.isfinite(fs_hz) or not (MIN_FS_HZ <= fs_hz <= MAX_FS_HZ):
        raise ModelContractError(name, f"sampling rate {fs!r} Hz is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
    rows = select_leads(lead_names, card)
    selected = np.asarray(arr[rows], dtype=np.float32)
    if not np.isfinite(selected).all():
        raise ModelContractError(name, "the selected leads hold NaN or infinite values")
    n_needed = card.window_samples
    duration_s = selected.shape[1] / fs_hz
    if duration_s < card.window_s:
        raise ModelContractError(
            name,
            f"the recording lasts {duration_s:.3f} s; the model needs at least one window of "
            f"{card.window_s:.3f} s ({n_needed} samples at {card.fs_hz:g} Hz)",
        )
    out = resample(selected, fs_hz, card.fs_hz)
    return np.ascontiguousarray(out, dtype=np.float32)


def prepare_recording(recording: Recording, card: ModelCard) -> NDArray[np.float32]:
    """:func:`prepare_signal` applied to a Recording (its signals, fs and lead names)."""
    return prepare_signal(recording.signals, recording.fs, card, lead_names=recording.lead_names)
