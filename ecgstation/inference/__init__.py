"""Model inference: ONNX models described by JSON model cards, run with onnxruntime.

Models are data, not code (ARCHITECTURE.md rule 5): every ``.onnx`` file in ``models/``
has a model card, and the input contract on the card is checked before a model runs.
"""

from __future__ import annotations

from ecgstation.inference.contract import prepare_recording, prepare_signal
from ecgstation.inference.errors import ModelContractError, ModelError
from ecgstation.inference.model_card import InputSpec, ModelCard, load_model_card
from ecgstation.inference.onnx_model import OnnxModel
from ecgstation.inference.registry import ModelRegistry, default_models_dir

__all__ = [
    "InputSpec",
    "ModelCard",
    "ModelContractError",
    "ModelError",
    "ModelRegistry",
    "OnnxModel",
    "default_models_dir",
    "load_model_card",
    "prepare_recording",
    "prepare_signal",
]
