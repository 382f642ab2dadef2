"""How a delimited text file of ECG samples is written: encoding, delimiter, decimal mark, header."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ecgstation.io.units import canonical_voltage_unit

#: Delimiters tried, most specific first; None means runs of whitespace.
_DELIMITERS: tuple[str, ...] = ("\t", ";", "|", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", "|": "pipe", None: "whitespace"}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf|infinity)$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+([eE][-+]?\d+)?$")
_CLOCK = re.compile(r"^(\d+:)?\d{1,2}:\d{1,2}(\.\d+)?$")
_QUOTES = "\"'"
_UNIT_SUFFIX = re.compile(
    r"^(?P<name>.*?)\s*[\(\[\{<]\s*(?P<unit>[^()\[\]{}<>]*)\s*[\)\]\}>]\s*$"
)
_UNIT_SEPARATED = re.compile(r"^(?P<name>.*?)[\s_\-/]+(?P<unit>[uµμmn]V|microvolts?|millivolts?)$", re.IGNORECASE)
_FS_COMMENT = re.compile(
    r"(sampling[\s_-]*(rate|frequency|freq)|sample[\s_-]*rate|\bfs\b|frequency)\s*[:=]?\s*"
    r"(?P<value>\d+(\.\d+)?)\s*(hz)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Dialect:
    """Delimiter (None: whitespace) and decimal mark (``"."`` or ``","``) of a file."""

    delimiter: str | None
    decimal: str = "."

    @property
    def delimiter_name(self) -> str:
        """``"comma"``, ``"semicolon"``, ``"tab"``, ``"pipe"`` or ``"whitespace"``."""
        return _DELIMITER_NAMES[self.delimiter]

    def split(self, line: str) -> list[str]:
        """Cells of ``line``, stripped of blanks and quotes; trailing empty cells removed."""
        raw = line.split(self.delimiter) if self.delimiter is not None else line.split()
        cells = [cell.strip().strip(_QUOTES).strip() for cell in raw]
        while cells and cells[-1] == "":
            cells.pop()
        return cells

    def number_text(self, cell: str) -> str:
        """``cell`` with a decimal comma turned into a point."""
        return cell.replace(",", ".") if self.decimal == "," else cell


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode file bytes as text: UTF-16 with BOM, UTF-8 (with or without BOM), else Latin-1.

    Returns ``(text, encoding)``; raises ValueError with a reason when the bytes
    are binary (NUL bytes) or do not decode to printable text.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ValueError("the file starts like UTF-16 text but does not decode as UTF-16") from None
    if b"\x00" in raw:
        raise ValueError("the file contains binary data (NUL bytes), not text")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = raw.decode("latin-1")
    if not printable(text):
        raise ValueError("the file is not text in a known encoding (UTF-8 or Latin-1)")
    return text, "latin-1"


def printable(text: str) -> bool:
    """Whether ``text`` holds only printable characters, tabs and line breaks."""
    return text.translate({9: None, 10: None, 13: None}).isprintable()


def is_comment(line: str) -> bool:
    """Whether a (stripped) line is a comment: ``#`` or ``//`` first."""
    return line.startswith(("#", "//"))


def detect_dialect(lines: Sequence[str]) -> Dialect:
    """Delimiter and decimal mark of a sample of content lines (headers may be among the first).

    A delimiter is chosen when it occurs the same, non-zero, number of times in
    most lines (rows of another width are reported later as ragged); tab, then
    semicolon, pipe and comma are tried, and whitespace when none fits. A decimal
    comma is recognised when the delimiter is not a comma and the cells use
    commas, not points, between digits.
    """
    body = list(lines)
    if not body:
        return Dialect(None)
    chosen: str | None = None
    for delimiter in _DELIMITERS:
        counts = Counter(line.count(delimiter) for line in body)
        count, n_lines = counts.most_common(1)[0]
        if count > 0 and n_lines * 2 > len(body):
            chosen = delimiter
            break
    if chosen == ",":
        # "0,12 0,34": whitespace between values with decimal commas (headers may differ).
        rows = [t for t in (line.split() for line in body) if all(_DECIMAL_COMMA.match(c) for c in t)]
        widths = Counter(len(t) for t in rows)
        if rows and len(rows) * 2 > len(body) and len(widths) == 1 and min(widths) > 1:
            return Dialect(None, ",")
    decimal = "."
    if chosen != ",":
        cells = [cell for line in body for cell in Dialect(chosen).split(line)]
        comma = sum(1 for c in cells if _DECIMAL_COMMA.match(c))
        point = sum(1 for c in cells if "." in c and _NUMBER.match(c))
        if comma and not point:
            decimal = ","
    return Dialect(chosen, decimal)


def is_number(cell: str, dialect: Dialect) -> bool:
    """Whether a cell is a number (or ``nan``/``inf``, which the reader rejects later)."""
    return bool(_NUMBER.match(dialect.number_text(cell)))


