"""BLE sources driven through a fake bleak client with real frame layouts: order of commands, errors, reconnect."""

from __future__ import annotations

import asyncio
import itertools
import struct

import numpy as np
import pytest

from ecgstation.devices.clock import VirtualClock
from ecgstation.devices.declared_frame import FrameSpec
from ecgstation.devices.declared_source import DeclaredFrameSource
from ecgstation.devices.events import BeatIntervals, DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.heart_rate_service import BATTERY_LEVEL_UUID, DEVICE_INFO_UUIDS, HEART_RATE_MEASUREMENT_UUID
from ecgstation.devices.hrs_source import HeartRateSource
from ecgstation.devices.movesense import MOVESENSE_NOTIFY_UUID, MOVESENSE_WRITE_UUID
from ecgstation.devices.movesense_source import MovesenseSource
from ecgstation.devices.polar_h10 import PolarEcgHandler, PolarH10Source
from ecgstation.devices.polar_pmd import PMD_CONTROL_UUID, PMD_DATA_UUID, start_ecg_command, stop_ecg_command
from ecgstation.devices.reconnect import ReconnectingSource

from .fake_ble import FakeRadio
from .test_polar_pmd import ecg_frame

NS = 1_000_000_000
FS = 130.0
FRAME_NS = round(73 / FS * NS)
READS = {DEVICE_INFO_UUIDS["manufacturer"]: b"Polar Electro Oy", DEVICE_INFO_UUIDS["model"]: b"Polar H10",
         BATTERY_LEVEL_UUID: bytes([91])}  # fmt: skip


def kinds(events: list[SourceEvent]) -> list[str]:
    return [e.kind if isinstance(e, DeviceStatus) else type(e).__name__ for e in events]


def statuses(events: list[SourceEvent], kind: str) -> list[DeviceStatus]:
    return [e for e in events if isinstance(e, DeviceStatus) and e.kind == kind]


def chunks(events: list[SourceEvent]) -> list[SampleChunk]:
    return [e for e in events if isinstance(e, SampleChunk)]


def frame_values(k: int) -> list[int]:
    return [int(v) for v in (np.arange(73) * 97 - 3000 + k) % 6000 - 3000]


def test_polar_h10_session_with_a_bad_frame_and_a_lost_one() -> None:
    async def run() -> tuple[list[SourceEvent], FakeRadio]:
        clock = VirtualClock()
        radio = FakeRadio(READS)
        src = PolarH10Source(clock=clock, client_factory=radio.client, finder=radio.find)
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "waiting_for_ecg":
                c = radio.clients[0]
                c.notify(PMD_CONTROL_UUID, bytes.fromhex("F0 02 00 00 00"))
                base = 760_000_000 * NS
                for k in (0, 1, 2, 4):  # frame 3 is lost
                    clock.advance(73 / FS)
                    c.notify(PMD_DATA_UUID, ecg_frame(base + k * FRAME_NS, frame_values(k)))
                    if k == 1:
                        c.notify(PMD_DATA_UUID, ecg_frame(base, frame_values(9))[:101])  # truncated mid-sample
                        c.notify(PMD_DATA_UUID, ecg_frame(base, frame_values(9))[:100])  # truncated at a sample
                        c.notify(PMD_DATA_UUID, ecg_frame(base, [1, 2], frame_type=0x80))  # delta-compressed
                await src.close()
        return out, radio

    out, radio = asyncio.run(run())
    c = radio.clients[0]
    # subscribe to indications and notifications before writing start; stop before disconnecting
    assert c.calls[:4] == [("connect",), ("start_notify", PMD_CONTROL_UUID), ("start_notify", PMD_DATA_UUID),
                           ("write", PMD_CONTROL_UUID, start_ecg_command())]  # fmt: skip
    assert c.calls[-2:] == [("write", PMD_CONTROL_UUID, stop_ecg_command()), ("disconnect",)]
    ks = kinds(out)
    assert ks[:6] == ["connecting", "connected", "device_info", "battery", "waiting_for_ecg", "streaming"]
    assert "Polar Electro Oy" in statuses(out, "device_info")[0].message
    assert statuses(out, "battery")[0].value == 91.0
    errors = statuses(out, "error")
    assert len(errors) == 3
    assert "not a whole number" in errors[0].message and "30 samples where" in errors[1].message
    assert "delta" in errors[2].message
    cs = chunks(out)
    assert len(cs) == 4  # the stream went on after the bad frames
    assert [c.seq for c in cs] == [0, 1, 2, 4]
    assert cs[0].samples.shape == (1, 73) and cs[0].fs == FS
    np.testing.assert_allclose(cs[2].samples[0] * 1000, frame_values(2), atol=1e-3)
    (gap,) = statuses(out, "gap")
    assert gap.value == pytest.approx(73 / FS, abs=1e-6) and gap.t_s == pytest.approx(cs[2].end_s)
    assert cs[3].t0_s == pytest.approx(cs[2].end_s + 73 / FS)
    assert ks[-1] == "disconnected" and out[-1].message == "closed"  # type: ignore[union-attr]


