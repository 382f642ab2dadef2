"""WFDB records (PhysioNet): header + signal files (+ annotations) into a Recording, via ``wfdb``.

Signals are read as stored integers (``physical=False``) and converted here, once,
to float32 mV with each signal's own gain, baseline and units, so that missing
samples and impossible values can be recognised before conversion.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ, Annotations, LeadCalibration, Recording
from ecgstation.io.base import Importer, read_head
from ecgstation.io.units import canonical_voltage_unit, mv_per_unit
from ecgstation.io.wfdb_header import (
    WFDB_DEFAULT_FS_HZ,
    RecordLine,
    comment_fields,
    looks_like_header,
    parse_record_line,
    patient_from_comments,
    read_header_text,
    split_header,
)

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Storage formats the reader accepts (those the wfdb package decodes).
SUPPORTED_FORMATS: tuple[str, ...] = (
    "8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524",
)
_FLAC_FORMATS = frozenset({"508", "516", "524"})
_BITS_PER_SAMPLE = {
    "8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12, "310": 32 / 3, "311": 32 / 3,
}
# WFDB's marker for a missing sample, per format (format 8 has none).
_INVALID_SAMPLE = {
    "80": -(2**7), "508": -(2**7), "310": -(2**9), "311": -(2**9), "212": -(2**11), "16": -(2**15),
    "61": -(2**15), "160": -(2**15), "516": -(2**15), "24": -(2**23), "524": -(2**23), "32": -(2**31),
}
# Formats read by memory-mapping the data file: numpy dtype and offset to subtract.
_MEMMAP_FORMATS = {"16": ("<i2", 0), "61": (">i2", 0), "160": ("<u2", 32768), "32": ("<i4", 0), "80": ("u1", 128)}
#: WFDB default ADC gain (ADC units per physical unit) when the header gives none or 0.
WFDB_DEFAULT_GAIN = 200.0
_MAX_SAMPLES_PER_FRAME = 1024
_CHUNK = 1 << 18  # samples converted per step (bounds temporary memory)

#: ``annotator`` value meaning "the reference annotations (.atr) when present".
AUTO_ANNOTATOR = "auto"


@dataclass(frozen=True)
class WfdbOptions:
    """Options of :class:`WfdbImporter`.

    ``annotator``: the annotation file extension to read (``"atr"``, ``"qrs"``,
    ``"q1c"``, ...; it must then exist), ``"auto"`` for ``.atr`` when present, or
    None for no annotations.
    """

    annotator: str | None = AUTO_ANNOTATOR


@dataclass(frozen=True)
class _Lead:
    """One voltage signal of a single-segment record and how to turn it into mV."""

    index: int
    name: str
    file_name: str
    fmt: str
    spf: int
    skew: int
    byte_offset: int
    gain: float  # ADC units per source unit
    baseline: float
    unit: str  # canonical voltage unit
    mv_per_adu: float
    adc_res: int | None
    checksum: int | None

    @property
    def calibration(self) -> LeadCalibration:
        return LeadCalibration(
            gain=self.gain / (mv_per_unit(self.unit) or 1.0),
            baseline=self.baseline,
            source_unit=self.unit,
            adc_resolution_bits=self.adc_res,
        )

    @property
    def conversion(self) -> tuple[float, float, str]:
        return (self.gain, self.baseline, self.unit)


@dataclass
class _Segment:
    """A validated single-segment record, ready to read ``n_samples`` per lead."""

    header_path: Path
    base: Path
    line: RecordLine
    comments: list[str]
    fs: float
    sig_len: int
    n_samples: int
    leads: list[_Lead]
    dropped: list[str]
    n_sig: int
    file_specs: dict[str, tuple[str, int, int]]  # file -> (fmt, byte_offset, samples per frame in file)
    signal_files: list[str]  # data file of every signal, left-out ones included
    warnings: list[str] = field(default_factory=list)

    @property
    def checksums_apply(self) -> bool:
        return self.n_samples == self.sig_len


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:160]


def _call_wfdb(path: Path, what: str, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a wfdb function; any exception it raises becomes EcgFormatError(path, what ...)."""
    try:
        return func(*args, **kwargs)
    except EcgFormatError:
        raise
    except MemoryError:
        raise EcgFormatError(path, "the record is too large to load into memory") from None
    except Exception as exc:  # noqa: BLE001 - wfdb raises many types; this is the boundary
        logger.info("wfdb failed on %s (%s)", path, what, exc_info=True)
        raise EcgFormatError(path, f"{what} ({_short(exc)})") from exc


