"""EC57 QRS detection benchmark: ours vs wfdb XQRS vs NeuroKit2, on MIT-BIH and the noise stress test.

Run from the repository root::

    pip install -e '.[bench]'
    python -m bench.qrs_ec57

Reads ``$ECGSTATION_DATA/mitdb`` (all 48 records), ``$ECGSTATION_DATA/nstdb`` (118/119 at
each SNR present) and ``$ECGSTATION_DATA/qtdb`` (delineation). Scoring follows ANSI/AAMI
EC57: beat-by-beat, one-to-one matching within 150 ms, ventricular flutter episodes
(``[`` ... ``]``) excluded, and the whole record scored (stricter than ``bxb``'s default
start at 5 minutes; see ``bench/_ec57.py``).
Every detector gets the same signal in mV through our WFDB importer; the baselines
see lead 0 (MLII), which is what they are designed for; ours sees every lead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench._ec57 import Score, match, reference_beats
from ecgstation.core.qrs import detect_qrs
from ecgstation.core.recording import Recording
from ecgstation.io import read_recording

Detector = Callable[[Recording], NDArray[np.int64]]

PAN_TOMPKINS_PUBLISHED = (99.76, 99.56)
TARGET = 99.8


def ours(rec: Recording) -> NDArray[np.int64]:
    """ECG Station's detector on all leads."""
    return detect_qrs(rec.signals, rec.fs)


def xqrs(rec: Recording) -> NDArray[np.int64]:
    """wfdb-python's XQRS on lead 0."""
    from wfdb import processing

    return np.asarray(
        processing.xqrs_detect(sig=np.asarray(rec.signals[0], np.float64), fs=rec.fs, verbose=False), np.int64
    )


def neurokit(rec: Recording) -> NDArray[np.int64]:
    """NeuroKit2's default pipeline on lead 0: ecg_clean then ecg_peaks (method 'neurokit')."""
    import neurokit2 as nk

    clean = nk.ecg_clean(np.asarray(rec.signals[0], np.float64), sampling_rate=rec.fs)
    _, info = nk.ecg_peaks(clean, sampling_rate=rec.fs)
    return np.asarray(info["ECG_R_Peaks"], np.int64)


DETECTORS: dict[str, Detector] = {"ours": ours, "xqrs": xqrs, "neurokit2": neurokit}


@dataclass
class Tally:
    """Per-detector results over a set of records."""

    gross: Score = field(default_factory=Score)
    per_record: dict[str, Score] = field(default_factory=dict)
    seconds: float = 0.0


def run_records(paths: list[Path], names: list[str]) -> dict[str, Tally]:
    """Score each detector on each record; returns one Tally per detector."""
    tallies = {n: Tally() for n in names}
    for path in paths:
        rec = read_recording(path)
        ann = rec.annotations
        ref, excluded = reference_beats(ann.samples, list(ann.labels), rec.n_samples)
        for name in names:
            t0 = time.perf_counter()
            detected = DETECTORS[name](rec)
            tallies[name].seconds += time.perf_counter() - t0
            score = match(ref, detected, rec.fs, excluded)
            tallies[name].per_record[path.stem] = score
            tallies[name].gross += score
        print(
            f"  {path.stem}: "
            + "  ".join(
                f"{n} {tallies[n].per_record[path.stem].se:6.2f}/{tallies[n].per_record[path.stem].ppv:6.2f}"
                for n in names
            ),
            file=sys.stderr,
            flush=True,
        )
    return tallies


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    """Per-record TP/FN/FP and gross Se/+P for every detector."""
    names = list(tallies)
    records = list(next(iter(tallies.values())).per_record)
    print(f"\n## {title}\n")
    head = "| record | " + " | ".join(f"{n} FN | {n} FP" for n in names) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(names)))
    for r in records:
        cells = " | ".join(f"{tallies[n].per_record[r].fn} | {tallies[n].per_record[r].fp}" for n in names)
        print(f"| {r} | {cells} |")
    print("\n| detector | beats | TP | FN | FP | Se % | +P % | time s |")
    print("|---|---|---|---|---|---|---|---|")
    for n in names:
        g = tallies[n].gross
        print(
            f"| {n} | {g.tp + g.fn} | {g.tp} | {g.fn} | {g.fp} | {g.se:.3f} | {g.ppv:.3f} | {tallies[n].seconds:.1f} |"
        )


