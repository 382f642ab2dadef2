"""A child process for the crash-safety tests: it writes to a database until the test kills it (SIGKILL).

    python tests/storage/_slice_writer.py slices URL SESSION_ID USER_ID USERNAME
        appends 10 s slices 0, 1, 2, ... to monitoring session SESSION_ID, one transaction each,
        and prints each slice index on its own line once its transaction has committed.
    python tests/storage/_slice_writer.py recording URL USER_ID USERNAME HOURS
        stores the synthetic recording of :func:`synthetic_recording` in one transaction; it prints
        "mid-store" once a few hundred chunks have been sent to the database (not committed) and
        then waits there, to be killed; "stored <id>" if it ever commits.

The samples are a deterministic function of the slice index (:func:`slice_signals`), so the
test can check every slice it reads back without talking to the child.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.recording import LeadCalibration, Recording

SLICE_FS_HZ = 250.0
SLICE_SECONDS = 10.0
SLICE_LEADS = 2
#: Counts per mV of the generated slices: samples lie on this grid, so int16 storage is lossless.
GAIN = 200.0
RECORDING_FS_HZ = 360.0
#: The recording child stops to be killed after this many chunks have been encoded (>= 2 batches inserted).
MID_STORE_CHUNKS = 600
T0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def slice_signals(index: int, n_leads: int = SLICE_LEADS, fs: float = SLICE_FS_HZ) -> NDArray[np.float32]:
    """The samples of slice ``index``: (leads, 10 s) float32 mV on the 1/200 mV grid, different per index."""
    n = round(SLICE_SECONDS * fs)
    rng = np.random.default_rng(index)
    steps = rng.integers(-3, 4, size=(n_leads, n))
    counts = np.clip(np.cumsum(steps, axis=1) + (index % 97) - 48, -4000, 4000)
    # Same arithmetic as the decoder (float64 counts / gain, then float32): exact equality after storage.
    return (counts.astype(np.float64) / GAIN).astype(np.float32)


def slice_start(index: int) -> datetime:
    """When slice ``index`` started."""
    return T0 + timedelta(seconds=SLICE_SECONDS * index)


def synthetic_recording(hours: float) -> Recording:
    """A deterministic two-lead 360 Hz recording of ``hours`` (int16-lossless at 200 counts/mV)."""

    n = round(hours * 3600 * RECORDING_FS_HZ)
    rng = np.random.default_rng(12345)
    t = np.arange(n) / RECORDING_FS_HZ
    beat = np.round(200 * np.exp(-(((t % 0.8) - 0.4) ** 2) / 0.0004))  # a spike every 0.8 s, counts
    noise = rng.integers(-4, 5, size=(2, n))
    counts = np.stack([beat, -0.5 * beat]).round() + noise
    signals = (counts / GAIN).astype(np.float32)
    return Recording(
        signals=signals,
        fs=RECORDING_FS_HZ,
        lead_names=("I", "II"),
        calibration=(LeadCalibration(gain=GAIN), LeadCalibration(gain=GAIN)),
    )


def _write_slices(url: str, session_id: int, user_id: int, username: str) -> None:
    from ecgstation.storage import Actor, Database, DatabaseSettings, Role

    db = Database.open(DatabaseSettings(url=url, migrate=False))
    actor = Actor(user_id, username, Role.NURSE)
    index = 0
    while True:
        with db.session(actor) as s:
            s.monitoring.append_slice(
                session_id, index, slice_start(index), slice_signals(index), SLICE_FS_HZ,
                analysis={"index": index}, source_gains=(GAIN,) * SLICE_LEADS,
            )  # fmt: skip
        print(index, flush=True)  # only after the commit: a printed index is a promise that it is stored
        index += 1


def _store_recording(url: str, user_id: int, username: str, hours: float) -> None:
    from ecgstation.storage import Actor, Database, DatabaseSettings, Role
    from ecgstation.storage.repos import recordings

    recording = synthetic_recording(hours)
    encode = vars(recordings)["encode_block"]
    count = 0

    def encode_then_stall(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        if count == MID_STORE_CHUNKS:
            print("mid-store", flush=True)
            time.sleep(600)  # the test kills us here, inside the open transaction
        return encode(*args, **kwargs)

    vars(recordings)["encode_block"] = encode_then_stall  # store() looks it up in its module
    db = Database.open(DatabaseSettings(url=url, migrate=False))
    actor = Actor(user_id, username, Role.NURSE)
    print("storing", flush=True)
    with db.session(actor) as s:
        stored = s.recordings.store(recording, source_name="crash.hea", source_format="WFDB", file_sha256="0" * 64)
    print(f"stored {stored.recording.id}", flush=True)


def main(argv: list[str]) -> int:
    mode, url, *rest = argv
    if mode == "slices":
        session_id, user_id, username = rest
        _write_slices(url, int(session_id), int(user_id), username)
    elif mode == "recording":
        user_id, username, hours = rest
        _store_recording(url, int(user_id), username, float(hours))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
