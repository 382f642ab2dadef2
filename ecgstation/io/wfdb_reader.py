"""WFDB records (PhysioNet): header + signal files (+ annotations) into a Recording, via ``wfdb``.

Single- and multi-segment records (fixed or variable layout) become one contiguous
float32 array in mV; see :mod:`ecgstation.io.wfdb_signals` for the decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Recording
from ecgstation.io.base import Importer, read_head
from ecgstation.io.wfdb_annotations import AUTO_ANNOTATOR, read_annotations
from ecgstation.io.wfdb_header import (
    RecordLine,
    comment_fields,
    looks_like_header,
    parse_record_line,
    patient_from_comments,
    read_header_text,
)
from ecgstation.io.wfdb_signals import (
    Lead,
    Segment,
    call_wfdb,
    open_header,
    plan_segment,
    rdheader,
    read_segment,
    record_base,
    resolve_header,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WfdbOptions:
    """Options of :class:`WfdbImporter`.

    ``annotator``: the annotation file extension to read (``"atr"``, ``"qrs"``,
    ``"q1c"``, ...; it must then exist), ``"auto"`` for ``.atr`` when present, or
    None for no annotations.
    """

    annotator: str | None = AUTO_ANNOTATOR


# --- whole records ----------------------------------------------------------------------


def _metadata(
    base: Path,
    line: RecordLine,
    comments: Sequence[str],
    leads: Sequence[Lead],
    warnings: Sequence[str],
    dropped: Sequence[str],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The Recording's metadata for a WFDB record (format, comments, warnings, ...)."""
    metadata: dict[str, Any] = {
        "format": "WFDB",
        "record_name": line.name or base.name,
        "wfdb_formats": tuple(lead.fmt for lead in leads),
        "comments": tuple(comments),
        "header_fields": MappingProxyType(comment_fields(comments)),
        "warnings": tuple(dict.fromkeys(warnings)),
    }
    if dropped:
        metadata["dropped_signals"] = tuple(dropped)
    if line.counter_freq is not None:
        metadata["counter_frequency_hz"] = line.counter_freq
    if line.base_time is not None and line.base_date is None:
        metadata["base_time"] = line.base_time.isoformat()
    if any(lead.spf > 1 for lead in leads):
        metadata["samples_per_frame"] = tuple(lead.spf for lead in leads)
        metadata["warnings"] += ("signals with several samples per frame were averaged to the frame rate",)
    metadata.update(extra)
    return metadata


def _read_single(header_path: Path, text: str, options: WfdbOptions) -> Recording:
    """A single-segment record whose header ``text`` is already read."""
    segment = plan_segment(header_path, text=text)
    if segment.n_samples < 2:
        raise EcgFormatError(
            header_path, f"the record has {segment.n_samples} sample(s) per lead; at least 2 are needed"
        )
    out = np.empty((len(segment.leads), segment.n_samples), dtype=np.float32)
    read_segment(segment, out, range(len(segment.leads)))
    warnings = list(segment.warnings)
    annotations = read_annotations(segment.base, options.annotator, segment.n_samples, warnings)
    metadata = _metadata(
        segment.base, segment.line, segment.comments, segment.leads, warnings, segment.dropped,
        {"annotator": annotations.source or None},
    )
    return Recording(
        signals=out,
        fs=segment.fs,
        lead_names=tuple(lead.name for lead in segment.leads),
        start_time=segment.line.start,
        patient=patient_from_comments(segment.comments),
        calibration=tuple(lead.calibration for lead in segment.leads),
        metadata=metadata,
        annotations=annotations,
        source_path=str(header_path),
    )