def verdicts(mit: dict[str, Tally], nst: dict[str, dict[str, Tally]]) -> list[tuple[str, bool]]:
    """The issue's targets, each with PASS/FAIL."""
    out: list[tuple[str, bool]] = []
    g = mit["ours"].gross
    out.append((f"MIT-BIH gross Se {g.se:.3f} >= {TARGET}", g.se >= TARGET))
    out.append((f"MIT-BIH gross +P {g.ppv:.3f} >= {TARGET}", g.ppv >= TARGET))
    for other in (n for n in mit if n != "ours"):
        o = mit[other].gross
        out.append((f"MIT-BIH Se above {other} ({g.se:.3f} > {o.se:.3f})", g.se > o.se))
        out.append((f"MIT-BIH +P above {other} ({g.ppv:.3f} > {o.ppv:.3f})", g.ppv > o.ppv))
    for snr, tallies in nst.items():
        g = tallies["ours"].gross
        for other in (n for n in tallies if n != "ours"):
            o = tallies[other].gross
            out.append((f"NSTDB {snr} dB Se above {other} ({g.se:.2f} > {o.se:.2f})", g.se > o.se))
            out.append((f"NSTDB {snr} dB +P above {other} ({g.ppv:.2f} > {o.ppv:.2f})", g.ppv > o.ppv))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ECGSTATION_DATA", "../shared/data")))
    parser.add_argument(
        "--detectors", default="ours,xqrs,neurokit2", help="comma-separated subset of " + ",".join(DETECTORS)
    )
    parser.add_argument("--records", default="", help="comma-separated MIT-BIH records (default: all)")
    parser.add_argument("--skip-delineation", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    names = [n for n in args.detectors.split(",") if n]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown or "ours" not in names:
        parser.error(f"detectors must include 'ours' and come from {sorted(DETECTORS)}")
    mitdb = args.data / "mitdb"
    if not mitdb.is_dir():
        print(f"MIT-BIH not found at {mitdb}: set ECGSTATION_DATA", file=sys.stderr)
        return 2
    records = args.records.split(",") if args.records else sorted(p.stem for p in mitdb.glob("*.hea"))
    print("# EC57 QRS detection benchmark\n")
    print("Matching window 150 ms, whole records, VF episodes excluded; baselines on lead 0, ours on all leads.")
    mit = run_records([mitdb / f"{r}.hea" for r in records], names)
    print_table(f"MIT-BIH Arrhythmia ({len(records)} records)", mit)
    print(f"\nPublished Pan-Tompkins (1985): Se {PAN_TOMPKINS_PUBLISHED[0]} %, +P {PAN_TOMPKINS_PUBLISHED[1]} %")

    nst: dict[str, dict[str, Tally]] = {}
    nstdb = args.data / "nstdb"
    for snr in ("24", "18", "12", "06", "00", "_6"):
        paths = sorted(nstdb.glob(f"1[01][89]e{snr}.hea"))
        if paths:
            nst[snr.replace("_", "-")] = run_records(paths, names)
            print_table(f"Noise stress test, SNR {snr.replace('_', '-')} dB", nst[snr.replace("_", "-")])

    delineation: dict[str, Any] | None = None
    if not args.skip_delineation and (args.data / "qtdb").is_dir():
        from bench import delineation_qtdb

        print("\n## Delineation on the QT Database (R peaks from our detector)\n")
        delineation = delineation_qtdb.run(args.data, use_detector=True)

    print("\n## Targets\n")
    results = verdicts(mit, nst)
    if delineation is not None:
        results += [(f"QTDB delineation: {t['text']}", bool(t["pass"])) for t in delineation.get("targets", [])]
    for text, ok in results:
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")
    if args.json:
        payload = {
            "mitdb": {
                n: {
                    "tp": t.gross.tp,
                    "fn": t.gross.fn,
                    "fp": t.gross.fp,
                    "se": t.gross.se,
                    "ppv": t.gross.ppv,
                    "seconds": t.seconds,
                }
                for n, t in mit.items()
            },
            "nstdb": {
                snr: {n: {"se": t.gross.se, "ppv": t.gross.ppv} for n, t in ts.items()} for snr, ts in nst.items()
            },
            "targets": [{"text": t, "pass": ok} for t, ok in results],
            "delineation": delineation,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
