"""CSV importer: dialects, headers, time columns, units, and malformed text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Recording
from ecgstation.io.csv_reader import CsvImporter

READER = CsvImporter()


def write(tmp_path: Path, text: str | bytes, name: str = "ecg.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def ecg_like(n: int, fs: float, leads: int = 2, seed: int = 0) -> np.ndarray:
    """(samples, leads) in mV: 1 mV spikes at 1 Hz on small noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    spikes = np.exp(-(((t % 1.0) - 0.5) ** 2) / (2 * 0.01**2))
    return np.stack([spikes * (1 + 0.2 * k) + 0.02 * rng.standard_normal(n) for k in range(leads)], axis=1)


def table(values: np.ndarray, delimiter: str = ",", decimals: int = 4, decimal: str = ".") -> str:
    rows = []
    for row in values:
        cells = [f"{v:.{decimals}f}" for v in row]
        if decimal == ",":
            cells = [c.replace(".", ",") for c in cells]
        rows.append(delimiter.join(cells))
    return "\n".join(rows) + "\n"


def assert_valid(rec: Recording) -> None:
    assert rec.signals.dtype == np.float32 and np.isfinite(rec.signals).all()
    assert rec.metadata["format"] == "CSV"


# --- dialects -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), (" ", "whitespace")]
)
def test_delimiters(tmp_path: Path, delimiter: str, name: str) -> None:
    x = ecg_like(500, 250)
    path = write(tmp_path, delimiter.join(["I", "II"]) + "\n" + table(x, delimiter))
    rec = READER.read(path, fs=250)
    assert_valid(rec)
    assert rec.metadata["delimiter"] == name
    assert rec.lead_names == ("I", "II")
    np.testing.assert_allclose(rec.signals, x.T, atol=1e-4)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_decimal_comma(tmp_path: Path, delimiter: str) -> None:
    x = ecg_like(300, 500)
    path = write(tmp_path, table(x, delimiter, decimal=","))
    rec = READER.read(path, fs=500)
    assert rec.metadata["decimal"] == ","
    np.testing.assert_allclose(rec.signals, x.T, atol=1e-4)


def test_whitespace_with_decimal_comma(tmp_path: Path) -> None:
    path = write(tmp_path, "0,12 0,50\n-0,30 0,25\n0,01 -0,75\n")
    rec = READER.read(path, fs=500)
    np.testing.assert_allclose(rec.signals, [[0.12, -0.30, 0.01], [0.50, 0.25, -0.75]], atol=1e-6)


def test_excel_sep_line_quotes_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, 'sep=;\r\n"I";"II"\r\n"0,1";"0,2"\r\n"0,3";"0,4"\r\n')
    rec = READER.read(path, fs=500)
    assert rec.lead_names == ("I", "II")
    np.testing.assert_allclose(rec.signals, [[0.1, 0.3], [0.2, 0.4]], atol=1e-6)


# --- header -------------------------------------------------------------------------


def test_no_header_names_leads_by_number(tmp_path: Path) -> None:
    x = ecg_like(200, 250, leads=3)
    rec = READER.read(write(tmp_path, table(x)), fs=250)
    assert rec.lead_names == ("Lead 1", "Lead 2", "Lead 3")
    assert rec.metadata["header"] is False


def test_header_with_units_in_names(tmp_path: Path) -> None:
    x = ecg_like(200, 250) * 1000
    rec = READER.read(write(tmp_path, "II (\u00b5V),V5 [uV]\n" + table(x, decimals=1)), fs=250)
    assert rec.lead_names == ("II", "V5")
    assert rec.metadata["units_detected_by"] == "header"
    assert [c.source_unit for c in rec.calibration] == ["uV", "uV"]
    np.testing.assert_allclose(rec.signals, x.T / 1000, atol=1e-4)


def test_units_row_under_the_header(tmp_path: Path) -> None:
    text = "'Elapsed time','MLII','V5'\n'hh:mm:ss.mmm','mV','mV'\n"
    x = ecg_like(3600, 360)
    for i, row in enumerate(x):
        seconds = i / 360
        text += f"'{int(seconds // 60)}:{seconds % 60:06.3f}',{row[0]:.3f},{row[1]:.3f}\n"
    rec = READER.read(write(tmp_path, text))  # the PhysioNet export format
    assert rec.fs == 360.0 and rec.metadata["fs_detected_by"] == "time column"
    assert rec.lead_names == ("MLII", "V5") and rec.metadata["units_detected_by"] == "header"
    np.testing.assert_allclose(rec.signals, x.T, atol=1e-3)


def test_trailing_empty_columns_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "-20,-25,-5,,,\n-30,-34,-4,,,\n-33,-34,-1,,,\n")  # as exported by Contec
    rec = READER.read(path, fs=800, units="uV")
    assert rec.n_leads == 3
    np.testing.assert_allclose(rec.signals[0], [-0.020, -0.030, -0.033], atol=1e-7)


