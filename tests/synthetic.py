"""Synthetic ECGs with known beat positions, for tests."""

from __future__ import annotations

import numpy as np


def synthetic_ecg(fs: float, seconds: float, rr_s: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian P-QRS-T beats at ``rr_s`` intervals (with jitter) plus a little noise; returns (mV, R samples)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    x = np.zeros(n)
    r_times = []
    at = 0.4
    while at < seconds - 0.5:
        r_times.append(at)
        for offset, amp, width in ((-0.16, 0.12, 0.025), (-0.02, -0.1, 0.008), (0.0, 1.2, 0.01), (0.025, -0.25, 0.01), (0.28, 0.3, 0.05)):
            x += amp * np.exp(-0.5 * ((t - at - offset) / width) ** 2)
        at += rr_s * (1 + 0.05 * rng.standard_normal())
    x += 0.01 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 0.2 * t)
    return x.astype(np.float32), np.round(np.asarray(r_times) * fs).astype(np.int64)
