"""Beat templates: beats grouped into morphology families (count, mean waveform), as Holter systems do.

A reader reviews and relabels a whole family at once instead of beat by beat.

Method (deterministic, vectorised; 100,000 beats of a 2-lead 24 h record in a few seconds):

1. Each beat's window (``window_start_s`` .. ``window_end_s`` around its R peak, default
   -250 .. +400 ms; samples beyond the record's ends repeat the edge sample) is reduced
   to about ``compare_fs_hz`` (50 Hz) by averaging blocks of samples, on the first
   ``max_leads`` (2) leads; each lead is centred on its mean, which removes the baseline
   offset (the correlation below is Pearson's).
2. Beats are taken in blocks in time order. A beat joins the family whose running mean
   it correlates best with (Pearson correlation of the concatenated leads), provided the
   correlation is at least ``correlation`` (0.90) and its amplitude (RMS) is within
   ``amplitude_ratio`` (0.6 .. 1.6) of the family's mean amplitude. A beat that fits no
   family starts one (greedily, in time order). At most ``max_families`` (64) families
   are kept: when the cap is reached, small families from earlier blocks are retired to
   the "other" family; when none can be retired, unmatched beats go to "other".
3. A refinement pass puts every beat in the best-matching final family (if it meets the
   same criteria), so early beats do not stay with an immature mean. Families whose means
   correlate at least ``same_correlation`` (0.95) within the amplitude range are then
   merged (largest first) and the refinement pass is repeated: a greedy first pass tends
   to split one morphology into near-identical families.
4. Small families (fewer than ``min_family_beats`` beats and below ``min_family_fraction``
   of all beats) are merged into the most similar family when their means correlate at
   least ``merge_correlation`` (0.80) within the amplitude range, else into "other".
5. Mean waveforms are computed at full resolution on every lead, each beat's lead first
   shifted by the median of its reduced window (its baseline, in mV).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ecgstation.core.errors import SignalError

__all__ = ["BeatFamily", "TemplateSettings", "beat_family_ids", "cluster_beats"]

#: Family id of beats outside every family before the final numbering.
_OTHER = -2
_UNASSIGNED = -1


@dataclass(frozen=True)
class TemplateSettings:
    """Settings of :func:`cluster_beats`; times in s, rates in Hz.

    See the module docstring for what each setting does.
    """

    window_start_s: float = -0.25
    window_end_s: float = 0.40
    max_leads: int = 2
    compare_fs_hz: float = 50.0
    correlation: float = 0.90
    amplitude_ratio: tuple[float, float] = (0.6, 1.6)
    max_families: int = 64
    min_family_beats: int = 3
    min_family_fraction: float = 0.01
    merge_correlation: float = 0.80
    same_correlation: float = 0.95
    block_beats: int = 4096

    def __post_init__(self) -> None:
        if not (self.window_start_s < 0.0 < self.window_end_s):
            raise SignalError(
                f"beat window {self.window_start_s}..{self.window_end_s} s must start before and end after the R peak"
            )
        if self.max_leads < 1:
            raise SignalError(f"at least one lead must be compared, got max_leads={self.max_leads}")
        if not np.isfinite(self.compare_fs_hz) or self.compare_fs_hz <= 0:
            raise SignalError(f"comparison rate {self.compare_fs_hz!r} Hz must be positive")
        for name in ("correlation", "merge_correlation", "same_correlation"):
            value = getattr(self, name)
            if not -1.0 <= value <= 1.0:
                raise SignalError(f"{name} {value!r} must lie between -1 and 1")
        lo, hi = (float(v) for v in self.amplitude_ratio)
        if not 0.0 < lo <= 1.0 <= hi:
            raise SignalError(f"amplitude ratio range {self.amplitude_ratio!r} must be (low <= 1, high >= 1), positive")
        object.__setattr__(self, "amplitude_ratio", (lo, hi))
        if self.max_families < 1:
            raise SignalError(f"at least one family is needed, got max_families={self.max_families}")
        if self.min_family_beats < 1 or not 0.0 <= self.min_family_fraction <= 1.0:
            raise SignalError("min_family_beats must be >= 1 and min_family_fraction within 0..1")
        if self.block_beats < 1:
            raise SignalError(f"block_beats must be positive, got {self.block_beats}")


@dataclass(frozen=True, eq=False)
class BeatFamily:
    """One morphology family.

    ``beat_indices`` are int64 indices into the ``r_peaks`` given to :func:`cluster_beats`
    (ascending); ``mean_waveform`` float32 ``(leads, samples)`` in mV, the baseline-corrected
    mean of the family's beats on every lead, its first sample ``window_start_s`` (negative,
    s) from the R peak at the record's ``fs``. ``label_counts`` counts the labels of the
    members; ``dominant_label`` is the most frequent (ties: alphabetical first), None
    without labels. ``is_other`` marks the family of beats that fit no family.
    """

    family_id: int
    beat_indices: NDArray[np.int64]
    count: int
    mean_waveform: NDArray[np.float32]
    window_start_s: float
    dominant_label: str | None
    label_counts: Mapping[str, int] = field(default_factory=dict)
    is_other: bool = False

    def __post_init__(self) -> None:
        idx = np.asarray(self.beat_indices, dtype=np.int64)
        object.__setattr__(self, "beat_indices", idx)
        if idx.ndim != 1 or idx.size != self.count:
            raise SignalError(f"family {self.family_id}: count {self.count} differs from its {idx.size} beat indices")
        wave = np.asarray(self.mean_waveform, dtype=np.float32)
        object.__setattr__(self, "mean_waveform", wave)
        if wave.ndim != 2:
            raise SignalError(f"family {self.family_id}: mean waveform must be (leads, samples)")
        if self.window_start_s > 0:
            raise SignalError(f"family {self.family_id}: window start {self.window_start_s} s must not be positive")

    @property
    def dominant_fraction(self) -> float | None:
        """Share (0..1) of the members carrying the dominant label; None without labels or beats."""
        if self.dominant_label is None or self.count == 0:
            return None
        return self.label_counts.get(self.dominant_label, 0) / self.count


def beat_family_ids(families: Sequence[BeatFamily], n_beats: int) -> NDArray[np.int64]:
    """Family id of each of ``n_beats`` beats (-1 for a beat in no family)."""
    out = np.full(int(n_beats), -1, dtype=np.int64)
    for fam in families:
        out[fam.beat_indices] = fam.family_id
    return out


# ---------------------------------------------------------------- windows


@dataclass(frozen=True)
class _Window:
    """The beat window converted to samples once: ``offsets`` from R, decimation ``q``, ``points`` compared."""

    start: int
    length: int
    q: int
    points: int


def _window(fs: float, cfg: TemplateSettings) -> _Window:
    start = round(cfg.window_start_s * fs)
    stop = round(cfg.window_end_s * fs)
    length = stop - start + 1
    q = max(1, round(fs / cfg.compare_fs_hz))
    points = max(1, length // q)
    return _Window(start, length, q, points)


def _gather(
    x: NDArray[np.float32], r: NDArray[np.int64], win: _Window
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Windows ``(beats, leads, length)`` of ``x`` (leads, n) around ``r``, edge samples repeated; and validity."""
    n = x.shape[1]
    idx = r[:, None] + (win.start + np.arange(win.length))[None, :]
    valid = (idx >= 0) & (idx < n)
    clipped = np.clip(idx, 0, n - 1)
    out = np.empty((r.size, x.shape[0], win.length), dtype=np.float32)
    for lead in range(x.shape[0]):
        out[:, lead, :] = x[lead][clipped]
    return out, valid


