"""Wave delineation benchmark on the QT Database (PhysioNet qtdb), against annotator 1 (``.q1c``).

Run from the repository root::

    python -m bench.delineation_qtdb [--detector] [--data DIR] [--json FILE] [--set key=value ...]

For every record in ``$ECGSTATION_DATA/qtdb`` with a ``.q1c`` file, both leads are
delineated at all reference beats (``.atr`` when present, else the manually annotated
QRS peaks), or, with ``--detector``, at the beats found by
``ecgstation.core.qrs.detect_qrs``. Each manually annotated beat is matched to the
nearest of our beats within 150 ms; each annotated boundary (P on/peak/off, QRS on/off,
T peak/end) is compared with our boundary of that beat.

Statistics follow Martinez et al., IEEE TBME 51(4) 2004: for each boundary the error
(ours - annotated, ms) is summarised per record; "mean" is the mean over records of the
per-record mean error and "SD" the mean over records of the per-record standard deviation
(sample SD, ddof = 1). Both use the records with at least 2 annotated and detected
boundaries of that kind. Se is the share of annotated boundaries for which we report
one (any error counts; no tolerance window). Pooled mean/SD over all beats are shown too.
Targets: SD <= 7.7 ms (QRS on), 8.7 ms (QRS off), 18.1 ms (T end), 14.8 ms (P on) and
|mean| <= 5 ms for those four.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench._qtdb import QtdbRecord, list_records, load_record
from ecgstation.core.delineation import DelineationConfig, delineate

#: Boundaries compared, in table order.
BOUNDARIES: tuple[str, ...] = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_end")
LABELS = {
    "p_on": "P on", "p_peak": "P peak", "p_off": "P off", "qrs_on": "QRS on",
    "qrs_off": "QRS off", "t_peak": "T peak", "t_end": "T end",
}
#: Largest per-record-average SD (ms) allowed per boundary.
SD_TARGETS_MS = {"qrs_on": 7.7, "qrs_off": 8.7, "t_end": 18.1, "p_on": 14.8}
MEAN_TARGET_MS = 5.0
#: Martinez et al. (2004) m +- s on QTDB (their best lead per boundary), for reference.
MARTINEZ_2004 = {
    "p_on": (2.0, 14.8), "p_peak": (3.6, 13.2), "p_off": (1.9, 12.8), "qrs_on": (4.6, 7.7),
    "qrs_off": (0.8, 8.7), "t_peak": (0.2, 13.9), "t_end": (-1.6, 18.1),
}
MATCH_MS = 150.0
METHOD = (
    "mean = mean over records of the per-record mean error; SD = mean over records of the per-record "
    "sample SD (ddof=1); records with >= 2 matched boundaries; error = ours - annotator 1 (.q1c), ms"
)


def _match(ours: NDArray[np.int64], ref: NDArray[np.int64], fs: float) -> NDArray[np.int64]:
    """Index into sorted ``ours`` of the beat nearest each ``ref`` beat within 150 ms, -1 if none."""
    if ours.size == 0:
        return np.full(ref.size, -1, dtype=np.int64)
    j = np.clip(np.searchsorted(ours, ref), 1, max(1, ours.size - 1))
    if ours.size == 1:
        j = np.zeros(ref.size, dtype=np.int64)
        best = j
    else:
        left, right = ours[j - 1], ours[j]
        best = np.where(np.abs(left - ref) <= np.abs(right - ref), j - 1, j)
    ok = np.abs(ours[best] - ref) <= MATCH_MS * fs / 1000.0
    return np.where(ok, best, -1).astype(np.int64)


def _beats(rec: QtdbRecord, use_detector: bool) -> NDArray[np.int64]:
    if use_detector:
        from ecgstation.core.qrs import detect_qrs  # written separately; imported only when asked for

        return np.unique(np.asarray(detect_qrs(rec.signals, rec.fs), dtype=np.int64))
    return rec.ref_beats


def resample_record(rec: QtdbRecord, fs_out: float) -> QtdbRecord:
    """The record resampled to ``fs_out`` Hz, with every annotation moved to the new rate."""
    from ecgstation.core.filters import resample

    ratio = fs_out / rec.fs

    def move(v: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.where(v >= 0, np.round(v * ratio), -1).astype(np.int64)

    manual = type(rec.manual)(**{f.name: move(getattr(rec.manual, f.name)) for f in dataclasses.fields(rec.manual)})
    return dataclasses.replace(rec, signals=resample(rec.signals, rec.fs, fs_out), fs=float(fs_out), manual=manual,
                               ref_beats=move(rec.ref_beats))


def evaluate_record(
    rec: QtdbRecord, use_detector: bool, config: DelineationConfig | None
) -> tuple[dict[str, dict[str, Any]], float, int]:
    """Errors (ms) and counts per boundary for one record, the delineation time (s) and
    the number of beats delineated."""
    beats = _beats(rec, use_detector)
    t0 = time.perf_counter()
    d = delineate(rec.signals, rec.fs, beats, config)
    seconds = time.perf_counter() - t0
    which = _match(beats, rec.manual.qrs_peak, rec.fs)
    out: dict[str, dict[str, Any]] = {}
    for name in BOUNDARIES:
        ref = getattr(rec.manual, name)
        ours = np.where(which >= 0, getattr(d, name)[np.maximum(which, 0)], -1)
        have = ref >= 0
        found = have & (ours >= 0)
        err = (ours[found] - ref[found]).astype(np.float64) * 1000.0 / rec.fs
        out[name] = {"n_annotated": int(have.sum()), "n_detected": int(found.sum()), "errors_ms": err}
    return out, seconds, int(beats.size)


def summarise(per_record: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Martinez-style statistics per boundary from per-record errors."""
    table: dict[str, dict[str, Any]] = {}
    for name in BOUNDARIES:
        means, sds, pooled = [], [], []
        n_ann = n_det = 0
        for res in per_record.values():
            r = res[name]
            n_ann += r["n_annotated"]
            n_det += r["n_detected"]
            e = r["errors_ms"]
            pooled.append(e)
            if e.size >= 2:
                means.append(float(e.mean()))
                sds.append(float(e.std(ddof=1)))
        allv = np.concatenate(pooled) if pooled else np.zeros(0)
        table[name] = {
            "n_annotated": n_ann,
            "n_detected": n_det,
            "se": n_det / n_ann if n_ann else None,
            "n_records": len(means),
            "mean_ms": float(np.mean(means)) if means else None,
            "sd_ms": float(np.mean(sds)) if sds else None,
            "pooled_mean_ms": float(allv.mean()) if allv.size else None,
            "pooled_sd_ms": float(allv.std(ddof=1)) if allv.size > 1 else None,
        }
    return table


