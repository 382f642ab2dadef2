"""Fuzz tests: malformed files make importers raise EcgFormatError and nothing else.

Each test writes its inputs into one temporary folder made for the whole test
(hypothesis runs many examples per test function, so pytest's function-scoped
``tmp_path`` does not fit). A read that succeeds must give a valid Recording.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ, Recording
from ecgstation.io import read_recording
from ecgstation.io.csv_reader import CsvImporter
from ecgstation.io.wfdb_reader import WfdbImporter

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

Files = dict[str, bytes]


# --- checks ----------------------------------------------------------------------------


class _Unexpected(logging.Handler):
    """Collects the importer base class's reports of exceptions it had to convert blindly."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("unexpected"):
            self.messages.append(f"{message}: {record.exc_info[1]!r}" if record.exc_info else message)


@contextmanager
def unexpected_exceptions() -> Iterator[list[str]]:
    """Messages of exceptions the importers did not turn into a specific reason themselves."""
    handler = _Unexpected()
    logger = logging.getLogger("ecgstation.io.base")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def assert_fuzzed(tally: list[bool]) -> None:
    """At least 1000 inputs were tried, and most of them were malformed and refused."""
    assert len(tally) >= 1000, f"only {len(tally)} inputs generated"
    assert sum(tally) >= 0.5 * len(tally), f"only {sum(tally)} of {len(tally)} inputs were refused"


def check_outcome(read: Callable[[], Recording], tally: list[bool]) -> None:
    """Run one read: it must give a valid Recording or raise exactly EcgFormatError.

    Appends to ``tally`` whether the input was refused (True) or read (False).
    """
    try:
        rec = read()
    except EcgFormatError as exc:
        assert exc.path and exc.reason
        assert str(exc) == f"Cannot read {exc.path}: {exc.reason}"
        tally.append(True)
        return
    tally.append(False)
    assert isinstance(rec, Recording)
    assert rec.signals.dtype == np.float32 and rec.signals.ndim == 2
    assert rec.n_leads >= 1 and rec.n_samples >= 2
    assert np.isfinite(rec.signals).all()
    assert MIN_FS_HZ <= rec.fs <= MAX_FS_HZ
    assert len(rec.lead_names) == rec.n_leads == len(rec.calibration)
    assert len(rec.annotations) == 0 or int(rec.annotations.samples.max()) < rec.n_samples


