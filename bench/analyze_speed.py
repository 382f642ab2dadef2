"""Speed of a full ``analyze`` against NeuroKit2's ``ecg_process`` on the same 30-minute record.

Run from the repository root::

    pip install -e '.[bench]'
    python -m bench.analyze_speed [--record 100] [--repeat 3]

Ours: load the WFDB file, then detect beats on both leads, delineate, measure intervals,
axis, HRV and quality (``ecgstation.core.analysis.analyze_recording``); baseline: load the
same file with wfdb and run ``neurokit2.ecg_process`` (clean, peaks, rate, quality,
delineation) on its first lead. The best of ``--repeat`` runs is reported for each, and
the ratio ours / NeuroKit2 (target: at most 1/3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ecgstation.core.analysis import analyze_recording
from ecgstation.io import read_recording

TARGET_RATIO = 1.0 / 3.0


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ECGSTATION_DATA", "../shared/data")))
    parser.add_argument("--record", default="100")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    path = args.data / "mitdb" / f"{args.record}.hea"
    if not path.exists():
        path = Path(__file__).resolve().parents[1] / "resources" / "samples" / f"{args.record}.hea"
    if not path.exists():
        print(f"record {args.record} not found (set ECGSTATION_DATA)", file=sys.stderr)
        return 2
    import neurokit2 as nk
    import wfdb

    def ours() -> object:
        return analyze_recording(read_recording(path))

    def baseline() -> object:
        rec = wfdb.rdrecord(str(path.with_suffix("")))
        return nk.ecg_process(np.asarray(rec.p_signal[:, 0], np.float64), sampling_rate=rec.fs)

    rec = read_recording(path)
    print(f"# analyze speed: {path.name}, {rec.n_leads} leads, {rec.duration_s / 60:.1f} min at {rec.fs:g} Hz")
    ours()  # warm imports and caches for both before timing
    baseline()
    t_ours = _best(ours, args.repeat)
    t_nk = _best(baseline, args.repeat)
    ratio = t_ours / t_nk
    print(f"ours (load + filter + detect + delineate + intervals + HRV + quality, {rec.n_leads} leads): {t_ours:.2f} s")
    print(f"NeuroKit2 ecg_process (load + process, 1 lead): {t_nk:.2f} s")
    print(
        f"ratio ours / NeuroKit2 = {ratio:.3f} (target <= {TARGET_RATIO:.3f}): {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