def verdicts(table: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
    """(text, passed) per target."""
    out = []
    for name, limit in SD_TARGETS_MS.items():
        sd = table[name]["sd_ms"]
        out.append((f"{LABELS[name]} SD {_f(sd, 2)} ms <= {limit} ms", sd is not None and sd <= limit))
    for name in SD_TARGETS_MS:
        m = table[name]["mean_ms"]
        out.append((f"{LABELS[name]} |mean| {_f(None if m is None else abs(m), 2)} ms <= {MEAN_TARGET_MS} ms",
                    m is not None and abs(m) <= MEAN_TARGET_MS))
    return out


def _f(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def print_table(table: dict[str, dict[str, Any]], n_records: int, source: str, seconds: float, n_beats: int) -> None:
    """The results table, Markdown."""
    print(f"QTDB delineation: {n_records} records, R peaks from {source}; {n_beats} beats delineated "
          f"in {seconds:.2f} s.")
    print(f"Statistics: {METHOD}.\n")
    print("| boundary | annotated | Se % | mean ms | SD ms | pooled mean | pooled SD | records | Martinez 2004 m +- s | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in BOUNDARIES:
        t = table[name]
        se = "-" if t["se"] is None else f"{100 * t['se']:.1f}"
        mm, ms = MARTINEZ_2004[name]
        target = f"SD <= {SD_TARGETS_MS[name]}, abs(mean) <= {MEAN_TARGET_MS}" if name in SD_TARGETS_MS else ""
        print(f"| {LABELS[name]} | {t['n_annotated']} | {se} | {_f(t['mean_ms'])} | {_f(t['sd_ms'])} | "
              f"{_f(t['pooled_mean_ms'])} | {_f(t['pooled_sd_ms'])} | {t['n_records']} | {mm} +- {ms} | {target} |")


def run(
    data_dir: Path | str | None = None,
    use_detector: bool = False,
    config: DelineationConfig | None = None,
    records: list[str] | None = None,
    verbose: bool = True,
    resample_hz: float | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns a JSON-ready dict (and prints the table when ``verbose``).

    ``data_dir`` holds ``qtdb/`` (default ``$ECGSTATION_DATA`` or ``../shared/data``).
    ``resample_hz`` resamples every record (and its annotations) first, to check that
    the delineator behaves the same at other sampling rates.
    """
    names = list_records(data_dir)
    if records:
        names = [n for n in names if n in set(records)]
    if not names:
        if verbose:
            print("no QTDB records with .q1c found (set ECGSTATION_DATA)", file=sys.stderr)
        return {"records": 0, "error": "no QTDB records found"}
    per_record: dict[str, dict[str, dict[str, Any]]] = {}
    seconds = 0.0
    n_beats = 0
    for name in names:
        rec = load_record(name, data_dir)
        if resample_hz:
            rec = resample_record(rec, resample_hz)
        per_record[name], s, nb = evaluate_record(rec, use_detector, config)
        seconds += s
        n_beats += nb
    table = summarise(per_record)
    results = verdicts(table)
    source = "ecgstation.core.qrs.detect_qrs" if use_detector else "reference annotations (.atr, else .q1c)"
    if resample_hz:
        source += f"; signals resampled to {resample_hz:g} Hz"
    if verbose:
        print_table(table, len(names), source, seconds, n_beats)
        print()
        for text, ok in results:
            print(f"- {'PASS' if ok else 'FAIL'}: {text}")
    cfg = config or DelineationConfig()
    return {
        "records": len(names),
        "r_peaks": "detector" if use_detector else "reference",
        "fs_hz": resample_hz or 250.0,
        "method": METHOD,
        "delineation_seconds": seconds,
        "boundaries": table,
        "targets": [{"text": t, "pass": ok} for t, ok in results],
        "all_pass": all(ok for _, ok in results),
        "per_record": {
            rec: {b: {"n_annotated": v["n_annotated"], "n_detected": v["n_detected"],
                      "mean_ms": float(v["errors_ms"].mean()) if v["errors_ms"].size else None,
                      "sd_ms": float(v["errors_ms"].std(ddof=1)) if v["errors_ms"].size > 1 else None}
                  for b, v in res.items()}
            for rec, res in per_record.items()
        },
        "config": dataclasses.asdict(cfg),
    }


def _parse_overrides(items: list[str]) -> DelineationConfig:
    fields = {f.name: f for f in dataclasses.fields(DelineationConfig)}
    kwargs: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in fields:
            raise SystemExit(f"unknown DelineationConfig field {key!r}")
        kind = type(getattr(DelineationConfig(), key))
        kwargs[key] = kind(value)
    return DelineationConfig(**kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ECGSTATION_DATA", "../shared/data")))
    parser.add_argument("--detector", action="store_true", help="R peaks from ecgstation.core.qrs.detect_qrs")
    parser.add_argument("--records", default="", help="comma-separated subset of records")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a DelineationConfig field, e.g. --set average_beats=0")
    parser.add_argument("--resample", type=float, default=None, metavar="HZ",
                        help="resample the records (and annotations) to HZ first")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    config = _parse_overrides(args.set)
    if not (args.data / "qtdb").is_dir():
        print(f"QT Database not found at {args.data / 'qtdb'}: set ECGSTATION_DATA", file=sys.stderr)
        return 2
    result = run(args.data, args.detector, config, [r for r in args.records.split(",") if r], resample_hz=args.resample)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result.get("all_pass") else 1


if __name__ == "__main__":
    raise SystemExit(main())
