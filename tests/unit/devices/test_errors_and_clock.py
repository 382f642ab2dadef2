"""Device errors carry their reason; the session clock runs at speed and can be stopped."""

from __future__ import annotations

import asyncio

import pytest

from ecgstation.core.errors import EcgStationError
from ecgstation.devices.clock import DeviceClock, SessionClock, VirtualClock
from ecgstation.devices.errors import DeviceError, FrameError


def test_errors() -> None:
    err = FrameError("truncated: 17 of 229 bytes")
    assert isinstance(err, DeviceError) and isinstance(err, EcgStationError)
    assert err.reason == "truncated: 17 of 229 bytes" and "truncated" in str(err)


def test_session_clock_speed_and_stop() -> None:
    ticks = iter([100.0, 100.5, 101.0])
    clock = SessionClock(60.0, time_fn=lambda: next(ticks))
    clock.start()
    assert clock.now() == pytest.approx(30.0)
    assert clock.now() == pytest.approx(60.0)

    async def stopped() -> bool:
        stop = asyncio.Event()
        real = SessionClock(1.0)
        asyncio.get_running_loop().call_later(0.01, stop.set)
        return await real.sleep(30.0, stop)

    assert asyncio.run(stopped()) is True
    with pytest.raises(ValueError):
        SessionClock(0.0)


def test_virtual_clock_never_goes_back() -> None:
    clock = VirtualClock(5.0)
    asyncio.run(clock.sleep_until(3.0))
    assert clock.now() == 5.0
    clock.advance(1.5)
    assert clock.now() == 6.5


def test_device_clock_in_seconds() -> None:
    c = DeviceClock(100.0)
    first = c.place(1000.0, 10, arrival_s=1.0)
    assert first.t0_s == pytest.approx(0.91)
    assert c.place(1000.1, 10, 1.1).kind == "continuous"
    gap = c.place(1000.3, 10, 1.3)
    assert gap.kind == "gap" and gap.gap_s == pytest.approx(0.1)
    assert c.next_s == pytest.approx(gap.t0_s + 0.1)
