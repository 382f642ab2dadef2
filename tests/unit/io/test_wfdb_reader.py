"""WFDB importer: real PhysioNet records, every storage format, multi-segment records, bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import wfdb
from numpy.typing import NDArray

from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Recording
from ecgstation.io.wfdb_reader import WfdbImporter

READER = WfdbImporter()
FS = 360


def physical(record_path: Path) -> NDArray[np.float64]:
    """wfdb's own physical conversion, (leads, samples), as the reference."""
    return np.asarray(wfdb.rdrecord(str(record_path)).p_signal, dtype=np.float64).T


def assert_valid(rec: Recording) -> None:
    assert rec.signals.dtype == np.float32 and rec.signals.ndim == 2
    assert np.isfinite(rec.signals).all()
    assert not rec.signals.flags.writeable


def wave(n: int, amplitude: float, period: float, phase: float = 0.0) -> NDArray[np.int64]:
    return np.round(amplitude * np.sin(np.arange(n) / period + phase)).astype(np.int64)


def two_leads(n: int, amplitude: float) -> NDArray[np.int64]:
    return np.stack([wave(n, amplitude, 7.0), wave(n, amplitude * 0.6, 11.0, 1.0)], axis=1)


def write_header(
    folder: Path,
    name: str,
    fmt: str,
    digital: NDArray[np.int64],
    gain: float = 100.0,
    baseline: int = 5,
    units: str = "mV",
    fs: str = str(FS),
    sig_len: int | None = None,
    extra_signal: str = "",
    comments: str = "",
) -> Path:
    """A header for ``name.dat`` holding ``digital`` (samples, signals), with true checksums."""
    n, n_sig = digital.shape
    lines = [f"{name} {n_sig} {fs} {n if sig_len is None else sig_len}"]
    for k in range(n_sig):
        checksum = int(digital[:, k].sum()) % 65536
        lines.append(
            f"{name}.dat {fmt}{extra_signal} {gain:g}({baseline})/{units} 16 0 {int(digital[0, k])} {checksum} 0 S{k}"
        )
    path = folder / f"{name}.hea"
    path.write_text("\n".join(lines) + "\n" + comments, encoding="ascii")
    return path


# --- hand encoders for formats wfdb cannot write (WFDB signal(5) specification) ---


def encode(fmt: str, digital: NDArray[np.int64]) -> bytes:
    flat = digital.reshape(-1)  # frame by frame, signals interleaved
    if fmt == "8":  # first differences; the header's initial value is the first sample
        start = digital[0]
        diffs = np.diff(digital, axis=0, prepend=start[None, :])
        return diffs.reshape(-1).astype(np.int8).tobytes()
    if fmt == "61":
        return flat.astype(">i2").tobytes()
    if fmt == "160":
        return (flat + 32768).astype("<u2").tobytes()
    if fmt in ("310", "311"):
        assert flat.size % 3 == 0
        u = (flat & 0x3FF).astype(np.uint32).reshape(-1, 3)
        a, b, c = u[:, 0], u[:, 1], u[:, 2]
        if fmt == "311":
            words = (a | (b << 10) | (c << 20)).astype("<u4")
            return words.tobytes()
        w0 = ((a << 1) | ((c & 0x1F) << 11)).astype("<u2")
        w1 = ((b << 1) | ((c >> 5) << 11)).astype("<u2")
        return np.stack([w0, w1], axis=1).reshape(-1).tobytes()
    raise ValueError(fmt)


# --- real records -------------------------------------------------------------------


