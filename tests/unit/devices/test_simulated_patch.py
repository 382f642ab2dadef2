"""Simulated patch: real records replayed through the declared byte protocol, with injected faults."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from ecgstation.core.recording import Recording
from ecgstation.devices.clock import VirtualClock
from ecgstation.devices.errors import DeviceError
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.simulated_patch import FaultPlan, NoiseBurst, SimulatedPatch
from ecgstation.io import read_recording

SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"


@pytest.fixture(scope="module")
def rec100() -> Recording:
    return read_recording(SAMPLES / "100.hea")


def run_until(patch: SimulatedPatch, stop_s: float) -> list[SourceEvent]:
    """All events until a chunk ends past ``stop_s`` (then the patch is closed)."""

    async def run() -> list[SourceEvent]:
        out: list[SourceEvent] = []
        async for ev in patch.events():
            out.append(ev)
            if isinstance(ev, SampleChunk) and ev.end_s >= stop_s:
                await patch.close()
        return out

    return asyncio.run(run())


def chunks(events: list[SourceEvent]) -> list[SampleChunk]:
    return [e for e in events if isinstance(e, SampleChunk)]


def of_kind(events: list[SourceEvent], kind: str) -> list[DeviceStatus]:
    return [e for e in events if isinstance(e, DeviceStatus) and e.kind == kind]


def assert_samples_match_record(cs: list[SampleChunk], rec: Recording, lead: int = 0) -> None:
    """Every chunk holds the record's samples at its own time (within 1 µV): nothing invented, nothing moved."""
    for c in cs:
        a = round(c.t0_s * rec.fs)
        expected = rec.signals[lead, a : a + c.n]
        good = ~np.isnan(c.samples[0])
        assert np.max(np.abs(c.samples[0][good] - expected[good]), initial=0.0) <= 0.001 + 1e-6


def test_replays_100_at_speed_60_in_real_time(rec100: Recording) -> None:
    patch = SimulatedPatch(SAMPLES / "100.hea", speed=60.0, chunk_s=0.25, seed=1)
    assert patch.fs == 360.0 and patch.lead_names == ("MLII",)
    t = time.monotonic()
    out = run_until(patch, 30.0)
    elapsed = time.monotonic() - t
    assert 0.4 < elapsed < 10.0  # 30 s of signal at 60x is 0.5 s of wall time
    cs = chunks(out)
    assert [c.seq for c in cs] == list(range(120))
    assert [c.t0_s for c in cs] == pytest.approx([k * 0.25 for k in range(120)])
    signal = np.concatenate([c.samples[0] for c in cs])
    assert signal.size == 30 * 360
    assert np.max(np.abs(signal - rec100.signals[0, : signal.size])) <= 0.001  # within 1 µV
    ks = [e.kind for e in out if isinstance(e, DeviceStatus)]
    assert ks[:5] == ["connecting", "connected", "battery", "device_info", "streaming"]
    assert ks[-1] == "disconnected" and not of_kind(out, "gap") and not of_kind(out, "error")


def test_faults_give_the_right_statuses_and_gaps(rec100: Recording) -> None:
    faults = FaultPlan(
        lead_off=((5.0, 2.0),),
        loss_times_s=(3.1,),
        disconnects=((10.0, 5.0),),
        first_ecg_delay_s=2.0,
    )
    patch = SimulatedPatch(rec100, faults=faults, clock=VirtualClock(), backoff_s=1.0, seed=3)
    out = run_until(patch, 25.0)
    cs = chunks(out)
    # late first ECG frame: waiting_for_ecg, then the first samples at 2 s
    ks = [e.kind for e in out if isinstance(e, DeviceStatus)]
    assert ks.index("waiting_for_ecg") < ks.index("streaming")
    assert cs[0].t0_s == 2.0
    # packet loss at 3.1 s: the frame 3.0-3.25 s is missing and shown as a gap
    gaps = of_kind(out, "gap")
    assert gaps[0].t_s == pytest.approx(3.0) and gaps[0].value == pytest.approx(0.25)
    assert not any(c.t0_s == 3.0 for c in cs)
    # lead-off 5-7 s: statuses and NaN samples
    (off,), (on,) = of_kind(out, "lead_off"), of_kind(out, "lead_on")
    assert off.t_s == 5.0 and on.t_s == 7.0
    for c in cs:
        assert np.isnan(c.samples).all() == (5.0 <= c.t0_s < 7.0)
    # disconnect at 10 s for 5 s: disconnected, failed attempts, reconnect, then a gap covering the outage
    assert of_kind(out, "disconnected")[0].t_s == 10.0
    assert [r.value for r in of_kind(out, "reconnecting")] == [1.0, 2.0, 3.0]
    outage = gaps[1]
    resumed = next(c for c in cs if c.t0_s > 10.0)
    assert outage.t_s == 10.0 and outage.t_s + (outage.value or 0.0) == pytest.approx(resumed.t0_s)
    assert resumed.t0_s >= 15.0 + 2.0  # the late first frame again after reconnecting
    assert not any(10.0 <= c.t0_s < resumed.t0_s for c in cs)
    assert all(b.t0_s >= a.end_s - 1e-9 for a, b in itertools.pairwise(cs))
    assert_samples_match_record(cs, rec100)


