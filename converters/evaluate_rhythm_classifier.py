"""Evaluate the rhythm classifier: window-level per-class table and AF episode-level Se/+P.

``python -m converters.evaluate_rhythm_classifier [--model models/rhythm_classifier.onnx]
[--records 201 203 ...] [--lead 0] [--fs 250]`` runs the shipped ONNX model (onnxruntime) on
MIT-BIH records through ``ecgstation.inference.rhythm_inputs.rhythm_windows`` (non-overlapping
10 s windows). ``--fs`` first resamples the record to another source rate (a patch's rate).
Caution: the shipped model was trained on ALL MIT-BIH records, so numbers on MIT-BIH
records here are training-set numbers; the honest out-of-fold numbers are in the model
card (``metrics``), produced by ``converters.train_rhythm_classifier``.

Definitions (also used by the trainer for the out-of-fold report):

- window reference = the class covering most of the 10 s window (``rhythm_dataset.window_labels``);
  windows mostly before the first rhythm annotation are skipped;
- AF episodes (reference): maximal runs of samples whose reference class is AF;
- AF episodes (predicted): maximal runs of consecutive windows whose argmax class is AF,
  each spanning [first window start, last window end);
- a reference episode is detected when it overlaps (> 0 s) a predicted AF episode (Se);
  a predicted episode is a true positive when it overlaps (> 0 s) a reference AF episode (+P);
- reported for minimum duration 0 s (all episodes) and 30 s (only episodes >= 30 s are
  counted on the side being scored; they are matched against all episodes of the other side);
- AF duration Se/+P: overlap of predicted-AF time and reference-AF time over reference /
  predicted AF time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from converters import rhythm_dataset as rd
from ecgstation.core.filters import resample
from ecgstation.inference.rhythm_inputs import CLASSES, WINDOW_S, rhythm_windows

K = len(CLASSES)


def window_table(y: np.ndarray, p: np.ndarray) -> dict:
    """Confusion matrix (rows reference, cols predicted) and per-class Se, +P, F1, n."""
    cm = np.zeros((K, K), dtype=np.int64)
    np.add.at(cm, (y, p), 1)
    out: dict = {"confusion_matrix": cm.tolist(), "confusion_rows": "reference " + ",".join(CLASSES),
                 "confusion_cols": "predicted " + ",".join(CLASSES),
                 "accuracy": float(np.trace(cm) / max(cm.sum(), 1)), "per_class": {}}
    f1s = []
    for i, c in enumerate(CLASSES):
        tp, n, npred = int(cm[i, i]), int(cm[i].sum()), int(cm[:, i].sum())
        se = tp / n if n else None
        ppv = tp / npred if npred else None
        f1 = 2 * tp / (n + npred) if (n + npred) else None
        if n:
            f1s.append(f1)
        out["per_class"][c] = {"Se": se, "+P": ppv, "F1": f1, "n": n, "n_predicted": npred}
    out["macro_F1_present_classes"] = float(np.mean(f1s)) if f1s else None
    return out


def predicted_episodes(pred: np.ndarray, starts_s: np.ndarray, cls: int = 1) -> list[tuple[float, float]]:
    """Merge consecutive windows predicted ``cls`` into (start_s, end_s) episodes."""
    eps: list[tuple[float, float]] = []
    for is_c, s in zip(pred == cls, starts_s):
        if not is_c:
            continue
        e = s + WINDOW_S
        if eps and s <= eps[-1][1] + 1e-6:
            eps[-1] = (eps[-1][0], e)
        else:
            eps.append((float(s), float(e)))
    return eps


def _overlaps(a: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    return any(min(a[1], b[1]) - max(a[0], b[0]) > 0 for b in others)


def _overlap_s(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return float(sum(max(0.0, min(x[1], y[1]) - max(x[0], y[0])) for x in a for y in b))


def episode_counts(ref: list[tuple[float, float]], pred: list[tuple[float, float]], min_s: float) -> dict:
    """Counts for one record: detected reference episodes and true-positive predicted episodes."""
    r = [e for e in ref if e[1] - e[0] >= min_s]
    q = [e for e in pred if e[1] - e[0] >= min_s]
    return {"ref": len(r), "ref_detected": sum(_overlaps(e, pred) for e in r),
            "pred": len(q), "pred_tp": sum(_overlaps(e, ref) for e in q)}


def episode_summary(per_record: dict[str, dict]) -> dict:
    """Sum per-record episode counts (``{rec: {"min0": counts, "min30": counts, "dur": ...}}``)."""
    out: dict = {}
    for key in ("min0", "min30"):
        tot = {k: sum(v[key][k] for v in per_record.values()) for k in ("ref", "ref_detected", "pred", "pred_tp")}
        tot["Se"] = tot["ref_detected"] / tot["ref"] if tot["ref"] else None
        tot["+P"] = tot["pred_tp"] / tot["pred"] if tot["pred"] else None
        out[key] = tot
    ref_s = sum(v["dur"]["ref_s"] for v in per_record.values())
    pred_s = sum(v["dur"]["pred_s"] for v in per_record.values())
    both = sum(v["dur"]["overlap_s"] for v in per_record.values())
    out["duration"] = {"ref_af_s": ref_s, "pred_af_s": pred_s, "overlap_s": both,
                       "Se": both / ref_s if ref_s else None, "+P": both / pred_s if pred_s else None}
    return out


def record_episode_eval(rec: rd.Record, pred: np.ndarray, starts_s: np.ndarray) -> dict:
    """AF episode and duration counts of one record, restricted to the time covered by windows."""
    end = float(starts_s[-1] + WINDOW_S) if len(starts_s) else 0.0
    ref = [(s, min(e, end)) for s, e in rd.af_episodes(rec, "AF") if s < end]
    q = predicted_episodes(pred, starts_s, CLASSES.index("AF"))
    return {"min0": episode_counts(ref, q, 0.0), "min30": episode_counts(ref, q, 30.0),
            "dur": {"ref_s": float(sum(e - s for s, e in ref)), "pred_s": float(sum(e - s for s, e in q)),
                    "overlap_s": _overlap_s(ref, q)},
            "ref_episodes": ref, "pred_episodes": q}


def record_windows(rec: rd.Record, lead: int, fs_src: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows, starts_s, reference class per window (-1 = unlabelled)) for one lead of a record."""
    x = rec.signals[lead]
    fs = rec.fs
    if fs_src is not None and fs_src != fs:
        x = resample(x, fs, fs_src)
        fs = fs_src
    w, st = rhythm_windows(x, fs)
    s360 = np.round(st * rec.fs).astype(np.int64)
    length = round(WINDOW_S * rec.fs)
    s360 = np.minimum(s360, rec.label.size - length)
    y, _ = rd.window_labels(rec.label, s360, length)
    return w, st, y