def is_clock(cell: str) -> bool:
    """Whether a cell is a clock time such as ``0:00.003`` or ``1:02:03.5``."""
    return bool(_CLOCK.match(cell))


def clock_seconds(cell: str) -> float:
    """Seconds in a clock time ``[h:]m:ss[.fff]`` (quotes allowed); ValueError if it is none."""
    text = cell.strip().strip(_QUOTES)
    if not _CLOCK.match(text):
        raise ValueError(f"could not convert {cell!r} to a time")
    total = 0.0
    for part in text.split(":"):
        total = total * 60.0 + float(part)
    return total


def is_data_row(cells: Sequence[str], dialect: Dialect) -> bool:
    """Whether every cell is a number (the first may be a clock time)."""
    if not cells:
        return False
    return all(is_number(c, dialect) or (i == 0 and is_clock(c)) for i, c in enumerate(cells))


def split_unit(name: str) -> tuple[str, str | None]:
    """``"II (mV)"`` -> ``("II", "mV")``; ``"V1_uV"`` -> ``("V1", "uV")``; the unit is None
    when the name carries no recognised unit (any bracketed text is then kept)."""
    text = name.strip()
    m = _UNIT_SUFFIX.match(text)
    if m:
        unit = m.group("unit").strip()
        if canonical_voltage_unit(unit) is not None or _time_unit_text(unit) is not None:
            return m.group("name").strip(), unit
    m = _UNIT_SEPARATED.match(text)
    if m and m.group("name").strip():
        return m.group("name").strip(), m.group("unit")
    return text, None


_TIME_WORDS = {
    "time", "t", "sec", "secs", "second", "seconds", "s", "ms", "msec", "msecs", "millisecond",
    "milliseconds", "millis", "us", "usec", "microseconds", "timestamp", "timestamps", "elapsed", "stamp",
    "relative", "rel", "abs", "absolute", "clock", "hh", "mm", "ss", "mmm", "zeit",
}
_TIME_NAMES = {"time", "t", "sec", "secs", "seconds", "s", "ms", "msec", "timestamp", "elapsed", "zeit"}
_INDEX_NAMES = {
    "sample", "samples", "sample_no", "sample_nr", "sample_number", "samplenumber", "sample_index",
    "sample_num", "sample_#", "index", "idx", "n", "no", "nr", "#", "count", "row",
}


def _tokens(name: str) -> list[str]:
    """Lower-case alphanumeric words of a column name."""
    return [t for t in re.split(r"[^0-9a-zA-Z#]+", name.lower()) if t]


def _time_unit_text(unit: str) -> str | None:
    """``"s"``, ``"ms"``, ``"us"`` or ``"clock"`` for a time unit text, else None."""
    key = unit.strip().strip("()[]").strip().lower()
    if key in ("s", "sec", "secs", "second", "seconds"):
        return "s"
    if key in ("ms", "msec", "msecs", "millisecond", "milliseconds", "millis"):
        return "ms"
    if key in ("us", "µs", "μs", "usec", "microsecond", "microseconds"):
        return "us"
    if key.startswith("hh:mm") or key.startswith("mm:ss") or key in ("h:m:s", "hh:mm:ss"):
        return "clock"
    return None


def time_column_unit(name: str) -> str | None:
    """For a column called ``name``: None if it is not a time column, else its unit as named
    (``"s"``, ``"ms"``, ``"us"``, ``"clock"``) or ``""`` when the name gives none.

    Recognises ``time``, ``t``, ``sec``, ``seconds``, ``ms``, ``timestamp``,
    ``Elapsed time``, ``Time (s)``, ``time_ms``, ``TimeStamp [ms]`` and the like.
    """
    base, unit = split_unit(name)
    tokens = _tokens(base)
    if not tokens or not set(tokens) <= _TIME_WORDS or not (set(tokens) & _TIME_NAMES):
        return None
    if unit is not None:
        named = _time_unit_text(unit)
        if named is not None:
            return named
    for token in tokens:
        named = _time_unit_text(token)
        if named is not None and token != "t":
            return named
    return ""


def is_index_column(name: str) -> bool:
    """Whether a column called ``name`` holds sample numbers (``sample``, ``index``, ``#``, ...)."""
    return "_".join(_tokens(name)) in _INDEX_NAMES or name.strip() == "#"


def time_unit_from_text(unit: str) -> str | None:
    """Time unit (``"s"``, ``"ms"``, ``"us"``, ``"clock"``) written in a units row cell, else None."""
    return _time_unit_text(unit)


def fs_from_comments(comments: Sequence[str]) -> float | None:
    """A sampling rate in Hz stated in preamble comments (``# Sampling rate: 500 Hz``), else None."""
    for comment in comments:
        m = _FS_COMMENT.search(comment)
        if m:
            return float(m.group("value"))
    return None