def test_index_column_is_left_out(tmp_path: Path) -> None:
    x = ecg_like(100, 250)
    text = "sample,I,II\n" + "".join(f"{i},{a:.4f},{b:.4f}\n" for i, (a, b) in enumerate(x))
    rec = READER.read(write(tmp_path, text), fs=250)
    assert rec.lead_names == ("I", "II")


def test_headerless_first_column_counting_samples(tmp_path: Path) -> None:
    x = ecg_like(100, 250)
    text = "".join(f"{i + 1} {a:.4f} {b:.4f}\n" for i, (a, b) in enumerate(x))
    rec = READER.read(write(tmp_path, text), fs=250)
    assert rec.n_leads == 2
    assert any("counts samples" in w for w in rec.metadata["warnings"])


def test_comments_and_blank_lines(tmp_path: Path) -> None:
    text = "# Device: test\n# Sampling rate: 250 Hz\n\nI,II\n0.1,0.2\n\n# pause\n0.3,0.4\n0.5,0.6\n"
    rec = READER.read(write(tmp_path, text))
    assert rec.fs == 250.0 and rec.metadata["fs_detected_by"] == "comment"
    assert rec.metadata["comments"] == ("Device: test", "Sampling rate: 250 Hz")
    np.testing.assert_allclose(rec.signals, [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], atol=1e-6)


# --- time column ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scale", "decimals"),
    [("time", 1.0, 4), ("Time (s)", 1.0, 6), ("t", 1.0, 5), ("seconds", 1.0, 4), ("ms", 1000.0, 3),
     ("time_ms", 1000.0, 0), ("Elapsed time", 1.0, 3), ("timestamp [ms]", 1000.0, 2)],
)
def test_time_column_gives_fs(tmp_path: Path, name: str, scale: float, decimals: int) -> None:
    fs = 360.0
    x = ecg_like(2000, fs)
    t = np.arange(2000) / fs * scale
    text = f"{name},II\n" + "".join(f"{ti:.{decimals}f},{v:.4f}\n" for ti, v in zip(t, x[:, 0], strict=True))
    rec = READER.read(write(tmp_path, text))
    assert rec.fs == fs
    assert rec.lead_names == ("II",)
    assert rec.metadata["time_column"] == name


def test_time_unit_from_values_when_the_name_has_none(tmp_path: Path) -> None:
    t_ms = np.arange(1000) * 2.0  # 500 Hz in milliseconds
    text = "time,I\n" + "".join(f"{t:.0f},{0.1 * np.sin(t)}\n" for t in t_ms)
    assert READER.read(write(tmp_path, text)).fs == 500.0


def test_headerless_time_column_by_values(tmp_path: Path) -> None:
    x = ecg_like(1000, 250)
    t = np.arange(1000) / 250
    text = "".join(f"{ti:.3f},{a:.4f},{b:.4f}\n" for ti, (a, b) in zip(t, x, strict=True))
    rec = READER.read(write(tmp_path, text))
    assert rec.fs == 250.0 and rec.n_leads == 2


def test_unix_timestamps_give_the_start_time(tmp_path: Path) -> None:
    t0 = 1_700_000_000.0
    text = "timestamp,I\n" + "".join(f"{t0 + i / 500:.3f},{0.1 * (i % 7)}\n" for i in range(1000))
    rec = READER.read(write(tmp_path, text))
    assert rec.fs == 500.0
    assert rec.start_time == datetime.fromtimestamp(t0, tz=UTC)


def test_irregular_time_steps(tmp_path: Path) -> None:
    t = np.arange(1000) / 500.0
    t[500:] += 0.01  # a 10 ms gap
    text = "time,I\n" + "".join(f"{ti:.5f},0.1\n" for ti in t)
    with pytest.raises(EcgFormatError, match=r"irregular time steps .* line 502"):
        READER.read(write(tmp_path, text))


