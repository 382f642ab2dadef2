"""Train the AAMI beat classifier (N/S/V/F) on de Chazal DS1, test on DS2, export ONNX + card.

``python -m converters.train_beat_classifier [--epochs N] [--out models]``

Model: a small 1D CNN on the normalised first-lead beat window plus an MLP on the RR /
context features (standardised inside the network), softmax over N, S, V, F. Balanced
class sampling, light augmentation (amplitude scale, baseline shift, noise, +-2 sample
shift). Early stopping on DS1 records held out by record (never DS2). CPU, 2 threads,
fixed seeds. The dataset is built/cached by ``converters.beat_dataset`` in ``--scratch``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from converters import beat_dataset as bd

VAL_RECORDS = [106, 116, 215, 220]
SEED = 20261123
NAME = "beat_classifier"
VERSION = "0.1.0"


class BeatNet(nn.Module):
    def __init__(self, n_rr: int, rr_mean: np.ndarray, rr_std: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("rr_mean", torch.tensor(rr_mean, dtype=torch.float32))
        self.branch_drop = 0.25
        self.register_buffer("rr_std", torch.tensor(rr_std, dtype=torch.float32))

        def block(i: int, o: int, k: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(i, o, k, padding=k // 2), nn.BatchNorm1d(o), nn.ReLU())

        self.cnn = nn.Sequential(
            block(1, 16, 9), nn.MaxPool1d(2),
            block(16, 32, 7), nn.MaxPool1d(2),
            block(32, 48, 5), nn.MaxPool1d(2),
            block(48, 64, 3),
        )
        self.rr = nn.Sequential(nn.Linear(n_rr, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128 + 32, 64), nn.ReLU(),
                                  nn.Linear(64, len(bd.CLASSES)))

    def logits(self, waveform: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
        h = self.cnn(waveform)
        h = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
        if self.training:  # drop the whole waveform branch sometimes so the RR path stands alone
            keep = (torch.rand(h.shape[0], 1) > self.branch_drop).to(h.dtype)
            h = h * keep / (1.0 - self.branch_drop)
        r = self.rr((rr - self.rr_mean) / self.rr_std)
        return self.head(torch.cat([h, r], dim=1))

    def forward(self, waveform: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(waveform, rr), dim=1)


def stack(d: dict, recs: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = np.concatenate([d[r]["waveform"] for r in recs])
    rr = np.concatenate([d[r]["rr"] for r in recs])
    a = np.concatenate([d[r]["aami"] for r in recs])
    s = np.concatenate([d[r]["symbol"] for r in recs])
    keep = np.isin(a, bd.CLASSES)
    y = np.array([bd.CLASSES.index(c) for c in a[keep]], dtype=np.int64)
    return w[keep], rr[keep], y, s[keep]


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    k = len(bd.CLASSES)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, p), 1)
    out = {"confusion_matrix": cm.tolist(), "confusion_rows": "reference N,S,V,F",
           "confusion_cols": "predicted N,S,V,F", "gross_accuracy": float(np.trace(cm) / cm.sum())}
    for i, c in enumerate(bd.CLASSES):
        tp = cm[i, i]
        out[c] = {"Se": float(tp / max(cm[i].sum(), 1)), "+P": float(tp / max(cm[:, i].sum(), 1)),
                  "n": int(cm[i].sum())}
    return out


def print_metrics(m: dict, title: str) -> None:
    print(title)
    print("ref\\pred " + " ".join(f"{c:>7}" for c in bd.CLASSES))
    for c, row in zip(bd.CLASSES, m["confusion_matrix"]):
        print(f"{c:>8} " + " ".join(f"{v:7d}" for v in row))
    for c in bd.CLASSES:
        print(f"  {c}: Se {100 * m[c]['Se']:6.2f} %  +P {100 * m[c]['+P']:6.2f} %  (n={m[c]['n']})")
    print(f"  gross accuracy {100 * m['gross_accuracy']:.2f} %")


def five_class_view(sym: np.ndarray, p: np.ndarray) -> dict:
    """Thesis view: reference symbols N, A, V, L, R (rows) vs predicted AAMI class (cols)."""
    rows = ["N", "A", "V", "L", "R"]
    table = {r: [int(((sym == r) & (p == j)).sum()) for j in range(len(bd.CLASSES))] for r in rows}
    return {"rows": "reference MIT-BIH symbol", "cols": "predicted N,S,V,F", "counts": table,
            "correct_fraction": {r: (v[bd.CLASSES.index(bd.AAMI[r])] / max(sum(v), 1))
                                 for r, v in table.items()}}


def predict(model: nn.Module, w: np.ndarray, rr: np.ndarray) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(w), 4096):
            out.append(model(torch.from_numpy(w[i:i + 4096]), torch.from_numpy(rr[i:i + 4096])))
    return torch.cat(out).numpy()


def augment(w: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = w.shape[0]
    scale = 0.8 + 0.4 * torch.rand(n, 1, 1, generator=g)
    shift = 0.2 * (torch.rand(n, 1, 1, generator=g) - 0.5)
    noise = 0.03 * torch.randn(w.shape, generator=g)
    w = w * scale + shift + noise
    roll = int(torch.randint(-2, 3, (1,), generator=g))
    return torch.roll(w, roll, dims=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/h_beats"))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps-per-epoch", type=int, default=150)
    a = ap.parse_args()

    t0 = time.time()
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    d = bd.load(bd.DS1 + bd.DS2, a.scratch)
    train_recs = [r for r in bd.DS1 if r not in VAL_RECORDS]
    wt, rt, yt, _ = stack(d, train_recs)
    wv, rv, yv, _ = stack(d, VAL_RECORDS)
    w2, r2, y2, s2 = stack(d, bd.DS2)
    print(f"train {len(yt)} beats {np.bincount(yt, minlength=4)}, val {len(yv)} {np.bincount(yv, minlength=4)}")

    rr_mean, rr_std = rt.mean(axis=0), rt.std(axis=0) + 1e-6
    model = BeatNet(rt.shape[1], rr_mean, rr_std)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    g = torch.Generator().manual_seed(SEED)
    # class-balanced sampling: a batch is drawn with fixed class shares N 40 %, S 25 %, V 20 %, F 15 %
    counts = np.bincount(yt, minlength=4).astype(float)
    cls_p = np.array([0.4, 0.25, 0.2, 0.15])
    sample_w = torch.tensor(cls_p[yt] / counts[yt], dtype=torch.double)
    wt_t, rt_t, yt_t = torch.from_numpy(wt), torch.from_numpy(rt), torch.from_numpy(yt)

    best, best_state = -1.0, None
    for ep in range(a.epochs):
        model.train()
        idx = torch.multinomial(sample_w, a.steps_per_epoch * a.batch, replacement=True, generator=g)
        tot = 0.0
        for s in range(a.steps_per_epoch):
            b = idx[s * a.batch:(s + 1) * a.batch]
            loss = loss_fn(model.logits(augment(wt_t[b], g), rt_t[b]), yt_t[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        sched.step()
        pv = predict(model, wv, rv).argmax(1)
        mv = metrics(yv, pv)
        f1 = [2 * mv[c]["Se"] * mv[c]["+P"] / max(mv[c]["Se"] + mv[c]["+P"], 1e-9) for c in "NSV"]
        score = float(np.mean(f1))
        print(f"epoch {ep + 1:2d} loss {tot / a.steps_per_epoch:.4f} val macroF1(N,S,V) {score:.4f} "
              f"S Se/+P {mv['S']['Se']:.3f}/{mv['S']['+P']:.3f} V Se/+P {mv['V']['Se']:.3f}/{mv['V']['+P']:.3f} "
              f"[{time.time() - t0:.0f} s]", flush=True)
        if score > best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    train_s = time.time() - t0

    p2 = predict(model, w2, r2).argmax(1)
    m2 = metrics(y2, p2)
    print_metrics(m2, "DS2 (test, inter-patient)")
    five = five_class_view(s2, p2)
    print("five-class view (ref symbol -> predicted N,S,V,F):", five["counts"])

    a.out.mkdir(parents=True, exist_ok=True)
    onnx_path = a.out / f"{NAME}.onnx"
    model.eval()
    torch.onnx.export(model, (torch.zeros(1, 1, bd.WINDOW), torch.zeros(1, len(bd.RR_FEATURES))),
                      str(onnx_path), opset_version=17, input_names=["waveform", "rr"],
                      output_names=["probabilities"], dynamo=False,
                      dynamic_axes={"waveform": {0: "batch"}, "rr": {0: "batch"},
                                    "probabilities": {0: "batch"}})
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    n_unm = {n: sum(int(d[r]["n_unmatched_det"]) for r in rs) for n, rs in (("DS1", bd.DS1), ("DS2", bd.DS2))}
    n_miss = {n: sum(int(d[r]["n_missed_ref"]) for r in rs) for n, rs in (("DS1", bd.DS1), ("DS2", bd.DS2))}
    card = {
        "name": NAME, "version": VERSION, "classes": bd.CLASSES,
        "task": "AAMI beat class (N, S, V, F) of one beat; Q not modelled",
        # The input contract as ecgstation.inference.model_card reads it (details in input_details).
        "inputs": [{"name": "waveform", "shape": [-1, 1, bd.WINDOW], "dtype": "float32"},
                   {"name": "rr", "shape": [-1, len(bd.RR_FEATURES)], "dtype": "float32"}],
        "output_name": "probabilities",
        "fs_hz": bd.MODEL_FS, "window_samples": bd.WINDOW, "window_start_s": bd.WINDOW_START_S,
        "leads": ["any-1"], "normalisation": bd.NORMALISATION,
        "onnx_file": onnx_path.name, "onnx_sha256": sha,
        "metrics": {"ds2_inter_patient": m2, "five_class_view_ds2": five},
        "input_details": {
            "waveform": {"shape": ["batch", 1, bd.WINDOW], "fs_hz": bd.MODEL_FS,
                         "window_samples": bd.WINDOW, "window_start_s": bd.WINDOW_START_S,
                         "lead": "first lead (MLII-like)", "units": "normalised (dimensionless)",
                         "normalisation": bd.NORMALISATION},
            "rr": {"shape": ["batch", len(bd.RR_FEATURES)], "features": bd.RR_FEATURES,
                   "units": ["s", "s", "s", "s", "ratio", "ratio", "ratio", "ratio", "log ratio",
                             "correlation", "ratio", "ratio"],
                   "definition": "see converters/beat_dataset.py beat_features: local = mean of the 10 "
                                 "pre-RRs centred on the beat, long = mean RR within +-150 s, "
                                 "long_p90 = 90th percentile of the RRs within +-150 s, "
                                 "scale = max((p99-p1)/2, 0.05 mV) of the window"},
            "r_peaks": "ecgstation.core.qrs.detect_qrs on all leads",
        },
        "output": {"name": "probabilities", "shape": ["batch", 4], "kind": "softmax"},
        "training": {
            "data": "MIT-BIH Arrhythmia Database (mitdb), $ECGSTATION_DATA/mitdb",
            "split": "de Chazal inter-patient; paced 102, 104, 107, 217 excluded",
            "train_records": train_recs, "validation_records_ds1": VAL_RECORDS,
            "test_records_ds2": bd.DS2, "epochs": a.epochs, "seed": SEED,
            "beat_matching": "detections matched to reference beats within 150 ms, one-to-one; "
                             "unmatched detections and Q beats excluded",
            "unmatched_detections": n_unm, "missed_reference_beats": n_miss,
            "training_time_s": round(train_s, 1), "hardware": "CPU, torch.set_num_threads(2)",
        },
        "onnx": {"opset": 17, "bytes": onnx_path.stat().st_size},
        "date": dt.date.today().isoformat(),
        "licence": "Trained on MIT-BIH Arrhythmia Database, ODC-By 1.0",
        "citation": [("Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. "
                      "IEEE Eng Med Biol 20(3):45-50 (2001)."),
                     ("Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. "
                      "Circulation 101(23):e215-e220 (2000).")],
    }
    (a.out / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {onnx_path} sha256 {sha} ({onnx_path.stat().st_size} bytes), "
          f"{a.out / (NAME + '.json')}; total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
