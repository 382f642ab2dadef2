"""Train the 12-lead 10 s resting-ECG classifier (rhythm + PTB-XL superclasses), export ONNX + card.

``python -m converters.train_twelve_lead --out models [--epochs N] [--threads 1]``

With the default ``--threads 1`` two runs give the same ONNX file byte for byte; with
``--threads 2`` runs differ slightly (multithreaded float reductions).

Model: a small residual 1D CNN in the style of Ribeiro et al. (Nat Commun 11:1760, 2020):
a stem convolution and 4 residual blocks (two convolutions each, max-pool + 1x1 skip,
post-activation batch norm), global average + max pooling, one linear layer giving 5
rhythm logits (softmax) and 5 superclass logits (sigmoid). Loss: cross-entropy on the
rhythm (records without a rhythm statement masked) + binary cross-entropy on the
superclasses (PTB-XL records only, others masked). Class-weighted sampling of records
(1/sqrt(class count) by rhythm class); augmentation: a random 10 s segment of longer
records, rate-preserving time stretch (the stretched heart rate stays inside the class's
rate band), a random start offset (the end zero-padded, as at inference), amplitude scale
(global and per lead), Gaussian noise, baseline sway and mains hum.

The epoch is chosen on the validation split (PTB-XL fold 8 + hashed CinC/Chapman records):
score = mean(rhythm macro F1, superclass macro AUROC); superclass thresholds are chosen per
class on validation too. Test = PTB-XL folds 9-10 + hashed records, scored once at the end.
CPU, fixed seeds, deterministic algorithms. Data: ``converters.twelve_lead_dataset``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from converters import twelve_lead_dataset as td
from ecgstation.core.qrs import detect_qrs

SEED = 20261123
NAME = "twelve_lead_classifier"
VERSION = "0.1.0"
RATE_BANDS = {0: (62.0, 98.0), 1: (0.0, 57.0), 2: (103.0, 400.0)}  # SR, SB, ST: stretch stays inside


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, down: int, drop: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, k, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, k, stride=down, padding=k // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.drop = nn.Dropout(drop)
        self.pool = nn.MaxPool1d(down, ceil_mode=True) if down > 1 else nn.Identity()
        self.skip = nn.Conv1d(c_in, c_out, 1, bias=False) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(F.relu(self.bn1(self.conv1(x))))
        y = self.conv2(y)
        s = self.skip(self.pool(x))
        return self.drop(F.relu(self.bn2(y + s[..., :y.shape[-1]])))


class TwelveLeadNet(nn.Module):
    def __init__(self, width: tuple[int, ...] = (32, 32, 64, 96, 128), k: int = 15, drop: float = 0.2) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(12, width[0], k, padding=k // 2, bias=False),
                                  nn.BatchNorm1d(width[0]), nn.ReLU())
        downs = (4, 4, 4, 2)
        self.blocks = nn.Sequential(*[ResBlock(width[i], width[i + 1], k, downs[i], drop)
                                      for i in range(len(width) - 1)])
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(2 * width[-1], len(td.RHYTHM) + len(td.SUPER)))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))
        return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))

    def forward(self, ecg: torch.Tensor) -> torch.Tensor:
        z = self.logits(ecg)
        k = len(td.RHYTHM)
        return torch.cat([torch.softmax(z[:, :k], dim=1), torch.sigmoid(z[:, k:])], dim=1)


# ---------------------------------------------------------------- metrics

def prf(cm: np.ndarray, classes: list[str]) -> dict:
    out = {}
    for i, c in enumerate(classes):
        tp, n, npred = int(cm[i, i]), int(cm[i].sum()), int(cm[:, i].sum())
        se = tp / n if n else float("nan")
        pp = tp / npred if npred else float("nan")
        f1 = 2 * tp / (n + npred) if (n + npred) else float("nan")
        out[c] = {"F1": f1, "Se": se, "+P": pp, "n": n, "n_predicted": npred}
    present = [c for c in classes if out[c]["n"] > 0]
    out["macro_F1"] = float(np.mean([out[c]["F1"] for c in present])) if present else float("nan")
    out["macro_F1_classes"] = present
    return out


def rhythm_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    k = len(td.RHYTHM)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, p), 1)
    m = prf(cm, td.RHYTHM)
    m["confusion_matrix"] = cm.tolist()
    m["confusion_rows"] = "reference " + ",".join(td.RHYTHM)
    m["confusion_cols"] = "predicted " + ",".join(td.RHYTHM)
    m["accuracy"] = float(np.trace(cm) / max(cm.sum(), 1))
    m["records"] = int(cm.sum())
    return m


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="stable")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    for v in np.unique(allv):  # average ties
        m = allv == v
        ranks[m] = ranks[m].mean()
    return float((ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def superclass_metrics(y: np.ndarray, prob: np.ndarray, thr: np.ndarray) -> dict:
    out: dict = {}
    pred = prob >= thr[None, :]
    for j, c in enumerate(td.SUPER):
        t, q = y[:, j] == 1, pred[:, j]
        tp, n, npred = int((t & q).sum()), int(t.sum()), int(q.sum())
        out[c] = {"F1": 2 * tp / (n + npred) if (n + npred) else float("nan"),
                  "Se": tp / n if n else float("nan"), "+P": tp / npred if npred else float("nan"),
                  "n": n, "n_predicted": npred, "AUROC": auroc(y[:, j], prob[:, j]),
                  "threshold": float(thr[j])}
    present = [c for c in td.SUPER if out[c]["n"] > 0]
    out["macro_F1"] = float(np.mean([out[c]["F1"] for c in present]))
    out["macro_AUROC"] = float(np.nanmean([out[c]["AUROC"] for c in present]))
    out["records"] = len(y)
    return out


def choose_thresholds(y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Per class, the threshold on a 0.05 grid with the best F1 (ties: closest to 0.5)."""
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    thr = np.full(len(td.SUPER), 0.5)
    for j in range(len(td.SUPER)):
        t = y[:, j] == 1
        if not t.any():
            continue
        f1 = np.array([2 * (t & (prob[:, j] >= g)).sum() / (t.sum() + (prob[:, j] >= g).sum()) for g in grid])
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        thr[j] = grid[best[np.argmin(np.abs(grid[best] - 0.5))]]
    return thr


