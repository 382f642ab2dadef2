"""ReconnectingSource: retries with growing back-off, records the gap, gives up with a message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest

from ecgstation.devices.clock import VirtualClock
from ecgstation.devices.errors import DeviceError
from ecgstation.devices.events import DeviceStatus, EcgSource, SampleChunk, SourceEvent
from ecgstation.devices.reconnect import ReconnectingSource

FS = 100.0


class ScriptedLink:
    """One connection: yields chunks at the given session times (advancing the clock), then a link loss."""

    def __init__(self, clock: VirtualClock, starts_s: list[float], *, fail: bool = False, finished: bool = False):
        self.clock = clock
        self.starts_s = starts_s
        self.fail = fail
        self.finished = finished
        self.name = "scripted"
        self.fs = FS
        self.lead_names: tuple[str, ...] = ("I",)

    async def events(self) -> AsyncIterator[SourceEvent]:
        yield DeviceStatus("connecting", self.clock.now())
        if self.fail:
            raise DeviceError("device not found")
        yield DeviceStatus("connected", self.clock.now())
        for k, t in enumerate(self.starts_s):
            await self.clock.sleep_until(t + 0.5)
            yield SampleChunk(np.full((1, 50), float(k), np.float32), FS, t, k)
        yield DeviceStatus("disconnected", self.clock.now(), message="link lost")

    async def close(self) -> None:
        pass


def factory_of(links: list[ScriptedLink]) -> Callable[[], EcgSource]:
    it = iter(links)
    return lambda: next(it)


def collect(src: ReconnectingSource) -> list[SourceEvent]:
    async def run() -> list[SourceEvent]:
        return [ev async for ev in src.events()]

    return asyncio.run(run())


def of_kind(events: list[SourceEvent], kind: str) -> list[DeviceStatus]:
    return [e for e in events if isinstance(e, DeviceStatus) and e.kind == kind]


def test_gap_is_recorded_and_seq_jumps() -> None:
    clock = VirtualClock()
    links = [
        ScriptedLink(clock, [0.0, 0.5, 1.0]),
        ScriptedLink(clock, [], fail=True),
        ScriptedLink(clock, [6.0, 6.5], finished=True),
    ]
    out = collect(ReconnectingSource(factory_of(links), clock=clock, backoff_s=1.0, max_attempts=3))
    cs = [e for e in out if isinstance(e, SampleChunk)]
    assert [c.t0_s for c in cs] == [0.0, 0.5, 1.0, 6.0, 6.5]
    (gap,) = of_kind(out, "gap")
    assert gap.t_s == 1.5 and gap.value == pytest.approx(4.5)
    assert [c.seq for c in cs] == [0, 1, 2, 12, 13]  # 9 chunks' worth missing between 2 and 12
    assert [s.value for s in of_kind(out, "reconnecting")] == [1.0, 2.0]
    assert "device not found" in of_kind(out, "error")[0].message
    assert out[-1] == of_kind(out, "disconnected")[-1]
    # the gap is announced before the first chunk after it
    pos = [i for i, e in enumerate(out) if e is gap or e is cs[3]]
    assert out[pos[0]] is gap


def test_gives_up_after_max_attempts_with_capped_backoff() -> None:
    clock = VirtualClock()
    links = [ScriptedLink(clock, [0.0])] + [ScriptedLink(clock, [], fail=True) for _ in range(4)]
    src = ReconnectingSource(
        factory_of(links), clock=clock, backoff_s=1.0, backoff_factor=2.0, max_backoff_s=3.0, max_attempts=4
    )
    out = collect(src)
    rec = of_kind(out, "reconnecting")
    assert [r.value for r in rec] == [1.0, 2.0, 3.0, 4.0]
    times = [r.t_s for r in rec]
    assert np.diff(times).tolist() == [1.0, 2.0, 3.0]  # 1, 2, then capped at 3
    last = out[-1]
    assert isinstance(last, DeviceStatus) and last.kind == "disconnected" and "gave up" in last.message
    assert "4 attempts" in last.message and not of_kind(out, "gap")  # nothing resumed: no gap to show


def test_attempts_reset_after_samples_resume() -> None:
    clock = VirtualClock()
    links = [
        ScriptedLink(clock, [0.0]),
        ScriptedLink(clock, [], fail=True),
        ScriptedLink(clock, [5.0]),
        ScriptedLink(clock, [], fail=True),
        ScriptedLink(clock, [20.0], finished=True),
    ]
    out = collect(ReconnectingSource(factory_of(links), clock=clock, backoff_s=1.0, max_attempts=2))
    assert [r.value for r in of_kind(out, "reconnecting")] == [1.0, 2.0, 1.0, 2.0]
    assert len(of_kind(out, "gap")) == 2


def test_close_during_backoff_ends_with_closed() -> None:
    async def run() -> list[SourceEvent]:
        clock = VirtualClock()
        links = [ScriptedLink(clock, [0.0])] + [ScriptedLink(clock, [], fail=True) for _ in range(3)]
        src = ReconnectingSource(factory_of(links), clock=clock, backoff_s=1.0, max_attempts=3)
        out = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "reconnecting":
                await src.close()
        return out

    out = asyncio.run(run())
    last = out[-1]
    assert isinstance(last, DeviceStatus) and last.kind == "disconnected" and last.message == "closed"
    assert len(of_kind(out, "reconnecting")) == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(DeviceError):
        ReconnectingSource(lambda: ScriptedLink(VirtualClock(), []), max_attempts=0)
