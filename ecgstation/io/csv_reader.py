"""Delimited text ECG files (CSV, TSV, semicolon, whitespace) into a Recording."""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ, LeadCalibration, Recording
from ecgstation.io.base import Importer, read_head
from ecgstation.io.csv_dialect import (
    Dialect,
    clock_seconds,
    decode_text,
    detect_dialect,
    fs_from_comments,
    is_clock,
    is_comment,
    is_data_row,
    is_index_column,
    is_number,
    split_unit,
    time_column_unit,
    time_unit_from_text,
)
from ecgstation.io.units import MV_PER_UNIT, canonical_voltage_unit

logger = logging.getLogger(__name__)

#: Content lines looked at to detect the dialect and the header.
_SAMPLE_LINES = 50
#: Bytes a sniff reads.
_SNIFF_BYTES = 8192
#: Robust peak-to-peak amplitude (0.5-99.5 percentile range) separating mV from uV data.
MV_UV_BOUNDARY = 45.0
#: Robust peak-to-peak amplitudes for which the units guess is flagged as uncertain.
AMBIGUOUS_P2P = (20.0, 100.0)
#: Allowed deviation of a time step from the mean step, as a fraction of the step.
MAX_TIME_JITTER = 0.01
_SECONDS_PER = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "clock": 1.0}
_EPOCH_RANGE_S = (946684800.0, 4102444800.0)  # 2000-01-01 .. 2100-01-01 as Unix time
_BLANK_OR_COMMENT = re.compile(r"^[ \t]*(?:(?:#|//).*)?$", re.MULTILINE)
_ECG_NAMES = {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6", "mlii", "ecg"}


@dataclass(frozen=True)
class CsvOptions:
    """Options of :class:`CsvImporter`.

    ``fs``: sampling rate in Hz (wins over a time column); ``units``: unit of the
    sample values, ``"mV"``, ``"uV"`` (or ``"µV"``) or ``"V"``; None detects it from
    the header, else from the amplitude.
    """

    fs: float | None = None
    units: str | None = None


# --- the first lines -------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    """Leading comments and the first content lines: (line number from 1, stripped text, offset)."""

    lines: list[tuple[int, str, int]]
    comments: list[str]


def _normalise_newlines(text: str) -> str:
    """CR LF and lone CR line breaks turned into LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _scan_head(text: str, max_lines: int = _SAMPLE_LINES) -> _Head:
    """Leading comments and the first ``max_lines`` non-blank, non-comment lines of ``text``."""
    lines: list[tuple[int, str, int]] = []
    comments: list[str] = []
    pos = 0
    number = 0
    size = len(text)
    while pos <= size and len(lines) < max_lines:
        end = text.find("\n", pos)
        if end == -1:
            end = size
        number += 1
        stripped = text[pos:end].strip()
        if stripped:
            if is_comment(stripped):
                if not lines:
                    comments.append(stripped.lstrip("#/").strip())
            else:
                lines.append((number, stripped, pos))
        pos = end + 1
    return _Head(lines, comments)


@dataclass(frozen=True)
class _Layout:
    """What the first lines say: dialect, header rows, number of columns, first data line."""

    dialect: Dialect
    names: list[str] | None  # header cells; None without a header
    units_row: list[str] | None  # a second header row (PhysioNet exports: 'mV', 'hh:mm:ss.mmm')
    n_columns: int
    first_data: int  # index into the head's lines
    comments: list[str]


def _layout(head: _Head) -> _Layout:
    """Dialect and header rows from the first content lines; ValueError with a reason if there is no data."""
    forced: str | None = None
    start = 0
    if head.lines and head.lines[0][1].lower().startswith("sep=") and len(head.lines[0][1]) == 5:
        forced = head.lines[0][1][4]  # Excel's "sep=;" first line
        start = 1
    sample = [line for _, line, _ in head.lines[start:]]
    if not sample:
        raise ValueError("the file holds no data rows")
    dialect = detect_dialect(sample)
    if forced is not None:
        dialect = Dialect(forced, "," if dialect.decimal == "," and forced != "," else ".")
    rows = [dialect.split(line) for line in sample]
    n_header = 0
    if not is_data_row(rows[0], dialect):
        n_header = 1
        if len(rows) > 1 and not is_data_row(rows[1], dialect) and _is_units_row(rows[1]):
            n_header = 2
    if n_header >= len(rows):
        raise ValueError("the file holds a header but no data rows")
    if not is_data_row(rows[n_header], dialect):
        number = head.lines[start + n_header][0]
        raise ValueError(f"line {number} is not numeric data: {sample[n_header][:60]!r}")
    names = rows[0] if n_header >= 1 else None
    units_row = rows[1] if n_header >= 2 else None
    # The usual width of the data rows (a damaged first row is reported later, as ragged).
    widths = Counter(len(r) for r in rows[n_header:] if is_data_row(r, dialect))
    n_columns = widths.most_common(1)[0][0]
    return _Layout(dialect, names, units_row, n_columns, start + n_header, head.comments)


def _is_units_row(cells: Sequence[str]) -> bool:
    """Whether a second header row names units (``mV``, ``(sec)``, ``hh:mm:ss.mmm``) and nothing else."""
    return any(cells) and all(
        not cell or canonical_voltage_unit(cell.strip("()[] ")) is not None or time_unit_from_text(cell) is not None
        for cell in cells
    )


# --- the data rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """The data rows as one text, and how row numbers map to file lines."""

    text: str
    first_line: int
    line_numbers: list[int] | None  # None: rows are consecutive lines from first_line

    def line_of(self, row: int) -> int:
        """File line number (from 1) of data row ``row``."""
        return self.first_line + row if self.line_numbers is None else self.line_numbers[row]

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        if self.line_numbers is not None:
            return len(self.line_numbers)
        return self.text.count("\n") + 1 if self.text else 0

    def head_rows(self, n: int) -> list[str]:
        """The first ``n`` data rows as text."""
        return self.text.split("\n", n)[:n]


def _first_sample_number(data: NDArray[np.float64], index_cols: list[int]) -> int:
    """The file's own number of its first sample: the first value of a sample-number column, else 0."""
    for k in index_cols:
        first = data[0, k]
        if np.isfinite(first) and float(first).is_integer():
            return int(first)
    return 0


def _data_block(text: str, head: _Head, layout: _Layout, path: Path) -> _Block:
    """Everything from the first data row on, with blank and comment lines among the rows removed.

    In a one-column file a blank line among the data rows is an error, not padding: it
    is a missing sample, and dropping it would shift every later sample in time.
    """
    number, _, offset = head.lines[layout.first_data]
    block = text[offset:]
    if _BLANK_OR_COMMENT.search(block) is None:
        return _Block(block, number, None)
    kept = []
    for i, line in enumerate(block.split("\n")):
        stripped = line.strip()
        if not stripped and layout.n_columns == 1:
            raise EcgFormatError(
                path, f"line {number + i} is blank among the data rows (a missing sample would shift the rest)"
            )
        if stripped and not is_comment(stripped):
            kept.append((number + i, line))
    return _Block("\n".join(line for _, line in kept), number, [n for n, _ in kept])


def _line_problem(line: str, dialect: Dialect, n_columns: int, clock_column: int | None) -> str | None:
    """Why one data line cannot be parsed (slow path, only to explain an error)."""
    cells = dialect.split(line)
    if len(cells) != n_columns:
        return f"has {len(cells)} values where {n_columns} are expected"
    for k, cell in enumerate(cells):
        if k == clock_column and is_clock(cell):
            continue
        if cell == "":
            return f"has an empty cell in column {k + 1}"
        if not is_number(cell, dialect):
            return f"has a non-numeric value {cell[:30]!r} in column {k + 1}"
    return None


def _parse(block: _Block, layout: _Layout, clock_col: int | None, path: Path) -> NDArray[np.float64]:
    """All data rows as float64 ``(rows, columns)``; EcgFormatError naming the first bad line."""
    dialect = layout.dialect
    text = block.text
    if '"' in text or "'" in text:
        text = text.translate({34: None, 39: None})
    if dialect.delimiter is not None:
        trailing = re.compile(rf"[{re.escape(dialect.delimiter)} \t]+$", re.MULTILINE)
        if trailing.search(text) is not None:
            text = trailing.sub("", text)
    if dialect.decimal == ",":
        text = text.replace(",", ".")
    converters: dict[int | str, Callable[[str], Any]] | None = (
        {clock_col: clock_seconds} if clock_col is not None else None
    )
    try:
        data = np.loadtxt(
            io.StringIO(text),
            delimiter=dialect.delimiter,
            dtype=np.float64,
            comments=None,
            ndmin=2,
            converters=converters,
        )
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        logger.debug("loadtxt failed on %s: %s", path, exc)
        for row, line in enumerate(block.text.split("\n")):
            problem = _line_problem(line.strip(), dialect, layout.n_columns, clock_col)
            if problem is not None:
                raise EcgFormatError(path, f"line {block.line_of(row)} {problem}") from None
        raise EcgFormatError(path, "the data rows cannot be read as numbers") from None
    if data.shape != (block.n_rows, layout.n_columns):
        raise EcgFormatError(path, "the data rows differ in their number of values")
    return data


# --- time axis and sampling rate -------------------------------------------------------


@dataclass(frozen=True)
class _TimeAxis:
    """Sampling rate (Hz) derived from a time column, and the start time if it holds Unix time."""

    fs: float
    start: datetime | None


def _decimals(cells: Sequence[str]) -> int | None:
    """Most digits after the decimal point in ``cells`` (None if one uses an exponent)."""
    most = 0
    for cell in cells:
        if "e" in cell.lower():
            return None
        if "." in cell:
            most = max(most, len(cell.rsplit(".", 1)[1]))
    return most


def _resolution(sample_rows: Sequence[Sequence[str]], col: int | None, dialect: Dialect) -> float:
    """Smallest step the text of column ``col`` can express (0.001 for ``1.234``; 0 if unknown)."""
    if col is None:
        return 0.0
    decimals = _decimals([dialect.number_text(row[col]) for row in sample_rows if col < len(row)])
    return 0.0 if decimals is None else 10.0 ** (-decimals)


def _fs_from_time(t: NDArray[np.float64], unit: str, resolution: float, block: _Block, path: Path) -> _TimeAxis:
    """Sampling rate (Hz) from a time column; EcgFormatError if it is not increasing or irregular.

    ``unit``: ``"s"``, ``"ms"``, ``"us"``, ``"clock"`` (seconds), or ``""`` to decide
    from the step (a mean step below 0.03 is in seconds, else in milliseconds, since
    50-20000 Hz is 0.00005-0.02 s or 0.05-20 ms). ``resolution``: the smallest time
    difference the file writes, in the column's unit; steps may deviate from the mean
    step by 1 % of it plus that resolution.
    """
    finite = np.isfinite(t)
    if not bool(finite.all()):
        bad = int(np.argmin(finite))
        raise EcgFormatError(path, f"the time column contains missing/invalid values at line {block.line_of(bad)}")
    steps = np.diff(t)
    if not bool((steps >= 0).all()):
        bad = int(np.argmax(steps < 0))
        raise EcgFormatError(path, f"the time column goes backwards at line {block.line_of(bad + 1)}")
    span = float(t[-1] - t[0])
    if not span > 0:
        raise EcgFormatError(path, "the time column does not advance: sampling rate cannot be determined, pass fs")
    mean_step = span / (t.size - 1)
    deviation = np.abs(steps - mean_step)
    too_far = deviation > MAX_TIME_JITTER * mean_step + resolution
    if bool(too_far.any()):
        bad = int(np.argmax(too_far))
        raise EcgFormatError(
            path,
            f"irregular time steps (more than {MAX_TIME_JITTER:.0%} jitter): the step before line "
            f"{block.line_of(bad + 1)} is {steps[bad]:g}, the median step {float(np.median(steps)):g}; "
            "resample the data or pass fs",
        )
    if unit == "":
        unit = "s" if mean_step < 0.03 else "ms"
    fs = 1.0 / (mean_step * _SECONDS_PER[unit])
    # Timestamps printed with few digits: round to a whole Hz within their precision.
    precision = max(1e-4, 2.0 * resolution / span)
    if abs(fs - round(fs)) <= precision * fs:
        fs = float(round(fs))
    start = None
    t0_s = float(t[0]) * _SECONDS_PER[unit]
    if unit != "clock" and _EPOCH_RANGE_S[0] <= t0_s <= _EPOCH_RANGE_S[1]:
        start = datetime.fromtimestamp(t0_s, tz=UTC)
    return _TimeAxis(fs, start)


def _role_by_values(column: NDArray[np.float64], resolution: float) -> str | None:
    """For a first column without a time name: ``"index"`` if it counts samples (whole
    numbers in steps of 1), ``"time"`` if it rises in regular steps, else None."""
    if column.size < 10 or not bool(np.isfinite(column).all()):
        return None
    steps = np.diff(column)
    if not bool((steps >= 0).all()):
        return None
    if bool((steps == 1).all()) and float(column[0]) == round(float(column[0])):
        return "index"
    span = float(column[-1] - column[0])
    if not span > 0:
        return None
    mean_step = span / (column.size - 1)
    if bool((np.abs(steps - mean_step) <= MAX_TIME_JITTER * mean_step + resolution).all()):
        return "time"
    return None


def _sampling_rate(
    options: CsvOptions,
    data: NDArray[np.float64],
    time_col: int | None,
    time_unit: str,
    resolution: float,
    comments: Sequence[str],
    block: _Block,
    path: Path,
    warnings: list[str],
) -> tuple[float, str, datetime | None]:
    """Sampling rate (Hz), how it was found (``caller``, ``time column``, ``comment``) and the
    start time a Unix-timestamp column gives. The caller's ``fs`` wins over a time column."""
    axis: _TimeAxis | None = None
    if time_col is not None:
        try:
            axis = _fs_from_time(data[:, time_col], time_unit, resolution, block, path)
        except EcgFormatError as exc:
            if options.fs is None:
                raise
            warnings.append(f"time column not used: {exc.reason}")
    if options.fs is not None:
        fs, by = options.fs, "caller"
        if axis is not None and abs(axis.fs - fs) > 0.01 * fs:
            warnings.append(f"the time column implies {axis.fs:g} Hz, but fs={fs:g} Hz was given and is used")
    elif axis is not None:
        fs, by = axis.fs, "time column"
    else:
        stated = fs_from_comments(comments)
        if stated is None:
            raise EcgFormatError(path, "sampling rate cannot be determined: pass fs")
        fs, by = stated, "comment"
    if not (MIN_FS_HZ <= fs <= MAX_FS_HZ):
        raise EcgFormatError(path, f"sampling rate {fs:g} Hz ({by}) is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
    return fs, by, axis.start if axis is not None else None


# --- units -----------------------------------------------------------------------------


def _robust_p2p(signals: NDArray[np.float64]) -> float:
    """Median over columns of the 0.5-99.5 percentile range (on at most about 100k rows)."""
    step = max(1, signals.shape[0] // 100_000)
    sample = signals[::step]
    spread = np.percentile(sample, 99.5, axis=0) - np.percentile(sample, 0.5, axis=0)
    return float(np.median(spread))


def _units(
    options: CsvOptions,
    names: Sequence[str] | None,
    units_row: Sequence[str],
    lead_cols: Sequence[int],
    signals: NDArray[np.float64],
    warnings: list[str],
) -> tuple[list[str], str]:
    """Canonical unit of each lead and how it was decided (``caller``, ``header``, ``amplitude``,
    ``default``). Leads without a unit in a header that gives units take the commonest one.
    By amplitude: a robust peak-to-peak below 45 is mV (ECG: about 0.1-20 mV), above it uV
    (about 100-20000 uV)."""
    if options.units is not None:
        return [options.units] * len(lead_cols), "caller"
    from_header: list[str | None] = []
    for k in lead_cols:
        unit = canonical_voltage_unit(split_unit(names[k])[1]) if names is not None else None
        if unit is None and units_row[k]:
            unit = canonical_voltage_unit(units_row[k].strip("()[] "))
        from_header.append(unit)
    known = [u for u in from_header if u is not None]
    if known:
        common = Counter(known).most_common(1)[0][0]
        return [u or common for u in from_header], "header"
    p2p = _robust_p2p(signals)
    if not (math.isfinite(p2p) and p2p > 0):
        return ["mV"] * len(lead_cols), "default"
    unit = "mV" if p2p < MV_UV_BOUNDARY else "uV"
    if AMBIGUOUS_P2P[0] <= p2p <= AMBIGUOUS_P2P[1]:
        warnings.append(f"units guessed as {unit} from an ambiguous amplitude ({p2p:g} peak to peak); pass units")
    return [unit] * len(lead_cols), "amplitude"


def _is_ecg_name(name: str) -> bool:
    """Whether a column name is a standard ECG lead name (then it is never a sample index)."""
    return split_unit(name)[0].strip().lower() in _ECG_NAMES


def _lead_names(names: Sequence[str] | None, lead_cols: Sequence[int]) -> list[str]:
    """Lead names for the lead columns: header names without units, else ``Lead 1``, ..."""
    if names is None:
        return [f"Lead {i + 1}" for i in range(len(lead_cols))]
    return [split_unit(names[k])[0] or f"Lead {i + 1}" for i, k in enumerate(lead_cols)]


# --- the importer ----------------------------------------------------------------------


class CsvImporter(Importer):
    """Delimited text: one column per lead, optionally a time column and header rows.

    Detects the delimiter (comma, semicolon, tab, pipe, whitespace; Excel's ``sep=``
    line) and a decimal comma; a header row (lead names, with units such as
    ``II (mV)``, ``V1 [uV]``) and a second header row of units (PhysioNet exports);
    a time column by name (``time``, ``t``, ``sec``, ``ms``, ``timestamp``,
    ``Elapsed time``; values in s, ms or ``m:ss.mmm``) or, without a header, by its
    regular rise; a sample-number column (left out). Options: :class:`CsvOptions`.
    """

    name: ClassVar[str] = "CSV"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt", ".tab")
    option_names: ClassVar[frozenset[str]] = frozenset({"fs", "units"})

    def _sniff(self, path: Path) -> bool:
        raw = read_head(path, _SNIFF_BYTES)
        if not raw.strip():
            return False
        truncated = len(raw) == _SNIFF_BYTES
        try:
            text, _ = decode_text(raw)
        except ValueError:
            if not truncated:
                return False
            text, _ = decode_text(raw[:-3])  # a multi-byte character cut at the end
        text = _normalise_newlines(text)
        if truncated and "\n" in text:
            text = text[: text.rindex("\n")]  # the last line may be cut
        head = _scan_head(text)
        try:
            layout = _layout(head)
        except ValueError:
            return False
        rows = [layout.dialect.split(line) for _, line, _ in head.lines[layout.first_data :]]
        return all(len(r) == layout.n_columns and is_data_row(r, layout.dialect) for r in rows)

    def _check_options(self, **options: Any) -> CsvOptions:
        fs = options.get("fs")
        if fs is not None:
            if isinstance(fs, bool) or not isinstance(fs, (int, float)) or not math.isfinite(fs) or fs <= 0:
                raise ValueError(f"fs must be a positive number of Hz, not {fs!r}")
            fs = float(fs)
        units = options.get("units")
        if units is not None:
            canonical = canonical_voltage_unit(units) if isinstance(units, str) else None
            if canonical not in ("uV", "mV", "V"):
                raise ValueError(f"units must be 'mV', 'uV' or 'V' (or None to detect), not {units!r}")
            units = canonical
        return CsvOptions(fs=fs, units=units)

    def _read(self, path: Path, options: CsvOptions) -> Recording:
        if path.exists() and not path.is_file():
            raise EcgFormatError(path, "not a regular file")
        head_bytes = read_head(path, _SNIFF_BYTES)
        if b"\x00" in head_bytes and not head_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise EcgFormatError(path, "the file contains binary data (NUL bytes), not text")
        raw = path.read_bytes()
        if not raw.strip():
            raise EcgFormatError(path, "the file is empty")
        try:
            text, encoding = decode_text(raw)
        except ValueError as exc:
            raise EcgFormatError(path, str(exc)) from None
        del raw
        text = _normalise_newlines(text).rstrip()
        head = _scan_head(text)
        try:
            layout = _layout(head)
        except ValueError as exc:
            raise EcgFormatError(path, str(exc)) from None
        block = _data_block(text, head, layout, path)
        del text
        n_rows = block.n_rows
        if n_rows < 2:
            raise EcgFormatError(path, f"the file holds {n_rows} data row(s); at least 2 samples are needed")
        dialect = layout.dialect
        n_columns = layout.n_columns
        warnings: list[str] = []

        names = list(layout.names) if layout.names is not None else None
        if names is not None and len(names) > n_columns:
            extra = [n for n in names[n_columns:] if n]
            if extra:
                warnings.append(f"header columns without data left out: {', '.join(extra)}")
            names = names[:n_columns]
        elif names is not None and len(names) < n_columns:
            raise EcgFormatError(path, f"the header names {len(names)} columns but the data rows have {n_columns}")
        units_row = list(layout.units_row or [])[:n_columns]
        units_row += [""] * (n_columns - len(units_row))

        # Column roles by name: time, sample numbers, leads.
        time_col: int | None = None
        time_unit = ""
        index_cols: list[int] = []
        for k, name in enumerate(names or ()):
            unit = time_column_unit(name)
            if unit is not None and time_col is None:
                time_col, time_unit = k, unit or (time_unit_from_text(units_row[k]) or "")
            elif is_index_column(name):
                index_cols.append(k)
        sample_rows = [dialect.split(row) for row in block.head_rows(100)]
        clock_col = 0 if sample_rows and sample_rows[0] and is_clock(sample_rows[0][0]) else None
        if clock_col is not None and time_col in (None, 0):
            time_col, time_unit = 0, "clock"

        data = _parse(block, layout, clock_col, path)
        if time_col is None and n_columns >= 2 and 0 not in index_cols:
            role = _role_by_values(data[:, 0], _resolution(sample_rows, 0, dialect))
            if role == "time" and names is None:
                time_col = 0
                warnings.append("the first column was taken as time: it rises in regular steps")
            elif role == "index" and (names is None or not _is_ecg_name(names[0])):
                index_cols.append(0)
                warnings.append("the first column counts samples and was left out")
        lead_cols = [k for k in range(n_columns) if k != time_col and k not in index_cols]
        first_sample = _first_sample_number(data, index_cols)
        if not lead_cols:
            raise EcgFormatError(path, "the file holds no signal columns, only time or sample numbers")
        lead_names = _lead_names(names, lead_cols)

        signals64 = data[:, lead_cols]
        bad = ~np.isfinite(signals64)
        if bool(bad.any()):
            row, col = (int(v[0]) for v in np.nonzero(bad))
            raise EcgFormatError(
                path,
                f"lead {lead_names[col]} contains missing/invalid values (NaN or infinity) "
                f"at line {block.line_of(row)}",
            )
        resolution = 1e-3 if time_unit == "clock" else _resolution(sample_rows, time_col, dialect)
        fs, fs_by, start = _sampling_rate(
            options, data, time_col, time_unit, resolution, layout.comments, block, path, warnings
        )
        del data
        unit_names, units_by = _units(options, names, units_row, lead_cols, signals64, warnings)

        signals = np.empty((len(lead_cols), n_rows), dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            for i, unit in enumerate(unit_names):
                np.multiply(signals64[:, i], MV_PER_UNIT[unit], out=signals[i], casting="same_kind")
        if not bool(np.isfinite(signals).all()):
            raise EcgFormatError(path, "values too large to represent in mV (check the units)")
        metadata: dict[str, Any] = {
            "format": "CSV",
            "encoding": encoding,
            "delimiter": dialect.delimiter_name,
            "decimal": dialect.decimal,
            "header": names is not None,
            "columns": tuple(names) if names is not None else (),
            "time_column": None if time_col is None else (names[time_col] if names else f"column {time_col + 1}"),
            "fs_detected_by": fs_by,
            "units_detected_by": units_by,
            "comments": tuple(layout.comments),
            "warnings": tuple(warnings),
            "first_sample": first_sample,
        }
        return Recording(
            signals=signals,
            fs=fs,
            lead_names=tuple(lead_names),
            start_time=start,
            calibration=tuple(LeadCalibration(gain=None, source_unit=u) for u in unit_names),
            metadata=metadata,
            source_path=str(path),
        )