def print_table(title: str, m: dict, classes: list[str]) -> None:
    print(title)
    for c in classes:
        r = m[c]
        extra = f"  AUROC {r['AUROC']:.3f} thr {r['threshold']:.2f}" if "AUROC" in r else ""
        print(f"  {c:>6}: F1 {r['F1']:.3f}  Se {r['Se']:.3f}  +P {r['+P']:.3f}  n={r['n']}{extra}")
    print(f"  macro F1 {m['macro_F1']:.3f}")


def print_confusion(cm: list, classes: list[str]) -> None:
    print("ref\\pred " + " ".join(f"{c:>6}" for c in classes))
    for c, row in zip(classes, cm):
        print(f"{c:>8} " + " ".join(f"{v:6d}" for v in row))


# ---------------------------------------------------------------- data + augmentation

def stretch_factor(label: int, hr: float, g: torch.Generator) -> float:
    f = 0.88 + 0.24 * float(torch.rand(1, generator=g))
    if label in RATE_BANDS:
        lo, hi = RATE_BANDS[label]
        if not (math.isfinite(hr) and lo <= hr <= hi and lo <= hr / f <= hi):
            return 1.0
    return f


RATE_TARGETS = {0: (64.0, 96.0), 1: (40.0, 56.0), 2: (106.0, 145.0)}  # bpm drawn for SR, SB, ST
P_ONSET_BEFORE_R_S, MIN_GAP_S = 0.20, 0.03