def write_case(folder: Path, files: Files) -> None:
    """Make ``folder`` hold exactly ``files``."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)


# --- valid material to break ---------------------------------------------------------------


def _record_files(folder: Path, name: str, fmt: str, n: int, units: list[str], **extra: object) -> Files:
    t = np.arange(n)
    digital = np.stack([np.round(100 * np.sin(t / (7.0 + 3 * k))).astype(int) for k in range(len(units))], axis=1)
    wfdb.wrsamp(name, fs=360, units=units, sig_name=[f"L{k}" for k in range(len(units))], d_signal=digital,
                fmt=[fmt] * len(units), adc_gain=[200.0] * len(units), baseline=[0] * len(units),
                write_dir=str(folder), **extra)
    return {p.name: p.read_bytes() for p in folder.glob(f"{name}.*")}


def valid_wfdb_sets(folder: Path) -> list[Files]:
    """Several valid records (all named ``rec``): format 212 with annotations, 16, 24, 80,
    a multi-segment record, and a FLAC-compressed one when soundfile is there."""
    sets: list[Files] = []
    for fmt, units in (("212", ["mV", "mV"]), ("16", ["mV", "uV", "V"]), ("24", ["mV"]), ("80", ["mV", "mmHg"])):
        sub = folder / f"v{fmt}"
        sub.mkdir()
        files = _record_files(sub, "rec", fmt, 600, units)
        if fmt == "212":
            wfdb.wrann("rec", "atr", np.array([5, 100, 300, 590]), symbol=["N", "V", "+", "N"],
                       aux_note=["", "", "(AFIB", ""], write_dir=str(sub))
            files["rec.atr"] = (sub / "rec.atr").read_bytes()
        sets.append(files)
    sub = folder / "multi"
    sub.mkdir()
    multi = _record_files(sub, "rec_1", "16", 400, ["mV", "mV"])
    multi |= _record_files(sub, "rec_2", "212", 600, ["mV", "mV"])
    multi["rec.hea"] = b"rec/2 2 360 1000\nrec_1 400\nrec_2 600\n"
    sets.append(multi)
    try:
        import soundfile  # noqa: F401

        sub = folder / "flac"
        sub.mkdir()
        sets.append(_record_files(sub, "rec", "516", 600, ["mV", "mV"]))
    except ImportError:
        pass
    return sets


_TOKENS = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "360", "-360", "1e9", "20001", "49", "50", "nan", "inf", "360/0",
                     "250/360(5)", "abc", "~", "", "#", "16", "212", "8", "61", "160", "310", "311", "508", "999",
                     "16x2", "16x0", "16+99999", "212:5", "200(0)/mV", "0/mV", "1e-320/uV", "200/mmHg", "-5(3)/V",
                     "rec.dat", "rec_1", "rec_9", "rec.mat", "12:00:00", "31/12/1999", "99/99/9999"]),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
    st.text(max_size=4),
)


@st.composite
def mutated_header(draw: st.DrawFn, text: bytes) -> bytes:
    lines = text.decode("ascii").splitlines()
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["token", "token", "token", "delete", "duplicate", "insert", "swap"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        if action == "token":
            tokens = lines[i].split()
            if tokens:
                j = draw(st.integers(0, len(tokens) - 1))
                tokens[j] = draw(_TOKENS)
                lines[i] = " ".join(tokens)
        elif action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "insert":
            lines.insert(i, draw(st.text(max_size=40)))
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    return ("\n".join(lines) + "\n").encode(encoding, errors="replace")


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    action = draw(st.sampled_from(["truncate", "flip", "insert", "append", "replace", "empty"]))
    if action == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if action == "flip":
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            if buf:
                k = draw(st.integers(0, len(buf) - 1))
                buf[k] = draw(st.integers(0, 255))
        return bytes(buf)
    if action == "insert":
        k = draw(st.integers(0, len(data)))
        return data[:k] + draw(st.binary(min_size=1, max_size=64)) + data[k:]
    if action == "append":
        return data + draw(st.binary(min_size=1, max_size=64))
    if action == "replace":
        return draw(st.binary(max_size=2048))
    return b""


@st.composite
def broken_wfdb(draw: st.DrawFn, sets: list[Files]) -> tuple[Files, str]:
    """A valid record set with one to three of its files mutated, removed or replaced; and
    the name to open (the header, the data file or the base name)."""
    files = dict(draw(st.sampled_from(sets)))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(files)))
        how = draw(st.sampled_from(["header", "bytes", "bytes", "remove", "foreign"]))
        if how == "header" and name.endswith(".hea") and files[name].isascii():
            files[name] = draw(mutated_header(files[name]))
        elif how == "remove":
            del files[name]
            if not files:
                break
        elif how == "foreign":  # the data file of another record with this header
            other = draw(st.sampled_from(sets))
            payload = [v for k, v in other.items() if k.endswith(".dat")]
            files[name] = draw(st.sampled_from(payload)) if payload and not name.endswith(".hea") else files[name]
        else:
            files[name] = draw(mutated_bytes(files[name]))
    target = draw(st.sampled_from(["rec.hea", "rec.dat", "rec", "rec.mat"]))
    return files, target


def test_wfdb_importer_raises_only_format_errors() -> None:
    tally: list[bool] = []
    reader = WfdbImporter()
    with tempfile.TemporaryDirectory() as tmp, unexpected_exceptions() as unexpected:
        root = Path(tmp)
        sets = valid_wfdb_sets(root)
        case = root / "case"
        for files in sets:  # the unbroken sets read
            write_case(case, files)
            reader.read(case / "rec.hea")

        @FUZZ
        @given(broken_wfdb(sets), st.sampled_from(["auto", None, "atr"]))
        def run(example: tuple[Files, str], annotator: str | None) -> None:
            files, target = example
            write_case(case, files)
            check_outcome(lambda: reader.read(case / target, annotator=annotator), tally)

        run()
    assert unexpected == []
    assert_fuzzed(tally)


def test_wfdb_importer_with_random_header_and_data() -> None:
    tally: list[bool] = []
    reader = WfdbImporter()
    with tempfile.TemporaryDirectory() as tmp, unexpected_exceptions() as unexpected:
        case = Path(tmp) / "case"
        header_lines = st.lists(
            st.lists(_TOKENS, min_size=0, max_size=10).map(" ".join), min_size=0, max_size=6
        ).map(lambda lines: "\n".join(lines).encode("utf-8", errors="replace"))
        record_line = st.builds(
            lambda n, fs, length, rest: f"rec {n} {fs} {length}\n".encode() + rest,
            st.integers(0, 40), _TOKENS, _TOKENS, header_lines,
        )

        @FUZZ
        @given(st.one_of(st.binary(max_size=512), header_lines, record_line), st.binary(max_size=2048))
        def run(header: bytes, data: bytes) -> None:
            write_case(case, {"rec.hea": header, "rec.dat": data, "rec.atr": data[:64]})
            check_outcome(lambda: reader.read(case / "rec.hea"), tally)

        run()
    assert unexpected == []
    assert_fuzzed(tally)


# --- CSV -----------------------------------------------------------------------------------


_CELLS = st.one_of(
    st.sampled_from(["0", "1", "-0.5", "0.25", "1e3", "-2E-3", "nan", "NaN", "inf", "-inf", "", " ", "abc", "0,5",
                     "1.2.3", "'1'", '"2"', "0:00.004", "1:02:03.5", "time", "ms", "t", "II (mV)", "V1 [uV]",
                     "\u00b5V", "sample", "#", "//", "sep=;", "1_000", "0x10", "+", "-", ".", "1e400"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=6),
)


@st.composite
def delimited_text(draw: st.DrawFn) -> bytes:
    """Rows of cells, mostly numeric, sometimes with a header, odd cells and ragged rows."""
    delimiter = draw(st.sampled_from([",", ";", "\t", " ", "|", ", "]))
    width = draw(st.integers(1, 5))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(delimiter.join(draw(st.lists(_CELLS, min_size=width, max_size=width))))
    n_rows = draw(st.integers(0, 40))
    numeric = st.floats(-50, 50, allow_nan=False).map(lambda v: f"{v:.3f}")
    time_step = draw(st.sampled_from([None, 0.002, 2.0, 0.0027778]))
    damage = draw(st.sampled_from([0, 0, 3, 10]))  # one row in `damage` is broken; 0: none
    for i in range(n_rows):
        row = draw(st.lists(numeric, min_size=width, max_size=width))
        if time_step is not None:
            row[0] = f"{i * time_step:.4f}"
        if damage and draw(st.integers(1, damage)) == 1:
            k = draw(st.integers(0, width - 1))
            row[k] = draw(_CELLS)
            if draw(st.booleans()):
                row = row[: draw(st.integers(0, width))]
        lines.append(delimiter.join(row))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    if draw(st.booleans()):
        text = text.replace(".", ",") if delimiter != "," else text
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


def any_text_file() -> st.SearchStrategy[bytes]:
    return st.one_of(
        delimited_text(),
        delimited_text().flatmap(mutated_bytes),
        st.binary(max_size=600),
        st.text(max_size=400).map(lambda s: s.encode("utf-8", errors="replace")),
        st.text(alphabet=st.characters(max_codepoint=255), max_size=300).map(lambda s: s.encode("latin-1")),
    )


def test_csv_importer_raises_only_format_errors() -> None:
    tally: list[bool] = []
    reader = CsvImporter()
    with tempfile.TemporaryDirectory() as tmp, unexpected_exceptions() as unexpected:
        path = Path(tmp) / "ecg.csv"

        @FUZZ
        @given(any_text_file(), st.sampled_from([None, 500, 360.0, 50]), st.sampled_from([None, "mV", "uV", "V"]))
        def run(content: bytes, fs: float | None, units: str | None) -> None:
            path.write_bytes(content)
            check_outcome(lambda: reader.read(path, fs=fs, units=units), tally)

        run()
    assert unexpected == []
    assert_fuzzed(tally)


# --- the registry ------------------------------------------------------------------------------


def test_read_recording_raises_only_format_errors() -> None:
    tally: list[bool] = []
    with tempfile.TemporaryDirectory() as tmp, unexpected_exceptions() as unexpected:
        root = Path(tmp)
        sets = valid_wfdb_sets(root)
        case = root / "case"

        wfdb_inputs = broken_wfdb(sets)
        single_files = st.tuples(
            any_text_file(), st.sampled_from([".csv", ".txt", ".tsv", ".hea", ".dat", ".mat", ".bin", ""])
        ).map(lambda pair: ({f"input{pair[1]}": pair[0]}, f"input{pair[1]}"))

        @FUZZ
        @given(st.one_of(wfdb_inputs, single_files), st.sampled_from([{}, {"fs": 500}, {"units": "uV", "fs": 250}]))
        def run(example: tuple[Files, str], options: dict[str, Any]) -> None:
            files, target = example
            write_case(case, files)
            check_outcome(lambda: read_recording(case / target, **options), tally)

        run()
    assert unexpected == []
    assert_fuzzed(tally)
