"""Train the single-lead 10 s rhythm classifier on MIT-BIH rhythm episodes, export ONNX + card.

``python -m converters.train_rhythm_classifier --out models`` runs a 5-fold record-level
cross-validation (out-of-fold window table, confusion matrix, AF episode Se/+P), then
trains the shipped model on all 48 records with the same fixed hyper-parameters and
writes ``<out>/rhythm_classifier.onnx`` and ``<out>/rhythm_classifier.json``.
``--folds 0`` skips the CV (quick export); ``--steps`` sets the optimiser steps per model.

Data: $ECGSTATION_DATA/mitdb (rhythm labels, see ``converters.rhythm_dataset``) and
$ECGSTATION_DATA/nstdb noise records bw, em, ma: the first 70 % of each noise record is
used for training (augmentation and the synthetic NOISE class), the last 30 % only for
the test NOISE windows.

Training windows (10 s, both leads of every training record as separate examples, or a
random mixture of the two leads): candidate starts every 0.5 s, labelled by the class
covering most of the window; kept when that class covers >= 70 % of it, except that a
window whose VT (or SVT) part covers >= 40 % is labelled VT (SVT); windows where the lead
is marked noisy (``~``) for > 20 % of the time, or mostly unlabelled, are dropped.
Batches are drawn with fixed class shares (``SHARES``). Augmentation on the raw mV
signal at 360 Hz: random lead mixture cos(a)*lead0 + sin(a)*lead1, polarity flip, amplitude
x0.3-3, baseline wander, white noise, NSTDB noise at 6-24 dB SNR, mains 50/60 Hz, random
low-pass 20-40 Hz, +-0.5 s shift; then a random source rate (125-500 Hz) and
``ecgstation.inference.rhythm_inputs.prepare_windows`` (the run-time preprocessing).
NOISE examples: a window plus em/ma noise at -12 to -1 dB SNR, or noise alone, or a flat/
stepping "lead-off" trace. CPU, fixed seeds, no early stopping (fixed step count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import signal as sps
from torch import nn

from converters import evaluate_rhythm_classifier as ev
from converters import rhythm_dataset as rd
from ecgstation.core.filters import resample
from ecgstation.inference.rhythm_inputs import (
    CLASSES,
    MODEL_FS,
    NORMALISATION,
    WINDOW,
    WINDOW_S,
    prepare_windows,
)

NAME = "rhythm_classifier"
VERSION = "0.1.0"
SEED = 20261123
K = len(CLASSES)
C = {c: i for i, c in enumerate(CLASSES)}
L360 = round(WINDOW_S * rd.FS)  # 3600 samples of a 10 s window at 360 Hz
STRIDE = int(0.5 * rd.FS)
JITTER = int(0.5 * rd.FS)
SHARES = {"SINUS": 0.24, "AF": 0.18, "AFL": 0.07, "VT": 0.06, "SVT": 0.06,
          "BIGEMINY_TRIGEMINY": 0.13, "NOISE": 0.12, "OTHER": 0.14}
SOURCE_FS = [360.0, 250.0, 500.0, 128.0, 125.0, 200.0, 256.0, 130.0, 300.0]
NOISE_SNR_DB = (-12.0, -1.0)
# 5 record-level folds; every fold holds AF records, 201 and 202 (one subject) stay together,
# AFL records (202, 203, 222), VT (223, 203, 205), SVT (209, 207, 234) and paced records spread.
FOLDS = [
    [201, 202, 223, 106, 102, 230, 100, 101, 103, 105],
    [203, 209, 200, 104, 231, 108, 109, 111, 112, 113],
    [210, 222, 205, 119, 107, 114, 115, 116, 117, 118],
    [219, 207, 228, 217, 121, 122, 123, 212, 213],
    [221, 234, 208, 124, 214, 215, 220, 232, 233],
]


class RhythmNet(nn.Module):
    """1D CNN: six stride-2 conv blocks (1280 -> 20 steps of 0.5 s), two dilated blocks, mean+max pool."""

    def __init__(self) -> None:
        super().__init__()

        def block(i: int, o: int, k: int, s: int = 1, d: int = 1) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(i, o, k, stride=s, padding=d * (k // 2), dilation=d),
                                 nn.BatchNorm1d(o), nn.ReLU())

        self.features = nn.Sequential(
            block(1, 16, 15, 2), block(16, 24, 9, 2), block(24, 32, 9, 2),
            block(32, 48, 7, 2), block(48, 64, 5, 2), block(64, 96, 5, 2),
            block(96, 96, 3, 1, 1), block(96, 96, 3, 1, 2),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(192, 64), nn.ReLU(), nn.Linear(64, K))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))

    def forward(self, ecg: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(ecg), dim=1)


def candidates(data: dict[int, rd.Record], recs: list[int]) -> dict[int, np.ndarray]:
    """Per class: array of (record, lead, start sample) training windows (rules in the module doc)."""
    out: dict[int, list[np.ndarray]] = {c: [] for c in range(K)}
    for r in recs:
        d = data[r]
        starts = np.arange(0, d.label.size - L360 + 1, STRIDE)
        y, f = rd.window_labels(d.label, starts, L360)
        y = np.where(f >= 0.7, y, -1)
        for c in ("VT", "SVT"):
            frac = rd.mask_fraction(d.label == C[c], starts, L360)
            y = np.where(frac >= 0.4, C[c], y)
        for lead in range(2):
            clean = rd.mask_fraction(d.noisy[lead], starts, L360) <= 0.2
            for c in range(K):
                s = starts[(y == c) & clean]
                if len(s):
                    out[c].append(np.stack([np.full(len(s), r), np.full(len(s), lead), s], axis=1))
    return {c: (np.concatenate(v) if v else np.zeros((0, 3), np.int64)) for c, v in out.items()}


class Sampler:
    """Draws augmented, preprocessed training batches (numpy RNG, fixed seed)."""

    def __init__(self, data: dict[int, rd.Record], cands: dict[int, np.ndarray],
                 noise: dict[str, np.ndarray], seed: int) -> None:
        self.data = data
        self.cands = cands
        self.all = np.concatenate([v for v in cands.values() if len(v)])
        self.noise = {k: v[:, slice(*rd.noise_ranges(v.shape[1], "train"))] for k, v in noise.items()}
        self.rng = np.random.default_rng(seed)
        present = [c for c in range(K) if c == C["NOISE"] or len(cands[c])]
        p = np.array([SHARES[CLASSES[c]] for c in present])
        self.classes, self.p = np.array(present), p / p.sum()

    def _raw(self, row: np.ndarray) -> np.ndarray:
        rec, lead, s = (int(v) for v in row)
        sig = self.data[rec].signals
        s = int(np.clip(s + self.rng.integers(-JITTER, JITTER + 1), 0, sig.shape[1] - L360))
        w = sig[:, s:s + L360].astype(np.float64)
        if self.rng.random() < 0.4:
            a = self.rng.uniform(0, 2 * np.pi)
            x = np.cos(a) * w[0] + np.sin(a) * w[1]
        else:
            x = w[lead].copy()
        return x - np.median(x)

    def _noise(self, names: list[str], n: int) -> np.ndarray:
        v = self.noise[names[self.rng.integers(len(names))]]
        s = self.rng.integers(0, v.shape[1] - n)
        x = v[self.rng.integers(2), s:s + n].astype(np.float64)
        return x - x.mean()

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        y = rng.choice(self.classes, n, p=self.p)
        t = np.arange(L360) / rd.FS
        raw = np.empty((n, L360))
        for i, c in enumerate(y):
            pool = self.all if c == C["NOISE"] else self.cands[c]
            x = self._raw(pool[rng.integers(len(pool))])
            ps = max(float(np.mean(x ** 2)), 1e-4)
            if c == C["NOISE"]:
                u = rng.random()
                if u < 0.7:
                    nz = self._noise(["em", "ma"], L360)
                    snr = rng.uniform(*NOISE_SNR_DB)
                    x = x + nz * np.sqrt(ps / 10 ** (snr / 10) / max(np.mean(nz ** 2), 1e-8))
                elif u < 0.85:
                    nz = self._noise(["em", "ma", "bw"], L360) + self._noise(["em", "ma"], L360)
                    x = nz / max(np.std(nz), 1e-6) * rng.uniform(0.05, 1.0)
                else:  # lead-off: flat or stepping trace with small noise
                    steps = np.cumsum(rng.random(L360) < rng.uniform(0, 0.002)) * rng.normal(0, 1.0)
                    x = steps + rng.normal(0, rng.uniform(0.002, 0.03), L360)
            else:
                if rng.random() < 0.35:
                    nz = self._noise(["em", "ma", "bw"], L360)
                    snr = rng.uniform(6, 24)
                    x = x + nz * np.sqrt(ps / 10 ** (snr / 10) / max(np.mean(nz ** 2), 1e-8))
            x = x * np.exp(rng.uniform(np.log(0.3), np.log(3.0))) * (1 if rng.random() < 0.5 else -1)
            if rng.random() < 0.5:
                x = x + rng.uniform(0, 1.0) * np.sin(2 * np.pi * rng.uniform(0.05, 0.7) * t + rng.uniform(0, 6.3))
            if rng.random() < 0.15:
                x = x + rng.uniform(0, 0.15) * np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * t + rng.uniform(0, 6.3))
            if rng.random() < 0.3:
                b, a = sps.butter(2, rng.uniform(20, 40), fs=rd.FS)
                x = sps.lfilter(b, a, x)
            raw[i] = x + rng.normal(0, rng.uniform(0, 0.03), L360)
        fs = float(rng.choice(SOURCE_FS))
        if fs != rd.FS:
            raw = resample(raw, rd.FS, fs)
        return prepare_windows(raw, fs), y.astype(np.int64)


class _Stream(torch.utils.data.IterableDataset):
    """``steps`` batches from a Sampler, produced in a DataLoader worker process (one, so the order is fixed)."""

    def __init__(self, sampler: Sampler, batch: int, steps: int) -> None:
        super().__init__()
        self.sampler, self.batch, self.steps = sampler, batch, steps

    def __iter__(self):
        for _ in range(self.steps):
            x, y = self.sampler.batch(self.batch)
            yield torch.from_numpy(x), torch.from_numpy(y)


def train_model(data: dict[int, rd.Record], recs: list[int], noise: dict[str, np.ndarray],
                steps: int, batch: int, seed: int, log: str, workers: int = 1) -> tuple[RhythmNet, dict]:
    torch.manual_seed(seed)
    cands = candidates(data, recs)
    counts = {CLASSES[c]: len(v) for c, v in cands.items()}
    sampler = Sampler(data, cands, noise, seed)
    loader = torch.utils.data.DataLoader(_Stream(sampler, batch, steps), batch_size=None, num_workers=workers,
                                         prefetch_factor=4 if workers else None)
    model = RhythmNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    t0, tot = time.time(), 0.0
    for s, (xb, yb) in enumerate(loader):
        model.train()
        loss = loss_fn(model.logits(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot += loss.item()
        if (s + 1) % 250 == 0:
            print(f"  [{log}] step {s + 1}/{steps} loss {tot / 250:.4f} [{time.time() - t0:.0f} s]", flush=True)
            tot = 0.0
    model.eval()
    return model, {"candidate_windows_per_class": counts, "train_s": round(time.time() - t0, 1)}


def predict(model: nn.Module, w: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(w[i:i + 1024])) for i in range(0, len(w), 1024)]).numpy()


def noise_test_windows(data: dict[int, rd.Record], recs: list[int], noise: dict[str, np.ndarray],
                       per_record: int, seed: int) -> np.ndarray:
    """Test NOISE windows: lead-0 windows of the test records + em/ma noise from the held-out time range."""
    rng = np.random.default_rng(seed)
    test_noise = {k: v[:, slice(*rd.noise_ranges(v.shape[1], "test"))] for k, v in noise.items()}
    raw = []
    for r in recs:
        sig = data[r].signals[0].astype(np.float64)
        for _ in range(per_record):
            s = rng.integers(0, sig.size - L360)
            x = sig[s:s + L360] - np.median(sig[s:s + L360])
            v = test_noise[["em", "ma"][rng.integers(2)]]
            o = rng.integers(0, v.shape[1] - L360)
            nz = v[rng.integers(2), o:o + L360].astype(np.float64)
            nz -= nz.mean()
            snr = rng.uniform(*NOISE_SNR_DB)
            raw.append(x + nz * np.sqrt(max(np.mean(x ** 2), 1e-4) / 10 ** (snr / 10) / max(np.mean(nz ** 2), 1e-8)))
    return prepare_windows(np.array(raw), rd.FS)


def cross_validate(data: dict[int, rd.Record], noise: dict[str, np.ndarray], a: argparse.Namespace) -> dict:
    folds = FOLDS[:a.folds]
    views = {"lead0_360Hz": (0, None), "lead1_360Hz": (1, None), "lead0_250Hz": (0, 250.0),
             "lead0_128Hz": (0, 128.0)}
    ys: dict[str, list] = {v: [] for v in views}
    ps: dict[str, list] = {v: [] for v in views}
    eps: dict[str, dict] = {v: {} for v in views}
    ny, npred = [], []
    fold_info = []
    for k, test in enumerate(folds):
        train = [r for r in rd.RECORDS if r not in test]
        model, info = train_model(data, train, noise, a.steps, a.batch, SEED + k, f"fold {k + 1}", a.workers)
        for v, (lead, fs) in views.items():
            for r in test:
                w, st, y = ev.record_windows(data[r], lead, fs)
                p = predict(model, w).argmax(1)
                keep = y >= 0
                ys[v].append(y[keep])
                ps[v].append(p[keep])
                eps[v][str(r)] = ev.record_episode_eval(data[r], p, st)
        wn = noise_test_windows(data, test, noise, a.noise_test_per_record, SEED + 100 + k)
        ny.append(np.full(len(wn), C["NOISE"]))
        npred.append(predict(model, wn).argmax(1))
        fold_info.append({"fold": k + 1, "test_records": test, **info})
        t = ev.window_table(np.concatenate(ys["lead0_360Hz"][-len(test):]),
                            np.concatenate(ps["lead0_360Hz"][-len(test):]))
        print(f"fold {k + 1} test {test}: lead-0 accuracy {100 * t['accuracy']:.1f} %, "
              f"NOISE Se {100 * np.mean(npred[-1] == C['NOISE']):.1f} %", flush=True)
    out: dict = {"folds": fold_info}
    for v in views:
        y, p = np.concatenate(ys[v]), np.concatenate(ps[v])
        if v == "lead0_360Hz":  # the synthetic NOISE test windows join the primary table
            y, p = np.concatenate([y] + ny), np.concatenate([p] + npred)
        out[v] = {"windows": ev.window_table(y, p), "af_episodes": ev.episode_summary(eps[v]),
                  "af_per_record": {r: {kk: e[kk] for kk in ("min0", "min30", "dur")} for r, e in eps[v].items()
                                    if e["min0"]["ref"] or e["min0"]["pred"]}}
        print(f"\n=== out-of-fold {v}" + (" (+ synthetic NOISE test windows)" if v == "lead0_360Hz" else ""))
        print(ev.format_table(out[v]["windows"]))
        print(ev.format_episodes(out[v]["af_episodes"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--folds", type=int, default=5, help="number of CV folds to run (0 = none)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the optimiser process")
    ap.add_argument("--workers", type=int, default=1, help="batch-producing worker processes (1 keeps the order fixed)")
    ap.add_argument("--noise-test-per-record", type=int, default=20)
    ap.add_argument("--cv-json", type=Path, default=None, help="reuse a CV report written earlier")
    a = ap.parse_args()

    t0 = time.time()
    torch.set_num_threads(a.threads)
    np.random.seed(SEED)
    data = rd.load_all()
    noise = rd.load_noise()
    if a.cv_json is not None:
        cv = json.loads(a.cv_json.read_text())
    elif a.folds > 0:
        cv = cross_validate(data, noise, a)
        a.out.mkdir(parents=True, exist_ok=True)
        Path("/tmp/rhythm_cv.json").write_text(json.dumps(cv, indent=1))
    else:
        cv = {}
    cv_s = time.time() - t0

    model, info = train_model(data, rd.RECORDS, noise, a.steps, a.batch, SEED, "final", a.workers)
    a.out.mkdir(parents=True, exist_ok=True)
    onnx_path = a.out / f"{NAME}.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, WINDOW),), str(onnx_path), opset_version=17,
                      input_names=["ecg"], output_names=["probabilities"], dynamo=False,
                      dynamic_axes={"ecg": {0: "batch"}, "probabilities": {0: "batch"}})
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    total_s = time.time() - t0
    n_params = sum(p.numel() for p in model.parameters())
    card = {
        "name": NAME, "version": VERSION, "classes": CLASSES,
        "task": ("rhythm of one 10 s single-lead ECG window (live monitoring, e.g. a one-lead patch): "
                 "SINUS, AF, AFL, VT, SVT, BIGEMINY_TRIGEMINY, NOISE, OTHER"),
        "inputs": [{"name": "ecg", "shape": [-1, 1, WINDOW], "dtype": "float32"}],
        "output_name": "probabilities",
        "fs_hz": MODEL_FS, "window_samples": WINDOW, "window_start_s": 0.0,
        "leads": ["any-1"], "normalisation": NORMALISATION,
        "onnx_file": onnx_path.name, "onnx_sha256": sha,
        "input_details": {
            "ecg": {"shape": ["batch", 1, WINDOW], "fs_hz": MODEL_FS, "window_s": WINDOW_S,
                    "lead": "any one lead (trained on MLII, V1, V2, V4, V5 and random mixtures of a record's two leads, both polarities)",
                    "units": "normalised (dimensionless)",
                    "runtime_functions": ["ecgstation.inference.rhythm_inputs.rhythm_window_input(signal_1d_mV, fs) -> (1, 1280)",
                                          "ecgstation.inference.rhythm_inputs.rhythm_windows(signal_1d_mV, fs, step_s=10.0) -> (windows (n,1,1280), starts_s (n,))"],
                    "min_source_fs_hz": 50.0},
        },
        "output": {"name": "probabilities", "shape": ["batch", K], "kind": "softmax", "decision": "argmax"},
        "class_definitions": {
            "SINUS": "MIT-BIH (N normal sinus rhythm and (SBR sinus bradycardia",
            "AF": "(AFIB atrial fibrillation", "AFL": "(AFL atrial flutter",
            "VT": "(VT ventricular tachycardia", "SVT": "(SVTA supraventricular tachyarrhythmia",
            "BIGEMINY_TRIGEMINY": "(B ventricular bigeminy and (T ventricular trigeminy",
            "NOISE": "synthetic: MIT-BIH windows with NSTDB em/ma noise at -12 to -1 dB SNR, noise alone, or lead-off traces",
            "OTHER": "(P paced, (PREX pre-excitation, (BII 2nd-degree block, (NOD nodal, (IVR idioventricular, (VFL ventricular flutter, (AB atrial bigeminy",
        },
        "metrics": {
            "summary": "record-level 5-fold cross-validation on MIT-BIH (out-of-fold, each record scored by the model that never saw it); non-overlapping 10 s windows",
            "window_reference": "class covering most of the 10 s window (all windows, mixed ones included); windows mostly before the first rhythm annotation skipped",
            "noise_test_windows": f"{a.noise_test_per_record} synthetic NOISE windows per test record (lead 0 + NSTDB em/ma noise from the last 30 % of the noise records, never used in training, SNR -12 to -1 dB), added to the lead0_360Hz table only",
            "af_episode_definitions": ev.__doc__.split("Definitions (also used by the trainer for the out-of-fold report):")[1].strip(),
            "views": "lead0_360Hz: first lead (MLII except 102/104: V5) at 360 Hz; lead1_360Hz: second lead (V1/V2/V4/V5); lead0_250Hz / lead0_128Hz: first lead resampled to 250 / 128 Hz before rhythm_windows",
            "cross_validation": cv,
        },
        "training": {
            "data": "MIT-BIH Arrhythmia Database (mitdb, 48 records), $ECGSTATION_DATA/mitdb; NSTDB noise records bw, em, ma (first 70 % of each)",
            "shipped_model": "trained on all 48 MIT-BIH records with the hyper-parameters used in every CV fold (fixed in advance, no tuning on test folds)",
            "folds": [{"fold": i + 1, "records": f} for i, f in enumerate(FOLDS)],
            "window_labelling": ("training: class covering >= 70 % of the window, or VT/SVT if that rhythm covers >= 40 %; "
                                 "windows with the lead marked noisy ('~') > 20 % dropped; evaluation: majority class, all windows"),
            "leads": "both leads of each record as separate examples, and with probability 0.4 a random mixture cos(a)*lead0 + sin(a)*lead1",
            "augmentation": ("polarity flip, amplitude x0.3-3, baseline wander 0.05-0.7 Hz up to 1 mV, white noise up to 0.03 mV, "
                             "NSTDB noise at 6-24 dB SNR (p 0.35), mains 50/60 Hz up to 0.15 mV, low-pass 20-40 Hz (p 0.3), +-0.5 s shift, "
                             f"source sampling rate drawn from {SOURCE_FS} Hz before the run-time preprocessing"),
            "class_shares_per_batch": SHARES,
            "candidate_windows_per_class_final": info["candidate_windows_per_class"],
            "steps": a.steps, "batch": a.batch, "optimiser": "AdamW lr 3e-3 one-cycle, weight decay 1e-3, label smoothing 0.05",
            "parameters": n_params, "seed": SEED,
            "cv_time_s": round(cv_s, 1), "final_model_time_s": info["train_s"], "total_time_s": round(total_s, 1),
            "hardware": f"CPU ({platform.processor() or platform.machine()}), 2 cores shared; torch.set_num_threads({a.threads}) + {a.workers} batch worker process(es), torch {torch.__version__}",
        },
        "onnx": {"opset": 17, "bytes": onnx_path.stat().st_size},
        "date": dt.date.today().isoformat(),
        "intended_use": ("screening/triage of single-lead live monitoring: flags 10 s windows of possible AF, AFL, VT, SVT, "
                         "ventricular bigeminy/trigeminy or unreadable signal for review by a clinician; not a diagnosis"),
        "limitations": [
            "trained and cross-validated on 47 subjects of MIT-BIH only (Holter leads MLII/V1/V2/V4/V5, 1975-1979); a patch's lead, bandwidth and noise may differ",
            "very few examples of VT (mostly short runs in 223, 205, 203), SVT (207, 209, 234) and AFL (202, 203, 222): their Se/+P are unreliable and computed on few windows",
            "AF from 7 subjects (201/202, 203, 210, 217, 219, 221, 222)",
            "NOISE class is synthetic (NSTDB electrode-motion / muscle noise added to MIT-BIH windows); real patch artefacts may differ",
            "a 10 s window labelled by its majority rhythm: short runs (< 5 s) of VT/SVT inside sinus windows are often not reported",
            "OTHER lumps paced rhythm, pre-excitation, 2nd-degree block, nodal, idioventricular rhythm, ventricular flutter and atrial bigeminy; sinus bradycardia is SINUS",
            "the window is normalised by its own amplitude: absolute amplitude (e.g. low-voltage) is not seen",
        ],
        "licence": "Trained on MIT-BIH Arrhythmia Database and MIT-BIH Noise Stress Test Database (ODC-By 1.0)",
        "citation": [
            "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol 20(3):45-50 (2001).",
            "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation 101(23):e215-e220 (2000).",
            "Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors. Computers in Cardiology 11:381-384 (1984).",
        ],
    }
    (a.out / f"{NAME}.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {onnx_path} sha256 {sha} ({onnx_path.stat().st_size} bytes), {a.out / (NAME + '.json')}; "
          f"total {total_s:.0f} s")


if __name__ == "__main__":
    main()