def resolve_header(path: Path) -> Path:
    """The ``.hea`` of the record named by ``path`` (the header, a data file or the base name)."""
    if path.suffix.lower() == ".hea":
        if path.is_file():
            return path
        raise EcgFormatError(path, "file not found")
    candidates = [path.parent / (path.name + ".hea")]
    if path.suffix:
        candidates.append(path.with_suffix(".hea"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if path.exists():
        raise EcgFormatError(path, f"no WFDB header ({candidates[-1].name}) next to this file")
    raise EcgFormatError(path, f"file not found (nor a WFDB header {candidates[0].name})")


def _record_base(header_path: Path) -> Path:
    return header_path.parent / header_path.name[: -len(".hea")]


def _check_fs(fs: float | None, path: Path, warnings: list[str]) -> float:
    if fs is None:
        warnings.append(f"the header gives no sampling frequency; WFDB's default {WFDB_DEFAULT_FS_HZ:g} Hz is used")
        return WFDB_DEFAULT_FS_HZ
    if not math.isfinite(fs) or not (MIN_FS_HZ <= fs <= MAX_FS_HZ):
        raise EcgFormatError(
            path, f"sampling frequency {fs:g} Hz is not plausible (expected {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz)"
        )
    return float(fs)


def _bytes_for(fmt: str, n_samples: int) -> int:
    """Bytes a data file needs to hold ``n_samples`` samples (all signals together) in ``fmt``."""
    if fmt == "212":
        return math.ceil(n_samples * 1.5)
    if fmt in ("310", "311"):
        return math.ceil(n_samples * 4 / 3)
    return int(n_samples * _BITS_PER_SAMPLE[fmt] // 8)


def _frames_in_file(size: int, fmt: str, byte_offset: int, samples_per_frame: int) -> int:
    bits = _BITS_PER_SAMPLE[fmt]
    return int(max(0, size - byte_offset) * 8 // bits) // samples_per_frame


def _flac_frames(path: Path) -> int:
    try:
        import soundfile
    except ImportError:
        raise EcgFormatError(path, "FLAC-compressed WFDB (formats 508/516/524) needs the soundfile package") from None
    if read_head(path, 4) != b"fLaC":
        raise EcgFormatError(path, "the data file is not a FLAC stream as its WFDB format says")
    try:
        return int(soundfile.info(str(path)).frames)
    except Exception as exc:  # noqa: BLE001 - libsndfile errors
        raise EcgFormatError(path, f"the FLAC data file is damaged ({_short(exc)})") from exc


def _plan_segment(header_path: Path, expected_len: int | None = None) -> _Segment:
    """Read and check a single-segment header and its data files; nothing is decoded yet.

    ``expected_len``: the length a multi-segment master header gives this segment.
    """
    text = read_header_text(header_path)
    line = parse_record_line(text, header_path)
    _, comments = split_header(text)
    if line.n_seg is not None:
        raise EcgFormatError(header_path, "a multi-segment header cannot be a segment of another record")
    warnings: list[str] = []
    if line.n_sig == 0:
        raise EcgFormatError(header_path, "the record has no signals (zero leads)")
    fs = _check_fs(line.fs, header_path, warnings)
    base = _record_base(header_path)
    header = _call_wfdb(header_path, "the WFDB header could not be parsed", _rdheader, base)
    file_names = list(getattr(header, "file_name", None) or [])
    if len(file_names) != line.n_sig:
        raise EcgFormatError(
            header_path, f"the header announces {line.n_sig} signal(s) but describes {len(file_names)}"
        )

    def field_of(name: str, i: int) -> Any:
        values = getattr(header, name, None)
        return None if values is None else values[i]

    leads: list[_Lead] = []
    dropped: list[str] = []
    file_specs: dict[str, tuple[str, int, int]] = {}
    for i, file_name in enumerate(file_names):
        sig_name = str(field_of("sig_name", i) or f"signal {i + 1}")
        fmt = str(field_of("fmt", i))
        if fmt not in SUPPORTED_FORMATS:
            raise EcgFormatError(header_path, f"signal {sig_name!r} uses unsupported WFDB storage format {fmt!r}")
        if not file_name or file_name == "~":
            raise EcgFormatError(header_path, f"signal {sig_name!r} has no data file")
        spf = int(field_of("samps_per_frame", i) or 1)
        if not 1 <= spf <= _MAX_SAMPLES_PER_FRAME:
            raise EcgFormatError(header_path, f"signal {sig_name!r} has an impossible {spf} samples per frame")
        skew = int(field_of("skew", i) or 0)
        offset = int(field_of("byte_offset", i) or 0)
        if skew < 0 or offset < 0:
            raise EcgFormatError(header_path, f"signal {sig_name!r} has a negative skew or byte offset")
        previous = file_specs.get(file_name)
        if previous is not None and (previous[0] != fmt or previous[1] != offset):
            raise EcgFormatError(
                header_path, f"signals in data file {file_name} disagree on storage format or byte offset"
            )
        file_specs[file_name] = (fmt, offset, (previous[2] if previous else 0) + spf)
        raw_gain = field_of("adc_gain", i)
        gain = float(raw_gain) if raw_gain is not None else 0.0
        if gain == 0.0:
            gain = WFDB_DEFAULT_GAIN
        baseline = float(field_of("baseline", i) or 0)
        raw_unit = field_of("units", i)
        unit = canonical_voltage_unit(raw_unit) if raw_unit else "mV"
        if unit is None:
            dropped.append(f"{sig_name} ({raw_unit})")
            continue
        factor = mv_per_unit(unit) or 1.0
        mv_per_adu = factor / gain if math.isfinite(gain) else math.nan
        if not (math.isfinite(mv_per_adu) and math.isfinite(baseline) and mv_per_adu != 0.0):
            raise EcgFormatError(header_path, f"lead {sig_name} has an unusable ADC gain {raw_gain!r} or baseline")
        adc_res = field_of("adc_res", i)
        checksum = field_of("checksum", i)
        leads.append(
            _Lead(
                index=i, name=sig_name, file_name=file_name, fmt=fmt, spf=spf, skew=skew, byte_offset=offset,
                gain=gain, baseline=baseline, unit=unit, mv_per_adu=mv_per_adu,
                adc_res=int(adc_res) if adc_res else None,
                checksum=int(checksum) if checksum is not None else None,
            )
        )
    if not leads:
        raise EcgFormatError(header_path, f"the record has no voltage (ECG) signals, only {', '.join(dropped)}")
    if dropped:
        warnings.append(f"non-voltage signals left out: {', '.join(dropped)}")

    # Data files: present, and long enough for what the header says.
    sig_len = line.sig_len
    for file_name, (fmt, offset, file_spf) in file_specs.items():
        data_path = header_path.parent / file_name
        if not data_path.is_file():
            raise EcgFormatError(header_path, f"the data file {file_name} is missing")
        if fmt in _FLAC_FORMATS:
            channels = file_names.count(file_name)
            frames = max(0, _flac_frames(data_path) - offset) // max(1, file_spf // channels)
        else:
            frames = _frames_in_file(data_path.stat().st_size, fmt, offset, file_spf)
        if sig_len is None:
            sig_len = frames
            warnings.append(f"the header gives no signal length; {frames} samples inferred from {file_name}")
        elif frames < sig_len:
            raise EcgFormatError(
                data_path,
                f"the data file is truncated: the header says {sig_len} samples per signal, the file holds {frames}",
            )
        elif frames > sig_len:
            warnings.append(f"data file {file_name} holds {frames} samples per signal, more than the header's {sig_len}")
    assert sig_len is not None
    max_skew = max((lead.skew for lead in leads), default=0)
    n_samples = sig_len - max_skew
    if max_skew:
        warnings.append(f"signals are skewed by up to {max_skew} samples; the last {max_skew} samples are left out")
    if expected_len is not None:
        if n_samples < expected_len:
            raise EcgFormatError(
                header_path, f"the segment holds {n_samples} samples but the master header says {expected_len}"
            )
        n_samples = expected_len
    return _Segment(
        header_path=header_path, base=base, line=line, comments=comments, fs=fs, sig_len=sig_len,
        n_samples=n_samples, leads=leads, dropped=dropped, n_sig=line.n_sig, file_specs=file_specs,
        signal_files=file_names, warnings=warnings,
    )


def _rdheader(base: Path) -> Any:
    import wfdb

    return wfdb.rdheader(str(base))


def _convert(
    raw: NDArray[Any],
    lead: _Lead,
    n_samples: int,
    out_row: NDArray[np.float32],
    digital_offset: int,
    path: Path,
) -> int:
    """Turn ``n_samples`` stored integers of ``lead`` (``spf`` per sample) into mV in ``out_row``.

    Returns the sum of the digital samples (for the WFDB checksum). Raises EcgFormatError
    on WFDB missing-sample markers and on values that are not finite in mV.
    """
    invalid = _INVALID_SAMPLE.get(lead.fmt)
    spf = lead.spf
    total = 0
    for start in range(0, n_samples, _CHUNK):
        stop = min(n_samples, start + _CHUNK)
        digital = np.asarray(raw[start * spf : stop * spf]).astype(np.int64)
        if digital.size != (stop - start) * spf:
            raise EcgFormatError(path, f"lead {lead.name} ends early: the data file is shorter than the header says")
        if digital_offset:
            digital -= digital_offset
        if invalid is not None and bool((digital == invalid).any()):
            first = start + int(np.argmax(digital == invalid)) // spf
            raise EcgFormatError(path, f"lead {lead.name} contains missing/invalid samples (first at sample {first})")
        total += int(digital.sum())
        values = digital.astype(np.float64)
        if spf > 1:
            values = values.reshape(-1, spf).mean(axis=1)
        values -= lead.baseline
        values *= lead.mv_per_adu
        chunk = out_row[start:stop]
        with np.errstate(over="ignore", invalid="ignore"):
            chunk[...] = values
        if not bool(np.isfinite(chunk).all()):
            raise EcgFormatError(path, f"lead {lead.name} has values too large to represent in mV (check its ADC gain)")
    return total


def _memmappable(segment: _Segment) -> bool:
    return all(
        spec[0] in _MEMMAP_FORMATS for spec in segment.file_specs.values()
    ) and all(lead.spf == 1 and lead.skew == 0 for lead in segment.leads) and segment.n_sig == sum(
        spec[2] for spec in segment.file_specs.values()
    )


def _read_segment(segment: _Segment, out: NDArray[np.float32], rows: Sequence[int]) -> None:
    """Decode the segment's leads into ``out[rows[k]]`` (``out`` has ``segment.n_samples`` columns)."""
    n = segment.n_samples
    sums: dict[int, int] = {}
    if _memmappable(segment):
        for file_name, (fmt, offset, width) in segment.file_specs.items():
            data_path = segment.header_path.parent / file_name
            dtype, digital_offset = _MEMMAP_FORMATS[fmt]
            columns = [j for j, f in enumerate(segment.signal_files) if f == file_name]
            mapped = np.memmap(data_path, dtype=np.dtype(dtype), mode="r", offset=offset, shape=(n, width))
            try:
                for lead, row in zip(segment.leads, rows):
                    if lead.file_name != file_name:
                        continue
                    column = mapped[:, columns.index(lead.index)]
                    sums[lead.index] = _convert(column, lead, n, out[row], digital_offset, data_path)
            finally:
                del mapped
    else:
        import wfdb

        record = _call_wfdb(
            segment.header_path,
            "the WFDB signal data could not be decoded",
            wfdb.rdrecord,
            str(segment.base),
            sampto=n,
            channels=[lead.index for lead in segment.leads],
            physical=False,
            smooth_frames=False,
            return_res=32,
        )
        expanded = getattr(record, "e_d_signal", None)
        if expanded is None or len(expanded) != len(segment.leads):
            raise EcgFormatError(segment.header_path, "the WFDB signal data could not be decoded")
        for k, (lead, row) in enumerate(zip(segment.leads, rows)):
            data_path = segment.header_path.parent / lead.file_name
            sums[lead.index] = _convert(expanded[k], lead, n, out[row], 0, data_path)
    if segment.checksums_apply:
        for lead in segment.leads:
            if lead.checksum is not None and (sums[lead.index] - lead.checksum) % 65536 != 0:
                message = f"checksum mismatch in lead {lead.name} (the data file may be damaged)"
                logger.warning("%s: %s", segment.header_path, message)
                segment.warnings.append(message)


# --- annotations -------------------------------------------------------------------------


def _read_annotations(
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
        ann = _call_wfdb(ann_path, "the annotation file is damaged", wfdb.rdann, str(base), extension)
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


# --- whole records ----------------------------------------------------------------------


def _metadata(
    base: Path,
    line: RecordLine,
    comments: Sequence[str],
    leads: Sequence[_Lead],
    warnings: Sequence[str],
    dropped: Sequence[str],
    extra: dict[str, Any],
) -> dict[str, Any]:
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


def _read_single(header_path: Path, options: WfdbOptions) -> Recording:
    segment = _plan_segment(header_path)
    if segment.n_samples < 2:
        raise EcgFormatError(
            header_path, f"the record has {segment.n_samples} sample(s) per lead; at least 2 are needed"
        )
    out = np.empty((len(segment.leads), segment.n_samples), dtype=np.float32)
    _read_segment(segment, out, range(len(segment.leads)))
    warnings = list(segment.warnings)
    annotations = _read_annotations(segment.base, options.annotator, segment.n_samples, warnings)
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


def _read_multi(header_path: Path, line: RecordLine, options: WfdbOptions) -> Recording:
    """A multi-segment record (fixed or variable layout) as one contiguous recording."""
    text = read_header_text(header_path)
    _, comments = split_header(text)
    warnings: list[str] = []
    if line.n_sig == 0:
        raise EcgFormatError(header_path, "the record has no signals (zero leads)")
    fs = _check_fs(line.fs, header_path, warnings)
    base = _record_base(header_path)
    header = _call_wfdb(header_path, "the multi-segment WFDB header could not be parsed", _rdheader, base)
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
        layout = _call_wfdb(layout_path, "the layout header could not be parsed", _rdheader, _record_base(layout_path))
        layout_names = [str(s) for s in (getattr(layout, "sig_name", None) or [])]
        if len(layout_names) != layout_line.n_sig or not layout_names:
            raise EcgFormatError(layout_path, "the layout header does not list the record's signals")
        if len(set(layout_names)) != len(layout_names):
            raise EcgFormatError(layout_path, "the layout header names a signal twice")

    segments: list[tuple[int, _Segment]] = []  # (first sample, segment)
    position = 0
    for name, length in zip(seg_names[start_index:], seg_lens[start_index:]):
        if length == 0:
            continue
        if name == "~":
            raise EcgFormatError(
                header_path, f"samples {position}-{position + length - 1} hold no data (gaps are not supported)"
            )
        seg_path = header_path.parent / f"{name}.hea"
        segment = _plan_segment(seg_path, expected_len=length)
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
    reference: dict[int, _Lead] = {}
    plans: list[tuple[int, _Segment, list[int]]] = []
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
                raise EcgFormatError(segment.header_path, f"signal {lead.name} is not a voltage signal in every segment")
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
        _read_segment(segment, out[:, start : start + segment.n_samples], rows)
        warnings.extend(f"segment {segment.base.name}: {w}" for w in segment.warnings)
    annotations = _read_annotations(base, options.annotator, total, warnings)
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
        if annotator is not None:
            if not isinstance(annotator, str) or not annotator or not annotator.replace("_", "").isalnum():
                raise ValueError(f"annotator must be a file extension such as 'atr' or 'qrs', not {annotator!r}")
        return WfdbOptions(annotator=annotator)

    def _read(self, path: Path, options: WfdbOptions) -> Recording:
        header_path = resolve_header(path)
        text = read_header_text(header_path)
        line = parse_record_line(text, header_path)
        if line.n_seg is not None:
            return _read_multi(header_path, line, options)
        return _read_single(header_path, options)