def format_table(t: dict) -> str:
    lines = ["ref\\pred " + " ".join(f"{c[:6]:>6}" for c in CLASSES)]
    for c, row in zip(CLASSES, t["confusion_matrix"]):
        lines.append(f"{c[:8]:>8} " + " ".join(f"{v:6d}" for v in row))
    for c in CLASSES:
        m = t["per_class"][c]
        f = (lambda v: "   -  " if v is None else f"{100 * v:6.1f}")
        lines.append(f"  {c:<19} Se {f(m['Se'])} %  +P {f(m['+P'])} %  F1 {f(m['F1'])} %  n={m['n']}")
    lines.append(f"  accuracy {100 * t['accuracy']:.1f} %")
    return "\n".join(lines)


def format_episodes(e: dict) -> str:
    out = []
    for key, name in (("min0", "all episodes"), ("min30", "episodes >= 30 s")):
        m = e[key]
        se = "-" if m["Se"] is None else f"{100 * m['Se']:.1f} %"
        pp = "-" if m["+P"] is None else f"{100 * m['+P']:.1f} %"
        out.append(f"  AF {name}: Se {se} ({m['ref_detected']}/{m['ref']}), +P {pp} ({m['pred_tp']}/{m['pred']})")
    d = e["duration"]
    if d["Se"] is not None or d["+P"] is not None:
        out.append(f"  AF duration: Se {100 * (d['Se'] or 0):.1f} %  +P {100 * (d['+P'] or 0):.1f} % "
                   f"(ref {d['ref_af_s']:.0f} s, pred {d['pred_af_s']:.0f} s)")
    return "\n".join(out)


def main() -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/rhythm_classifier.onnx"))
    ap.add_argument("--records", type=int, nargs="*", default=None)
    ap.add_argument("--lead", type=int, default=0)
    ap.add_argument("--fs", type=float, default=None, help="resample the record to this rate first")
    a = ap.parse_args()
    sess = ort.InferenceSession(str(a.model), providers=["CPUExecutionProvider"])
    ys, ps, eps = [], [], {}
    for r in a.records or rd.RECORDS:
        rec = rd.load_record(r)
        w, st, y = record_windows(rec, a.lead, a.fs)
        p = sess.run(["probabilities"], {"ecg": w})[0].argmax(1)
        keep = y >= 0
        ys.append(y[keep])
        ps.append(p[keep])
        eps[str(r)] = record_episode_eval(rec, p, st)
    t = window_table(np.concatenate(ys), np.concatenate(ps))
    print(format_table(t))
    print(format_episodes(episode_summary(eps)))


if __name__ == "__main__":
    main()