def test_random_packet_loss_never_invents_samples(rec100: Recording) -> None:
    patch = SimulatedPatch(rec100, faults=FaultPlan(loss_probability=0.2), clock=VirtualClock(), seed=11)
    out = run_until(patch, 20.0)
    cs = chunks(out)
    gaps = of_kind(out, "gap")
    received = sum(c.n for c in cs) / rec100.fs
    missing = sum(g.value or 0.0 for g in gaps)
    assert len(gaps) >= 8 and received + missing == pytest.approx(cs[-1].end_s)
    assert_samples_match_record(cs, rec100)
    seqs = [c.seq for c in cs]
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    assert len(cs) == seqs[-1] + 1 - sum(round((g.value or 0) / 0.25) for g in gaps)
    assert gaps[0].t_s == 0.0 or cs[0].t0_s == 0.0  # a lost first frame is a gap too


def test_deterministic_for_a_seed(rec100: Recording) -> None:
    def loss_times(seed: int) -> list[float]:
        patch = SimulatedPatch(rec100, faults=FaultPlan(loss_probability=0.3), clock=VirtualClock(), seed=seed)
        return [g.t_s for g in of_kind(run_until(patch, 8.0), "gap")]

    assert loss_times(5) == loss_times(5)
    assert loss_times(5) != loss_times(6)


def test_gaussian_noise_burst_at_the_given_snr(rec100: Recording) -> None:
    burst = NoiseBurst(2.0, 2.0, snr_db=6.0, kind="gaussian")
    patch = SimulatedPatch(rec100, faults=FaultPlan(noise=(burst,)), clock=VirtualClock(), seed=2)
    signal = np.concatenate([c.samples[0] for c in chunks(run_until(patch, 6.0))])
    clean = rec100.signals[0, : signal.size]
    diff = signal - clean
    a, b = 720, 1440
    assert np.abs(diff[:a]).max() <= 0.001 and np.abs(diff[b:]).max() <= 0.001
    snr = 10 * np.log10(np.var(clean[a:b]) / np.var(diff[a:b]))
    assert snr == pytest.approx(6.0, abs=0.1)


def test_nstdb_electrode_motion_noise(rec100: Recording, data_dir: Path) -> None:
    if not (data_dir / "nstdb" / "em.hea").is_file():
        pytest.skip("NSTDB em not found")
    burst = NoiseBurst(1.0, 2.0, snr_db=0.0, kind="em")
    patch = SimulatedPatch(rec100, faults=FaultPlan(noise=(burst,)), clock=VirtualClock(), noise_dir=data_dir / "nstdb")
    signal = np.concatenate([c.samples[0] for c in chunks(run_until(patch, 4.0))])
    diff = (signal - rec100.signals[0, : signal.size])[360:1080]
    snr = 10 * np.log10(np.var(rec100.signals[0, 360:1080]) / np.var(diff))
    assert snr == pytest.approx(0.0, abs=0.2)


def test_any_fs_and_all_leads() -> None:
    rec = read_recording(SAMPLES / "ptbxl_00003_hr.hea")
    patch = SimulatedPatch(rec, lead="all", chunk_s=0.2, clock=VirtualClock())
    assert patch.fs == 500.0 and len(patch.lead_names) == 12
    cs = chunks(run_until(patch, 4.0))
    signal = np.concatenate([c.samples for c in cs], axis=1)
    assert signal.shape == (12, 2000)
    assert np.max(np.abs(signal - rec.signals[:, :2000])) <= 0.0005 + 1e-6


def test_end_of_record_and_bad_settings(rec100: Recording) -> None:
    short = Recording(np.array(rec100.signals[:, :900]), 360.0, rec100.lead_names)
    patch = SimulatedPatch(short, clock=VirtualClock())
    out = run_until(patch, 1e9)
    assert sum(c.n for c in chunks(out)) == 900 // 90 * 90
    last = out[-1]
    assert isinstance(last, DeviceStatus) and last.kind == "disconnected" and last.message == "end of record"
    assert not of_kind(out, "reconnecting")
    for bad in (0.5, 61.0):
        with pytest.raises(DeviceError, match="speed"):
            SimulatedPatch(short, speed=bad)
    with pytest.raises(DeviceError, match="lead"):
        SimulatedPatch(short, lead="V9")
    with pytest.raises(DeviceError, match="probability"):
        FaultPlan(loss_probability=1.5)


def test_garbled_frame_is_refused_logged_and_the_stream_goes_on(
    rec100: Recording, caplog: pytest.LogCaptureFixture
) -> None:
    patch = SimulatedPatch(rec100, faults=FaultPlan(corrupt_times_s=(2.1,)), clock=VirtualClock())
    out = run_until(patch, 4.0)
    (err,) = of_kind(out, "error")
    assert "checksum mismatch" in err.message and "checksum mismatch" in caplog.text
    (gap,) = of_kind(out, "gap")
    assert gap.t_s == 2.0 and gap.value == pytest.approx(0.25)
    cs = chunks(out)
    assert cs[-1].end_s >= 4.0 and not any(c.t0_s == 2.0 for c in cs)
    assert_samples_match_record(cs, rec100)