def test_polar_mtu_too_small_and_refused_command_become_errors() -> None:
    clock = VirtualClock()
    h = PolarEcgHandler(clock)
    (mtu,) = h.on_control(bytes.fromhex("F0 01 00 0A"))
    assert isinstance(mtu, DeviceStatus) and mtu.kind == "error" and "MTU" in mtu.message
    (bad,) = h.on_control(bytes.fromhex("F0 02 00 08"))
    assert isinstance(bad, DeviceStatus) and "invalid sample rate" in bad.message
    assert h.on_control(bytes.fromhex("F0 02 00 06")) == []  # already streaming: fine
    (junk,) = h.on_control(b"\x0f\x05")
    assert isinstance(junk, DeviceStatus) and "refused" in junk.message


def test_polar_pairing_refusal_gives_a_clear_error_and_stops() -> None:
    async def run() -> tuple[list[SourceEvent], PolarH10Source]:
        radio = FakeRadio(write_error="Protocol Error 0x05: Insufficient Authentication")
        src = PolarH10Source("AA:BB", clock=VirtualClock(), client_factory=radio.client, finder=radio.find)
        return [ev async for ev in src.events()], src

    out, src = asyncio.run(run())
    (err,) = statuses(out, "error")
    assert "pair it" in err.message
    assert kinds(out)[-1] == "disconnected" and src.finished


def test_polar_resends_start_when_no_ecg_arrives() -> None:
    async def run() -> tuple[list[SourceEvent], FakeRadio]:
        radio = FakeRadio()
        src = PolarH10Source(clock=VirtualClock(), ecg_timeout_s=0.01, client_factory=radio.client, finder=radio.find)
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "error":
                await src.close()
        return out, radio

    out, radio = asyncio.run(run())
    writes = [c for c in radio.clients[0].calls if c[0] == "write"]
    assert writes.count(("write", PMD_CONTROL_UUID, start_ecg_command())) == 2
    assert "sent again" in statuses(out, "error")[0].message


def test_polar_reconnect_resends_start_and_records_the_gap() -> None:
    async def run() -> tuple[list[SourceEvent], FakeRadio]:
        clock = VirtualClock()
        radio = FakeRadio()
        src = ReconnectingSource(
            lambda: PolarH10Source(clock=clock, client_factory=radio.client, finder=radio.find),
            clock=clock,
            backoff_s=2.0,
        )
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "waiting_for_ecg":
                c = radio.clients[-1]
                base = 760_000_000 * NS if len(radio.clients) == 1 else 599_616_000 * NS  # clock reset on reboot
                for k in range(3):
                    clock.advance(73 / FS)
                    c.notify(PMD_DATA_UUID, ecg_frame(base + k * FRAME_NS, frame_values(k)))
                if len(radio.clients) == 1:
                    c.drop()
                else:
                    await src.close()
        return out, radio

    out, radio = asyncio.run(run())
    assert len(radio.clients) == 2
    for c in radio.clients:
        assert ("write", PMD_CONTROL_UUID, start_ecg_command()) in c.calls
    ks = kinds(out)
    assert "reconnecting" in ks and statuses(out, "reconnecting")[0].value == 1.0
    assert statuses(out, "disconnected")[0].message == "link lost"
    cs = chunks(out)
    assert [c.seq for c in cs][:3] == [0, 1, 2] and cs[3].seq > 3  # the jump shows the loss
    (gap,) = statuses(out, "gap")
    assert gap.t_s == pytest.approx(cs[2].end_s)
    assert gap.value == pytest.approx(cs[3].t0_s - cs[2].end_s) and (gap.value or 0.0) >= 2.0
    assert all(b.t0_s >= a.end_s - 1e-9 for a, b in itertools.pairwise(cs))
    assert ks[-1] == "disconnected" and out[-1].message == "closed"  # type: ignore[union-attr]