def _read_multi(header_path: Path, text: str, line: RecordLine, options: WfdbOptions) -> Recording:
    """A multi-segment record (fixed or variable layout) as one contiguous recording."""
    opened = open_header(header_path, text, line, "the multi-segment WFDB header")
    comments, warnings, fs, base, header = opened.comments, opened.warnings, opened.fs, opened.base, opened.header
    seg_names = [str(s) for s in (getattr(header, "seg_name", None) or [])]
    seg_lens = [int(n) for n in (getattr(header, "seg_len", None) or [])]
    if not seg_names or len(seg_names) != len(seg_lens) or len(seg_names) != line.n_seg:
        raise EcgFormatError(header_path, f"the header announces {line.n_seg} segment(s) but lists {len(seg_names)}")
    if any(n < 0 for n in seg_lens):
        raise EcgFormatError(header_path, "a segment has a negative length")
    variable = seg_lens[0] == 0
    layout_names: list[str] | None = None
    start_index = 0
    if variable:
        start_index = 1
        if seg_names[0] == "~":
            raise EcgFormatError(header_path, "the layout segment of a variable-layout record is missing")
        layout_path = header_path.parent / f"{seg_names[0]}.hea"
        layout_text = read_header_text(layout_path)
        layout_line = parse_record_line(layout_text, layout_path)
        layout = call_wfdb(layout_path, "the layout header could not be parsed", rdheader, record_base(layout_path))
        layout_names = [str(s) for s in (getattr(layout, "sig_name", None) or [])]
        if len(layout_names) != layout_line.n_sig or not layout_names:
            raise EcgFormatError(layout_path, "the layout header does not list the record's signals")
        if len(set(layout_names)) != len(layout_names):
            raise EcgFormatError(layout_path, "the layout header names a signal twice")

    segments: list[tuple[int, Segment]] = []  # (first sample, segment)
    position = 0
    for name, length in zip(seg_names[start_index:], seg_lens[start_index:], strict=True):
        if length == 0:
            continue
        if name == "~":
            raise EcgFormatError(
                header_path, f"samples {position}-{position + length - 1} hold no data (gaps are not supported)"
            )
        seg_path = header_path.parent / f"{name}.hea"
        segment = plan_segment(seg_path, expected_len=length)
        if abs(segment.fs - fs) > 1e-6 * fs:
            raise EcgFormatError(seg_path, f"segment sampled at {segment.fs:g} Hz in a {fs:g} Hz record")
        segments.append((position, segment))
        position += length
    total = position
    if not segments:
        raise EcgFormatError(header_path, "the record's segments hold no data")
    if line.sig_len is not None and line.sig_len != total:
        warnings.append(f"the header says {line.sig_len} samples but its segments hold {total}")
    if total < 2:
        raise EcgFormatError(header_path, f"the record has {total} sample(s) per lead; at least 2 are needed")

    # Which output row each segment lead goes to.
    first = segments[0][1]
    if layout_names is None:
        lead_keys: list[Any] = [lead.index for lead in first.leads]
        names = [lead.name for lead in first.leads]
    else:
        present = {lead.name for _, seg in segments for lead in seg.leads}
        names = [n for n in layout_names if n in present]
        lead_keys = list(names)
    lead_calibration: dict[int, tuple[float, float, str]] = {}
    reference: dict[int, Lead] = {}
    plans: list[tuple[int, Segment, list[int]]] = []
    dropped: list[str] = []
    for start, segment in segments:
        if layout_names is None and segment.n_sig != first.n_sig:
            raise EcgFormatError(segment.header_path, "segments of a fixed-layout record differ in their signals")
        rows: list[int] = []
        covered: set[int] = set()
        for lead in segment.leads:
            key = lead.index if layout_names is None else lead.name
            if key not in lead_keys:
                if layout_names is not None and lead.name not in layout_names:
                    raise EcgFormatError(segment.header_path, f"signal {lead.name} is not in the record's layout")
                raise EcgFormatError(
                    segment.header_path, f"signal {lead.name} is not a voltage signal in every segment"
                )
            row = lead_keys.index(key)
            if row in covered:
                raise EcgFormatError(segment.header_path, f"signal {lead.name} appears twice in a segment")
            covered.add(row)
            rows.append(row)
            if row not in lead_calibration:
                lead_calibration[row] = lead.conversion
                reference[row] = lead
            elif lead_calibration[row] != lead.conversion:
                warnings.append(f"lead {names[row]} changes gain, baseline or units between segments")
        missing = [names[r] for r in range(len(names)) if r not in covered]
        if missing:
            raise EcgFormatError(
                segment.header_path,
                f"lead {missing[0]} is missing in samples {start}-{start + segment.n_samples - 1} "
                "(gaps are not supported)",
            )
        plans.append((start, segment, rows))
        dropped.extend(d for d in segment.dropped if d not in dropped)

    out = np.empty((len(names), total), dtype=np.float32)
    for start, segment, rows in plans:
        read_segment(segment, out[:, start : start + segment.n_samples], rows)
        warnings.extend(f"segment {segment.base.name}: {w}" for w in segment.warnings)
    annotations = read_annotations(base, options.annotator, total, warnings)
    leads = [reference[r] for r in range(len(names))]
    metadata = _metadata(
        base, line, comments, leads, warnings, dropped,
        {
            "annotator": annotations.source or None,
            "n_segments": len(segments),
            "layout": "variable" if variable else "fixed",
        },
    )
    return Recording(
        signals=out,
        fs=fs,
        lead_names=tuple(names),
        start_time=line.start,
        patient=patient_from_comments(comments),
        calibration=tuple(lead.calibration for lead in leads),
        metadata=metadata,
        annotations=annotations,
        source_path=str(header_path),
    )


class WfdbImporter(Importer):
    """PhysioNet WFDB records: ``.hea`` header with ``.dat``/``.mat`` signal files.

    ``read`` accepts the header, a data file or the record's base name. Signals are
    converted to float32 mV from each signal's own gain, baseline and units; leads
    whose units are not a voltage (e.g. ``mmHg``) are left out and listed in
    ``metadata["dropped_signals"]``. Multi-segment records become one contiguous
    array. Option ``annotator`` (see :class:`WfdbOptions`).
    """

    name: ClassVar[str] = "WFDB"
    extensions: ClassVar[tuple[str, ...]] = (".hea", ".dat", ".mat")
    option_names: ClassVar[frozenset[str]] = frozenset({"annotator"})

    def _sniff(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if path.exists() and suffix not in self.extensions and suffix != "":
            return False
        try:
            header = resolve_header(path)
        except EcgFormatError:
            return False
        head = read_head(header)
        if b"\x00" in head:
            return False
        return looks_like_header(head.decode("utf-8", errors="ignore"))

    def _check_options(self, **options: Any) -> WfdbOptions:
        annotator = options.get("annotator", AUTO_ANNOTATOR)
        if annotator is not None and (
            not isinstance(annotator, str) or not annotator or not annotator.replace("_", "").isalnum()
        ):
            raise ValueError(f"annotator must be a file extension such as 'atr' or 'qrs', not {annotator!r}")
        return WfdbOptions(annotator=annotator)

    def _read(self, path: Path, options: WfdbOptions) -> Recording:
        header_path = resolve_header(path)
        text = read_header_text(header_path)
        line = parse_record_line(text, header_path)
        if line.n_seg is not None:
            return _read_multi(header_path, text, line, options)
        return _read_single(header_path, text, options)
