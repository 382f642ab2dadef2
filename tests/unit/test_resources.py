"""Tests of ecgstation.resources and of the bundled sample catalogue."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import wfdb

from ecgstation import resources
from ecgstation.core.errors import EcgStationError
from ecgstation.resources import ENV_VAR, ResourceError, get_sample, list_samples, resources_dir, samples_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_resources_dir_is_the_repository_folder_in_a_source_tree() -> None:
    assert resources_dir() == (REPO_ROOT / "resources").resolve()
    assert samples_dir() == resources_dir() / "samples"


def test_catalogue_lists_the_four_samples_in_order() -> None:
    assert [s.id for s in list_samples()] == ["100", "119", "208", "ptbxl_00003"]


def test_every_listed_file_exists_and_is_inside_the_samples_folder() -> None:
    for sample in list_samples():
        assert sample.path in sample.files
        for path in sample.files:
            assert path.is_file(), path
            assert path.parent == samples_dir()


@pytest.mark.parametrize("sample", list_samples(), ids=lambda s: s.id)
def test_catalogue_matches_the_wfdb_header(sample: resources.Sample) -> None:
    header = wfdb.rdheader(str(sample.path.with_suffix("")))
    assert header.fs == sample.fs_hz
    assert header.sig_len == sample.n_samples
    assert tuple(header.sig_name) == sample.leads
    assert sample.duration_s == pytest.approx(sample.n_samples / sample.fs_hz, abs=1e-3)
    if sample.annotator is not None:
        assert sample.path.with_suffix(f".{sample.annotator}").is_file()


def test_sample_files_match_their_checksums() -> None:
    folder = samples_dir()
    lines = (folder / "SHA256SUMS.txt").read_text(encoding="ascii").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    for sample in list_samples():
        for path in sample.files:
            assert listed[path.name] == hashlib.sha256(path.read_bytes()).hexdigest(), path.name


def test_attribution_names_licences_and_citations() -> None:
    text = (samples_dir() / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for needle in ("ODC-By 1.0", "CC BY 4.0", "Goldberger", "Moody G.B., Mark R.G.", "Wagner P.",
                   "Circulation 101(23):e215-e220 (2000)", "Scientific Data 7:154 (2020)"):
        assert needle in text
    licences = {s.licence for s in list_samples()}
    assert licences == {"ODC-By-1.0", "CC-BY-4.0"}


def test_get_sample_by_id() -> None:
    sample = get_sample("100")
    assert sample.path.name == "100.hea"
    assert sample.leads == ("MLII", "V5")
    assert sample.n_leads == 2
    assert get_sample("ptbxl_00003").n_leads == 12


def test_unknown_sample_names_the_known_ones() -> None:
    with pytest.raises(ResourceError, match="no bundled sample 'nope'.*100, 119, 208"):
        get_sample("nope")


def test_resource_error_is_an_ecgstation_error() -> None:
    assert issubclass(ResourceError, EcgStationError)


def _write_catalogue(folder: Path, document: object) -> Path:
    (folder / "samples").mkdir(parents=True)
    (folder / "samples" / "samples.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_override_points_at_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"id": "x", "title": "X", "description": "d", "file": "x.hea", "files": ["x.hea", "x.dat"],
             "leads": ["I"], "fs_hz": 250, "n_samples": 500, "duration_s": 2.0, "annotator": None,
             "source": "test", "licence": "CC0-1.0"}
    folder = _write_catalogue(tmp_path / "res", {"schema_version": 1, "samples": [entry]})
    monkeypatch.setenv(ENV_VAR, str(folder))
    assert resources_dir() == folder.resolve()
    (sample,) = list_samples()
    assert sample.path == folder.resolve() / "samples" / "x.hea"
    assert sample.annotator is None
    assert sample.fs_hz == 250.0


def test_override_without_catalogue_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(ResourceError, match=ENV_VAR):
        resources_dir()


def test_missing_resources_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(resources, "candidate_dirs", lambda: iter([tmp_path / "none"]))
    with pytest.raises(ResourceError, match="not found"):
        resources_dir()


def test_installed_data_location_is_a_candidate() -> None:
    candidates = list(resources.candidate_dirs())
    assert any(c.parts[-3:] == ("share", "ecgstation", "resources") for c in candidates)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not valid JSON"),
        ({"samples": {}}, "'samples' list"),
        ({"samples": [{"id": "x"}]}, "lacks the field"),
        ({"samples": [3]}, "JSON object"),
    ],
)
def test_damaged_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, document: object, message: str) -> None:
    folder = tmp_path / "res"
    (folder / "samples").mkdir(parents=True)
    text = document if isinstance(document, str) else json.dumps(document)
    (folder / "samples" / "samples.json").write_text(text, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(folder))
    with pytest.raises(ResourceError, match=message):
        list_samples()
