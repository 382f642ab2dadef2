"""Start the desktop application: one QApplication, one MainWindow."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from ecgstation import __version__
from ecgstation.ui.main_window import APP_TITLE, MainWindow

__all__ = ["run_gui"]

logger = logging.getLogger(__name__)


def _application(args: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(args)
    app.setApplicationName(APP_TITLE)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("ECG Station")
    return app


def run_gui(argv: Sequence[str] | None = None) -> int:
    """Run the GUI until its window closes and return the exit status.

    ``argv`` are the command-line arguments after the program name (``None``: take
    them from ``sys.argv``). Qt's own options (e.g. ``-platform offscreen``) are
    honoured; the first remaining argument, if any, is an ECG file to open.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    pg.setConfigOptions(antialias=True)
    app = _application(["ecgstation", *args])
    window = MainWindow()
    window.show()
    files = [a for a in app.arguments()[1:] if not a.startswith("-")]
    if files:
        logger.info("opening %s", files[0])
        window.load_path(files[0])
    return int(app.exec())