def test_jitter_above_one_percent(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(0.002 * (1 + 0.05 * rng.standard_normal(1000)))
    text = "time,I\n" + "".join(f"{ti:.7f},0.1\n" for ti in t)
    with pytest.raises(EcgFormatError, match="irregular time steps"):
        READER.read(write(tmp_path, text))


def test_time_going_backwards(tmp_path: Path) -> None:
    text = "time,I\n0.000,1\n0.002,1\n0.001,1\n0.004,1\n"
    with pytest.raises(EcgFormatError, match="goes backwards at line 4"):
        READER.read(write(tmp_path, text))


def test_time_column_with_missing_values(tmp_path: Path) -> None:
    text = "time,I\n0.000,1\n0.002,1\nnan,1\n0.006,1\n"
    with pytest.raises(EcgFormatError, match="time column contains missing/invalid values at line 4"):
        READER.read(write(tmp_path, text))


def test_caller_fs_wins_over_the_time_column(tmp_path: Path) -> None:
    text = "time,I\n" + "".join(f"{i / 500:.4f},0.1\n" for i in range(100))
    rec = READER.read(write(tmp_path, text), fs=250)
    assert rec.fs == 250.0 and rec.metadata["fs_detected_by"] == "caller"
    assert any("implies 500 Hz" in w for w in rec.metadata["warnings"])


def test_fs_missing(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError, match="sampling rate cannot be determined: pass fs"):
        READER.read(write(tmp_path, "I,II\n0.1,0.2\n0.3,0.4\n"))


def test_fs_out_of_range(tmp_path: Path) -> None:
    path = write(tmp_path, "I\n0.1\n0.2\n")
    with pytest.raises(EcgFormatError, match="outside 50-20000 Hz"):
        READER.read(path, fs=10)
    with pytest.raises(ValueError, match="fs must be a positive number"):
        READER.read(path, fs=-1)


# --- units ------------------------------------------------------------------------------


def test_microvolts_detected_from_amplitude(tmp_path: Path) -> None:
    x = ecg_like(2000, 500) * 1000
    rec = READER.read(write(tmp_path, table(x, decimals=1)), fs=500)
    assert rec.metadata["units_detected_by"] == "amplitude"
    assert rec.calibration[0].source_unit == "uV"
    np.testing.assert_allclose(rec.signals, x.T / 1000, atol=1e-4)


def test_millivolts_detected_from_amplitude(tmp_path: Path) -> None:
    x = ecg_like(2000, 500)
    rec = READER.read(write(tmp_path, table(x)), fs=500)
    assert rec.calibration[0].source_unit == "mV" and rec.metadata["units_detected_by"] == "amplitude"


@pytest.mark.parametrize(("units", "factor"), [("mV", 1.0), ("uV", 1e-3), ("\u00b5V", 1e-3), ("V", 1e3)])
def test_units_given_by_the_caller(tmp_path: Path, units: str, factor: float) -> None:
    rec = READER.read(write(tmp_path, "I\n1.5\n-2.5\n"), fs=500, units=units)
    np.testing.assert_allclose(rec.signals[0], np.array([1.5, -2.5]) * factor, rtol=1e-6)
    assert rec.metadata["units_detected_by"] == "caller"


def test_bad_units_option() -> None:
    with pytest.raises(ValueError, match="units must be"):
        READER.read("x.csv", units="mmHg")


# --- encodings ------------------------------------------------------------------------------


def test_utf8_bom_and_latin1(tmp_path: Path) -> None:
    rec = READER.read(write(tmp_path, "\ufeffI (\u00b5V),II (\u00b5V)\n100,200\n300,400\n".encode("utf-8")), fs=500)
    assert rec.lead_names == ("I", "II") and rec.metadata["encoding"] == "utf-8"
    rec = READER.read(write(tmp_path, "I (\u00b5V);II (\u00b5V)\n100;200\n300;400\n".encode("latin-1")), fs=500)
    assert rec.metadata["encoding"] == "latin-1" and rec.calibration[0].source_unit == "uV"


def test_utf16_with_bom(tmp_path: Path) -> None:
    rec = READER.read(write(tmp_path, "I\tII\r\n0.1\t0.2\r\n0.3\t0.4\r\n".encode("utf-16")), fs=500)
    np.testing.assert_allclose(rec.signals, [[0.1, 0.3], [0.2, 0.4]], atol=1e-6)


def test_binary_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError, match="binary data"):
        READER.read(write(tmp_path, b"I,II\n\x00\x01\x02\n"), fs=500)


def test_undecodable_bytes_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError, match="not text in a known encoding"):
        READER.read(write(tmp_path, b"I,II\n0.1,0.2\n\x81\x82\x83,0.4\n"), fs=500)