@pytest.mark.data
def test_mitdb_100(data_dir: Path) -> None:
    base = data_dir / "mitdb" / "100"
    rec = READER.read(base.with_suffix(".hea"))
    assert_valid(rec)
    assert rec.lead_names == ("MLII", "V5")
    assert rec.signals.shape == (2, 650000)
    assert rec.fs == 360.0
    np.testing.assert_allclose(rec.signals, physical(base), atol=1e-6)
    assert rec.calibration[0].gain == 200.0 and rec.calibration[0].baseline == 1024.0
    assert rec.calibration[0].source_unit == "mV"
    assert rec.patient.age_years == 69 and rec.patient.sex == "M"
    assert rec.metadata["comments"] == ("69 M 1085 1629 x1", "Aldomet, Inderal")
    assert rec.metadata["warnings"] == ()
    ann = rec.annotations
    assert len(ann) == 2274 and ann.source == "atr"
    assert {"N", "A", "V", "+"} <= set(ann.labels)
    assert ann.labels.count("N") == 2239
    assert ann.aux[ann.labels.index("+")] == "(N"
    assert ann.samples.dtype == np.int64 and np.all(np.diff(ann.samples) >= 0)


@pytest.mark.data
@pytest.mark.parametrize("suffix", ["", ".hea", ".dat"])
def test_mitdb_100_by_any_of_its_names(data_dir: Path, suffix: str) -> None:
    path = data_dir / "mitdb" / f"100{suffix}"
    assert READER.sniff(path)
    rec = READER.read(path)
    assert rec.n_samples == 650000 and rec.source_path == str(data_dir / "mitdb" / "100.hea")


@pytest.mark.data
def test_every_mitdb_record_matches_wfdb(data_dir: Path) -> None:
    headers = sorted((data_dir / "mitdb").glob("*.hea"))
    assert len(headers) == 48
    for header in headers:
        rec = READER.read(header)
        assert_valid(rec)
        np.testing.assert_allclose(rec.signals, physical(header.with_suffix("")), atol=1e-6, err_msg=header.name)
        assert rec.metadata["warnings"] == (), header.name


@pytest.mark.data
def test_ptbxl_12_lead(data_dir: Path) -> None:
    base = data_dir / "ptbxl" / "records500" / "00000" / "00001_hr"
    rec = READER.read(base.with_suffix(".dat"))
    assert_valid(rec)
    assert rec.lead_names == ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
    assert rec.signals.shape == (12, 5000) and rec.fs == 500.0
    np.testing.assert_allclose(rec.signals, physical(base), atol=1e-6)
    assert rec.calibration[0].gain == 1000.0
    assert len(rec.annotations) == 0


@pytest.mark.data
def test_cinc2021_mat_record(data_dir: Path) -> None:
    base = data_dir / "cinc2021" / "12-lead-ecg-classifier" / "CPSC_CPSC-Extra" / "A0003"
    rec = READER.read(base.with_suffix(".mat"))
    assert_valid(rec)
    assert rec.signals.shape == (12, 5000) and rec.fs == 500.0
    assert rec.lead_names[:2] == ("I", "II") and rec.lead_names[-1] == "V6"
    np.testing.assert_allclose(rec.signals, physical(base), atol=1e-6)
    assert rec.start_time == datetime(2020, 5, 12, 12, 33, 59)  # "12-May-2020 12:33:59"
    assert rec.patient.age_years == 81 and rec.patient.sex == "F"
    assert rec.metadata["header_fields"]["Dx"] == "164889003"


@pytest.mark.data
def test_cinc2021_lower_case_units(data_dir: Path) -> None:
    base = data_dir / "cinc2021" / "torch_ecg" / "HR06000"  # units written "mv"
    rec = READER.read(base)
    assert rec.calibration[0].source_unit == "mV"
    np.testing.assert_allclose(rec.signals, physical(base), atol=1e-6)
    assert rec.patient.sex == "F" and rec.patient.age_years == 59


@pytest.mark.data
def test_every_cinc2021_and_ptbxl_record_reads(data_dir: Path) -> None:
    headers = sorted((data_dir / "cinc2021").rglob("*.hea")) + sorted((data_dir / "ptbxl").rglob("*_hr.hea"))[:50]
    assert headers
    for header in headers:
        rec = READER.read(header)
        assert_valid(rec)
        assert rec.n_leads == 12, header


