"""Build the 12-lead resting-ECG dataset (rhythm + PTB-XL diagnostic superclasses).

Sources (read from ``$ECGSTATION_DATA``, default ``/work/shared/data``):

- ``ptbxl/``: PTB-XL ecg_id 1-500 (500 Hz, 10 s). Rhythm from the SCP rhythm statements
  (any likelihood), superclasses from the diagnostic statements with likelihood >= 50 or
  likelihood 0 (= not stated); statements at 15 or 35 count as absent.
- ``cinc2021/``: the CinC 2021 sample records (WFDB + .mat). Rhythm from the SNOMED CT
  codes in ``# Dx:``; no superclass labels (masked). HR00001-HR00010 are byte-identical
  copies of PTB-XL ecg_id 1-10 and are dropped here (the PTB-XL copy is kept). The SPH
  HDF5 records are not used (no HDF5 reader installed; 10 records, 6 of them NSR).
- ``chapman/``: the 5 Chapman-Shaoxing CSV signals with their ``Diagnostics.csv`` rhythm
  (``AF`` = atrial flutter, ``AFIB`` = atrial fibrillation); no superclass labels.

Rhythm classes (one label per record, priority top to bottom): AF (fibrillation or flutter);
OTHER (any other non-sinus rhythm statement: SVT, atrial/ventricular tachycardia, AVRT,
AVNRT, pacing, bigeminy, ...); ST; SB; SR (sinus rhythm or sinus arrhythmia). A record
without any rhythm statement gets rhythm -1 (masked in the loss, left out of the scores).

Split (patient level): PTB-XL strat_fold 9-10 = test, 8 = validation, 1-7 = train (PTB-XL
folds keep a patient's records together). Every other record is its own patient (one ECG
per patient in Chapman/CPSC/Ningbo; the samples carry no patient id) and goes by a stable
hash of its record name: sha256(name) -> u in [0, 1); u < 0.20 test, u < 0.35 validation,
else train.

Input contract of the model (written into the model card):
first 10 s of the record at its own rate -> ``ecgstation.core.filters.resample`` to 250 Hz
-> ``ecgstation.core.filters.remove_baseline(x, 250, cutoff_hz=0.5)`` per lead -> mV as is
-> zero-padded at the end to 2500 samples when shorter. Leads I, II, III, aVR, aVL, aVF,
V1-V6.

Run: ``python -m converters.twelve_lead_dataset [--out /tmp/h12]`` (cache ``<out>/v1.npz``).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import os
import re
from pathlib import Path

import numpy as np

from ecgstation.core.filters import remove_baseline, resample
from ecgstation.core.qrs import detect_qrs
from ecgstation.io import read_recording

CACHE_VERSION = "v1"
MODEL_FS = 250.0
WINDOW_S = 10.0
WINDOW = int(MODEL_FS * WINDOW_S)
HIGHPASS_HZ = 0.5
MAX_SEGMENTS = 3  # long records: up to 3 consecutive 10 s segments kept for training crops
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
RHYTHM = ["SR", "SB", "ST", "AF", "OTHER"]
SUPER = ["NORM", "MI", "STTC", "CD", "HYP"]
NORMALISATION = (
    "first 10 s of the record (window_start_s 0.0) at its own rate; each lead resampled to 250 Hz "
    "with ecgstation.core.filters.resample(x, fs, 250.0); then "
    "ecgstation.core.filters.remove_baseline(x, 250.0, cutoff_hz=0.5) along time on that window; "
    "values in mV as is (no scaling); records shorter than 10 s are zero-padded at the end to "
    "2500 samples; leads in the order I, II, III, aVR, aVL, aVF, V1-V6"
)
PREPROCESSING = {"window_s": 10.0, "crop": "first 10 s", "resample_hz": 250.0,
                 "remove_baseline": {"function": "ecgstation.core.filters.remove_baseline",
                                     "cutoff_hz": HIGHPASS_HZ},
                 "highpass_hz": HIGHPASS_HZ, "scale": "mV as is",
                 "pad": "zeros at the end to 2500 samples"}

# SNOMED CT rhythm codes (CinC 2021 mapping tables).
SNOMED_AF = {"164889003", "164890007", "195080001"}  # AF, AFL, atrial fibrillation and flutter
SNOMED_ST = {"427084000"}
SNOMED_SB = {"426177001"}
SNOMED_SR = {"426783006", "427393009"}  # NSR, sinus arrhythmia
SNOMED_OTHER = {
    "426761007",  # SVT
    "713422000",  # atrial tachycardia
    "233897008",  # AVRT
    "251166008",  # AVNRT
    "425856008",  # paroxysmal ventricular tachycardia
    "164895002",  # ventricular tachycardia
    "10370003",   # pacing rhythm
    "106068003",  # atrial rhythm
    "426995002",  # junctional escape
    "251164006",  # junctional premature complex rhythm
    "426648003",  # junctional tachycardia
    "11157007",   # ventricular bigeminy
    "251180001",  # ventricular trigeminy
    "75532003",   # ventricular escape beat / rhythm
    "17366009",   # atrial arrhythmia
    "67198005",   # paroxysmal supraventricular tachycardia
    "164896001",  # ventricular fibrillation
    "5609005",    # sinus arrest
    "65778007",   # sinoatrial block
}
PTBXL_AF = {"AFIB", "AFLT"}
PTBXL_OTHER = {"PACE", "SVTAC", "PSVT", "SVARR", "BIGU", "TRIGU"}
CHAPMAN = {"AFIB": "AF", "AF": "AF", "SR": "SR", "SA": "SR", "SB": "SB", "ST": "ST", "SVT": "OTHER",
           "AT": "OTHER", "AVNRT": "OTHER", "AVRT": "OTHER", "SAAWR": "OTHER"}
PTBXL_DUPLICATES = {f"HR{i:05d}" for i in range(1, 11)}


def default_data() -> Path:
    return Path(os.environ.get("ECGSTATION_DATA", "/work/shared/data"))


def stable_u(name: str) -> float:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 2.0 ** 32


def hash_split(name: str) -> str:
    u = stable_u(name)
    return "test" if u < 0.20 else ("val" if u < 0.35 else "train")


def rhythm_from_snomed(codes: set[str]) -> int:
    if codes & SNOMED_AF:
        return RHYTHM.index("AF")
    if codes & SNOMED_OTHER:
        return RHYTHM.index("OTHER")
    if codes & SNOMED_ST:
        return RHYTHM.index("ST")
    if codes & SNOMED_SB:
        return RHYTHM.index("SB")
    if codes & SNOMED_SR:
        return RHYTHM.index("SR")
    return -1


def rhythm_from_scp(codes: dict) -> int:
    k = set(codes)
    if k & PTBXL_AF:
        return RHYTHM.index("AF")
    if k & PTBXL_OTHER:
        return RHYTHM.index("OTHER")
    if "STACH" in k:
        return RHYTHM.index("ST")
    if "SBRAD" in k:
        return RHYTHM.index("SB")
    if k & {"SR", "SARRH"}:
        return RHYTHM.index("SR")
    return -1


def superclass_from_scp(codes: dict, diag_class: dict[str, str]) -> np.ndarray | None:
    y = np.zeros(len(SUPER), dtype=np.float32)
    any_diag = False
    for code, lik in codes.items():
        cls = diag_class.get(code)
        if cls is None:
            continue
        any_diag = True
        if lik >= 50 or lik == 0:
            y[SUPER.index(cls)] = 1.0
    if not any_diag or y.sum() == 0:
        return None  # no confident diagnostic statement: superclass target unknown
    return y


def order_leads(signals: np.ndarray, names) -> np.ndarray:
    low = [str(n).strip().lower() for n in names]
    idx = []
    for lead in LEADS:
        if lead.lower() not in low:
            raise ValueError(f"lead {lead} missing in {names}")
        idx.append(low.index(lead.lower()))
    return np.asarray(signals, dtype=np.float32)[idx]


def preprocess(x: np.ndarray, fs: float) -> np.ndarray:
    """(12, n) mV at fs, at most 10 s -> (12, WINDOW) float32: resample, remove baseline, zero-pad."""
    y = resample(np.nan_to_num(x), fs, MODEL_FS)[:, :WINDOW]
    y = remove_baseline(y, MODEL_FS, cutoff_hz=HIGHPASS_HZ)
    out = np.zeros((12, WINDOW), dtype=np.float32)
    out[:, :y.shape[1]] = y
    return out


def first_window(x: np.ndarray, fs: float) -> np.ndarray:
    return x[:, :round(WINDOW_S * fs)]


def list_records(data: Path) -> list[dict]:
    """Every usable record with its labels and split (no signals read)."""
    recs: list[dict] = []
    scp = {}
    with open(data / "ptbxl" / "scp_statements.csv", newline="") as f:
        for row in csv.DictReader(f):
            code = row[""] if "" in row else next(iter(row.values()))
            if row.get("diagnostic") in ("1", "1.0") and row.get("diagnostic_class"):
                scp[code] = row["diagnostic_class"]
    with open(data / "ptbxl" / "ptbxl_database.csv", newline="") as f:
        for row in csv.DictReader(f):
            codes = ast.literal_eval(row["scp_codes"])
            fold = int(row["strat_fold"])
            sup = superclass_from_scp(codes, scp)
            recs.append({
                "name": f"ptbxl_{int(row['ecg_id']):05d}", "source": "PTB-XL",
                "patient": f"ptbxl_p{int(float(row['patient_id']))}",
                "path": str(data / "ptbxl" / (row["filename_hr"] + ".hea")),
                "split": "test" if fold >= 9 else ("val" if fold == 8 else "train"),
                "rhythm": rhythm_from_scp(codes), "super": sup,
            })
    for hea in sorted((data / "cinc2021").rglob("*.hea")):
        name = hea.stem
        if name in PTBXL_DUPLICATES:
            continue
        dx: set[str] = set()
        for line in hea.read_text(errors="replace").splitlines():
            m = re.match(r"#\s*Dx:\s*(.*)", line)
            if m:
                dx |= {c.strip() for c in m.group(1).split(",") if c.strip()}
        recs.append({"name": f"cinc_{name}", "source": "CinC2021 " + hea.parent.name,
                     "patient": f"cinc_{name}", "path": str(hea), "split": hash_split(name),
                     "rhythm": rhythm_from_snomed(dx), "super": None})
    diag = {}
    with open(data / "chapman" / "Diagnostics.csv", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            diag[row["FileName"]] = row["Rhythm"]
    for p in sorted((data / "chapman").rglob("*.csv")):
        if p.stem not in diag:
            continue
        lab = CHAPMAN.get(diag[p.stem])
        recs.append({"name": f"chapman_{p.stem}", "source": "Chapman " + p.parent.name,
                     "patient": f"chapman_{p.stem}", "path": str(p), "split": hash_split(p.stem),
                     "rhythm": RHYTHM.index(lab) if lab else -1, "super": None})
    return recs


def read_signals(rec: dict) -> tuple[np.ndarray, float]:
    """(12, n) mV in LEADS order and fs."""
    p = Path(rec["path"])
    if p.suffix == ".csv":
        x = np.loadtxt(p, delimiter=",", dtype=np.float64).T
        if "Denoised" in p.parent.name:
            x = x / 1000.0  # the denoised release is in uV
        return x.astype(np.float32), 500.0
    r = read_recording(p)
    return order_leads(r.signals, r.lead_names), float(r.fs)


def build(data: Path, out: Path) -> dict:
    recs = list_records(data)
    segs, seg_rec, heart_rate, n_native = [], [], [], []
    for i, rec in enumerate(recs):
        x, fs = read_signals(rec)
        n_win = round(WINDOW_S * fs)
        for k in range(MAX_SEGMENTS):
            part = x[:, k * n_win:(k + 1) * n_win]
            if k > 0 and part.shape[1] < n_win:
                break
            segs.append(preprocess(part, fs))
            seg_rec.append(i)
        first = first_window(x, fs)
        peaks = detect_qrs(first, fs)
        rr = np.diff(peaks) / fs
        heart_rate.append(float(60.0 / np.median(rr)) if rr.size >= 2 else float("nan"))
        n_native.append(x.shape[1] / fs)
    arrays = {
        "segments": np.stack(segs).astype(np.float32),
        "segment_record": np.array(seg_rec, dtype=np.int64),
        "name": np.array([r["name"] for r in recs]),
        "source": np.array([r["source"] for r in recs]),
        "patient": np.array([r["patient"] for r in recs]),
        "split": np.array([r["split"] for r in recs]),
        "path": np.array([r["path"] for r in recs]),
        "rhythm": np.array([r["rhythm"] for r in recs], dtype=np.int64),
        "super": np.stack([r["super"] if r["super"] is not None else np.full(5, np.nan, np.float32)
                           for r in recs]).astype(np.float32),
        "heart_rate": np.array(heart_rate, dtype=np.float32),
        "duration_s": np.array(n_native, dtype=np.float32),
    }
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"{CACHE_VERSION}.npz", **arrays)
    return arrays


def load(out: Path = Path("/tmp/h12"), data: Path | None = None) -> dict:
    f = out / f"{CACHE_VERSION}.npz"
    if f.exists():
        z = np.load(f)
        return {k: z[k] for k in z.files}
    return build(data or default_data(), out)


def counts_table(d: dict) -> dict:
    """Records per split and class (rhythm; superclass positives; masked counts)."""
    out = {}
    for sp in ("train", "val", "test"):
        m = d["split"] == sp
        r = d["rhythm"][m]
        s = d["super"][m]
        has_s = ~np.isnan(s[:, 0])
        out[sp] = {
            "records": int(m.sum()), "patients": len(set(d["patient"][m])),
            "by_source": {src: int((d["source"][m] == src).sum()) for src in sorted(set(d["source"][m]))},
            "rhythm": {c: int((r == i).sum()) for i, c in enumerate(RHYTHM)},
            "rhythm_unlabelled": int((r < 0).sum()),
            "superclass": {c: int(np.nansum(s[has_s, j])) for j, c in enumerate(SUPER)},
            "superclass_labelled": int(has_s.sum()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/h12"))
    ap.add_argument("--data", type=Path, default=None)
    a = ap.parse_args()
    d = build(a.data or default_data(), a.out)
    import json
    print(json.dumps(counts_table(d), indent=1))
    print("segments", d["segments"].shape)


if __name__ == "__main__":
    main()
