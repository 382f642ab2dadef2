"""Write the tiny, real ONNX beat model and its model card used by the inference tests.

The network is a fixed linear map followed by a softmax, no training involved::

    waveform (n, 1, 64) float32 --Reshape--> (n, 64) --+
                                                       +--Concat--> (n, 68) --Gemm--> (n, 4) --Softmax--> probabilities
    rr       (n, 4)     float32 -----------------------+

The 64 waveform samples fall into four segments of 16 samples; the logit of class ``j``
is ``0.25 * sum(waveform[16 j : 16 j + 16]) + rr[j]``. So a waveform of ones in segment
``j`` (and zeros elsewhere) with ``rr = 0`` gives logit 4 for class ``j`` and 0 for the
others: class ``j`` with probability e^4 / (e^4 + 3) ~= 0.948.

Needs the ``onnx`` package (a build-time tool, not a runtime or test dependency)::

    pip install onnx
    python converters/make_tiny_test_model.py            # writes tests/data/tiny_beat_model.{onnx,json}
    python converters/make_tiny_test_model.py --out DIR

Deterministic: the same onnx version writes the same bytes; it prints the files and
their sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NAME = "tiny_beat_model"
CLASSES = ("N", "S", "V", "F")
WINDOW = 64
N_RR = 4
SEGMENT = WINDOW // len(CLASSES)
OPSET = 17
IR_VERSION = 8  # read by every onnxruntime >= 1.17 (the project's floor)


def weights() -> tuple[np.ndarray, np.ndarray]:
    """The Gemm weight (68, 4) and bias (4,), float32."""
    w = np.zeros((WINDOW + N_RR, len(CLASSES)), dtype=np.float32)
    for j in range(len(CLASSES)):
        w[j * SEGMENT : (j + 1) * SEGMENT, j] = 0.25
        w[WINDOW + j, j] = 1.0
    b = np.zeros(len(CLASSES), dtype=np.float32)
    return w, b


def build_model() -> onnx.ModelProto:
    """The ONNX graph described in the module docstring."""
    w, b = weights()
    waveform = helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["n", 1, WINDOW])
    rr = helper.make_tensor_value_info("rr", TensorProto.FLOAT, ["n", N_RR])
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", len(CLASSES)])
    inits = [
        numpy_helper.from_array(np.array([-1, WINDOW], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(w, "W"),
        numpy_helper.from_array(b, "B"),
    ]
    nodes = [
        helper.make_node("Reshape", ["waveform", "flat_shape"], ["flat"]),
        helper.make_node("Concat", ["flat", "rr"], ["features"], axis=1),
        helper.make_node("Gemm", ["features", "W", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(nodes, NAME, [waveform, rr], [out], initializer=inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="ecgstation-converters"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def card(sha256: str, onnx_file: str) -> dict[str, object]:
    """The model card (JSON document) of the tiny model."""
    return {
        "name": NAME,
        "version": "0.1.0",
        "task": "beat-classification",
        "classes": list(CLASSES),
        "inputs": [
            {"name": "waveform", "shape": [None, 1, WINDOW], "dtype": "float32"},
            {"name": "rr", "shape": [None, N_RR], "dtype": "float32"},
        ],
        "output_name": "probabilities",
        "fs_hz": 128.0,
        "window_samples": WINDOW,
        "window_start_s": -0.25,
        "leads": ["MLII"],
        "normalisation": "none (raw mV); a TEST ASSET with hand-set weights, not a clinical model",
        "onnx_file": onnx_file,
        "onnx_sha256": sha256,
        "training": {
            "data": "none: weights set by hand in converters/make_tiny_test_model.py",
            "split": "none",
        },
        "metrics": {},
        "date": "2026-11-23",
        "intended_use": "unit tests of ecgstation.inference only",
    }


def main(argv: list[str] | None = None) -> int:
    """Write ``<out>/tiny_beat_model.onnx`` and ``<out>/tiny_beat_model.json``."""
    default_out = Path(__file__).resolve().parents[1] / "tests" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out, help=f"output folder (default {default_out})")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{NAME}.onnx"
    data = build_model().SerializeToString()
    onnx_path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    card_path = out / f"{NAME}.json"
    card_path.write_text(json.dumps(card(sha, onnx_path.name), indent=2) + "\n", encoding="utf-8")
    card_sha = hashlib.sha256(card_path.read_bytes()).hexdigest()
    print(f"wrote {onnx_path} ({len(data)} bytes, sha256 {sha})")
    print(f"wrote {card_path} (sha256 {card_sha})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