def rate_warp(x: np.ndarray, peaks: np.ndarray, target_rr: float) -> np.ndarray:
    """Re-time a beat sequence to mean RR ``target_rr`` s while keeping each beat's shape.

    Each source cycle R_k -> R_(k+1) (RR s) is split into the QRS-T part (the first
    0.4 * sqrt(RR) - 0.02 s, a Bazett-like T end), the P-QRS part (the last 0.20 s) and the
    T-P stretch between them. Only the T-P stretch is lengthened or shortened; when the target
    cycle has no room for it (fast rates) the two fixed parts are compressed in proportion,
    as the QT shortens with the rate. The RR variability is kept in proportion. Cycles are
    repeated from the first one when a faster rhythm runs out of beats. Returns
    (12, WINDOW) at MODEL_FS.
    """
    fs, n = td.MODEL_FS, x.shape[1]
    rr = np.diff(peaks).astype(float)
    scale = target_rr * fs / rr.mean()
    gap = MIN_GAP_S * fs
    parts = [x[:, :peaks[0]]]
    length = int(peaks[0])
    k = 0
    src_t = np.arange(n, dtype=float)
    while length < n:
        r0, r1, rr_k = float(peaks[k]), float(peaks[k + 1]), rr[k]
        a = (0.4 * np.sqrt(rr_k / fs) - 0.02) * fs
        b = P_ONSET_BEFORE_R_S * fs
        if a + b > rr_k - 2.0:
            a, b = a * (rr_k - 2.0) / (a + b), b * (rr_k - 2.0) / (a + b)
        mid_src = rr_k - a - b
        new = rr_k * scale
        f = 1.0 if new - a - b >= gap else max(new - gap, 2.0) / (a + b)
        a_out, b_out = a * f, b * f
        mid_out = max(new - a_out - b_out, 1.0)
        t = np.arange(max(round(new), 2), dtype=float)
        src = np.where(t < a_out, r0 + t / f,
                       np.where(t >= new - b_out, r1 - (new - t) / f,
                                r0 + a + (t - a_out) * mid_src / mid_out))
        parts.append(np.stack([np.interp(src, src_t, lead) for lead in x]))
        length += len(t)
        k = (k + 1) % len(rr)
    return np.concatenate(parts, axis=1)[:, :n].astype(np.float32)


def augment_one(x: torch.Tensor, label: int, hr: float, g: torch.Generator,
                peaks: np.ndarray | None = None) -> tuple[torch.Tensor, int]:
    """One augmented copy of segment ``x`` and its (possibly changed) rhythm label."""
    n = x.shape[-1]
    if peaks is not None and float(torch.rand(1, generator=g)) < 0.35:
        if label in RATE_TARGETS:  # sinus rhythm at another rate: relabel SR/SB/ST by the new rate
            label = int(torch.randint(3, (1,), generator=g))
            lo, hi = RATE_TARGETS[label]
        else:  # AF keeps its label at any rate in 60-170 bpm
            lo, hi = 60.0, 170.0
        bpm = lo + (hi - lo) * float(torch.rand(1, generator=g))
        return augment_amplitude(torch.from_numpy(rate_warp(x.numpy(), peaks, 60.0 / bpm)), g), label
    if float(torch.rand(1, generator=g)) < 0.5:
        f = stretch_factor(label, hr, g)
        if f != 1.0:
            y = F.interpolate(x[None], size=round(n * f), mode="linear", align_corners=False)[0]
            x = torch.zeros_like(x)
            m = min(n, y.shape[-1])
            x[:, :m] = y[:, :m]
    if float(torch.rand(1, generator=g)) < 0.3:
        off = int(torch.randint(1, int(1.5 * td.MODEL_FS), (1,), generator=g))
        x = torch.cat([x[:, off:], torch.zeros(x.shape[0], off)], dim=1)
    return augment_amplitude(x, g), label


