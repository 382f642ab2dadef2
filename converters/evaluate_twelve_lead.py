"""Evaluate the exported 12-lead classifier ONNX on the held-out split, next to the rule baseline.

``python -m converters.evaluate_twelve_lead [--model models/twelve_lead_classifier.onnx] [--split test]``

Runs onnxruntime (CPU) on the held-out records exactly as the card's input contract says
(the first-10-s segments cached by ``converters.twelve_lead_dataset``), prints the rhythm
table (F1, Se, +P, n) for the model and for the rule baseline
(``ecgstation.core.qrs.detect_qrs`` on the first 10 s at the record's own rate, then
``ecgstation.core.rhythm_rules.classify_rhythm_rules``) in one table, both rhythm confusion
matrices, the superclass table at the card's thresholds, and the single-record latency
(median of 50 runs after warm-up).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from converters import twelve_lead_dataset as td


def rule_baseline(d: dict, idx: np.ndarray) -> dict:
    """Rule rhythm call on the rhythm-labelled records in ``idx``; metrics as for the model."""
    from converters.train_twelve_lead import rhythm_metrics
    from ecgstation.core.qrs import detect_qrs
    from ecgstation.core.rhythm_rules import classify_rhythm_rules

    ys, ps = [], []
    for i in idx:
        if d["rhythm"][i] < 0:
            continue
        rec = {"path": str(d["path"][i])}
        x, fs = td.read_signals(rec)
        x = td.first_window(x, fs)
        peaks = detect_qrs(x, fs)
        call = classify_rhythm_rules(peaks, fs)
        ys.append(int(d["rhythm"][i]))
        ps.append(td.RHYTHM.index(call.label))
    return rhythm_metrics(np.array(ys), np.array(ps))


def latency_ms(sess, n: int = 50) -> dict:
    x = np.random.default_rng(0).normal(0, 0.3, (1, 12, td.WINDOW)).astype(np.float32)
    for _ in range(10):
        sess.run(["probabilities"], {"ecg": x})
    t = []
    for _ in range(n):
        s = time.perf_counter()
        sess.run(["probabilities"], {"ecg": x})
        t.append(1000 * (time.perf_counter() - s))
    return {"median_ms": float(np.median(t)), "p90_ms": float(np.percentile(t, 90)), "runs": n}


def main() -> None:
    import onnxruntime as ort

    from converters.train_twelve_lead import evaluate_split, first_segments, print_confusion, print_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/twelve_lead_classifier.onnx"))
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/h12"))
    ap.add_argument("--split", default="test", choices=["test", "val"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write-latency", action="store_true",
                    help="store the measured latency in the card beside the model (changes the JSON only)")
    a = ap.parse_args()

    card_path = a.model.with_suffix(".json")
    card = json.loads(card_path.read_text())
    thr = np.array(card["heads"][1]["thresholds"], dtype=np.float64)
    d = td.load(a.scratch)
    idx = np.flatnonzero(d["split"] == a.split)
    x = first_segments(d, idx)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(str(a.model), so, providers=["CPUExecutionProvider"])
    prob = np.concatenate([sess.run(["probabilities"], {"ecg": x[i:i + 32]})[0] for i in range(0, len(x), 32)])
    m = evaluate_split(d, idx, prob, thr)
    rb = rule_baseline(d, idx)

    rm = m["rhythm"]
    print(f"{a.split.upper()} rhythm: {rm['records']} records with a rhythm statement "
          f"(of {len(idx)}); model = argmax of the softmax head, rule = classify_rhythm_rules")
    print(f"{'class':>6} {'n':>4} | {'model F1':>8} {'Se':>6} {'+P':>6} | {'rule F1':>8} {'Se':>6} {'+P':>6}")
    for c in td.RHYTHM:
        r, b = rm[c], rb[c]
        print(f"{c:>6} {r['n']:4d} | {r['F1']:8.3f} {r['Se']:6.3f} {r['+P']:6.3f} | "
              f"{b['F1']:8.3f} {b['Se']:6.3f} {b['+P']:6.3f}")
    print(f"{'macro':>6} {'':>4} | {rm['macro_F1']:8.3f} {'':>6} {'':>6} | {rb['macro_F1']:8.3f}")
    print(f"{'acc':>6} {'':>4} | {rm['accuracy']:8.3f} {'':>6} {'':>6} | {rb['accuracy']:8.3f}")
    print("model confusion (rows reference, cols predicted):")
    print_confusion(rm["confusion_matrix"], td.RHYTHM)
    print("rule baseline confusion:")
    print_confusion(rb["confusion_matrix"], td.RHYTHM)
    print_table(f"{a.split.upper()} superclass ({m['superclass']['records']} PTB-XL records, card thresholds)",
                m["superclass"], td.SUPER)
    print(f"  macro AUROC {m['superclass']['macro_AUROC']:.3f}")
    lat = latency_ms(sess)
    print(f"latency, one 10 s 12-lead record, onnxruntime CPU {a.threads} thread(s): "
          f"median {lat['median_ms']:.2f} ms, p90 {lat['p90_ms']:.2f} ms ({lat['runs']} runs after warm-up); "
          f"model file {a.model.stat().st_size} bytes")
    if a.write_latency:
        card.setdefault("metrics", {})["latency_onnxruntime_cpu"] = {**lat, "threads": a.threads}
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"updated {card_path}")


if __name__ == "__main__":
    main()
