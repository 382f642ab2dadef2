"""WFDB signal files: check a single-segment record against its header, decode it to mV.

Signals are read as stored integers (``physical=False``) and converted here, once,
to float32 mV with each signal's own gain, baseline and units, so that missing
samples and impossible values are recognised. Files in 16/32-bit formats are
memory-mapped rather than read whole.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ, LeadCalibration
from ecgstation.io.base import read_head
from ecgstation.io.units import canonical_voltage_unit, mv_per_unit
from ecgstation.io.wfdb_header import (
    WFDB_DEFAULT_FS_HZ,
    RecordLine,
    parse_record_line,
    read_header_text,
    split_header,
)

logger = logging.getLogger(__name__)

#: Storage formats the reader accepts (those the wfdb package decodes).
SUPPORTED_FORMATS: tuple[str, ...] = (
    "8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524",
)
_T = TypeVar("_T")

_FLAC_FORMATS = frozenset({"508", "516", "524"})
# Bits per sample of the uncompressed formats, as (bits, samples): 310 packs 3 samples in 32 bits.
_BITS_PER_SAMPLE = {
    "8": (8, 1), "16": (16, 1), "24": (24, 1), "32": (32, 1), "61": (16, 1), "80": (8, 1), "160": (16, 1),
    "212": (12, 1), "310": (32, 3), "311": (32, 3),
}
# WFDB's marker for a missing sample, per format (format 8 has none).
_INVALID_SAMPLE = {
    "80": -(2**7), "508": -(2**7), "310": -(2**9), "311": -(2**9), "212": -(2**11), "16": -(2**15),
    "61": -(2**15), "160": -(2**15), "516": -(2**15), "24": -(2**23), "524": -(2**23), "32": -(2**31),
}
# Formats read by memory-mapping the data file: numpy dtype and offset to subtract.
_MEMMAP_FORMATS = {"16": ("<i2", 0), "61": (">i2", 0), "160": ("<u2", 32768), "32": ("<i4", 0), "80": ("u1", 128)}
# Formats whose samples fit in int16 (wfdb can then return them without widening).
_FITS_INT16 = frozenset({"16", "61", "80", "160", "212", "310", "311", "508", "516"})
#: WFDB default ADC gain (ADC units per physical unit) when the header gives none or 0.
WFDB_DEFAULT_GAIN = 200.0
_MAX_SAMPLES_PER_FRAME = 1024
_CHUNK = 1 << 18  # samples converted per step (bounds temporary memory)



@dataclass(frozen=True)
class Lead:
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
        """The lead's calibration as the Recording states it (gain in ADC units per mV)."""
        return LeadCalibration(
            gain=self.gain / (mv_per_unit(self.unit) or 1.0),
            baseline=self.baseline,
            source_unit=self.unit,
            adc_resolution_bits=self.adc_res,
        )

    @property
    def conversion(self) -> tuple[float, float, str]:
        """(gain, baseline, unit): equal tuples convert stored integers the same way."""
        return (self.gain, self.baseline, self.unit)


@dataclass
class Segment:
    """A validated single-segment record, ready to read ``n_samples`` per lead."""

    header_path: Path
    base: Path
    line: RecordLine
    comments: list[str]
    fs: float
    sig_len: int
    n_samples: int
    leads: list[Lead]
    dropped: list[str]
    n_sig: int
    file_specs: dict[str, tuple[str, int, int]]  # file -> (fmt, byte_offset, samples per frame in file)
    signal_files: list[str]  # data file of every signal, left-out ones included
    warnings: list[str] = field(default_factory=list)

    @property
    def checksums_apply(self) -> bool:
        """Whether the whole signal is read, so the header's checksums can be compared."""
        return self.n_samples == self.sig_len


def _short(exc: BaseException) -> str:
    """First line of an exception's message, shortened for a user-facing reason."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:160]


def call_wfdb(path: Path, what: str, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a wfdb function; any exception it raises becomes EcgFormatError(path, what ...)."""
    try:
        return func(*args, **kwargs)
    except EcgFormatError:
        raise
    except MemoryError:
        raise EcgFormatError(path, "the record is too large to load into memory") from None
    except Exception as exc:
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


def record_base(header_path: Path) -> Path:
    """The record's path without ``.hea`` (what the wfdb package calls the record name)."""
    return header_path.parent / header_path.name[: -len(".hea")]


def check_fs(fs: float | None, path: Path, warnings: list[str]) -> float:
    """A plausible sampling frequency in Hz from the header (WFDB's default when absent)."""
    if fs is None:
        warnings.append(f"the header gives no sampling frequency; WFDB's default {WFDB_DEFAULT_FS_HZ:g} Hz is used")
        return WFDB_DEFAULT_FS_HZ
    if not math.isfinite(fs) or not (MIN_FS_HZ <= fs <= MAX_FS_HZ):
        raise EcgFormatError(
            path, f"sampling frequency {fs:g} Hz is not plausible (expected {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz)"
        )
    return float(fs)


def _frames_in_file(size: int, fmt: str, byte_offset: int, samples_per_frame: int) -> int:
    """Whole frames of ``samples_per_frame`` samples a data file of ``size`` bytes holds."""
    bits, per = _BITS_PER_SAMPLE[fmt]
    samples = max(0, size - byte_offset) * 8 * per // bits
    return samples // samples_per_frame


