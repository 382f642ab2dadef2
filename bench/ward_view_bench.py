"""Ward view under load: N simulated patches at 250 Hz, frames per second and CPU (budget: >= 30 fps, < 50 % of a core).

Run from the repository root (no display needed; under ``xvfb-run -a`` it renders through X11)::

    QT_QPA_PLATFORM=offscreen python -m bench.ward_view_bench [--beds 8 --fs 250 --seconds 20] [--grab] [--pipeline]

A real :class:`~ecgstation.ui.ward_view.WardView` shows ``--beds`` :class:`BedFeed` s. A feeder
thread plays the bundled MIT-BIH records (resampled to ``--fs`` with
:func:`ecgstation.core.filters.resample`) into them in real time: one 40 ms chunk per bed every
40 ms, on the monotonic clock; the heart rate is updated every second, one bed carries a
flashing high alarm, another a medium one, and one bed loses 1.5 s of signal (a reconnect gap).
With ``--pipeline`` the beds are fed instead by ``SimulatedPatch`` sources through a
``MonitorHost`` (when ``ecgstation.devices.simulated_patch`` and ``ecgstation.monitoring.host``
exist), so the cost includes the monitoring session (detection, alarms).

How it measures (after a 2 s warm-up, over ``--seconds`` of wall time):

- frames/s: ward repaints, i.e. timer ticks between which the tiles' trace views really
  painted (``SweepTrace.paint_count`` grew: the view rendered into the window's backing
  store, offscreen or X11); each tile's own paint rate, the timer's ticks and the tiles'
  redraws (new data drawn) are printed beside.
  ``--grab`` also renders the whole ward into a pixmap once per tick (``QWidget.grab``): an
  upper bound on the rendering cost;
- CPU: ``time.process_time()`` (all threads of the process: UI, feeder, monitoring) over the
  wall time, as % of one core; the UI thread's and the feeder thread's own shares
  (``time.thread_time``) are printed too. Under X11 the X server's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ecgstation.core.filters import resample
from ecgstation.devices.events import SampleChunk
from ecgstation.io import read_recording
from ecgstation.monitoring.bed_feed import AlarmState, BedFeed
from ecgstation.ui.alarm_sound import AlarmSound
from ecgstation.ui.ward_view import WardView

TARGET_FPS = 30.0
CPU_BUDGET_PCT = 50.0
CHUNK_S = 0.040
WARMUP_S = 2.0
SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
RECORDS = ("100", "119", "208")


def load_signals(fs: float, seconds: float) -> list[NDArray[np.float32]]:
    """The first lead of each bundled MIT-BIH record, ``seconds`` long, resampled to ``fs``."""
    out = []
    for name in RECORDS:
        rec = read_recording(SAMPLES / f"{name}.hea")
        n_in = int((seconds + 5) * rec.fs)
        out.append(resample(rec.signals[:1, :n_in], rec.fs, fs))
    return out


class Feeder(threading.Thread):
    """Pushes one ``CHUNK_S`` chunk per bed per period, in real time, until stopped."""

    def __init__(self, feeds: list[BedFeed], signals: list[NDArray[np.float32]], fs: float) -> None:
        super().__init__(name="ward-bench-feeder", daemon=True)
        self.feeds = feeds
        self.signals = signals
        self.fs = fs
        self.stop_event = threading.Event()
        self.cpu_s = 0.0
        self.late_chunks = 0

    def run(self) -> None:
        cpu0 = time.thread_time()
        per = round(CHUNK_S * self.fs)
        t_start = time.monotonic()
        k = 0
        while not self.stop_event.is_set():
            due = t_start + k * per / self.fs
            delay = due - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)
            elif delay < -CHUNK_S:
                self.late_chunks += 1
            a = k * per
            t0 = a / self.fs
            for i, feed in enumerate(self.feeds):
                if i == 3 and 6.0 <= t0 < 7.5:  # a reconnect: 1.5 s never arrive
                    continue
                sig = self.signals[i % len(self.signals)]
                offset = (i * 7919) % (sig.shape[1] // 2)
                start = (offset + a) % (sig.shape[1] - per)
                feed.push(SampleChunk(sig[:, start : start + per], self.fs, t0, k))
            if k % round(1.0 / CHUNK_S) == 0:
                for i, feed in enumerate(self.feeds):
                    feed.update(heart_rate_bpm=float(60 + i * 4 + k % 3), status="streaming")
            k += 1
        self.cpu_s = time.thread_time() - cpu0


def make_feeds(n_beds: int, fs: float) -> list[BedFeed]:
    """``n_beds`` beds with an alarm on two of them."""
    feeds = [BedFeed(f"Bed {i + 1}", f"Sim patient {i + 1}", fs, ("ECG",), display_s=10.0) for i in range(n_beds)]
    if n_beds > 1:
        feeds[1].update(alarms=(AlarmState("vt", "high", "V-tach", 1.0, alarm_id=1),))
    if n_beds > 2:
        feeds[2].update(alarms=(AlarmState("tachy", "medium", "HR > 120", 1.0, alarm_id=2),))
    return feeds


#: Frame length of the simulated patches in --pipeline mode: a BLE notification of a 250 Hz patch holds
#: about 60-75 samples (3-byte samples in a ~230-byte notification; a Polar H10 sends 73 samples at 130 Hz),
#: i.e. 0.25-0.3 s of signal (the raw feeder mode uses CHUNK_S).
PIPELINE_CHUNK_S = 0.25


def pipeline_feeds(n_beds: int, fs: float, folder: Path) -> tuple[list[BedFeed], Callable[[], None], str]:
    """Beds fed by SimulatedPatch sources (real time, frames of ``PIPELINE_CHUNK_S``) through a MonitorHost on
    a SQLite file in ``folder``, with the bundled models (as the workstation runs them); raises
    RuntimeError when those are missing."""
    try:
        from ecgstation.core.recording import Recording
        from ecgstation.devices.simulated_patch import SimulatedPatch
        from ecgstation.monitoring.host import MonitorHost
        from ecgstation.storage import DatabaseSettings, Role
        from ecgstation.ui.session import open_workstation
    except ImportError as exc:
        raise RuntimeError(f"--pipeline needs SimulatedPatch and MonitorHost ({exc})") from exc
    settings = DatabaseSettings(url=f"sqlite:///{folder / 'bench.sqlite3'}")
    admin = open_workstation(settings, username="bench")  # the first account: administrator
    with admin.db.session(admin.actor) as store:
        store.users.create("nurse", Role.NURSE, None)  # monitoring is a nurse's (or cardiologist's) job
    admin.close()
    session = open_workstation(settings, username="nurse")
    host = MonitorHost(session.db, session.actor, models=session.models)
    feeds = []
    for i, sig in enumerate(load_signals(fs, 120.0)[i % len(RECORDS)] for i in range(n_beds)):
        patch = SimulatedPatch(Recording(sig, fs, ("ECG",)), chunk_s=PIPELINE_CHUNK_S, seed=i)
        feeds.append(host.add_bed(f"Bed {i + 1}", patch, patient_label=f"Sim patient {i + 1}"))

    def stop() -> None:
        host.stop()
        session.close()

    return feeds, stop, session.actor.username


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--beds", type=int, default=8)
    parser.add_argument("--fs", type=float, default=250.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured wall time (after a 2 s warm-up)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--grab", action="store_true", help="also render the whole ward into a pixmap every tick")
    parser.add_argument("--pipeline", action="store_true", help="SimulatedPatch sources through MonitorHost")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the ward as PNG at the end")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    feeder: Feeder | None = None
    stop_pipeline: Callable[[], None] | None = None
    user = "bench"
    tmp = tempfile.TemporaryDirectory(prefix="ward-bench-")
    if args.pipeline:
        try:
            feeds, stop_pipeline, user = pipeline_feeds(args.beds, args.fs, Path(tmp.name))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        feeds = make_feeds(args.beds, args.fs)
        feeder = Feeder(feeds, load_signals(args.fs, 120.0), args.fs)

    ward = WardView(feeds, user_name=user, sound=AlarmSound(use_multimedia=False))
    ward.resize(args.width, args.height)
    ward.show()
    if args.grab:
        ward.timer.timeout.connect(lambda: ward.grab())
    refresh_s: list[float] = []
    original = ward.refresh
    painted = {"last": 0, "frames": 0}

    def timed_refresh() -> None:
        total = sum(t.trace.paint_count for t in ward.tiles())
        if total > painted["last"]:  # the ward was rendered since the last tick: one frame on screen
            painted["frames"] += 1
            painted["last"] = total
        t = time.perf_counter()
        original()
        refresh_s.append(time.perf_counter() - t)

    ward.timer.timeout.disconnect(original)
    ward.timer.timeout.connect(timed_refresh)
    if feeder is not None:
        feeder.start()

    marks: dict[str, tuple[float, float, int, int, list[int], int, float]] = {}

    def mark(name: str) -> None:
        paints = [t.trace.paint_count for t in ward.tiles()]
        marks[name] = (
            time.monotonic(), time.process_time(), ward.frames, ward.redraws, paints, painted["frames"], time.thread_time()
        )  # fmt: skip
        if name == "start":
            refresh_s.clear()
        if name == "end":
            app.quit()

    QTimer.singleShot(int(WARMUP_S * 1000), lambda: mark("start"))
    QTimer.singleShot(int((WARMUP_S + args.seconds) * 1000), lambda: mark("end"))
    app.exec()
    if args.screenshot is not None:
        ward.grab().save(str(args.screenshot))
    if feeder is not None:
        feeder.stop_event.set()
        feeder.join()
    ward.stop()
    if stop_pipeline is not None:
        stop_pipeline()
    tmp.cleanup()

    (w0, c0, f0, r0, p0, g0, u0), (w1, c1, f1, r1, p1, g1, u1) = marks["start"], marks["end"]
    wall = w1 - w0
    cpu_pct = 100.0 * (c1 - c0) / wall
    fps = (g1 - g0) / wall
    tile_fps = [(b - a) / wall for a, b in zip(p0, p1, strict=True)]
    tick_fps = (f1 - f0) / wall
    redraw_fps = (r1 - r0) / wall / max(1, args.beds)
    refresh_ms = 1000.0 * float(np.mean(refresh_s)) if refresh_s else 0.0
    platform = QApplication.platformName()
    print(f"ward view: {args.beds} beds at {args.fs:g} Hz, {wall:.1f} s measured, platform {platform}"
          f"{', grab per tick' if args.grab else ''}{', pipeline' if args.pipeline else ''}")  # fmt: skip
    print(f"  frames/s (ward repaints): {fps:.1f}  (target >= {TARGET_FPS:g}: {fps / TARGET_FPS:.2f}x)")
    note = "" if args.pipeline else " (a tile is not repainted while its bed sends nothing: bed 4's 1.5 s gap)"
    print(f"  per tile painted frames/s: mean {np.mean(tile_fps):.1f}, min {min(tile_fps):.1f}{note}")
    print(f"  timer ticks/s {tick_fps:.1f}, tile redraws/s per bed {redraw_fps:.1f}, "
          f"refresh of all tiles {refresh_ms:.2f} ms mean")  # fmt: skip
    print(f"  CPU (process, all threads): {cpu_pct:.1f} % of one core  (budget < {CPU_BUDGET_PCT:g} %: "
          f"{cpu_pct / CPU_BUDGET_PCT:.2f} of it)")  # fmt: skip
    print(f"  of which the UI thread (timer, drawing, painting): {100.0 * (u1 - u0) / wall:.1f} %")
    if feeder is not None:
        print(f"  feeder thread: {100.0 * feeder.cpu_s / (wall + WARMUP_S):.1f} % of one core, "
              f"{feeder.late_chunks} chunks late")  # fmt: skip
    ok = fps >= TARGET_FPS and cpu_pct < CPU_BUDGET_PCT
    print(f"  {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
