"""pytest-qt tests of the main window (run offscreen; see tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

import ecgstation.io
from ecgstation import __version__
from ecgstation.core.errors import EcgFormatError
from ecgstation.resources import get_sample
from ecgstation.ui.main_window import APP_TITLE, MainWindow, format_duration, lead_spacing_mv

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_window_opens_with_title_and_menus(window: MainWindow) -> None:
    assert window.windowTitle() == APP_TITLE == "ECG Station"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Help"]
    assert window.open_action.text().replace("&", "").startswith("Open")
    assert window.quit_action.isEnabled()


def test_window_starts_on_the_first_sample(window: MainWindow) -> None:
    assert window.sample_list.currentRow() == 0
    assert window.recording is not None
    assert window.recording.n_leads == 2
    assert len(window.curves()) == 2
    assert window.statusBar().currentMessage().startswith("100.hea: 360 Hz · 2 leads")


def test_window_without_samples_starts_empty(qtbot) -> None:  # type: ignore[no-untyped-def]
    win = MainWindow(samples=[])
    qtbot.addWidget(win)
    assert win.sample_ids() == []
    assert win.recording is None
    assert win.curves() == []
    assert "File → Open" in win.statusBar().currentMessage()


def test_sample_list_holds_the_bundled_samples(window: MainWindow) -> None:
    ids = window.sample_ids()
    assert "100" in ids
    assert ids == ["100", "119", "208", "ptbxl_00003"]
    assert window.sample_list.item(0).text() == "MIT-BIH 100"


@pytest.mark.parametrize(("sample_id", "leads"), [("100", 2), ("ptbxl_00003", 12)])
def test_selecting_a_sample_plots_one_curve_per_lead(window: MainWindow, sample_id: str, leads: int) -> None:
    window.select_sample(sample_id)
    assert window.recording is not None
    assert window.recording.n_leads == leads
    data_items = window.plot_widget.getPlotItem().listDataItems()
    assert len(data_items) == leads == len(window.curves())
    fs = get_sample(sample_id).fs_hz
    x, _y = data_items[0].getOriginalDataset()
    assert x is not None
    assert x[-1] == pytest.approx(10.0 - 1.0 / fs)  # the first 10 s
    message = window.statusBar().currentMessage()
    assert f"{fs:g} Hz" in message
    assert f"{leads} leads" in message


def test_switching_samples_replaces_the_curves(window: MainWindow) -> None:
    window.select_sample("ptbxl_00003")
    window.select_sample("119")
    assert len(window.plot_widget.getPlotItem().listDataItems()) == 2
    assert "30 min 5.6 s" in window.statusBar().currentMessage()


def test_unknown_sample_id(window: MainWindow) -> None:
    with pytest.raises(KeyError):
        window.select_sample("nope")


def test_open_shows_the_readers_message(window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "broken.hea"
    bad.write_text("this is not an ECG\n", encoding="ascii")

    def fail(path: str | Path) -> object:
        raise EcgFormatError(path, "the header has no sampling rate")

    monkeypatch.setattr(ecgstation.io, "read_recording", fail)
    monkeypatch.setattr(window, "_ask_open_path", lambda: str(bad))
    before = window.recording
    window.open_action.trigger()
    assert window.error_box.isVisible()
    assert window.error_box.text() == f"Cannot read {bad}: the header has no sampling rate"
    assert window.recording is before  # the record on screen stays


def test_unexpected_error_shows_no_traceback(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(path: str | Path) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(ecgstation.io, "read_recording", crash)
    assert window.load_path("/nowhere/x.hea") is False
    text = window.error_box.text()
    assert "internal error" in text and "x.hea" in text
    assert "Traceback" not in text and "boom" not in text


def test_open_a_real_file_through_the_menu(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    path = get_sample("208").path
    monkeypatch.setattr(window, "_ask_open_path", lambda: str(path))
    window.open_action.trigger()
    assert len(window.curves()) == 2
    assert window.statusBar().currentMessage().startswith("208.hea: 360 Hz")
    assert window.sample_list.currentRow() == -1  # an opened file is not a list entry
    assert not window.error_box.isVisible()


def test_garbage_file_is_reported_not_raised(window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.hea"
    bad.write_bytes(b"\x00\x01 not a header at all\n")
    assert window.load_path(bad) is False
    assert window.error_box.isVisible()
    assert "internal error" not in window.error_box.text()


def test_cancelled_open_dialog_does_nothing(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(window, "_ask_open_path", lambda: "")
    before = window.recording
    window.open_action.trigger()
    assert window.recording is before
    assert not window.error_box.isVisible()


def test_about_shows_the_version(window: MainWindow) -> None:
    window.about_action.trigger()
    assert window.about_box.isVisible()
    assert __version__ in window.about_box.text()
    assert "physician" in window.about_box.text()
    window.about_box.button(QMessageBox.StandardButton.Ok).click()
    assert not window.about_box.isVisible()


def test_quit_closes_the_window(window: MainWindow) -> None:
    window.quit_action.trigger()
    assert not window.isVisible()


def test_format_duration() -> None:
    assert format_duration(10.0) == "10.0 s"
    assert format_duration(1805.556) == "30 min 5.6 s"
    assert format_duration(86400.0) == "24:00:00"


def test_lead_spacing_has_a_floor_and_ignores_nan() -> None:
    import numpy as np

    flat = np.zeros((3, 100), dtype=np.float32)
    assert lead_spacing_mv(flat) == 1.5
    wide = np.tile(np.linspace(-2.0, 2.0, 1000, dtype=np.float32), (2, 1))
    wide[0, :10] = np.nan
    assert lead_spacing_mv(wide) == 4.5


def test_run_gui_opens_the_file_named_on_the_command_line(qapp, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ecgstation.ui import app as app_module

    path = get_sample("208").path
    windows: list[MainWindow] = []

    class _App:
        """Stands in for the QApplication so that run_gui returns at once."""

        def arguments(self) -> list[str]:
            return ["ecgstation", str(path)]

        def exec(self) -> int:
            return 0

    def make_window() -> MainWindow:
        windows.append(MainWindow())
        return windows[-1]

    monkeypatch.setattr(app_module, "_application", lambda args: _App())
    monkeypatch.setattr(app_module, "MainWindow", make_window)
    assert app_module.run_gui([str(path)]) == 0
    (win,) = windows
    assert win.isVisible()
    assert win.statusBar().currentMessage().startswith("208.hea: 360 Hz")
    win.close()
    win.deleteLater()