def augment_amplitude(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = x.shape[-1]
    t = torch.arange(n) / td.MODEL_FS
    x = x * (0.7 + 0.6 * torch.rand(1, generator=g)) * (0.9 + 0.2 * torch.rand(12, 1, generator=g))
    x = x + float(torch.rand(1, generator=g)) * 0.04 * torch.randn(x.shape, generator=g)
    fw = 0.05 + 0.3 * float(torch.rand(1, generator=g))
    x = x + 0.1 * torch.rand(12, 1, generator=g) * torch.sin(2 * math.pi * fw * t + 6.3 * float(torch.rand(1, generator=g)))
    if float(torch.rand(1, generator=g)) < 0.2:
        mains = 50.0 if float(torch.rand(1, generator=g)) < 0.5 else 60.0
        x = x + 0.03 * torch.rand(12, 1, generator=g) * torch.sin(2 * math.pi * mains * t)
    return x


def first_segments(d: dict, idx: np.ndarray) -> np.ndarray:
    """The first 10 s segment (the inference view) of each record in ``idx``."""
    seg_rec = d["segment_record"]
    first = np.array([np.flatnonzero(seg_rec == i)[0] for i in idx])
    return d["segments"][first]


def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + 64])) for i in range(0, len(x), 64)]).numpy()


