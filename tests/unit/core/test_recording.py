"""The Recording type: validation when built, views not copies, read-only samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgstation.core.errors import SignalError
from ecgstation.core.recording import Annotations, Recording


def make(n_leads: int = 2, n: int = 1000, fs: float = 250.0) -> Recording:
    return Recording(np.zeros((n_leads, n), np.float32), fs, tuple(f"L{i}" for i in range(n_leads)))


def test_basic_properties_and_views() -> None:
    sig = np.arange(2000, dtype=np.float32).reshape(2, 1000)
    rec = Recording(sig, 250.0, ("I", "II"))
    assert (rec.n_leads, rec.n_samples, rec.duration_s) == (2, 1000, 4.0)
    assert np.shares_memory(rec.lead("ii"), sig) and rec.lead("II")[0] == 1000.0
    w = rec.window(1.0, 2.0)
    assert w.shape == (2, 250) and np.shares_memory(w, sig)
    assert rec.window(3.9, 99.0).shape == (2, 25)
    with pytest.raises(KeyError):
        rec.lead("V1")


def test_samples_are_read_only() -> None:
    rec = make()
    with pytest.raises(ValueError):
        rec.signals[0, 0] = 1.0


@pytest.mark.parametrize(
    ("signals", "fs", "names"),
    [
        (np.zeros((2, 100), np.float64), 250.0, ("a", "b")),  # wrong dtype
        (np.zeros(100, np.float32), 250.0, ("a",)),  # wrong rank
        (np.zeros((0, 100), np.float32), 250.0, ()),  # no leads
        (np.zeros((1, 1), np.float32), 250.0, ("a",)),  # one sample
        (np.zeros((1, 100), np.float32), 0.0, ("a",)),  # no rate
        (np.zeros((1, 100), np.float32), float("nan"), ("a",)),
        (np.zeros((2, 100), np.float32), 250.0, ("a",)),  # names vs leads
    ],
)
def test_invalid_recordings_are_refused(signals: np.ndarray, fs: float, names: tuple[str, ...]) -> None:
    with pytest.raises(SignalError):
        Recording(signals, fs, names)


def test_annotations_checked() -> None:
    ann = Annotations(np.array([10, 20]), ("N", "V"))
    rec = Recording(np.zeros((1, 100), np.float32), 250.0, ("II",), annotations=ann)
    assert rec.annotations.aux == ("", "") and len(rec.annotations) == 2
    with pytest.raises(SignalError):
        Recording(np.zeros((1, 100), np.float32), 250.0, ("II",), annotations=Annotations(np.array([100]), ("N",)))
    with pytest.raises(SignalError):
        Annotations(np.array([1, 2]), ("N",))


def test_memmap_is_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "sig.f32"
    data = np.memmap(path, dtype=np.float32, mode="w+", shape=(2, 5000))
    data[:] = 1.0
    data.flush()
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=(2, 5000))
    rec = Recording(mapped, 500.0, ("I", "II"))
    assert rec.signals is mapped
