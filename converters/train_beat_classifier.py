"""Train the AAMI beat classifier (N/S/V/F) on de Chazal DS1, test on DS2, export ONNX + card.

``python -m converters.train_beat_classifier [--out models]``: trains the chosen variant
(``FINAL_VARIANT``) on all DS1 records, evaluates it once on DS2, exports ONNX + model card.
``python -m converters.train_beat_classifier --cv [VARIANT ...] --threads 1``: model
selection by leave-records-out 4-fold cross-validation inside DS1 (``CV_FOLDS``), pooled
out-of-fold metrics; never touches DS2.

Model: a small 1D CNN on the normalised first-lead beat window plus an MLP on the RR /
context features (standardised inside the network), softmax over N, S, V, F; optionally an
ensemble of several seeds (probabilities averaged inside the ONNX graph) and per-class prior
weights tuned on the DS1 out-of-fold predictions. Balanced class sampling, light augmentation
(amplitude scale, baseline shift, noise, +-2 sample shift), fixed number of epochs (nothing
held out is used for early stopping). CPU, fixed seeds. The dataset is built/cached by
``converters.beat_dataset`` in ``--scratch``.
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

SEED = 20261123
NAME = "beat_classifier"
VERSION = "0.2.0"
# leave-records-out cross-validation inside DS1 (model selection never looks at DS2); the
# folds spread the records rich in S (118, 201, 207, 209, 220, 223), V (106, 119, 203, 208,
# 223) and F (208, 213 is DS2) beats
CV_FOLDS = [
    [101, 106, 112, 116, 122, 209],
    [114, 115, 118, 208, 220],
    [119, 124, 205, 207, 223],
    [108, 109, 201, 203, 215, 230],
]
# training configurations compared by DS1 cross-validation (see the model card)
_ABSOLUTE = ["pre_rr_s", "post_rr_s", "local_rr_s", "long_rr_s", "qrs_width_s"]
VARIANTS: dict[str, dict] = {
    "v1_baseline": {"features": bd.ALL_FEATURES[:12],
                    "description": "model 0.1.0's 12 RR features, CNN + MLP, 1 seed"},
    "v2_context": {"features": bd.ALL_FEATURES,
                   "description": "+ local/long median RR ratios, RR irregularity, and the beat "
                                  "against the record's template beat (correlation and RMS "
                                  "difference in P, QRS, T parts, amplitude and QRS-width ratio)"},
    "v3_relative": {"features": [f for f in bd.ALL_FEATURES if f not in _ABSOLUTE],
                    "description": "v2 without the absolute intervals (pre, post, local, long RR "
                                   "and QRS width in s): only per-record relative features"},
    "v4_ensemble_v2_v3": {"members": ["v2_context", "v3_relative"],
                          "description": "mean probability of a v2 and a v3 network (one ONNX "
                                         "graph, each member sees its own feature columns)"},
}
DEFAULT = {"features": bd.ALL_FEATURES, "epochs": 20, "steps": 150, "batch": 256, "seeds": 1,
           "loss": "ce", "cls_p": [0.4, 0.25, 0.2, 0.15], "branch_drop": 0.25}
FINAL_VARIANT = "v3_relative"


class BeatNet(nn.Module):
    def __init__(self, n_rr: int, rr_mean: np.ndarray, rr_std: np.ndarray,
                 branch_drop: float = 0.25) -> None:
        super().__init__()
        self.register_buffer("rr_mean", torch.tensor(rr_mean, dtype=torch.float32))
        self.branch_drop = branch_drop
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
        if self.training and self.branch_drop > 0:  # drop the waveform branch sometimes
            keep = (torch.rand(h.shape[0], 1) > self.branch_drop).to(h.dtype)
            h = h * keep / (1.0 - self.branch_drop)
        r = self.rr((rr - self.rr_mean) / self.rr_std)
        return self.head(torch.cat([h, r], dim=1))

    def forward(self, waveform: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(waveform, rr), dim=1)


class Ensemble(nn.Module):
    """Mean of the members' softmax outputs, times per-class prior weights, renormalised.

    Member k sees the columns ``cols[k]`` of the model's context-feature input."""

    def __init__(self, members: list[BeatNet], cols: list[list[int]],
                 class_weights: np.ndarray) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        for k, c in enumerate(cols):
            self.register_buffer(f"cols{k}", torch.tensor(c, dtype=torch.int64))
        self.register_buffer("class_weights", torch.tensor(class_weights, dtype=torch.float32))

    def forward(self, waveform: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
        p = torch.stack([m(waveform, torch.index_select(rr, 1, getattr(self, f"cols{k}")))
                         for k, m in enumerate(self.members)]).mean(dim=0)
        p = p * self.class_weights
        return p / p.sum(dim=1, keepdim=True)


def stack(d: dict, recs: list[int], features: list[str] | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    features = bd.RR_FEATURES if features is None else features
    w = np.concatenate([d[r]["waveform"] for r in recs])
    rr = np.concatenate([bd.select(d[r], features) for r in recs])
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


def focal_loss(logits: torch.Tensor, y: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    logp = torch.log_softmax(logits, dim=1).gather(1, y[:, None])[:, 0]
    return (-(1 - logp.exp()) ** gamma * logp).mean()


def train_one(cfg: dict, wt: np.ndarray, rt: np.ndarray, yt: np.ndarray, seed: int,
              log: str = "") -> BeatNet:
    """One network, fixed number of epochs (no early stopping: nothing held out is looked at)."""
    t0 = time.time()
    torch.manual_seed(seed)
    rr_mean, rr_std = rt.mean(axis=0), rt.std(axis=0) + 1e-6
    model = BeatNet(rt.shape[1], rr_mean, rr_std, cfg["branch_drop"])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["epochs"])
    ce = nn.CrossEntropyLoss(label_smoothing=0.05)
    loss_fn = focal_loss if cfg["loss"] == "focal" else ce
    g = torch.Generator().manual_seed(seed)
    # class-balanced sampling: a batch is drawn with fixed class shares (N, S, V, F)
    counts = np.maximum(np.bincount(yt, minlength=4).astype(float), 1)
    cls_p = np.asarray(cfg["cls_p"], dtype=float)
    sample_w = torch.tensor(cls_p[yt] / counts[yt], dtype=torch.double)
    wt_t, rt_t, yt_t = torch.from_numpy(wt), torch.from_numpy(rt), torch.from_numpy(yt)
    bs, steps = cfg["batch"], cfg["steps"]
    for ep in range(cfg["epochs"]):
        model.train()
        idx = torch.multinomial(sample_w, steps * bs, replacement=True, generator=g)
        tot = 0.0
        for s in range(steps):
            b = idx[s * bs:(s + 1) * bs]
            loss = loss_fn(model.logits(augment(wt_t[b], g), rt_t[b]), yt_t[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        sched.step()
    print(f"  {log} trained seed {seed}: final loss {tot / steps:.4f} [{time.time() - t0:.0f} s]",
          flush=True)
    model.eval()
    return model


def train_ensemble(cfg: dict, wt: np.ndarray, rt: np.ndarray, yt: np.ndarray, log: str = ""
                   ) -> list[BeatNet]:
    return [train_one(cfg, wt, rt, yt, SEED + 1000 * k, log) for k in range(cfg["seeds"])]


def predict_members(members: list[BeatNet], w: np.ndarray, rr: np.ndarray) -> np.ndarray:
    return np.mean([predict(m, w, rr) for m in members], axis=0)


def tune_class_weights(y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Per-class multiplicative weights on the probabilities (prior correction), chosen on DS1
    out-of-fold predictions to maximise the mean F1 of S and V (N and F weights fixed at 1, so
    that F cannot become a sink for doubtful beats)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 13))
    best, best_w = -1.0, np.ones(4)
    cw = np.ones(4)
    for _ in range(2):  # coordinate ascent, two sweeps
        for c in (1, 2):
            for v in grid:
                trial = cw.copy()
                trial[c] = v
                sc = score(metrics(y, (prob * trial).argmax(1)))
                if sc > best + 1e-9:
                    best, best_w = sc, trial.copy()
            cw = best_w.copy()
    return best_w


def nested_class_weight_predictions(y: np.ndarray, prob: np.ndarray, fold: np.ndarray
                                    ) -> np.ndarray:
    """Honest estimate of the prior correction: each fold's beats are classified with weights
    tuned on the out-of-fold predictions of the other folds only."""
    pred = prob.argmax(1)
    for k in np.unique(fold):
        cw = tune_class_weights(y[fold != k], prob[fold != k])
        pred[fold == k] = (prob[fold == k] * cw).argmax(1)
    return pred


def score(m: dict) -> float:
    f1 = [2 * m[c]["Se"] * m[c]["+P"] / max(m[c]["Se"] + m[c]["+P"], 1e-9) for c in "SV"]
    return float(np.mean(f1))


def summary(m: dict) -> str:
    return (f"V Se/+P {100 * m['V']['Se']:.2f}/{100 * m['V']['+P']:.2f}  "
            f"S Se/+P {100 * m['S']['Se']:.2f}/{100 * m['S']['+P']:.2f}  "
            f"F Se/+P {100 * m['F']['Se']:.2f}/{100 * m['F']['+P']:.2f}  "
            f"N Se/+P {100 * m['N']['Se']:.2f}/{100 * m['N']['+P']:.2f}  F1(S,V) {score(m):.4f}")


def feature_unit(name: str) -> str:
    if name.endswith("_s"):
        return "s"
    if name.startswith("corr"):
        return "correlation"
    if name.startswith("log_"):
        return "log ratio"
    if name.startswith("rms_"):
        return "normalised units"
    return "ratio"


def config(variant: str) -> dict:
    cfg = {**DEFAULT, **VARIANTS[variant]}
    if "members" in cfg:  # an ensemble of other variants: its input is the union of theirs
        used = {f for v in cfg["members"] for f in config(v)["features"]}
        cfg["features"] = [f for f in bd.ALL_FEATURES if f in used]
    return cfg


def cross_validate(d: dict, variant: str, out_dir: Path | None = None) -> dict:
    """Pooled out-of-fold DS1 metrics of a variant (4 folds by record)."""
    cfg = config(variant)
    t0 = time.time()
    if "members" in cfg:
        # same folds, so the mean of the members' out-of-fold probabilities is the
        # out-of-fold prediction of the ensemble (members' results reused from out_dir)
        probs = []
        for v in cfg["members"]:
            f = out_dir / f"oof_{v}.npz" if out_dir is not None else None
            if f is None or not f.exists():
                cross_validate(d, v, out_dir)
            with np.load(out_dir / f"oof_{v}.npz") as z:
                y, fold_id = z["y"], z["fold"]
                probs.append(z["prob"])
        prob = np.mean(probs, axis=0)
    else:
        ys, ps, fold = [], [], []
        for k, held in enumerate(CV_FOLDS):
            train = [r for r in bd.DS1 if r not in held]
            wt, rt, yt, _ = stack(d, train, cfg["features"])
            wv, rv, yv, _ = stack(d, held, cfg["features"])
            members = train_ensemble(cfg, wt, rt, yt, f"{variant} fold {k + 1}")
            ys.append(yv)
            ps.append(predict_members(members, wv, rv))
            fold.append(np.full(len(yv), k))
        y, prob, fold_id = np.concatenate(ys), np.concatenate(ps), np.concatenate(fold)
    m = metrics(y, prob.argmax(1))
    cw = tune_class_weights(y, prob)
    mw = metrics(y, (prob * cw).argmax(1))
    mn = metrics(y, nested_class_weight_predictions(y, prob, fold_id))
    res = {"variant": variant, "config": cfg, "ds1_cv": m, "class_weights": cw.tolist(),
           "ds1_cv_with_class_weights": mw, "ds1_cv_with_nested_class_weights": mn,
           "time_s": round(time.time() - t0, 1)}
    print_metrics(m, f"DS1 4-fold CV, {variant}")
    print(f"CV {variant}: {summary(m)}")
    print(f"CV {variant} + class weights {np.round(cw, 3).tolist()} (tuned on these OOF "
          f"predictions, optimistic): {summary(mw)}")
    print(f"CV {variant} + nested class weights (tuned on the other folds' OOF predictions): "
          f"{summary(mn)}  [{res['time_s']} s]", flush=True)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        np.savez(out_dir / f"oof_{variant}.npz", y=y, prob=prob, fold=fold_id)
        (out_dir / f"cv_{variant}.json").write_text(json.dumps(res, indent=1, default=str))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/h_beats"))
    ap.add_argument("--cv", nargs="*", default=None,
                    help="cross-validate these variants on DS1 (all when empty) instead of training")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", default=FINAL_VARIANT)
    ap.add_argument("--no-ds2", action="store_true", help="do not evaluate on DS2")
    a = ap.parse_args()

    t0 = time.time()
    torch.set_num_threads(a.threads)
    np.random.seed(SEED)
    d = bd.load(bd.DS1 + bd.DS2, a.scratch)
    if a.cv is not None:
        for v in a.cv or list(VARIANTS):
            cross_validate(d, v, a.scratch / "cv")
        return

    cfg = config(a.variant)
    if list(cfg["features"]) != list(bd.RR_FEATURES):
        raise SystemExit(f"variant {a.variant} uses features {cfg['features']}, but "
                         "ecgstation.inference.beat_inputs.RR_FEATURES differs: the runtime "
                         "would compute other inputs")
    # the prior-correction weights come from the variant's DS1 cross-validation
    cw = np.ones(4)
    if cfg.get("class_weights"):
        cw = np.asarray(cross_validate(d, a.variant, a.scratch / "cv")["class_weights"])
    wt, rt, yt, _ = stack(d, bd.DS1)
    print(f"train (all DS1) {len(yt)} beats {np.bincount(yt, minlength=4)}")
    members, cols = [], []
    for v in cfg.get("members", [a.variant]):
        c = [bd.RR_FEATURES.index(f) for f in config(v)["features"]]
        new = train_ensemble(config(v), wt, np.ascontiguousarray(rt[:, c]), yt, f"final {v}")
        members += new
        cols += [c] * len(new)
    model = Ensemble(members, cols, cw).eval()
    train_s = time.time() - t0

    m2 = five = None
    if not a.no_ds2:
        w2, r2, y2, s2 = stack(d, bd.DS2)
        p2 = predict(model, w2, r2).argmax(1)
        m2 = metrics(y2, p2)
        print_metrics(m2, "DS2 (test, inter-patient)")
        five = five_class_view(s2, p2)
        print("five-class view (ref symbol -> predicted N,S,V,F):", five["counts"])

    a.out.mkdir(parents=True, exist_ok=True)
    onnx_path = a.out / f"{NAME}.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, bd.WINDOW), torch.zeros(1, len(bd.RR_FEATURES))),
                      str(onnx_path), opset_version=17, input_names=["waveform", "rr"],
                      output_names=["probabilities"], dynamo=False,
                      dynamic_axes={"waveform": {0: "batch"}, "rr": {0: "batch"},
                                    "probabilities": {0: "batch"}})
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    n_unm = {n: sum(int(d[r]["n_unmatched_det"]) for r in rs) for n, rs in (("DS1", bd.DS1), ("DS2", bd.DS2))}
    n_miss = {n: sum(int(d[r]["n_missed_ref"]) for r in rs) for n, rs in (("DS1", bd.DS1), ("DS2", bd.DS2))}
    tried = {}
    for v, spec in VARIANTS.items():
        f = a.scratch / "cv" / f"cv_{v}.json"
        if f.exists():
            r = json.loads(f.read_text())
            tried[v] = {"description": spec.get("description", ""),
                        "ds1_cv": {c: {"Se": round(r["ds1_cv"][c]["Se"], 4),
                                       "+P": round(r["ds1_cv"][c]["+P"], 4)} for c in bd.CLASSES},
                        "ds1_cv_with_class_weights": {
                            c: {"Se": round(r["ds1_cv_with_class_weights"][c]["Se"], 4),
                                "+P": round(r["ds1_cv_with_class_weights"][c]["+P"], 4)}
                            for c in bd.CLASSES},
                        "class_weights": [round(x, 3) for x in r["class_weights"]]}
            if "ds1_cv_with_nested_class_weights" in r:
                tried[v]["ds1_cv_with_nested_class_weights"] = {
                    c: {"Se": round(r["ds1_cv_with_nested_class_weights"][c]["Se"], 4),
                        "+P": round(r["ds1_cv_with_nested_class_weights"][c]["+P"], 4)}
                    for c in bd.CLASSES}
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
        "metrics": ({"ds2_inter_patient": m2, "five_class_view_ds2": five} if m2 else {}),
        "input_details": {
            "waveform": {"shape": ["batch", 1, bd.WINDOW], "fs_hz": bd.MODEL_FS,
                         "window_samples": bd.WINDOW, "window_start_s": bd.WINDOW_START_S,
                         "lead": "first lead (MLII-like)", "units": "normalised (dimensionless)",
                         "normalisation": bd.NORMALISATION},
            "rr": {"shape": ["batch", len(bd.RR_FEATURES)], "features": bd.RR_FEATURES,
                   "units": [feature_unit(f) for f in bd.RR_FEATURES],
                   "definition": "ecgstation.inference.beat_inputs.beat_features: computed per "
                                 "record from the first lead and the R peaks, no labels. local = "
                                 "mean of the 10 pre-RRs centred on the beat, local_median = median "
                                 "of the 21 centred pre-RRs, long = mean RR within +-150 s, "
                                 "long_median / long_p90 = median / 90th percentile of the RRs "
                                 "within +-150 s (5 s grid), scale = max((p99-p1)/2, 0.05 mV) of "
                                 "the window; template = median normalised beat of the record's "
                                 "beats with correlation > 0.9 to the record median beat and "
                                 "pre/local_median > 0.85; _p, _qrs, _t = window parts -0.33..-0.1 "
                                 "s, +-0.1 s, +0.1..+0.36 s around the R peak; qrs_width = RMS "
                                 "duration of the slope energy within +-0.15 s"},
            "r_peaks": "ecgstation.core.qrs.detect_qrs on all leads",
        },
        "output": {"name": "probabilities", "shape": ["batch", 4], "kind": "softmax"},
        "training": {
            "data": "MIT-BIH Arrhythmia Database (mitdb), $ECGSTATION_DATA/mitdb",
            "split": "de Chazal inter-patient; paced 102, 104, 107, 217 excluded",
            "train_records": bd.DS1, "test_records_ds2": bd.DS2,
            "model_selection": ("leave-records-out 4-fold cross-validation inside DS1 (folds "
                                "below), pooled out-of-fold confusion matrix; DS2 evaluated once, "
                                "for the final configuration only; the final model is trained on "
                                "all of DS1 for a fixed number of epochs (no early stopping)"),
            "cv_folds_ds1": CV_FOLDS,
            "variants_ds1_cv": tried, "chosen_variant": a.variant,
            "config": {k: v for k, v in cfg.items() if k != "features"},
            "members": [config(v)["features"] for v in cfg.get("members", [a.variant])],
            "class_weights": cw.tolist(),
            "epochs": cfg["epochs"], "seed": SEED,
            "beat_matching": "detections matched to reference beats within 150 ms, one-to-one; "
                             "unmatched detections and Q beats excluded",
            "unmatched_detections": n_unm, "missed_reference_beats": n_miss,
            "training_time_s": round(train_s, 1),
            "hardware": f"CPU, torch.set_num_threads({a.threads})",
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