def _flac_frames(path: Path) -> int:
    """Number of frames in a FLAC signal file (read from its header only)."""
    try:
        import soundfile
    except ImportError:
        raise EcgFormatError(path, "FLAC-compressed WFDB (formats 508/516/524) needs the soundfile package") from None
    if read_head(path, 4) != b"fLaC":
        raise EcgFormatError(path, "the data file is not a FLAC stream as its WFDB format says")
    try:
        return int(soundfile.info(str(path)).frames)
    except Exception as exc:
        raise EcgFormatError(path, f"the FLAC data file is damaged ({_short(exc)})") from exc


@dataclass(frozen=True)
class OpenedHeader:
    """What every WFDB header gives once its record line is parsed: comments, fs (Hz), the
    record base name, the wfdb package's header object, and warnings so far."""

    comments: list[str]
    warnings: list[str]
    fs: float
    base: Path
    header: Any


def open_header(header_path: Path, text: str, line: RecordLine, what: str) -> OpenedHeader:
    """Check a parsed header (leads present, fs plausible) and parse it with the wfdb package."""
    _, comments = split_header(text)
    warnings: list[str] = []
    if line.n_sig == 0:
        raise EcgFormatError(header_path, "the record has no signals (zero leads)")
    fs = check_fs(line.fs, header_path, warnings)
    base = record_base(header_path)
    header = call_wfdb(header_path, f"{what} could not be parsed", rdheader, base)
    return OpenedHeader(comments, warnings, fs, base, header)


def plan_segment(header_path: Path, expected_len: int | None = None, text: str | None = None) -> Segment:
    """Read and check a single-segment header and its data files; nothing is decoded yet.

    ``expected_len``: the length a multi-segment master header gives this segment.
    """
    text = read_header_text(header_path) if text is None else text
    line = parse_record_line(text, header_path)
    if line.n_seg is not None:
        raise EcgFormatError(header_path, "a multi-segment header cannot be a segment of another record")
    opened = open_header(header_path, text, line, "the WFDB header")
    comments, warnings, fs, base, header = opened.comments, opened.warnings, opened.fs, opened.base, opened.header
    file_names = list(getattr(header, "file_name", None) or [])
    if len(file_names) != line.n_sig:
        raise EcgFormatError(
            header_path, f"the header announces {line.n_sig} signal(s) but describes {len(file_names)}"
        )

    def field_of(name: str, i: int) -> Any:
        values = getattr(header, name, None)
        return None if values is None else values[i]

    leads: list[Lead] = []
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
            Lead(
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
            warnings.append(
                f"data file {file_name} holds {frames} samples per signal, more than the header's {sig_len}"
            )
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
    return Segment(
        header_path=header_path, base=base, line=line, comments=comments, fs=fs, sig_len=sig_len,
        n_samples=n_samples, leads=leads, dropped=dropped, n_sig=line.n_sig, file_specs=file_specs,
        signal_files=file_names, warnings=warnings,
    )


def rdheader(base: Path) -> Any:
    """The wfdb package's header object of the record at ``base``."""
    import wfdb

    return wfdb.rdheader(str(base))


def _convert(
    raw: NDArray[Any],
    lead: Lead,
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


def _memmappable(segment: Segment) -> bool:
    """Whether every data file can be memory-mapped as plain integers (one sample per frame)."""
    return all(
        spec[0] in _MEMMAP_FORMATS for spec in segment.file_specs.values()
    ) and all(lead.spf == 1 and lead.skew == 0 for lead in segment.leads) and segment.n_sig == sum(
        spec[2] for spec in segment.file_specs.values()
    )


def read_segment(segment: Segment, out: NDArray[np.float32], rows: Sequence[int]) -> None:
    """Decode the segment's leads into ``out[rows[k]]`` (``out`` has ``segment.n_samples`` columns)."""
    n = segment.n_samples
    sums: dict[int, int] = {}
    if _memmappable(segment):
        for file_name, (fmt, offset, width) in segment.file_specs.items():
            data_path = segment.header_path.parent / file_name
            dtype, digital_offset = _MEMMAP_FORMATS[fmt]
            columns = [j for j, f in enumerate(segment.signal_files) if f == file_name]
            mapped = np.memmap(data_path, dtype=np.dtype(dtype), mode="r", offset=offset, shape=(n, width))
            column: NDArray[Any] | None = None
            try:
                for lead, row in zip(segment.leads, rows, strict=True):
                    if lead.file_name != file_name:
                        continue
                    column = mapped[:, columns.index(lead.index)]
                    sums[lead.index] = _convert(column, lead, n, out[row], digital_offset, data_path)
            finally:
                del column, mapped  # drop every view so the file mapping is released
    else:
        import wfdb

        record = call_wfdb(
            segment.header_path,
            "the WFDB signal data could not be decoded",
            wfdb.rdrecord,
            str(segment.base),
            sampto=n,
            channels=[lead.index for lead in segment.leads],
            physical=False,
            smooth_frames=False,
            return_res=16 if all(lead.fmt in _FITS_INT16 for lead in segment.leads) else 32,
        )
        expanded = getattr(record, "e_d_signal", None)
        if expanded is None or len(expanded) != len(segment.leads):
            raise EcgFormatError(segment.header_path, "the WFDB signal data could not be decoded")
        for k, (lead, row) in enumerate(zip(segment.leads, rows, strict=True)):
            data_path = segment.header_path.parent / lead.file_name
            sums[lead.index] = _convert(expanded[k], lead, n, out[row], 0, data_path)
    if segment.checksums_apply:
        wrong = [
            lead.name
            for lead in segment.leads
            if lead.checksum is not None and (sums[lead.index] - lead.checksum) % 65536 != 0
        ]
        if wrong:
            message = f"checksum mismatch in lead {', '.join(wrong)} (the data file may be damaged)"
            logger.warning("%s: %s", segment.header_path, message)
            segment.warnings.append(message)
