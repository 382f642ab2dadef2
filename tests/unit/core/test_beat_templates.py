"""Beat templates: synthetic families with known morphology, edge cases, MIT-BIH record 208."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.beat_templates import BeatFamily, TemplateSettings, beat_family_ids, cluster_beats
from ecgstation.core.errors import SignalError
from ecgstation.io import read_recording
from tests.synthetic import WAVES

FS = 250.0

#: MIT-BIH annotation symbols that mark beats.
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")

#: (offset from R in s, amplitude in mV, Gaussian width in s) per morphology and lead (lead 2 scaled below).
SHAPES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "N": WAVES,
    "V": ((0.0, -1.6, 0.035), (0.06, 0.5, 0.03), (0.3, 0.5, 0.07)),
    "F": ((0.0, 0.7, 0.02), (0.04, -0.8, 0.03), (0.28, 0.2, 0.05)),
}
LEAD2_GAIN = {"N": 0.5, "V": 1.0, "F": -0.6}


def synthetic_record(
    kinds: str, rr_s: float = 0.8, seed: int = 0, noise_mv: float = 0.02
) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str]]:
    """A 2-lead record (mV) with one beat of the given morphology per character of ``kinds``."""
    rng = np.random.default_rng(seed)
    r_times = 0.6 + rr_s * np.arange(len(kinds))
    n = int((r_times[-1] + 1.0) * FS)
    t = np.arange(n) / FS
    x = np.zeros((2, n))
    for at, kind in zip(r_times, kinds):
        lo, hi = max(0, int((at - 0.5) * FS)), min(n, int((at + 0.7) * FS))
        beat = sum(amp * np.exp(-0.5 * ((t[lo:hi] - at - off) / w) ** 2) for off, amp, w in SHAPES[kind])
        x[0, lo:hi] += beat
        x[1, lo:hi] += LEAD2_GAIN[kind] * beat
    x += noise_mv * rng.standard_normal(x.shape) + 0.2 * np.sin(2 * np.pi * 0.15 * t)
    return x.astype(np.float32), np.round(r_times * FS).astype(np.int64), list(kinds)


def pattern(n: int, every: int, kind: str, seed: int = 3) -> str:
    """``n`` beats, ``N`` except one ``kind`` beat in every ``every`` (at shuffled places)."""
    rng = np.random.default_rng(seed)
    out = np.array(["N"] * n)
    out[rng.choice(n, size=n // every, replace=False)] = kind
    return "".join(out.tolist())


def test_two_morphologies_make_two_pure_families() -> None:
    kinds = pattern(400, 5, "V")
    x, r, labels = synthetic_record(kinds)
    families = cluster_beats(x, FS, r, labels)
    assert [f.family_id for f in families] == list(range(len(families)))
    assert [(f.dominant_label, f.count) for f in families] == [("N", 320), ("V", 80)]
    assert all(f.dominant_fraction == 1.0 and not f.is_other for f in families)
    normal, ventricular = families
    assert normal.label_counts == {"N": 320}
    # every beat is in exactly one family
    assert np.array_equal(np.sort(np.concatenate([f.beat_indices for f in families])), np.arange(r.size))
    assert np.all(np.diff(ventricular.beat_indices) > 0)
    ids = beat_family_ids(families, r.size)
    assert [labels[i] for i in np.flatnonzero(ids == 1)] == ["V"] * 80


def test_mean_waveform_is_the_baseline_corrected_beat() -> None:
    x, r, labels = synthetic_record("N" * 60, noise_mv=0.0)
    (family,) = cluster_beats(x, FS, r, labels)
    start = round(-0.25 * FS)
    assert family.window_start_s == pytest.approx(start / FS)
    assert family.mean_waveform.dtype == np.float32
    assert family.mean_waveform.shape == (2, round(0.40 * FS) - start + 1)
    at_r = -start
    wave = family.mean_waveform
    assert int(np.argmax(wave[0])) == at_r
    assert wave[0, at_r] == pytest.approx(1.2 + 0.0, abs=0.1)  # R amplitude, baseline removed
    assert abs(float(np.median(wave[0]))) < 0.05
    assert wave[1, at_r] == pytest.approx(0.5 * wave[0, at_r], rel=0.05)


def test_three_morphologies_and_sorting_by_count() -> None:
    kinds = "".join(np.random.default_rng(5).choice(list("NNNNNNVVF"), 450).tolist())
    x, r, labels = synthetic_record(kinds, seed=2)
    families = cluster_beats(x, FS, r, labels)
    assert [f.dominant_label for f in families] == ["N", "V", "F"]
    assert [f.count for f in families] == sorted((f.count for f in families), reverse=True)
    assert all(f.dominant_fraction == 1.0 for f in families)


def test_deterministic() -> None:
    x, r, labels = synthetic_record(pattern(300, 4, "V"), seed=9, noise_mv=0.08)
    a = cluster_beats(x, FS, r, labels)
    b = cluster_beats(x, FS, r, labels)
    assert [f.count for f in a] == [f.count for f in b]
    for fa, fb in zip(a, b):
        assert np.array_equal(fa.beat_indices, fb.beat_indices)
        assert np.array_equal(fa.mean_waveform, fb.mean_waveform)


def test_without_labels_families_have_no_dominant_label() -> None:
    x, r, _labels = synthetic_record(pattern(100, 4, "V"))
    families = cluster_beats(x, FS, r)
    assert len(families) == 2
    assert all(f.dominant_label is None and f.label_counts == {} and f.dominant_fraction is None for f in families)


def test_empty_and_edge_beats() -> None:
    x, r, _labels = synthetic_record("N" * 20)
    assert cluster_beats(x, FS, np.zeros(0, dtype=np.int64)) == []
    # beats whose window runs past the record's ends are kept
    edges = np.array([3, x.shape[1] - 4], dtype=np.int64)
    families = cluster_beats(x, FS, np.concatenate([edges[:1], r, edges[1:]]))
    assert sum(f.count for f in families) == r.size + 2
    assert all(np.all(np.isfinite(f.mean_waveform)) for f in families)
    # a single lead, given as 1-D
    assert sum(f.count for f in cluster_beats(x[0], FS, r)) == r.size


def test_family_cap_sends_the_rest_to_other() -> None:
    kinds = "".join(np.random.default_rng(1).choice(list("NNNVF"), 300).tolist())
    x, r, labels = synthetic_record(kinds)
    families = cluster_beats(x, FS, r, labels, TemplateSettings(max_families=2))
    others = [f for f in families if f.is_other]
    assert len(others) == 1 and len(families) <= 3
    assert sum(f.count for f in families) == r.size
    assert others[0].dominant_label == "F"


def test_full_cap_retires_early_small_families_for_a_new_morphology() -> None:
    # an odd beat early takes the second slot; V beats appearing later still get a family of their own
    kinds = "N" * 50 + "F" + "N" * 50 + "V" * 100
    x, r, labels = synthetic_record(kinds)
    settings = TemplateSettings(max_families=2, block_beats=32)
    families = cluster_beats(x, FS, r, labels, settings)
    assert [(f.dominant_label, f.count, f.is_other) for f in families] == [
        ("N", 100, False),
        ("V", 100, False),
        ("F", 1, True),
    ]


def test_a_lone_odd_beat_joins_other_or_a_similar_family() -> None:
    kinds = "N" * 200 + "V" + "N" * 200
    x, r, labels = synthetic_record(kinds)
    families = cluster_beats(x, FS, r, labels)
    assert families[0].count == 400 and families[0].dominant_label == "N"
    assert len(families) == 2 and families[1].is_other and families[1].label_counts == {"V": 1}
    # in a short record (fewer than 100 beats), one odd beat is a family of its own
    x, r, labels = synthetic_record("N" * 20 + "V" + "N" * 20)
    families = cluster_beats(x, FS, r, labels)
    assert [(f.dominant_label, f.count, f.is_other) for f in families] == [("N", 40, False), ("V", 1, False)]


def test_bad_input_is_refused() -> None:
    x, r, labels = synthetic_record("N" * 10)
    with pytest.raises(SignalError, match="one label per beat"):
        cluster_beats(x, FS, r, labels[:-1])
    with pytest.raises(SignalError, match="outside the record"):
        cluster_beats(x, FS, np.array([x.shape[1]]))
    with pytest.raises(SignalError, match="sampling rate"):
        cluster_beats(x, -1.0, r)
    with pytest.raises(SignalError, match="leads, samples"):
        cluster_beats(np.zeros((1, 2, 3), dtype=np.float32), FS, r)
    bad: dict[str, Any]
    for bad in (
        {"window_start_s": 0.1},
        {"amplitude_ratio": (1.2, 1.6)},
        {"correlation": 1.5},
        {"max_families": 0},
    ):
        with pytest.raises(SignalError):
            TemplateSettings(**bad)
    with pytest.raises(SignalError, match="count"):
        BeatFamily(0, np.arange(3), 2, np.zeros((1, 5), np.float32), -0.25, None)


@pytest.mark.data
def test_record_208_families_follow_the_reference_labels(data_dir: Path) -> None:
    rec = read_recording(data_dir / "mitdb" / "208.hea")
    ann = rec.annotations
    keep = np.array([lab in BEAT_SYMBOLS for lab in ann.labels], dtype=bool)
    r_peaks = ann.samples[keep]
    labels = [lab for lab, k in zip(ann.labels, keep) if k]
    families = cluster_beats(rec.signals, rec.fs, r_peaks, labels)
    assert sum(f.count for f in families) == r_peaks.size
    top = families[:2]
    assert {f.dominant_label for f in top} == {"N", "V"}
    for fam in top:
        assert fam.dominant_fraction is not None and fam.dominant_fraction >= 0.9, fam.label_counts
    ids = beat_family_ids(families, r_peaks.size)
    v_family = {f.family_id for f in families if f.dominant_label == "V"}
    v_beats = np.flatnonzero(np.asarray(labels) == "V")
    assert np.mean([ids[i] in v_family for i in v_beats]) >= 0.9
