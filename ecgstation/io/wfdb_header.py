"""WFDB header text: checks before wfdb parses it, the record line, and comment fields."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import PatientInfo

#: A header larger than this is not a WFDB header (real ones are a few kB).
MAX_HEADER_BYTES = 1 << 20

# Record name, optional /n_seg, then n_sig: what makes a line a WFDB record line.
_RECORD_LINE = re.compile(r"^[ \t]*[-\w]+(/\d+)?[ \t]+\d+([ \t]|$)")
_FS_TOKEN = re.compile(
    r"^(?P<fs>\d*\.?\d+(?:[eE][-+]?\d+)?)"
    r"(?:/(?P<counter>-?\d*\.?\d+(?:[eE][-+]?\d+)?)(?:\((?P<base>-?\d*\.?\d*)\))?)?$"
)
_TIME_TOKEN = re.compile(r"^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?$")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./()-]{0,40}?)\s*:\s*(.*?)\s*$")
# MIT-BIH style first comment: "69 M 1085 1629 x1" (age, sex, ...).
_MIT_PATIENT = re.compile(r"^\s*(\d{1,3}|\?|-1)\s+([MFmf?])(\s|$)")

#: WFDB's default sampling frequency when the record line gives none (Hz).
WFDB_DEFAULT_FS_HZ = 250.0


@dataclass(frozen=True)
class RecordLine:
    """Fields of a WFDB record line, parsed independently of the wfdb package.

    ``fs`` in Hz (None when the line omits it), ``sig_len`` in samples per signal
    (None when omitted), ``start`` the base date and time when both are given.
    """

    name: str
    n_seg: int | None
    n_sig: int
    fs: float | None
    counter_freq: float | None
    sig_len: int | None
    base_time: time | None
    base_date: date | None

    @property
    def start(self) -> datetime | None:
        """Acquisition start (naive local time), when the header gives a date and a time."""
        if self.base_date is None or self.base_time is None:
            return None
        return datetime.combine(self.base_date, self.base_time)


def read_header_text(header_path: Path) -> str:
    """The header's text; EcgFormatError if it is missing, empty, binary or not UTF-8."""
    try:
        size = header_path.stat().st_size
    except FileNotFoundError:
        raise EcgFormatError(header_path, "the WFDB header file is missing") from None
    if size == 0:
        raise EcgFormatError(header_path, "the WFDB header file is empty")
    if size > MAX_HEADER_BYTES:
        raise EcgFormatError(header_path, f"file of {size} bytes is too large to be a WFDB header")
    raw = header_path.read_bytes()
    if b"\x00" in raw:
        raise EcgFormatError(header_path, "the header contains binary data, not WFDB header text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EcgFormatError(
            header_path, f"the header is not UTF-8 text (undecodable byte at offset {exc.start})"
        ) from None
    bad = [c for c in text if not (c.isprintable() or c in "\t\r\n")]
    if bad:
        raise EcgFormatError(header_path, f"the header contains a non-printable character {bad[0]!r}, not WFDB text")
    return text


def split_header(text: str) -> tuple[list[str], list[str]]:
    """Non-comment lines and comment texts (without the ``#``) of a header."""
    lines: list[str] = []
    comments: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("#").strip())
        else:
            # A '#' after the fields starts a comment too.
            lines.append(stripped.split("#", 1)[0].strip())
    return lines, comments


def looks_like_header(text: str) -> bool:
    """Whether ``text`` (possibly only its first bytes) starts like a WFDB header."""
    lines, _ = split_header(text)
    return bool(lines) and _RECORD_LINE.match(lines[0]) is not None


def _number(token: str, what: str, path: Path) -> float:
    """``token`` as a finite float; EcgFormatError naming ``what`` otherwise."""
    try:
        value = float(token)
    except ValueError:
        raise EcgFormatError(path, f"{what} {token!r} in the header is not a number") from None
    if not math.isfinite(value):
        raise EcgFormatError(path, f"{what} {token!r} in the header is not a finite number")
    return value


def _parse_date(token: str) -> date | None:
    """A base date in WFDB (``24/12/2019``) or CinC (``12-May-2020``) form, else None."""
    for pattern in ("%d/%m/%Y", "%d-%b-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(token, pattern).date()
        except ValueError:
            continue
    return None


def _parse_time(token: str) -> time | None:
    """A base time ``HH:MM[:SS[.ffffff]]``, else None."""
    m = _TIME_TOKEN.match(token)
    if m is None:
        return None
    a, b, c, frac = m.groups()
    hour, minute, second = (int(a), int(b), int(c)) if c is not None else (0, int(a), int(b))
    micro = int((frac or "0").ljust(6, "0")[:6])
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second, micro)


