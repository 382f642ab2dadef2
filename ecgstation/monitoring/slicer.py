"""Cut a stream of sample chunks into consecutive 10 s slices on the session clock, recording gaps.

Slice ``k`` holds samples ``k*N .. (k+1)*N - 1`` where ``N = slice_s * fs`` and sample ``i`` sits at
session time ``i / fs``. Samples never arrive backwards (an overlap is dropped). Missing samples
(a jump in time, a lost chunk, a reconnect, NaN from the device) stay NaN in the slice and are listed
in :attr:`Slice.gaps`; no sample is ever invented. A slice with no sample at all is not emitted (a
long disconnect produces no empty slices; the next slice's gaps and the session's gap list say so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecgstation.devices.events import SampleChunk

__all__ = ["Slice", "Slicer", "nan_spans"]


def nan_spans(missing: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) sample index pairs of the runs of True in ``missing``."""
    if missing.size == 0 or not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


@dataclass(frozen=True)
class Slice:
    """One completed slice: ``samples`` float32 ``(leads, n)`` in mV, NaN where missing.

    ``start_s`` is the session time of its first sample; ``gaps`` are (start_s, end_s) session-time
    spans without samples (all leads NaN) inside the slice.
    """

    index: int
    start_s: float
    fs: float
    samples: NDArray[np.float32]
    gaps: tuple[tuple[float, float], ...]

    @property
    def n(self) -> int:
        """Samples per lead."""
        return int(self.samples.shape[1])

    @property
    def end_s(self) -> float:
        """Session time just after the last sample."""
        return self.start_s + self.n / self.fs

    @property
    def missing_s(self) -> float:
        """Seconds of the slice without samples."""
        return float(sum(b - a for a, b in self.gaps))

    def storable(self) -> NDArray[np.float32]:
        """The samples with missing ones written as 0 mV (for the waveform codec; ``gaps`` says where)."""
        return np.nan_to_num(self.samples, nan=0.0).astype(np.float32, copy=False)


class Slicer:
    """Collects :class:`SampleChunk` s into :class:`Slice` s of ``slice_s`` seconds (``fs`` in Hz)."""

    def __init__(self, fs: float, n_leads: int, slice_s: float = 10.0) -> None:
        if not fs > 0 or not slice_s > 0 or n_leads < 1:
            raise ValueError("fs and slice_s must be positive and there must be at least one lead")
        self.fs = float(fs)
        self.n_leads = n_leads
        self.slice_n = round(slice_s * fs)
        self._index = 0  # slice being filled
        self._buf = np.full((n_leads, self.slice_n), np.nan, dtype=np.float32)
        self._has_data = False
        self._written = 0  # absolute sample index just after the last written sample

    @property
    def position_s(self) -> float:
        """Session time up to which samples have been placed."""
        return self._written / self.fs

    def _complete(self) -> Slice | None:
        """Close the current slice (emitting it when it holds any sample) and start the next one."""
        out = None
        if self._has_data:
            spans = nan_spans(np.asarray(np.isnan(self._buf).all(axis=0)))
            start_s = self._index * self.slice_n / self.fs
            gaps = tuple((start_s + a / self.fs, start_s + b / self.fs) for a, b in spans)
            out = Slice(self._index, start_s, self.fs, self._buf.copy(), gaps)
        self._index += 1
        self._buf[:] = np.nan
        self._has_data = False
        return out

    def push(self, chunk: SampleChunk) -> list[Slice]:
        """Place ``chunk`` at its session time; return the slices it completed (oldest first)."""
        x = np.asarray(chunk.samples, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != self.n_leads:
            raise ValueError(f"chunk has shape {x.shape}, the session has {self.n_leads} leads")
        if abs(chunk.fs - self.fs) > 1e-6 * self.fs:
            raise ValueError(f"chunk at {chunk.fs} Hz in a {self.fs} Hz session")
        start = round(chunk.t0_s * self.fs)
        skip = max(0, self._written - start)  # never write backwards
        x = x[:, skip:]
        start += skip
        done: list[Slice] = []
        pos = 0
        while pos < x.shape[1]:
            k = (start + pos) // self.slice_n
            while self._index < k:  # the chunk begins in (or jumped to) a later slice
                s = self._complete()
                if s is not None:
                    done.append(s)
                if self._index < k and not self._has_data:
                    self._index = k  # skip wholly empty slices
            off = start + pos - k * self.slice_n
            take = min(self.slice_n - off, x.shape[1] - pos)
            part = x[:, pos : pos + take]
            self._buf[:, off : off + take] = part
            if not np.isnan(part).all():
                self._has_data = True
            pos += take
            if off + take == self.slice_n:
                s = self._complete()
                if s is not None:
                    done.append(s)
        self._written = max(self._written, start + x.shape[1])
        return done

    def flush(self) -> Slice | None:
        """The partly filled last slice (at the end of a session), cut where the samples end; None if empty."""
        if not self._has_data:
            return None
        n = self._written - self._index * self.slice_n
        if n <= 0:
            return None
        buf = self._buf[:, :n].copy()
        self._buf = self._buf[:, :n]
        s = self._complete()
        self._buf = np.full((self.n_leads, self.slice_n), np.nan, dtype=np.float32)
        if s is None:
            return None
        return Slice(s.index, s.start_s, s.fs, buf, s.gaps)