def _decimate(w: NDArray[np.float32], win: _Window) -> NDArray[np.float32]:
    """Block means of ``q`` samples: ``(beats, leads, length)`` -> ``(beats, leads, points)``."""
    used = w[:, :, : win.points * win.q]
    return used.reshape(w.shape[0], w.shape[1], win.points, win.q).mean(axis=3, dtype=np.float32)


def _features(
    x: NDArray[np.float32], r: NDArray[np.int64], win: _Window, leads: int
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Centred features (beats, d), their unit vectors and RMS amplitudes (mV) of the compared leads."""
    w, _valid = _gather(x[:leads], r, win)
    dec = _decimate(w, win)
    dec -= dec.mean(axis=2, keepdims=True)  # baseline: correlation ignores each lead's offset
    feats = dec.reshape(r.size, -1)
    norm = np.linalg.norm(feats, axis=1)
    amp = (norm / np.sqrt(feats.shape[1])).astype(np.float32)
    unit = feats / np.maximum(norm, 1e-12)[:, None]
    return feats, unit.astype(np.float32), amp


# ---------------------------------------------------------------- clustering


class _Families:
    """The running families: sums of centred features, amplitude sums, counts."""

    def __init__(self, cap: int, d: int) -> None:
        self.sums = np.zeros((cap, d), dtype=np.float64)
        self.amp = np.zeros(cap, dtype=np.float64)
        self.count = np.zeros(cap, dtype=np.int64)
        self.fid = np.zeros(cap, dtype=np.int64)
        self.born = np.zeros(cap, dtype=np.int64)
        self.n = 0
        self.next_id = 0

    def units(self) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
        """Unit vectors of the family means and the mean amplitudes of the active families."""
        sums = self.sums[: self.n]
        norm = np.linalg.norm(sums, axis=1)
        unit = (sums / np.maximum(norm, 1e-12)[:, None]).astype(np.float32)
        return unit, self.amp[: self.n] / np.maximum(self.count[: self.n], 1)

    def add(self, block: int) -> int:
        """A new empty family; returns its slot."""
        slot = self.n
        self.fid[slot] = self.next_id
        self.born[slot] = block
        self.sums[slot] = 0.0
        self.amp[slot] = 0.0
        self.count[slot] = 0
        self.n += 1
        self.next_id += 1
        return slot

    def retire(
        self, block: int, min_beats: int, in_use: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Drop small families born before ``block`` whose slots are not ``in_use``.

        Returns the dropped family ids and the new slot of each old slot (-1 when dropped).
        """
        active = np.arange(self.n)
        drop = (self.count[: self.n] < min_beats) & (self.born[: self.n] < block)
        drop[in_use[in_use < self.n]] = False
        keep = active[~drop]
        gone = self.fid[active[drop]].copy()
        new_slot = np.full(self.n, -1, dtype=np.int64)
        new_slot[keep] = np.arange(keep.size)
        for arr in (self.sums, self.amp, self.count, self.fid, self.born):
            arr[: keep.size] = arr[keep]
        self.n = int(keep.size)
        return gone, new_slot


def _best(
    unit: NDArray[np.float32],
    amp: NDArray[np.float32],
    fam_unit: NDArray[np.float32],
    fam_amp: NDArray[np.float64],
    cfg: TemplateSettings,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Best family (slot) of each beat and whether it meets the correlation and amplitude criteria."""
    corr = unit @ fam_unit.T
    ratio = amp[:, None] / np.maximum(fam_amp[None, :], 1e-12)
    lo, hi = cfg.amplitude_ratio
    corr[(ratio < lo) | (ratio > hi)] = -np.inf
    best = np.argmax(corr, axis=1).astype(np.int64)
    return best, np.take_along_axis(corr, best[:, None], axis=1)[:, 0] >= cfg.correlation


def _first_pass(
    feats: NDArray[np.float32], unit: NDArray[np.float32], amp: NDArray[np.float32], cfg: TemplateSettings
) -> NDArray[np.int64]:
    """Family id of every beat (or ``_OTHER``), beats taken in blocks in order."""
    n, d = feats.shape
    fam = _Families(cfg.max_families, d)
    assign = np.full(n, _UNASSIGNED, dtype=np.int64)
    lo, hi = cfg.amplitude_ratio
    for block, b0 in enumerate(range(0, n, cfg.block_beats)):
        b1 = min(n, b0 + cfg.block_beats)
        u, a, f = unit[b0:b1], amp[b0:b1], feats[b0:b1]
        slot = np.full(b1 - b0, _UNASSIGNED, dtype=np.int64)
        if fam.n:
            fam_unit, fam_amp = fam.units()
            best, ok = _best(u, a, fam_unit, fam_amp, cfg)
            slot[ok] = best[ok]
        pending = np.flatnonzero(slot == _UNASSIGNED)
        while pending.size:
            if fam.n == cfg.max_families:
                gone, new_slot = fam.retire(block, cfg.min_family_beats, np.unique(slot[slot >= 0]))
                if gone.size:
                    assign[np.isin(assign, gone)] = _OTHER
                    slot = np.where(slot >= 0, new_slot[np.maximum(slot, 0)], slot)
                else:
                    slot[pending] = _OTHER
                    break
            seed = int(pending[0])
            new = fam.add(block)
            ratio = a[pending] / max(float(a[seed]), 1e-12)
            take = (u[pending] @ u[seed] >= cfg.correlation) & (ratio >= lo) & (ratio <= hi)
            take[0] = True
            slot[pending[take]] = new
            pending = pending[~take]
        for s in np.unique(slot[slot >= 0]).tolist():
            members = slot == s
            fam.sums[s] += f[members].sum(axis=0, dtype=np.float64)
            fam.amp[s] += float(a[members].sum(dtype=np.float64))
            fam.count[s] += int(members.sum())
        ids = np.where(slot >= 0, fam.fid[np.maximum(slot, 0)], slot)
        assign[b0:b1] = ids
    return assign


def _refine(
    feats: NDArray[np.float32],
    unit: NDArray[np.float32],
    amp: NDArray[np.float32],
    assign: NDArray[np.int64],
    cfg: TemplateSettings,
) -> NDArray[np.int64]:
    """Put every beat in its best final family when it meets the criteria; returns new ids."""
    ids, fam_unit, fam_amp = _means(feats, amp, assign)
    if ids.size == 0:
        return assign
    out = assign.copy()
    for b0 in range(0, assign.size, cfg.block_beats):
        b1 = min(assign.size, b0 + cfg.block_beats)
        best, ok = _best(unit[b0:b1], amp[b0:b1], fam_unit, fam_amp, cfg)
        out[b0:b1] = np.where(ok, ids[best], assign[b0:b1])
    return out


def _means(
    feats: NDArray[np.float32], amp: NDArray[np.float32], assign: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float64]]:
    """Ids of the families (not "other"), unit vectors of their mean features and mean amplitudes."""
    member = assign >= 0
    ids, inverse = np.unique(assign[member], return_inverse=True)
    sums = np.asarray(_onehot(inverse, ids.size) @ feats[member], dtype=np.float64)
    counts = np.bincount(inverse, minlength=ids.size)
    amps = np.bincount(inverse, weights=amp[member], minlength=ids.size) / np.maximum(counts, 1)
    norm = np.linalg.norm(sums, axis=1)
    return ids.astype(np.int64), (sums / np.maximum(norm, 1e-12)[:, None]).astype(np.float32), amps


def _onehot(rows: NDArray[np.int64], n_rows: int) -> sparse.csr_matrix:
    """Sparse ``(n_rows, len(rows))`` matrix with a 1 at ``(rows[k], k)``: its product with data sums by row."""
    cols = np.arange(rows.size)
    return sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_rows, rows.size))


def _merge_similar(
    feats: NDArray[np.float32], amp: NDArray[np.float32], assign: NDArray[np.int64], cfg: TemplateSettings
) -> NDArray[np.int64]:
    """Merge families whose means correlate at least ``same_correlation`` within the amplitude range.

    Largest families first: each absorbs every smaller family similar to it.
    """
    ids, fam_unit, fam_amp = _means(feats, amp, assign)
    if ids.size < 2:
        return assign
    counts = np.bincount(np.searchsorted(ids, assign[assign >= 0]), minlength=ids.size)
    order = np.lexsort((ids, -counts))
    corr = fam_unit @ fam_unit.T
    ratio = fam_amp[:, None] / np.maximum(fam_amp[None, :], 1e-12)
    lo, hi = cfg.amplitude_ratio
    similar = (corr >= cfg.same_correlation) & (ratio >= lo) & (ratio <= hi)
    target = ids.copy()
    absorbed = np.zeros(ids.size, dtype=bool)
    for pos, i in enumerate(order.tolist()):
        if absorbed[i]:
            continue
        for j in order[pos + 1 :].tolist():
            if not absorbed[j] and similar[i, j]:
                absorbed[j] = True
                target[j] = ids[i]
    if not np.any(absorbed):
        return assign
    out = assign.copy()
    member = assign >= 0
    out[member] = target[np.searchsorted(ids, assign[member])]
    return out


def _merge_small(
    feats: NDArray[np.float32], amp: NDArray[np.float32], assign: NDArray[np.int64], cfg: TemplateSettings
) -> NDArray[np.int64]:
    """Merge small families into the most similar large one, else into "other"."""
    ids, fam_unit, fam_amp = _means(feats, amp, assign)
    if ids.size == 0:
        return assign
    counts = np.bincount(np.searchsorted(ids, assign[assign >= 0]), minlength=ids.size)
    small = (counts < cfg.min_family_beats) & (counts < cfg.min_family_fraction * assign.size)
    if not np.any(small):
        return assign
    out = assign.copy()
    large = np.flatnonzero(~small)
    lo, hi = cfg.amplitude_ratio
    for k in np.flatnonzero(small).tolist():
        target = _OTHER
        if large.size:
            corr = fam_unit[large] @ fam_unit[k]
            ratio = fam_amp[k] / np.maximum(fam_amp[large], 1e-12)
            corr[(ratio < lo) | (ratio > hi)] = -np.inf
            j = int(np.argmax(corr))
            if corr[j] >= cfg.merge_correlation:
                target = int(ids[large[j]])
        out[assign == ids[k]] = target
    return out


# ---------------------------------------------------------------- public API


def _validate(
    signals: ArrayLike, fs: float, r_peaks: ArrayLike, labels: Sequence[str] | None
) -> tuple[NDArray[np.float32], float, NDArray[np.int64], NDArray[np.str_] | None]:
    x = signals if isinstance(signals, np.ndarray) and signals.dtype == np.float32 else np.asarray(signals, np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise SignalError(f"signals must be a (leads, samples) array with at least one sample, got shape {x.shape}")
    fs_f = float(fs)
    if not np.isfinite(fs_f) or fs_f <= 0:
        raise SignalError(f"sampling rate {fs!r} Hz must be a positive number")
    r_arr = np.asarray(r_peaks)
    if r_arr.ndim != 1:
        raise SignalError(f"R peaks must be a one-dimensional array of sample indices, got shape {r_arr.shape}")
    r = r_arr.astype(np.int64)
    if r.size and (r.min() < 0 or r.max() >= x.shape[1]):
        raise SignalError(f"R peaks lie outside the record of {x.shape[1]} samples")
    labs = None
    if labels is not None:
        if len(labels) != r.size:
            raise SignalError(f"{len(labels)} beat labels for {r.size} R peaks; one label per beat is needed")
        labs = np.asarray([str(lab) for lab in labels], dtype=str) if r.size else np.zeros(0, dtype="<U1")
    return x, fs_f, r, labs


def _label_summary(labs: NDArray[np.str_] | None, members: NDArray[np.int64]) -> tuple[str | None, dict[str, int]]:
    if labs is None or members.size == 0:
        return None, {}
    values, counts = np.unique(labs[members], return_counts=True)
    summary = {str(v): int(c) for v, c in zip(values, counts)}
    dominant = str(values[int(np.argmax(counts))])  # np.unique sorts, argmax takes the first maximum
    return dominant, summary


def _mean_waveforms(
    x: NDArray[np.float32], r: NDArray[np.int64], final: NDArray[np.int64], n_fam: int, win: _Window, block: int
) -> NDArray[np.float32]:
    """Baseline-corrected full-resolution mean waveforms ``(families, leads, length)``."""
    leads = x.shape[0]
    sums = np.zeros((n_fam, leads * win.length), dtype=np.float64)
    counts = np.zeros((n_fam, win.length), dtype=np.float64)
    for b0 in range(0, r.size, block):
        b1 = min(r.size, b0 + block)
        w, valid = _gather(x, r[b0:b1], win)
        w -= np.median(_decimate(w, win), axis=2, keepdims=True)
        if not valid.all():
            w[~np.broadcast_to(valid[:, None, :], w.shape)] = 0.0
        onehot = _onehot(final[b0:b1], n_fam)
        sums += onehot @ w.reshape(b1 - b0, -1)
        counts += onehot @ valid.astype(np.float32)
    sums3 = sums.reshape(n_fam, leads, win.length)
    means = np.divide(sums3, counts[:, None, :], out=np.zeros_like(sums3), where=counts[:, None, :] > 0)
    return means.astype(np.float32)


def cluster_beats(
    signals: ArrayLike,
    fs: float,
    r_peaks: ArrayLike,
    labels: Sequence[str] | None = None,
    settings: TemplateSettings | None = None,
) -> list[BeatFamily]:
    """Group beats into morphology families; returns them sorted by count, largest first.

    ``signals`` float32 ``(leads, samples)`` in mV at ``fs`` Hz; ``r_peaks`` the beats'
    R peaks (samples, any order); ``labels`` one label per beat (optional, for each
    family's label counts). Families are numbered 0, 1, ... in the returned order
    (ties in count: the family whose first beat is earlier first). The method is in
    the module docstring; the result is deterministic.
    """
    cfg = settings if settings is not None else TemplateSettings()
    x, fs_f, r, labs = _validate(signals, fs, r_peaks, labels)
    if r.size == 0:
        return []
    win = _window(fs_f, cfg)
    leads = min(cfg.max_leads, x.shape[0])
    n_leads = x.shape[0]
    feats = np.empty((r.size, leads * win.points), dtype=np.float32)
    unit = np.empty_like(feats)
    amp = np.empty(r.size, dtype=np.float32)
    for b0 in range(0, r.size, cfg.block_beats):
        b1 = min(r.size, b0 + cfg.block_beats)
        feats[b0:b1], unit[b0:b1], amp[b0:b1] = _features(x, r[b0:b1], win, leads)
    assign = _first_pass(feats, unit, amp, cfg)
    assign = _refine(feats, unit, amp, assign, cfg)
    assign = _merge_similar(feats, amp, assign, cfg)
    assign = _refine(feats, unit, amp, assign, cfg)
    assign = _merge_small(feats, amp, assign, cfg)
    groups = np.unique(assign)  # _OTHER (-2) sorts first
    members = [np.flatnonzero(assign == g) for g in groups.tolist()]
    order = sorted(range(groups.size), key=lambda k: (-members[k].size, int(members[k][0])))
    final = np.empty(r.size, dtype=np.int64)
    for new_id, k in enumerate(order):
        final[members[k]] = new_id
    means = _mean_waveforms(x, r, final, groups.size, win, cfg.block_beats)
    start_s = win.start / fs_f
    out: list[BeatFamily] = []
    for new_id, k in enumerate(order):
        idx = members[k].astype(np.int64)
        dominant, counts = _label_summary(labs, idx)
        wave = means[new_id] if n_leads else np.zeros((0, win.length), np.float32)
        out.append(
            BeatFamily(new_id, idx, int(idx.size), wave, start_s, dominant, counts, is_other=bool(groups[k] == _OTHER))
        )
    return out
