"""Redraw time of the true-scale ECG viewer while scrolling (target: well under 50 ms a step).

Run from the repository root (no display needed)::

    QT_QPA_PLATFORM=offscreen python -m bench.viewer_speed [--steps 60] [--width 1600 --height 1000]

Three cases: a 10-minute 12-lead record at 500 Hz in 12x1 and in 3x4+R (filters off and on),
and a 24-hour 2-lead Holter record at 128 Hz with 100,000 beats in the dual layout. Each
step scrolls by 1/25 of a page (the smooth scroll of a dragged scroll bar) and repaints
the plot; the mean and worst step are printed in ms, split into the viewer's own work
(fetch, filter, reduce, setData, beat labels) and the repaint that follows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from ecgstation.core.recording import Recording
from ecgstation.storage.views import BeatView
from ecgstation.ui.ecg_viewer import EcgViewer
from ecgstation.ui.paper_layout import Layout

TARGET_MS = 50.0
LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _twelve_lead(minutes: float = 10.0, fs: float = 500.0) -> Recording:
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * fs)
    t = np.arange(n, dtype=np.float64) / fs
    beat = np.exp(-0.5 * ((t % 0.8) - 0.4) ** 2 / 0.01**2)  # an R wave every 0.8 s
    wander = 0.3 * np.sin(2 * np.pi * 0.2 * t)
    sig = np.empty((12, n), dtype=np.float32)
    for k in range(12):
        sig[k] = (1.0 - 0.15 * k) * beat + wander + 0.02 * rng.standard_normal(n)
    return Recording(sig, fs, LEADS_12)


def _holter(fs: float = 128.0) -> tuple[Recording, list[BeatView]]:
    n = int(24 * 3600 * fs)
    rng = np.random.default_rng(1)
    base = (0.05 * rng.standard_normal(int(60 * fs))).astype(np.float32)
    sig = np.broadcast_to(np.tile(base, n // base.size + 1)[:n], (2, n))
    samples = np.linspace(64, n - 64, 100_000).astype(np.int64)
    beats = [
        BeatView(i, 1, int(s), "V" if i % 9 == 0 else "N", "N", "algorithm", "qrs", False, None, None, 1)
        for i, s in enumerate(samples.tolist())
    ]
    return Recording(sig, fs, ("ECG1", "ECG2")), beats


def _run(viewer: EcgViewer, app: QApplication, steps: int) -> tuple[list[float], list[float]]:
    work, paint = [], []
    viewport = viewer._view.viewport()
    step = viewer.page_s() / 25.0
    for _ in range(steps):
        t0 = time.perf_counter()
        viewer.scroll_by(step)
        t1 = time.perf_counter()
        viewport.repaint()
        app.processEvents()
        t2 = time.perf_counter()
        work.append((t1 - t0) * 1000.0)
        paint.append((t2 - t1) * 1000.0)
    return work, paint


def _report(name: str, work: list[float], paint: list[float]) -> float:
    total = [a + b for a, b in zip(work, paint, strict=True)]
    print(
        f"{name:<34} redraw {statistics.mean(work):6.2f} ms (max {max(work):6.2f})"
        f"  + repaint {statistics.mean(paint):6.2f} ms  = {statistics.mean(total):6.2f} ms (max {max(total):6.2f})"
    )
    return statistics.mean(total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--dpi", type=float, default=96.0)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    viewer = EcgViewer(dpi=args.dpi)
    viewer.resize(args.width, args.height)
    viewer.show()
    app.processEvents()
    worst = 0.0
    viewer.set_recording(_twelve_lead())
    for layout in (Layout.TWELVE_BY_ONE, Layout.THREE_BY_FOUR_RHYTHM):
        viewer.set_layout(layout)
        for filters in (False, True):
            viewer.set_filters_enabled(filters)
            viewer.scroll_to(60.0)
            name = f"12-lead {layout.value}, filters {'on' if filters else 'off'}"
            worst = max(worst, _report(name, *_run(viewer, app, args.steps)))
    recording, beats = _holter()
    viewer.set_recording(recording)
    viewer.set_layout(Layout.DUAL)
    t0 = time.perf_counter()
    viewer.set_beats(beats)
    print(f"{'24 h Holter: set_beats(100,000)':<34} {(time.perf_counter() - t0) * 1000.0:6.1f} ms")
    viewer.scroll_to(12 * 3600.0)
    worst = max(worst, _report("24 h Holter dual, 100k beats", *_run(viewer, app, args.steps)))
    print(f"mean step at most {worst:.1f} ms (target < {TARGET_MS:.0f} ms): {'ok' if worst < TARGET_MS else 'SLOW'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