@pytest.mark.data
def test_qtdb_q1c_annotator(data_dir: Path) -> None:
    base = data_dir / "qtdb" / "sel100"
    rec = READER.read(base, annotator="q1c")
    assert rec.fs == 250.0 and rec.signals.shape == (2, 225000)
    assert rec.metadata["counter_frequency_hz"] == 360.0
    ann = rec.annotations
    assert ann.source == "q1c" and len(ann) > 0
    assert {"(", ")", "N", "t", "p"} <= set(ann.labels)
    reference = wfdb.rdann(str(base), "q1c")
    np.testing.assert_array_equal(ann.samples, reference.sample)
    assert READER.read(base).annotations.source == "atr"
    assert len(READER.read(base, annotator=None).annotations) == 0


@pytest.mark.data
def test_missing_named_annotator_is_an_error(data_dir: Path) -> None:
    with pytest.raises(EcgFormatError, match="annotator 'q2c' not found"):
        READER.read(data_dir / "qtdb" / "sel104", annotator="q2c")


# --- every storage format ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["16", "24", "32", "80", "212"])
def test_formats_written_by_wfdb(tmp_path: Path, fmt: str) -> None:
    digital = two_leads(1000, 120)
    wfdb.wrsamp(
        "rec", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=[fmt, fmt],
        adc_gain=[100.0, 50.0], baseline=[3, -2], write_dir=str(tmp_path),
    )
    rec = READER.read(tmp_path / "rec.hea")
    assert_valid(rec)
    expected = np.stack([(digital[:, 0] - 3) / 100.0, (digital[:, 1] + 2) / 50.0])
    np.testing.assert_allclose(rec.signals, expected, atol=1e-6)
    np.testing.assert_allclose(rec.signals, physical(tmp_path / "rec"), atol=1e-6)
    assert rec.metadata["wfdb_formats"] == (fmt, fmt)
    assert rec.metadata["warnings"] == ()


@pytest.mark.parametrize("fmt", ["508", "516", "524"])
def test_flac_formats(tmp_path: Path, fmt: str) -> None:
    pytest.importorskip("soundfile")
    digital = two_leads(1000, 100)
    wfdb.wrsamp(
        "rec", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=[fmt, fmt],
        adc_gain=[100.0, 100.0], baseline=[0, 0], write_dir=str(tmp_path),
    )
    rec = READER.read(tmp_path / "rec")
    np.testing.assert_allclose(rec.signals, digital.T / 100.0, atol=1e-6)


@pytest.mark.parametrize(("fmt", "amplitude"), [("8", 100), ("61", 20000), ("160", 20000), ("310", 500), ("311", 500)])
def test_formats_encoded_by_hand(tmp_path: Path, fmt: str, amplitude: int) -> None:
    digital = two_leads(300, amplitude)
    (tmp_path / "rec.dat").write_bytes(encode(fmt, digital))
    write_header(tmp_path, "rec", fmt, digital, gain=100.0, baseline=5)
    rec = READER.read(tmp_path / "rec.hea")
    assert_valid(rec)
    np.testing.assert_allclose(rec.signals, (digital.T - 5) / 100.0, atol=1e-6)
    np.testing.assert_allclose(rec.signals, physical(tmp_path / "rec"), atol=1e-6)
    assert rec.metadata["warnings"] == ()


