"""Speed of the shipped models on CPU (onnxruntime), against the budgets of issue 6.

Run from the repository root::

    python -m bench.model_speed [--record 100] [--repeat 5] [--threads 2]

Measured (best of ``--repeat`` after one warm-up run), each printed with its ratio to the
budget it is held to (ratio <= 1 meets it):

- **beat classifier**: label every detected beat of a 30-minute MIT-BIH record
  (feature preparation with :func:`ecgstation.inference.beat_inputs.beat_features` plus
  the ONNX run), R peaks given; budget 0.5 s;
- **12-lead classifier**: one 10 s 12-lead record at 500 Hz, from the mV array to the
  probabilities (lead selection, resampling, ONNX run); budget 20 ms;
- **rhythm classifier**: every 10 s window of the same 30-minute record (180 windows);
  no budget in the issue, reported for the monitoring budget of issue 7 (one slice each 10 s);
- **whole ``analyze_with_models``** on the 30-minute record, for reference (no budget).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ecgstation.core.qrs import detect_qrs
from ecgstation.core.recording import Recording
from ecgstation.inference import ModelRegistry
from ecgstation.inference.beat_labels import label_beats
from ecgstation.inference.model_analysis import analyze_with_models, load_analysis_models, window_starts
from ecgstation.inference.rhythm_calls import rhythm_calls, twelve_lead_calls
from ecgstation.io import read_recording

BEAT_BUDGET_S = 0.5
TWELVE_LEAD_BUDGET_S = 0.020
REPO = Path(__file__).resolve().parents[1]


def _best(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first onnxruntime run allocates
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _find(data: Path, *names: str) -> Path | None:
    for name in names:
        for base in (data, REPO / "resources" / "samples"):
            path = base / name
            if path.exists():
                return path
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ECGSTATION_DATA", "../shared/data")))
    parser.add_argument("--record", default="100")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the bundled models)")
    args = parser.parse_args(argv)

    holter = _find(args.data, f"mitdb/{args.record}.hea", f"{args.record}.hea")
    twelve = _find(args.data, "ptbxl/records500/00000/00001_hr.hea", "ptbxl_00003_hr.hea")
    if holter is None or twelve is None:
        print("records not found (set ECGSTATION_DATA)", file=sys.stderr)
        return 2
    models = load_analysis_models(ModelRegistry.from_folder(args.models), intra_op_threads=args.threads)
    for problem in models.problems:
        print(f"model not used: {problem}", file=sys.stderr)
    rec = read_recording(holter)
    peaks = detect_qrs(rec.signals, rec.fs)
    rows: list[tuple[str, float, float | None]] = []

    if models.beat is not None:
        beat = models.beat
        t = _best(lambda: label_beats(beat, rec.signals, rec.fs, rec.lead_names, peaks), args.repeat)
        rows.append((f"beat classifier, {peaks.size} beats of {rec.duration_s / 60:.0f} min ({holter.name})", t,
                     BEAT_BUDGET_S))  # fmt: skip
    if models.rhythm is not None:
        rhythm = models.rhythm
        starts = window_starts(rec.duration_s)
        t = _best(lambda: rhythm_calls(rhythm, rec.signals[0], rec.fs, starts), args.repeat)
        rows.append((f"rhythm classifier, {len(starts)} windows of 10 s", t, None))
    if models.twelve_lead is not None:
        twelve_model = models.twelve_lead
        rec12: Recording = read_recording(twelve)
        t = _best(lambda: twelve_lead_calls(twelve_model, rec12, [0.0]), args.repeat)
        rows.append((f"12-lead classifier, one 10 s record at {rec12.fs:g} Hz ({twelve.name})", t,
                     TWELVE_LEAD_BUDGET_S))  # fmt: skip
    t = _best(lambda: analyze_with_models(rec, models), max(1, args.repeat // 2))
    rows.append((f"analyze_with_models, whole {rec.duration_s / 60:.0f} min record", t, None))

    print(f"models: {', '.join(models.names) or 'none'}; onnxruntime threads {args.threads}")
    print(f"{'measurement':<62} {'time':>10} {'budget':>9} {'ratio':>7}")
    failed = False
    for name, seconds, budget in rows:
        ratio = "" if budget is None else f"{seconds / budget:.2f}"
        budget_s = "" if budget is None else f"{budget * 1000:.0f} ms"
        print(f"{name:<62} {seconds * 1000:>7.1f} ms {budget_s:>9} {ratio:>7}")
        failed |= budget is not None and seconds > budget
    print("all budgets met" if not failed else "BUDGET MISSED")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
