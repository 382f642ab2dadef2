"""WFDB annotation files (``.atr``, ``.qrs``, ``.q1c``, ...) into Annotations."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Annotations
from ecgstation.io.wfdb_signals import call_wfdb

logger = logging.getLogger(__name__)

#: ``annotator`` value meaning "the reference annotations (.atr) when present".
AUTO_ANNOTATOR = "auto"


def read_annotations(
    base: Path, annotator: str | None, n_samples: int, warnings: list[str]
) -> Annotations:
    """Annotations of the record at ``base`` from its ``annotator`` file.

    With ``"auto"`` a missing or damaged ``.atr`` only adds a warning; a named
    annotator must exist and be readable. Entries outside the record are dropped
    with a warning.
    """
    if annotator is None:
        return Annotations.empty()
    required = annotator != AUTO_ANNOTATOR
    extension = annotator if required else "atr"
    ann_path = base.parent / f"{base.name}.{extension}"
    if not ann_path.is_file():
        if required:
            raise EcgFormatError(ann_path, f"annotation file for annotator {extension!r} not found")
        return Annotations.empty()
    import wfdb

    try:
        if ann_path.stat().st_size == 0:
            raise EcgFormatError(ann_path, "the annotation file is empty")
        ann = call_wfdb(ann_path, "the annotation file is damaged", wfdb.rdann, str(base), extension)
        samples = np.asarray(ann.sample, dtype=np.int64)
        labels = tuple(str(s) for s in (ann.symbol or ()))
        aux_raw = ann.aux_note or [""] * samples.size
        aux = tuple(str(a or "").rstrip("\x00") for a in aux_raw)
        if len(labels) != samples.size or len(aux) != samples.size:
            raise EcgFormatError(ann_path, "the annotation file is damaged (labels and samples differ in number)")
    except EcgFormatError as exc:
        if required:
            raise
        logger.warning("annotations of %s not loaded: %s", base, exc)
        warnings.append(f"annotations ({extension}) not loaded: {exc.reason}")
        return Annotations.empty(extension)
    inside = (samples >= 0) & (samples < n_samples)
    if not bool(inside.all()):
        n_out = int((~inside).sum())
        warnings.append(f"{n_out} annotation(s) outside the record were left out")
        keep = np.flatnonzero(inside)
        samples = samples[keep]
        labels = tuple(labels[i] for i in keep)
        aux = tuple(aux[i] for i in keep)
    return Annotations(samples, labels, aux, extension)