def parse_record_line(text: str, path: Path) -> RecordLine:
    """Parse the record line (first non-comment line) of header ``text``.

    Checks what the wfdb package lets through: a sampling frequency that is not a
    positive number, a length that is not an integer. Also accepts the base date
    formats seen in CinC 2021 headers (``12-May-2020``) in either order with the time.
    """
    lines, _ = split_header(text)
    if not lines or _RECORD_LINE.match(lines[0]) is None:
        raise EcgFormatError(path, "no WFDB record line (name, number of signals, ...) at the top of the header")
    tokens = lines[0].split()
    name_part = tokens[0]
    n_seg: int | None = None
    if "/" in name_part:
        name_part, seg = name_part.split("/", 1)
        n_seg = int(seg)
    n_sig = int(tokens[1])
    fs: float | None = None
    counter: float | None = None
    if len(tokens) > 2:
        m = _FS_TOKEN.match(tokens[2])
        if m is None:
            raise EcgFormatError(path, f"sampling frequency {tokens[2]!r} in the header is not a positive number")
        fs = _number(m.group("fs"), "sampling frequency", path)
        if m.group("counter"):
            counter = _number(m.group("counter"), "counter frequency", path)
    sig_len: int | None = None
    if len(tokens) > 3:
        if not tokens[3].isdigit():
            raise EcgFormatError(path, f"signal length {tokens[3]!r} in the header is not a whole number")
        sig_len = int(tokens[3])
    base_time: time | None = None
    base_date: date | None = None
    for token in tokens[4:6]:
        if base_time is None and (t := _parse_time(token)) is not None:
            base_time = t
        elif base_date is None and (d := _parse_date(token)) is not None:
            base_date = d
    return RecordLine(name_part, n_seg, n_sig, fs, counter, sig_len, base_time, base_date)


def comment_fields(comments: Sequence[str]) -> dict[str, str]:
    """``Key: value`` pairs found in header comments (PTB-XL/CinC style: ``Age: 81``, ``Dx: ...``)."""
    fields: dict[str, str] = {}
    for comment in comments:
        m = _KEY_VALUE.match(comment)
        if m and m.group(2):
            fields.setdefault(m.group(1).strip(), m.group(2))
    return fields


def _age(text: str) -> float | None:
    """Age in years, or None when unknown or implausible."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= 130 else None


def _sex(text: str) -> str | None:
    """``M``, ``F``, ``O`` or None."""
    key = text.strip().lower()
    if key in ("m", "male", "man"):
        return "M"
    if key in ("f", "female", "woman"):
        return "F"
    if key in ("o", "other", "diverse"):
        return "O"
    return None


def _measure(text: str, low: float, high: float) -> float | None:
    """The leading number of ``text`` if within ``low``..``high``, else None."""
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)", text)
    if not m:
        return None
    value = float(m.group(1))
    return value if low <= value <= high else None


def patient_from_comments(comments: Sequence[str]) -> PatientInfo:
    """Patient fields from header comments.

    Understands ``Age: 81`` / ``Sex: Female`` (PTB-XL, CinC 2021, PTB), optional
    ``Height:`` (cm) and ``Weight:`` (kg), and the MIT-BIH first comment
    ``69 M 1085 1629 x1`` (age in years, sex). Unknown values stay None.
    """
    fields = {k.lower(): v for k, v in comment_fields(comments).items()}
    age = _age(fields["age"]) if "age" in fields else None
    sex = _sex(fields["sex"]) if "sex" in fields else (_sex(fields["gender"]) if "gender" in fields else None)
    height = _measure(fields.get("height", ""), 30, 250)
    weight = _measure(fields.get("weight", ""), 1, 400)
    patient_id = fields.get("patient id") or fields.get("patient_id") or fields.get("patient")
    if age is None and sex is None and comments:
        m = _MIT_PATIENT.match(comments[0])
        if m:
            age = _age(m.group(1))
            sex = _sex(m.group(2))
    return PatientInfo(
        patient_id=patient_id or None,
        sex=sex,
        age_years=age,
        height_cm=height,
        weight_kg=weight,
    )
