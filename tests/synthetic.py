"""Synthetic ECGs with known beat positions, for tests."""

from __future__ import annotations

import numpy as np

#: (offset from R in s, amplitude in mV, Gaussian width in s) of P, Q, R, S and T.
WAVES = ((-0.16, 0.12, 0.025), (-0.02, -0.1, 0.008), (0.0, 1.2, 0.01), (0.025, -0.25, 0.01), (0.28, 0.3, 0.05))


def synthetic_ecg(fs: float, seconds: float, rr_s: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian P-QRS-T beats at ``rr_s`` intervals (5 % jitter), a little noise and 0.2 Hz wander.

    Returns the signal in mV (float32) and the R-peak samples.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    x = np.zeros(n)
    r_times = []
    at = 0.4
    reach = int(0.6 * fs)  # every wave is negligible 0.6 s from its beat's R peak
    while at < seconds - 0.5:
        r_times.append(at)
        centre = int(at * fs)
        lo, hi = max(0, centre - reach), min(n, centre + reach)
        for offset, amp, width in WAVES:
            x[lo:hi] += amp * np.exp(-0.5 * ((t[lo:hi] - at - offset) / width) ** 2)
        at += rr_s * (1 + 0.05 * rng.standard_normal())
    x += 0.01 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 0.2 * t)
    return x.astype(np.float32), np.round(np.asarray(r_times) * fs).astype(np.int64)