def test_heart_rate_strap_beats_contact_and_a_truncated_packet() -> None:
    async def run() -> list[SourceEvent]:
        clock = VirtualClock()
        radio = FakeRadio({BATTERY_LEVEL_UUID: bytes([150])})  # invalid battery level
        src = HeartRateSource(name_prefix="Garmin", clock=clock, client_factory=radio.client, finder=radio.find)
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "streaming":
                c = radio.clients[0]
                c.notify(HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("16 48 00 04 9A 03"))  # contact, 2 RR
                c.notify(HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("11 48"))  # truncated uint16 HR
                c.notify(HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("04 47"))  # no contact
                c.notify(HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("06 46"))  # contact back
                await src.close()
        return out

    out = asyncio.run(run())
    assert "invalid" in statuses(out, "error")[0].message  # battery 150 %
    beats = [e for e in out if isinstance(e, BeatIntervals)]
    assert [b.heart_rate_bpm for b in beats] == [72.0, 71.0, 70.0]
    assert beats[0].rr_s == pytest.approx((1.0, 922 / 1024)) and beats[0].contact is True
    assert "uint16 HR" in statuses(out, "error")[1].message
    ks = kinds(out)
    assert ks.index("lead_off") < ks.index("lead_on")


def test_movesense_subscribes_joins_continuations_and_survives_bad_packets() -> None:
    async def run() -> tuple[list[SourceEvent], FakeRadio]:
        clock = VirtualClock()
        radio = FakeRadio()
        src = MovesenseSource(rate_hz=125, clock=clock, client_factory=radio.client, finder=radio.find)
        src.handler.assembler.samples_per_packet = 16
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "waiting_for_ecg":
                c = radio.clients[0]
                c.notify(MOVESENSE_NOTIFY_UUID, bytes([0x01, 99, 200, 0]))
                for k in range(3):
                    clock.advance(16 / 125)
                    body = struct.pack("<I", 1000 + k * 128) + struct.pack("<16i", *range(k * 16, k * 16 + 16))
                    pkt = bytes([0x02, 99]) + body
                    c.notify(MOVESENSE_NOTIFY_UUID, pkt[:40])
                    if k == 1:
                        c.notify(MOVESENSE_NOTIFY_UUID, bytes([0x03, 42, 0, 0]))  # wrong reference
                        c.notify(MOVESENSE_NOTIFY_UUID, pkt[:40])  # data again
                    c.notify(MOVESENSE_NOTIFY_UUID, bytes([0x03, 99]) + pkt[40:])
                await src.close()
        return out, radio

    out, radio = asyncio.run(run())
    calls = radio.clients[0].calls
    assert ("write", MOVESENSE_WRITE_UUID, b"\x01\x63/Meas/ECG/125") in calls
    assert ("write", MOVESENSE_WRITE_UUID, b"\x02\x63") in calls
    cs = chunks(out)
    assert len(cs) == 3 and cs[0].fs == 125.0
    np.testing.assert_allclose(cs[2].samples[0] * 1000, np.arange(32, 48), atol=1e-3)
    assert cs[1].t0_s == pytest.approx(cs[0].end_s)
    assert "reference 42" in statuses(out, "error")[0].message


def test_declared_patch_over_ble_with_truncated_and_lost_frames() -> None:
    spec = FrameSpec(sync=b"\xa5\x5a", seq_bytes=1, sample_bytes=3, byte_order="big", samples_per_frame=25,
                     channels=2, gain_uv_per_count=0.5, lead_status=True)  # fmt: skip
    uuid = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

    async def run() -> list[SourceEvent]:
        clock = VirtualClock()
        radio = FakeRadio()
        src = DeclaredFrameSource(spec, 250.0, uuid, name_prefix="ADS1292", clock=clock,
                                  client_factory=radio.client, finder=radio.find)  # fmt: skip
        out: list[SourceEvent] = []
        async for ev in src.events():
            out.append(ev)
            if isinstance(ev, DeviceStatus) and ev.kind == "waiting_for_ecg":
                c = radio.clients[0]
                for seq in (254, 255, 0, 2):  # wrap-around, then frame 1 lost
                    clock.advance(0.1)
                    counts = np.full((2, 25), seq * 10) * np.array([[1], [-1]])
                    data = spec.encode(seq, counts, lead_off=seq == 0)
                    c.notify(uuid, data)
                    if seq == 255:
                        c.notify(uuid, data[:30])  # truncated notification
                await src.close()
        return out

    out = asyncio.run(run())
    cs = chunks(out)
    assert [c.seq for c in cs] == [0, 1, 2, 4]
    assert np.isnan(cs[2].samples).all()  # lead-off frame: flagged samples are NaN
    np.testing.assert_allclose(cs[3].samples, [[0.01] * 25, [-0.01] * 25], rtol=1e-5)
    assert "truncated frame" in statuses(out, "error")[0].message
    (gap,) = statuses(out, "gap")
    assert gap.value == pytest.approx(0.1) and gap.t_s == pytest.approx(cs[2].end_s)
    ks = kinds(out)
    assert ks.index("lead_off") < ks.index("lead_on")