def test_memory_mapped_and_wfdb_paths_agree(tmp_path: Path) -> None:
    digital = two_leads(2000, 3000)
    for fmt in ("16", "24"):  # 16 is memory-mapped, 24 is decoded by wfdb
        folder = tmp_path / fmt
        folder.mkdir()
        wfdb.wrsamp(
            "rec", fs=FS, units=["uV", "V"], sig_name=["I", "II"], d_signal=digital, fmt=[fmt, fmt],
            adc_gain=[2.0, 4000.0], baseline=[10, -10], write_dir=str(folder),
        )
    a = READER.read(tmp_path / "16" / "rec")
    b = READER.read(tmp_path / "24" / "rec")
    np.testing.assert_array_equal(a.signals, b.signals)
    expected = np.stack([(digital[:, 0] - 10) / 2.0 / 1000.0, (digital[:, 1] + 10) / 4000.0 * 1000.0])
    np.testing.assert_allclose(a.signals, expected, rtol=1e-6, atol=1e-7)
    assert [c.source_unit for c in a.calibration] == ["uV", "V"]
    assert a.calibration[0].gain == pytest.approx(2000.0)  # ADC units per mV
    assert a.calibration[1].gain == pytest.approx(4.0)


def test_several_samples_per_frame_are_averaged(tmp_path: Path) -> None:
    n = 100
    fast = np.arange(2 * n, dtype=np.int64)
    slow = np.arange(n, dtype=np.int64) * 3
    frames = np.empty((n, 3), dtype=np.int64)
    frames[:, 0] = fast[0::2]
    frames[:, 1] = fast[1::2]
    frames[:, 2] = slow
    (tmp_path / "mf.dat").write_bytes(frames.reshape(-1).astype("<i2").tobytes())
    (tmp_path / "mf.hea").write_text(
        f"mf 2 {FS} {n}\nmf.dat 16x2 100/mV 16 0 0 0 0 A\nmf.dat 16 100/mV 16 0 0 0 0 B\n", encoding="ascii"
    )
    rec = READER.read(tmp_path / "mf.hea")
    np.testing.assert_allclose(rec.signals[0], (fast[0::2] + fast[1::2]) / 2 / 100.0, atol=1e-6)
    np.testing.assert_allclose(rec.signals[1], slow / 100.0, atol=1e-6)
    assert rec.metadata["samples_per_frame"] == (2, 1)


def test_skewed_signal_drops_the_tail(tmp_path: Path) -> None:
    digital = two_leads(200, 100)
    (tmp_path / "sk.dat").write_bytes(digital.reshape(-1).astype("<i2").tobytes())
    (tmp_path / "sk.hea").write_text(
        f"sk 2 {FS} 200\nsk.dat 16 100/mV 16 0 0 0 0 I\nsk.dat 16:3 100/mV 16 0 0 0 0 II\n", encoding="ascii"
    )
    rec = READER.read(tmp_path / "sk.hea")
    assert rec.n_samples == 197
    np.testing.assert_allclose(rec.signals[1], digital[3:, 1] / 100.0, atol=1e-6)


def test_non_voltage_signals_are_left_out(tmp_path: Path) -> None:
    digital = two_leads(500, 100)
    wfdb.wrsamp(
        "mixed", fs=FS, units=["mV", "mmHg"], sig_name=["ECG", "ABP"], d_signal=digital, fmt=["16", "16"],
        adc_gain=[100.0, 10.0], baseline=[0, 0], write_dir=str(tmp_path),
    )
    rec = READER.read(tmp_path / "mixed.hea")
    assert rec.lead_names == ("ECG",)
    assert rec.metadata["dropped_signals"] == ("ABP (mmHg)",)
    np.testing.assert_allclose(rec.signals[0], digital[:, 0] / 100.0, atol=1e-6)


def test_no_voltage_signal_at_all(tmp_path: Path) -> None:
    digital = two_leads(500, 100)
    wfdb.wrsamp(
        "bp", fs=FS, units=["mmHg", "NU"], sig_name=["ABP", "RESP"], d_signal=digital, fmt=["16", "16"],
        adc_gain=[10.0, 10.0], baseline=[0, 0], write_dir=str(tmp_path),
    )
    with pytest.raises(EcgFormatError, match="no voltage"):
        READER.read(tmp_path / "bp.hea")