def evaluate_split(d: dict, idx: np.ndarray, prob: np.ndarray, thr: np.ndarray | None) -> dict:
    r = d["rhythm"][idx]
    has_r = r >= 0
    rm = rhythm_metrics(r[has_r], prob[has_r, :5].argmax(1))
    s = d["super"][idx]
    has_s = ~np.isnan(s[:, 0])
    sy, sp = s[has_s], prob[has_s, 5:]
    if thr is None:
        thr = np.full(5, 0.5)
    sm = superclass_metrics(sy, sp, thr)
    return {"rhythm": rm, "superclass": sm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/h12"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps-per-epoch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; 1 (default) is bit-for-bit reproducible, 2 is not (multithreaded "
                         "reductions) though statistically equivalent")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=5e-2)
    ap.add_argument("--ema", type=float, default=0.98, help="EMA decay per step of the evaluated weights")
    a = ap.parse_args()

    t0 = time.time()
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    d = td.load(a.scratch)
    counts = td.counts_table(d)
    print(json.dumps({k: {kk: v[kk] for kk in ("records", "rhythm", "rhythm_unlabelled", "superclass",
                                               "superclass_labelled")} for k, v in counts.items()}))
    split = d["split"]
    has_label = (d["rhythm"] >= 0) | ~np.isnan(d["super"][:, 0])
    tr = np.flatnonzero((split == "train") & has_label)
    va = np.flatnonzero(split == "val")
    te = np.flatnonzero(split == "test")
    xv, xt = first_segments(d, va), first_segments(d, te)

    # record sampling weights: 1/sqrt(rhythm class count); rhythm-unlabelled records as SR
    r_tr = d["rhythm"][tr]
    cls = np.where(r_tr >= 0, r_tr, 0)
    cnt = np.bincount(cls, minlength=5).astype(float)
    w = torch.tensor(1.0 / np.sqrt(cnt[cls]), dtype=torch.double)
    segs_of = {i: np.flatnonzero(d["segment_record"] == i) for i in tr}
    # R peaks (at MODEL_FS, on the first segment) of the records the rate warp may re-time:
    # sinus (SR/SB/ST, relabelled by the new rate) and AF (label kept); >= 5 beats needed
    warp_peaks = {}
    for i in tr:
        if d["rhythm"][i] in (0, 1, 2, 3):
            pk = detect_qrs(d["segments"][segs_of[i][0]], td.MODEL_FS)
            if pk.size >= 5:
                warp_peaks[i] = pk
    print(f"rate warp available for {len(warp_peaks)} training records")
    seg_all = torch.from_numpy(d["segments"])
    sup_all = torch.from_numpy(np.nan_to_num(d["super"], nan=0.0))
    sup_mask = torch.from_numpy(~np.isnan(d["super"][:, 0]))
    rhy_all = torch.from_numpy(d["rhythm"])

    model = TwelveLeadNet()
    n_par = sum(p.numel() for p in model.parameters())
    print(f"train {len(tr)} records, val {len(va)}, test {len(te)}; parameters {n_par}")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    total_steps = a.epochs * a.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total_steps, pct_start=0.15)
    ce = nn.CrossEntropyLoss(ignore_index=-1, label_smoothing=0.05)
    # exponential moving average of the weights (and BN statistics): the evaluated/exported model
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(a.ema), use_buffers=True)
    g = torch.Generator().manual_seed(SEED)

    best, best_state, best_ep, history = -1.0, None, 0, []
    for ep in range(a.epochs):
        model.train()
        tot = 0.0
        for _ in range(a.steps_per_epoch):
            pick = tr[torch.multinomial(w, a.batch, replacement=True, generator=g).numpy()]
            xs, ys = [], []
            for i in pick:
                s = segs_of[i]
                k = int(torch.randint(len(s), (1,), generator=g))
                xa, ya = augment_one(seg_all[s[k]], int(rhy_all[i]), float(d["heart_rate"][i]), g,
                                     warp_peaks.get(i) if k == 0 else None)
                xs.append(xa)
                ys.append(ya)
            xb = torch.stack(xs)
            z = model.logits(xb)
            ib = torch.from_numpy(pick)
            loss = ce(z[:, :5], torch.tensor(ys, dtype=torch.int64))
            m = sup_mask[ib]
            if m.any():
                loss = loss + F.binary_cross_entropy_with_logits(z[m, 5:], sup_all[ib][m])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            ema.update_parameters(model)
            tot += loss.item()
        pv = predict(ema.module, xv)
        mv = evaluate_split(d, va, pv, None)
        score = 0.5 * (mv["rhythm"]["macro_F1"] + mv["superclass"]["macro_AUROC"])
        history.append({"epoch": ep + 1, "loss": round(tot / a.steps_per_epoch, 4), "val_score": round(score, 4),
                        "val_rhythm_macro_F1": round(mv["rhythm"]["macro_F1"], 4),
                        "val_super_macro_AUROC": round(mv["superclass"]["macro_AUROC"], 4)})
        print(f"epoch {ep + 1:2d} loss {tot / a.steps_per_epoch:.4f} val rhythm macroF1 "
              f"{mv['rhythm']['macro_F1']:.3f} super AUROC {mv['superclass']['macro_AUROC']:.3f} "
              f"score {score:.4f} [{time.time() - t0:.0f} s]", flush=True)
        if ep + 1 >= a.epochs // 3 and score > best:
            best, best_ep = score, ep + 1
            best_state = {k: v.clone() for k, v in ema.module.state_dict().items()}
    model.load_state_dict(best_state)
    train_s = time.time() - t0
    print(f"chosen epoch {best_ep} (val score {best:.4f}); training {train_s:.0f} s")

    pv = predict(model, xv)
    sv = ~np.isnan(d["super"][va][:, 0])
    thr = choose_thresholds(d["super"][va][sv], pv[sv, 5:])
    mval = evaluate_split(d, va, pv, thr)
    pt = predict(model, xt)
    mt = evaluate_split(d, te, pt, thr)
    print(f"superclass thresholds (validation): {dict(zip(td.SUPER, thr.tolist()))}")
    print_table("TEST rhythm (argmax)", mt["rhythm"], td.RHYTHM)
    print_confusion(mt["rhythm"]["confusion_matrix"], td.RHYTHM)
    print_table("TEST superclass (validation thresholds)", mt["superclass"], td.SUPER)
    print(f"  macro AUROC {mt['superclass']['macro_AUROC']:.3f}")

    # baseline on the same test records (rule rate/irregularity classifier)
    from converters.evaluate_twelve_lead import rule_baseline
    rb = rule_baseline(d, te)
    print_table("TEST rhythm, rule baseline", rb, td.RHYTHM)
    print_confusion(rb["confusion_matrix"], td.RHYTHM)

    a.out.mkdir(parents=True, exist_ok=True)
    onnx_path = a.out / f"{NAME}.onnx"
    model.eval()
    torch.onnx.export(model, (torch.zeros(1, 12, td.WINDOW),), str(onnx_path), opset_version=17,
                      input_names=["ecg"], output_names=["probabilities"], dynamo=False,
                      dynamic_axes={"ecg": {0: "batch"}, "probabilities": {0: "batch"}})
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    split_lists = {sp: sorted(d["name"][np.flatnonzero(split == sp)].tolist()) for sp in ("train", "val", "test")}
    card = {
        "name": NAME, "version": VERSION,
        "task": ("12-lead 10 s resting ECG: rhythm (SR, SB, ST, AF = atrial fibrillation or flutter, OTHER; "
                 "softmax) and PTB-XL diagnostic superclasses (NORM, MI, STTC, CD, HYP; independent sigmoids)"),
        "classes": td.RHYTHM + td.SUPER,
        "inputs": [{"name": "ecg", "shape": [-1, 12, td.WINDOW], "dtype": "float32"}],
        "output_name": "probabilities",
        "fs_hz": td.MODEL_FS, "window_samples": td.WINDOW, "window_start_s": 0.0,
        "leads": td.LEADS, "normalisation": td.NORMALISATION, "preprocessing": td.PREPROCESSING,
        "onnx_file": onnx_path.name, "onnx_sha256": sha,
        "heads": [{"name": "rhythm", "activation": "softmax", "classes": td.RHYTHM, "columns": [0, 5],
                   "decision": "argmax"},
                  {"name": "superclass", "activation": "sigmoid", "classes": td.SUPER, "columns": [5, 10],
                   "thresholds": [float(v) for v in thr],
                   "thresholds_chosen_on": "validation split (best F1 on a 0.05 grid per class)"}],
        "output": {"name": "probabilities", "shape": ["batch", 10],
                   "kind": "5 rhythm softmax probabilities, then 5 superclass sigmoid probabilities"},
        "metrics": {
            "test": mt, "validation": mval,
            "rule_baseline_test": {"rhythm": rb,
                                   "method": "ecgstation.core.qrs.detect_qrs on the first 10 s at the record's "
                                             "own rate, then ecgstation.core.rhythm_rules.classify_rhythm_rules"},
            "note": ("Small held-out set (see n per class): per-class F1 for SB, ST, AF, OTHER rests on 4-12 "
                     "records each and has wide confidence intervals. Rhythm scores only on records with a "
                     "rhythm statement; superclass scores only on PTB-XL records with a confident diagnostic "
                     "statement."),
        },
        "training": {
            "data": ("$ECGSTATION_DATA: ptbxl (ecg_id 1-500), cinc2021 samples (WFDB; HR00001-HR00010 dropped "
                     "as copies of PTB-XL 1-10; SPH HDF5 not used), chapman (5 CSV signals)"),
            "labels": {
                "rhythm": ("one label per record, priority AF (AFIB/AFLT, SNOMED 164889003/164890007) > OTHER "
                           "(other non-sinus rhythm statements: PACE, SVTAC, PSVT, SVARR, BIGU, TRIGU; SNOMED SVT, "
                           "ATach, AVRT, PVT, ...; Chapman SVT, AT, AVNRT, AVRT, SAAWR) > ST (STACH, 427084000) > "
                           "SB (SBRAD, 426177001) > SR (SR or sinus arrhythmia: SR, SARRH, 426783006, 427393009). "
                           "No rhythm statement: masked. PTB-XL rhythm statements at any likelihood."),
                "superclass": ("PTB-XL diagnostic statements with likelihood >= 50, or 0 (not given), mapped by "
                               "scp_statements.csv diagnostic_class; 15/35 count as absent; records with no "
                               "confident diagnostic statement masked. Non-PTB-XL records: masked."),
            },
            "split": ("patient level: PTB-XL strat_fold 1-7 train, 8 validation, 9-10 test; every other record "
                      "(one ECG per patient, no patient id in the samples) by sha256(record name): u < 0.20 test, "
                      "u < 0.35 validation, else train"),
            "records": split_lists, "counts": counts,
            "epochs": a.epochs, "steps_per_epoch": a.steps_per_epoch, "batch": a.batch,
            "chosen_epoch": best_ep, "selection": "max over epochs >= epochs/3 of mean(val rhythm macro F1, "
                                                  "val superclass macro AUROC)",
            "history": history, "seed": SEED, "optimiser": f"AdamW lr {a.lr} one-cycle, weight decay {a.weight_decay}; "
                                        f"EMA of weights (decay {a.ema} per step) evaluated and exported",
            "parameters": n_par, "training_time_s": round(train_s, 1),
            "hardware": f"CPU ({platform.processor() or platform.machine()}), torch.set_num_threads({a.threads}), "
                        f"torch {torch.__version__}",
        },
        "onnx": {"opset": 17, "bytes": onnx_path.stat().st_size},
        "date": dt.date.today().isoformat(),
        "licence": ("Trained on PTB-XL (CC BY 4.0), PhysioNet/CinC Challenge 2021 data (CC BY 4.0) and "
                    "Chapman-Shaoxing (CC BY 4.0); attribution below"),
        "citation": [
            "Wagner P. et al. PTB-XL, a large publicly available electrocardiography dataset. Scientific Data 7:154 (2020).",
            ("Reyna M.A. et al. Will Two Do? Varying Dimensions in Electrocardiography: the PhysioNet/Computing in "
            "Cardiology Challenge 2021. Computing in Cardiology 48 (2021)."),
            ("Perez Alday E.A. et al. Classification of 12-lead ECGs: the PhysioNet/Computing in Cardiology "
            "Challenge 2020. Physiol. Meas. 41:124003 (2020)."),
            ("Zheng J. et al. A 12-lead electrocardiogram database for arrhythmia research covering more than "
            "10,000 patients. Scientific Data 7:48 (2020)."),
            "Goldberger A.L. et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation 101(23):e215-e220 (2000).",
            ("Architecture after Ribeiro A.H. et al. Automatic diagnosis of the 12-lead ECG using a deep neural "
            "network. Nature Communications 11:1760 (2020)."),
        ],
        "intended_use": ("Decision support and triage hints on 10 s 12-lead resting ECGs in an offline "
                         "workstation; every call must be reviewed by a qualified reader. Not a diagnostic device."),
        "limitations": [
            ("Trained on about 400 records (PTB-XL ecg_id 1-500 plus ~110 CinC/Chapman samples): rare rhythms "
            "(SB, ST, AF, OTHER) have 10-21 training records each; expect weak generalisation."),
            ("Held-out test set is small (SB 4, ST 5, AF 12, OTHER 5 records): per-class scores have wide "
            "confidence intervals."),
            ("Superclass head learned from PTB-XL only (1984-1987 Schiller recordings); other devices/populations "
            "untested."),
            ("OTHER lumps very different rhythms (SVT, pacing, ventricular tachycardia, ...); do not read it as a "
            "diagnosis."),
            "Only the first 10 s are used; a paroxysmal rhythm outside that window is not seen.",
            ("Atrial flutter with regular (2:1) conduction is labelled AF here and is confused with ST "
            "(in the test split 4 of the 5 AF records called ST are PTB-XL AFLT at 128-140 bpm, the 5th AFLT "
            "is called OTHER; the rule baseline makes the same error)."),
            ("Paced rhythms are rare in training (PTB-XL PACE): 2 of 5 OTHER test records (both paced) are "
             "called SR."),
            ("SB/ST are learned mostly as rate limits (60/100 bpm, helped by the rate-warp augmentation), while "
            "reference readers often keep 'SR' at 50-59 bpm: such records are called SB."),
            ("Training time in the card was measured with 1 torch thread on a 2-core machine shared with other "
             "training jobs."),
        ],
    }
    (a.out / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {onnx_path} sha256 {sha} ({onnx_path.stat().st_size} bytes), "
          f"{a.out / (NAME + '.json')}; total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
