"""File replay: 1x-60x, chunks equal the file, ends with disconnected."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from ecgstation.devices.clock import VirtualClock
from ecgstation.devices.errors import DeviceError
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.file_replay import FileReplaySource
from ecgstation.io import read_recording

SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"


def collect(src: FileReplaySource, stop_s: float = 1e9) -> list[SourceEvent]:
    async def run() -> list[SourceEvent]:
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, SampleChunk) and ev.end_s >= stop_s:
                await src.close()
        return out

    return asyncio.run(run())


def test_whole_file_is_replayed_exactly() -> None:
    path = SAMPLES / "ptbxl_00003_hr.hea"
    rec = read_recording(path)
    src = FileReplaySource(path, chunk_s=0.3, clock=VirtualClock())
    out = collect(src)
    cs = [e for e in out if isinstance(e, SampleChunk)]
    assert np.array_equal(np.concatenate([c.samples for c in cs], axis=1), rec.signals)
    assert [c.seq for c in cs] == list(range(len(cs)))
    assert cs[-1].n == rec.n_samples % 150 or cs[-1].n == 150
    assert all(b.t0_s == pytest.approx(a.end_s) for a, b in itertools.pairwise(cs))
    last = out[-1]
    assert isinstance(last, DeviceStatus) and last.message == "end of file" and src.finished
    assert src.name == "file replay: ptbxl_00003_hr.hea"


def test_speed_60_runs_in_real_time_and_close_stops() -> None:
    src = FileReplaySource(SAMPLES / "119.hea", speed=60.0, lead="MLII")
    t = time.monotonic()
    out = collect(src, stop_s=6.0)
    assert 0.08 < time.monotonic() - t < 5.0  # 6 s of signal at 60x: 0.1 s
    last = out[-1]
    assert isinstance(last, DeviceStatus) and last.message == "closed"
    assert all(e.samples.shape[0] == 1 for e in out if isinstance(e, SampleChunk))


@pytest.mark.parametrize("speed", [0.5, 0.99, 60.5, 120.0])
def test_speed_outside_1_to_60_is_refused(speed: float) -> None:
    with pytest.raises(DeviceError, match="speed"):
        FileReplaySource(SAMPLES / "100.hea", speed=speed)


def test_unreadable_file() -> None:
    with pytest.raises(DeviceError, match="Cannot replay"):
        FileReplaySource(SAMPLES / "missing.hea")