def test_header_comments_dates_and_patient(tmp_path: Path) -> None:
    digital = two_leads(400, 100)
    (tmp_path / "c.dat").write_bytes(digital.reshape(-1).astype("<i2").tobytes())
    write_header(tmp_path, "c", "16", digital, comments="# Age: 54\n# Sex: Male\n# Height: 180 cm\n# Dx: 426783006\n")
    text = (tmp_path / "c.hea").read_text().replace(f"c 2 {FS} 400", f"c 2 {FS} 400 13:05:09.250 24/12/2019")
    (tmp_path / "c.hea").write_text(text)
    rec = READER.read(tmp_path / "c")
    assert rec.start_time == datetime(2019, 12, 24, 13, 5, 9, 250000)
    assert rec.patient.age_years == 54 and rec.patient.sex == "M" and rec.patient.height_cm == 180
    assert rec.metadata["header_fields"]["Dx"] == "426783006"
    assert "Age: 54" in rec.metadata["comments"]


def test_annotations_with_aux_notes(tmp_path: Path) -> None:
    digital = two_leads(1000, 100)
    wfdb.wrsamp("a", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["212", "212"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    wfdb.wrann("a", "atr", np.array([10, 300, 600, 990]), symbol=["+", "N", "V", "N"],
               aux_note=["(AFIB", "", "", ""], write_dir=str(tmp_path))
    wfdb.wrann("a", "qrs", np.array([300, 600]), symbol=["N", "N"], write_dir=str(tmp_path))
    rec = READER.read(tmp_path / "a.hea")
    assert rec.annotations.labels == ("+", "N", "V", "N")
    assert rec.annotations.aux == ("(AFIB", "", "", "")
    np.testing.assert_array_equal(rec.annotations.samples, [10, 300, 600, 990])
    qrs = READER.read(tmp_path / "a.hea", annotator="qrs").annotations
    assert qrs.source == "qrs" and len(qrs) == 2


def test_annotations_beyond_the_record_are_left_out(tmp_path: Path) -> None:
    digital = two_leads(100, 100)
    wfdb.wrsamp("b", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["16", "16"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    wfdb.wrann("b", "atr", np.array([10, 50, 5000]), symbol=["N", "N", "N"], write_dir=str(tmp_path))
    rec = READER.read(tmp_path / "b.hea")
    assert len(rec.annotations) == 2
    assert any("outside the record" in w for w in rec.metadata["warnings"])


def test_damaged_default_annotations_are_a_warning_named_ones_an_error(tmp_path: Path) -> None:
    digital = two_leads(100, 100)
    wfdb.wrsamp("d", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["16", "16"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    (tmp_path / "d.atr").write_bytes(b"\xff\xff\xff")
    rec = READER.read(tmp_path / "d.hea")
    assert len(rec.annotations) == 0 and any("annotations" in w for w in rec.metadata["warnings"])
    with pytest.raises(EcgFormatError) as info:
        READER.read(tmp_path / "d.hea", annotator="atr")
    assert "d.atr" in str(info.value)


def test_annotator_option_is_checked() -> None:
    with pytest.raises(ValueError, match="annotator"):
        READER.read("x.hea", annotator="../etc")
    with pytest.raises(TypeError, match="unknown option"):
        READER.read("x.hea", fs=360)


# --- multi-segment records -----------------------------------------------------------


def write_segments(folder: Path) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n1, n2 = 400, 600
    a = wave(n1 + n2, 100, 20.0)
    b = wave(n1 + n2, 80, 13.0)
    wfdb.wrsamp("seg1", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=np.stack([a[:n1], b[:n1]], 1),
                fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(folder))
    wfdb.wrsamp("seg2", fs=FS, units=["mV", "uV"], sig_name=["I", "II"], d_signal=np.stack([a[n1:], b[n1:]], 1),
                fmt=["212", "212"], adc_gain=[100, 0.1], baseline=[10, -5], write_dir=str(folder))
    return a, b


def test_fixed_layout_multi_segment(tmp_path: Path) -> None:
    a, b = write_segments(tmp_path)
    (tmp_path / "multi.hea").write_text(f"multi/2 2 {FS} 1000\nseg1 400\nseg2 600\n", encoding="ascii")
    rec = READER.read(tmp_path / "multi.hea")
    assert_valid(rec)
    assert rec.signals.shape == (2, 1000) and rec.signals.flags.c_contiguous
    np.testing.assert_allclose(rec.signals[0, :400], a[:400] / 200, atol=1e-6)
    np.testing.assert_allclose(rec.signals[0, 400:], (a[400:] - 10) / 100, atol=1e-6)
    np.testing.assert_allclose(rec.signals[1, 400:], (b[400:] + 5) / 0.1 / 1000, atol=1e-4)
    assert rec.metadata["layout"] == "fixed" and rec.metadata["n_segments"] == 2


def test_variable_layout_multi_segment(tmp_path: Path) -> None:
    n1, n2 = 400, 600
    a = wave(n1 + n2, 100, 20.0)
    b = wave(n1 + n2, 80, 13.0)
    wfdb.wrsamp("v1", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=np.stack([a[:n1], b[:n1]], 1),
                fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    wfdb.wrsamp("v2", fs=FS, units=["mV", "mV"], sig_name=["II", "I"], d_signal=np.stack([b[n1:], a[n1:]], 1),
                fmt=["212", "212"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    (tmp_path / "vm_layout.hea").write_text(
        f"vm_layout 2 {FS} 0\n~ 0 200/mV 16 0 0 0 0 I\n~ 0 200/mV 16 0 0 0 0 II\n", encoding="ascii"
    )
    (tmp_path / "vm.hea").write_text(f"vm/3 2 {FS} 1000\nvm_layout 0\nv1 400\nv2 600\n", encoding="ascii")
    rec = READER.read(tmp_path / "vm")
    assert rec.lead_names == ("I", "II") and rec.metadata["layout"] == "variable"
    np.testing.assert_allclose(rec.signals, np.stack([a, b]) / 200, atol=1e-6)
    np.testing.assert_allclose(rec.signals, physical(tmp_path / "vm"), atol=1e-6)


def test_variable_layout_with_a_lead_missing_in_a_segment(tmp_path: Path) -> None:
    a = wave(300, 100, 20.0)
    wfdb.wrsamp("w1", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=np.stack([a[:100], a[:100]], 1),
                fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    wfdb.wrsamp("w2", fs=FS, units=["mV"], sig_name=["I"], d_signal=a[100:, None],
                fmt=["16"], adc_gain=[200], baseline=[0], write_dir=str(tmp_path))
    (tmp_path / "wm_layout.hea").write_text(
        f"wm_layout 2 {FS} 0\n~ 0 200/mV 16 0 0 0 0 I\n~ 0 200/mV 16 0 0 0 0 II\n", encoding="ascii"
    )
    (tmp_path / "wm.hea").write_text(f"wm/3 2 {FS} 300\nwm_layout 0\nw1 100\nw2 200\n", encoding="ascii")
    with pytest.raises(EcgFormatError, match="lead II is missing in samples 100-299"):
        READER.read(tmp_path / "wm.hea")


def test_multi_segment_gap_is_an_error(tmp_path: Path) -> None:
    write_segments(tmp_path)
    (tmp_path / "gap.hea").write_text(f"gap/3 2 {FS} 1100\nseg1 400\n~ 100\nseg2 600\n", encoding="ascii")
    with pytest.raises(EcgFormatError, match="hold no data"):
        READER.read(tmp_path / "gap.hea")


def test_multi_segment_shorter_than_announced(tmp_path: Path) -> None:
    write_segments(tmp_path)
    (tmp_path / "long.hea").write_text(f"long/2 2 {FS} 1400\nseg1 400\nseg2 1000\n", encoding="ascii")
    with pytest.raises(EcgFormatError, match=r"seg2\.hea.*600 samples but the master header says 1000"):
        READER.read(tmp_path / "long.hea")


def test_multi_segment_with_missing_segment_header(tmp_path: Path) -> None:
    write_segments(tmp_path)
    (tmp_path / "lost.hea").write_text(f"lost/2 2 {FS} 1000\nseg1 400\nseg9 600\n", encoding="ascii")
    with pytest.raises(EcgFormatError, match=r"seg9\.hea"):
        READER.read(tmp_path / "lost.hea")


# --- malformed input: one EcgFormatError naming the file and the reason ------------------


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A valid 2-lead format-16 record ``good`` of 1000 samples; returns its header path."""
    digital = two_leads(1000, 1000)
    wfdb.wrsamp("good", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["16", "16"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    return tmp_path / "good.hea"


def rewrite_record_line(header: Path, line: str) -> None:
    lines = header.read_text().splitlines()
    header.write_text("\n".join([line, *lines[1:]]) + "\n")


def expect_error(path: Path, pattern: str) -> EcgFormatError:
    with pytest.raises(EcgFormatError, match=pattern) as info:
        READER.read(path)
    assert info.value.path is not None
    assert str(info.value).startswith(f"Cannot read {info.value.path}: ")
    return info.value


def test_truncated_data_file(good: Path) -> None:
    dat = good.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:1001])
    error = expect_error(good, "truncated: the header says 1000 samples per signal, the file holds 250")
    assert error.path == str(dat)


def test_header_that_lies_about_the_length(good: Path) -> None:
    rewrite_record_line(good, f"good 2 {FS} 100000")
    expect_error(good, "truncated")


def test_data_longer_than_the_header_is_a_warning(good: Path) -> None:
    rewrite_record_line(good, f"good 2 {FS} 900")
    rec = READER.read(good)
    assert rec.n_samples == 900
    assert any("more than the header" in w for w in rec.metadata["warnings"])


def test_missing_data_file(good: Path) -> None:
    good.with_suffix(".dat").unlink()
    expect_error(good, "data file good.dat is missing")


def test_missing_header(good: Path) -> None:
    good.unlink()
    expect_error(good.with_suffix(".dat"), "no WFDB header")
    expect_error(good, "file not found")
    expect_error(good.with_suffix(""), "file not found")


def test_empty_header(good: Path) -> None:
    good.write_bytes(b"")
    expect_error(good, "header file is empty")


def test_binary_junk_header(good: Path) -> None:
    good.write_bytes(bytes(range(256)) * 4)
    expect_error(good, "binary data")


def test_non_utf8_header(good: Path) -> None:
    good.write_bytes(good.read_bytes() + b"# Name: M\xfcller\n")
    expect_error(good, "not UTF-8")


def test_text_that_is_not_a_header(good: Path) -> None:
    good.write_text("hello world, this is not a header\n")
    expect_error(good, "no WFDB record line")


def test_one_sample_record(tmp_path: Path) -> None:
    (tmp_path / "one.dat").write_bytes(np.array([1, 2], dtype="<i2").tobytes())
    (tmp_path / "one.hea").write_text(
        f"one 2 {FS} 1\none.dat 16 200/mV 16 0 1 1 0 I\none.dat 16 200/mV 16 0 2 2 0 II\n"
    )
    expect_error(tmp_path / "one.hea", r"1 sample\(s\) per lead; at least 2")


def test_zero_leads(tmp_path: Path) -> None:
    (tmp_path / "none.hea").write_text(f"none 0 {FS} 1000\n")
    expect_error(tmp_path / "none.hea", "no signals")


def test_header_listing_fewer_signals_than_announced(good: Path) -> None:
    rewrite_record_line(good, f"good 5 {FS} 1000")
    expect_error(good, "announces 5 signal")


@pytest.mark.parametrize(
    ("fs_token", "pattern"),
    [("0", "not plausible"), ("-360", "not a positive number"), ("25000", "not plausible"),
     ("10", "not plausible"), ("abc", "not a positive number"), ("1e400", "not a finite number")],
)
def test_absurd_sampling_frequency(good: Path, fs_token: str, pattern: str) -> None:
    rewrite_record_line(good, f"good 2 {fs_token} 1000")
    expect_error(good, pattern)


def test_missing_sampling_frequency_uses_the_wfdb_default(good: Path) -> None:
    rewrite_record_line(good, "good 2")
    rec = READER.read(good)
    assert rec.fs == 250.0 and rec.n_samples == 1000
    assert any("no sampling frequency" in w for w in rec.metadata["warnings"])


def test_invalid_sample_marker(tmp_path: Path) -> None:
    digital = two_leads(500, 100)
    digital[123, 1] = -32768  # WFDB's missing-sample value in format 16
    (tmp_path / "gap.dat").write_bytes(digital.reshape(-1).astype("<i2").tobytes())
    write_header(tmp_path, "gap", "16", digital)
    expect_error(tmp_path / "gap.hea", "lead S1 contains missing/invalid samples .first at sample 123")


def test_invalid_sample_marker_in_format_212(tmp_path: Path) -> None:
    digital = two_leads(500, 100)
    digital[7, 0] = -2048
    wfdb.wrsamp("g212", fs=FS, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["212", "212"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    expect_error(tmp_path / "g212.hea", "lead I contains missing/invalid samples")


def test_checksum_mismatch_is_a_warning(good: Path) -> None:
    dat = good.with_suffix(".dat")
    data = bytearray(dat.read_bytes())
    data[100] ^= 0x10
    dat.write_bytes(bytes(data))
    rec = READER.read(good)
    assert any("checksum mismatch in lead" in w for w in rec.metadata["warnings"])


def test_unsupported_format(good: Path) -> None:
    good.write_text(good.read_text().replace(".dat 16 ", ".dat 99 "))
    expect_error(good, "unsupported WFDB storage format '99'")


def test_unusable_gain(good: Path) -> None:
    text = good.read_text().splitlines()
    text[1] = "good.dat 16 1e-320/mV 16 0 0 0 0 I"
    good.write_text("\n".join(text) + "\n")
    expect_error(good, "unusable ADC gain")


def test_huge_values_are_not_finite_in_mv(tmp_path: Path) -> None:
    digital = two_leads(300, 1000)
    (tmp_path / "big.dat").write_bytes(digital.reshape(-1).astype("<i2").tobytes())
    write_header(tmp_path, "big", "16", digital, gain=1e-40, baseline=0)
    expect_error(tmp_path / "big.hea", "too large to represent")


def test_flac_header_with_plain_data(tmp_path: Path) -> None:
    pytest.importorskip("soundfile")
    digital = two_leads(300, 100)
    (tmp_path / "fl.dat").write_bytes(digital.reshape(-1).astype("<i2").tobytes())
    write_header(tmp_path, "fl", "516", digital)
    expect_error(tmp_path / "fl.hea", "not a FLAC stream")


def test_directory_is_not_a_record(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError):
        READER.read(tmp_path)


def test_sniff(good: Path, tmp_path: Path) -> None:
    assert READER.sniff(good) and READER.sniff(good.with_suffix(".dat")) and READER.sniff(good.with_suffix(""))
    junk = tmp_path / "junk.hea"
    junk.write_bytes(b"\x00\x01\x02")
    assert not READER.sniff(junk)
    csv = tmp_path / "x.csv"
    csv.write_text("1,2\n3,4\n")
    assert not READER.sniff(csv)
    assert not READER.sniff(tmp_path / "nothing.hea")
