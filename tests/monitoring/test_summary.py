"""The session summary from slice analysis documents."""

from __future__ import annotations

from ecgstation.monitoring.summary import summarize


def _doc(i: int, hr: float, rhythm: str = "sinus_rhythm", labels: str = "NNNNNNNNNN", quality: str = "good",
         gaps: list[list[float]] | None = None) -> dict:  # type: ignore[type-arg]  # fmt: skip
    start = 10.0 * i
    return {"index": i, "start_s": start, "end_s": start + 10, "beats_s": [start + k + 0.5 for k in range(len(labels))],
            "labels": labels, "hr_bpm": hr, "rhythm": rhythm, "quality": quality, "gaps": gaps or []}  # fmt: skip


def test_summary_counts_episodes_burden_pauses_quality_and_gaps() -> None:
    docs = [
        _doc(0, 60),
        _doc(1, 70, "atrial_fibrillation", "NNVVVNNNSN"),
        _doc(2, 80, "atrial_fibrillation"),
        _doc(3, 90, quality="acceptable", gaps=[[32.0, 34.0]]),
        _doc(5, 100),
    ]  # slice 4 never stored
    docs[3]["beats_s"] = [30.5, 31.5, 34.5, 35.5, 36.5, 37.5, 38.5, 39.5]  # no beat in the gap
    docs[3]["labels"] = "NNNNNNNN"
    out = summarize(docs, alarms=[{"kind": "pause"}, {"kind": "pause"}], latencies_ms=[10, 20, 30])
    assert out["hr_bpm"] == {"min": 60, "max": 100, "mean": 80.0}
    assert out["hr_trend"] == [{"minute": 0, "hr_bpm": 80.0}]
    assert out["episodes"] == [{"code": "atrial_fibrillation", "start_s": 10.0, "end_s": 30.0, "duration_s": 20.0}]
    assert out["ventricular_runs"] == [{"start_s": 12.5, "beats": 3, "rate_bpm": 60.0}]
    assert out["beat_counts"]["V"] == 3 and out["beat_counts"]["S"] == 1
    assert out["gaps"] == [[32.0, 34.0], [40.0, 50.0]] and out["gap_total_s"] == 12.0
    # the interval across the 32-34 s gap (31.5 -> 34.5) and the 40-50 s hole are not pauses
    assert out["longest_pause"]["duration_s"] == 1.0
    assert out["quality_s"] == {"good": 40.0, "acceptable": 8.0, "unusable": 0.0, "missing": 2.0}
    assert out["burden"]["atrial_fibrillation"] == round(20 / 48, 4)
    assert out["alarms"] == {"pause": 2} and out["latency_ms"]["median"] == 20.0
    assert summarize([])["n_slices"] == 0
