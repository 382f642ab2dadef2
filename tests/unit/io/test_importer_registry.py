"""Importer registry and the package entry points: choice by content, then extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import wfdb

import ecgstation.io as eio
from ecgstation.core.errors import EcgFormatError
from ecgstation.core.recording import Recording
from ecgstation.io import ImporterRegistry, default_registry, read_recording, sniff_format
from ecgstation.io.base import Importer
from ecgstation.io.csv_reader import CsvImporter
from ecgstation.io.wfdb_reader import WfdbImporter


@pytest.fixture
def record(tmp_path: Path) -> Path:
    digital = np.stack([np.arange(500) % 50, np.arange(500) % 30], axis=1)
    wfdb.wrsamp("r", fs=360, units=["mV", "mV"], sig_name=["I", "II"], d_signal=digital, fmt=["212", "212"],
                adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path))
    return tmp_path / "r.hea"


def test_public_api() -> None:
    assert set(eio.__all__) >= {"read_recording", "sniff_format", "Importer", "ImporterRegistry", "default_registry"}


def test_default_registry_is_fresh_and_ordered() -> None:
    a, b = default_registry(), default_registry()
    assert a is not b and a.importers[0] is not b.importers[0]
    assert [i.name for i in a.importers] == ["WFDB", "CSV"]
    assert a.option_names == {"annotator", "fs", "units"}


def test_wfdb_by_content_under_any_name(record: Path) -> None:
    for path in (record, record.with_suffix(".dat"), record.with_suffix("")):
        assert sniff_format(path) == "WFDB"
        assert read_recording(path).n_samples == 500


def test_csv_by_content_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.data"
    path.write_text("I;II\n0,1;0,2\n0,3;0,4\n")
    assert sniff_format(path) == "CSV"
    rec = read_recording(path, fs=500)
    assert rec.lead_names == ("I", "II")


def test_extension_decides_when_content_is_unclear(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("this is, not numeric\nat, all\nnor, this\n")
    assert sniff_format(path) == "CSV"
    with pytest.raises(EcgFormatError, match="line 2 is not numeric data"):
        read_recording(path)
    header = tmp_path / "bad.hea"
    header.write_bytes(b"\x00\x01garbage")
    assert sniff_format(header) == "WFDB"
    with pytest.raises(EcgFormatError, match="binary data"):
        read_recording(header)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    assert sniff_format(path) is None
    with pytest.raises(EcgFormatError, match=r"scan\.jpg: not a recognised ECG file format \(supported: WFDB"):
        read_recording(path)


def test_missing_empty_and_folder(tmp_path: Path) -> None:
    with pytest.raises(EcgFormatError, match="file not found"):
        read_recording(tmp_path / "absent.xyz")
    empty = tmp_path / "empty.xyz"
    empty.write_bytes(b"")
    with pytest.raises(EcgFormatError, match="the file is empty"):
        read_recording(empty)
    with pytest.raises(EcgFormatError, match="folder"):
        read_recording(tmp_path)


def test_options_go_to_the_importer_that_takes_them(record: Path, tmp_path: Path) -> None:
    assert read_recording(record, fs=500, units="uV").fs == 360.0  # CSV options ignored by WFDB
    csv = tmp_path / "x.csv"
    csv.write_text("I\n0.1\n0.2\n")
    assert read_recording(csv, fs=500, annotator="qrs").fs == 500.0
    with pytest.raises(TypeError, match="unknown import option"):
        read_recording(record, sampling_rate=500)


def test_format_forces_an_importer(record: Path) -> None:
    assert read_recording(record, format="wfdb").n_leads == 2
    with pytest.raises(EcgFormatError):
        read_recording(record, format="CSV", fs=500)
    with pytest.raises(ValueError, match="no importer called 'EDF'"):
        read_recording(record, format="EDF")


class _Fake(Importer):
    name: ClassVar[str] = "FAKE"
    extensions: ClassVar[tuple[str, ...]] = (".fake",)
    option_names: ClassVar[frozenset[str]] = frozenset({"gain"})

    def _sniff(self, path: Path) -> bool:
        return path.read_bytes().startswith(b"FAKE")

    def _check_options(self, **options: Any) -> float:
        return float(options.get("gain", 1.0))

    def _read(self, path: Path, options: float) -> Recording:
        if b"crash" in path.read_bytes():
            raise KeyError("internal")
        return Recording(np.ones((1, 10), dtype=np.float32) * options, 100.0, ("X",))


def test_custom_importer_registration(tmp_path: Path) -> None:
    registry = ImporterRegistry([_Fake(), CsvImporter()])
    path = tmp_path / "a.bin"
    path.write_bytes(b"FAKE data")
    assert registry.sniff_format(path) == "FAKE"
    rec = read_recording(path, registry=registry, gain=2.0)
    assert rec.signals[0, 0] == 2.0
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_Fake())
    assert registry.get("fake").name == "FAKE"
    with pytest.raises(KeyError):
        registry.get("WFDB")


def test_unexpected_exceptions_become_format_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.fake"
    path.write_bytes(b"FAKE crash")
    with pytest.raises(EcgFormatError, match="damaged or not a valid FAKE file"):
        _Fake().read(path)


def test_sniff_never_raises(tmp_path: Path) -> None:
    for importer in (WfdbImporter(), CsvImporter(), _Fake()):
        assert importer.sniff(tmp_path / "missing") is False
        assert importer.sniff(tmp_path) is False