# --- malformed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("I,II\n", "header but no data rows"),
        ("I,II\nmV,mV\nfoo,bar\n", "line 3 is not numeric data"),
        ("I,II\nfoo,bar\n0.1,0.2\n0.3,0.4\n", "line 2 is not numeric data"),
        ("I,II\n0.1\n0.2,0.3\n0.3,0.4\n", "line 2 has 1 values where 2 are expected"),
        ("I,II\n0.1,0.2\n", r"1 data row\(s\); at least 2"),
        ("0.1,0.2\n", r"1 data row\(s\)"),
        ("I,II\n0.1,0.2\n0.3\n0.4,0.5\n0.5,0.6\n", "line 3 has 1 values where 2 are expected"),
        ("I,II\n0.1,0.2\n0.3,0.4,0.9\n0.4,0.5\n", "line 3 has 3 values where 2 are expected"),
        ("I,II\n0.1,0.2\n0.3,abc\n0.4,0.5\n", "line 3 has a non-numeric value 'abc' in column 2"),
        ("I,II\n0.1,0.2\n0.3,\n0.4,0.5\n", "line 3 has 1 values"),
        ("I,II\n0.1,0.2\n,0.3\n0.4,0.5\n", "line 3 has an empty cell in column 1"),
        ("I,II\n0.1,0.2\n0.3,nan\n0.4,0.5\n", r"lead II contains missing/invalid values \(NaN or infinity\) at line 3"),
        ("I,II\n0.1,0.2\n0.3,inf\n0.4,0.5\n", "lead II contains missing/invalid values"),
        ("I,II\n0.1,0.2\n-Infinity,0.3\n0.4,0.5\n", "lead I contains missing/invalid values"),
        ("I,II,III\n0.1,0.2\n0.3,0.4\n", "header columns without data"),
        ("time\n0.0\n0.1\n", "no signal columns"),
        ("I\n1e308\n-1e308\n", "too large to represent"),
    ],
)
def test_malformed_text(tmp_path: Path, text: str, pattern: str) -> None:
    path = write(tmp_path, text)
    if "header columns without data" in pattern:  # not an error: a warning
        rec = READER.read(path, fs=500)
        assert any(pattern in w for w in rec.metadata["warnings"])
        return
    with pytest.raises(EcgFormatError, match=pattern) as info:
        READER.read(path, fs=500, units="V" if "too large" in pattern else None)
    assert info.value.path == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError, match="file not found"):
        READER.read(tmp_path / "none.csv", fs=500)


# --- speed and sniff -------------------------------------------------------------------------


def test_thirty_minutes_of_two_leads(tmp_path: Path) -> None:
    """A 650,000-row file reads whole (its speed is measured in bench/, not here)."""
    n = 650_000  # 30 min at 360 Hz
    x = ecg_like(n, 360)
    t = np.arange(n) / 360
    body = np.column_stack([t, x])
    path = tmp_path / "long.csv"
    with open(path, "w", encoding="ascii") as handle:
        handle.write("time,MLII,V5\n")
        np.savetxt(handle, body, fmt=["%.5f", "%.3f", "%.3f"], delimiter=",")
    rec = READER.read(path)
    assert rec.signals.shape == (2, n) and rec.fs == 360.0
    np.testing.assert_allclose(rec.signals[:, -5:], np.round(x[-5:].T, 3), atol=1e-6)


def test_blank_line_among_data_is_an_error(tmp_path: Path) -> None:
    rows = "\n".join(f"{v:.3f}" for v in np.sin(np.arange(300) / 10.0))
    rows = rows.replace("\n", "\n\n", 1)
    with pytest.raises(EcgFormatError, match="line 3 is blank"):
        READER.read(write(tmp_path, "II\n" + rows + "\n", "gap.csv"), fs=250)


def test_first_sample_number_kept(tmp_path: Path) -> None:
    lines = "\n".join(f"{10000 + i},{np.sin(i / 5.0):.3f}" for i in range(500))
    rec = READER.read(write(tmp_path, "sample,II\n" + lines + "\n", "excerpt.csv"), fs=250)
    assert rec.metadata["first_sample"] == 10000 and rec.lead_names == ("II",)


def test_sniff(tmp_path: Path) -> None:
    assert READER.sniff(write(tmp_path, "I,II\n0.1,0.2\n0.3,0.4\n", "a.txt"))
    assert READER.sniff(write(tmp_path, "0,1;0,2\n0,3;0,4\n", "b.dat"))
    assert not READER.sniff(write(tmp_path, "100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n", "c.hea"))
    assert not READER.sniff(write(tmp_path, b"\x00\x01\x02", "d.csv"))
    assert not READER.sniff(write(tmp_path, "hello world\nthis is prose\n", "e.txt"))
    assert not READER.sniff(tmp_path / "missing.csv")


# --- real files ------------------------------------------------------------------------------


@pytest.mark.data
def test_chapman_csv_exports(data_dir: Path) -> None:
    raw = sorted((data_dir / "chapman" / "ECGData_raw_mV").glob("*.csv"))
    denoised = sorted((data_dir / "chapman" / "ECGDataDenoised").glob("*.csv"))
    assert raw and denoised
    for path in raw:  # no header, 12 leads in mV
        rec = READER.read(path, fs=500)
        assert rec.signals.shape == (12, 5000)
        assert rec.calibration[0].source_unit == "mV" and rec.metadata["units_detected_by"] == "amplitude"
        np.testing.assert_allclose(rec.signals[2], rec.signals[1] - rec.signals[0], atol=1e-4)  # III = II - I
    for path in denoised:  # the same layout in uV
        rec = READER.read(path, fs=500)
        assert rec.calibration[0].source_unit == "uV"
        assert 0.1 < float(np.ptp(rec.signals[1])) < 20
