"""Evaluate the exported beat classifier ONNX on DS2 with onnxruntime.

``python -m converters.evaluate_beat_classifier [--model models/beat_classifier.onnx]``

Prints the 4x4 confusion matrix (rows reference N,S,V,F; cols predicted) and Se/+P per
class, using our detector's beats matched to the reference within 150 ms (the dataset
cache of ``converters.beat_dataset`` in ``--scratch``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import onnxruntime as ort

from converters import beat_dataset as bd
from converters.train_beat_classifier import five_class_view, metrics, print_metrics, stack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/beat_classifier.onnx"))
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/h_beats"))
    a = ap.parse_args()
    card = json.loads(a.model.with_suffix(".json").read_text())
    features = card["input_details"]["rr"]["features"]
    if features != list(bd.RR_FEATURES):
        print("note: the card's features differ from beat_inputs.RR_FEATURES; using the card's")
    d = bd.load(bd.DS2, a.scratch)
    w, rr, y, sym = stack(d, bd.DS2, features)
    sess = ort.InferenceSession(str(a.model), providers=["CPUExecutionProvider"])
    t = time.time()
    prob = sess.run(["probabilities"], {"waveform": w, "rr": rr})[0]
    dt_s = time.time() - t
    p = prob.argmax(1)
    print_metrics(metrics(y, p), f"DS2 ({len(y)} beats, onnxruntime {dt_s:.2f} s)")
    print("five-class view (ref symbol -> predicted N,S,V,F):", five_class_view(sym, p)["counts"])


if __name__ == "__main__":
    main()
