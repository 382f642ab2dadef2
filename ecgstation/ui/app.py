"""Start the desktop application: open the workstation's database, sign in, show one MainWindow."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ecgstation import __version__
from ecgstation.core.errors import EcgStationError
from ecgstation.storage import Permission, PermissionDeniedError
from ecgstation.tracing import traced
from ecgstation.ui.main_window import APP_TITLE, MainWindow
from ecgstation.ui.session import WorkstationSession, bundled_sample_paths, open_workstation
from ecgstation.ui.settings_dialog import ORGANIZATION, apply_theme, load_preferences

__all__ = ["PASSWORD_ENV", "USER_ENV", "SignInDialog", "run_gui", "sign_in"]

logger = logging.getLogger(__name__)

#: Environment variables naming the account to sign in and its password (else: the login name, asked).
USER_ENV = "ECGSTATION_USER"
PASSWORD_ENV = "ECGSTATION_PASSWORD"
#: Set to 0 to start without the demonstration bed (a simulated patch replaying a bundled sample).
SIMULATED_PATCH_ENV = "ECGSTATION_SIMULATED_PATCH"
#: The bundled sample the demonstration bed replays (MIT-BIH 119: sinus rhythm with ventricular bigeminy).
DEFAULT_SIMULATED_SAMPLE = "119"
#: Sign-in attempts before the application gives up.
MAX_SIGN_IN_ATTEMPTS = 3


def _application(args: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(args)
    app.setApplicationName(APP_TITLE)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    return app


class SignInDialog(QDialog):
    """Asks for a username and password (when the account has a password, or is not the login name)."""

    def __init__(self, username: str, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sign in — {APP_TITLE}")
        self.message_label = QLabel(message, self)
        self.message_label.setWordWrap(True)
        self.username_edit = QLineEdit(username, self)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("User:", self.username_edit)
        form.addRow("Password:", self.password_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.password_edit.setFocus()

    def credentials(self) -> tuple[str, str]:
        """The username and password typed."""
        return self.username_edit.text().strip(), self.password_edit.text()


def sign_in(username: str | None = None, password: str | None = None) -> WorkstationSession | None:
    """Open the workstation; when the sign-in is refused, ask for the credentials (up to 3 times).

    Returns None when the user cancels. Raises EcgStationError when the database cannot be opened.
    """
    name = username or os.environ.get(USER_ENV) or getpass.getuser()
    secret = password if password is not None else os.environ.get(PASSWORD_ENV)
    for _attempt in range(MAX_SIGN_IN_ATTEMPTS):
        try:
            return open_workstation(username=name, password=secret)
        except PermissionDeniedError as err:
            logger.info("sign-in refused: %s", err)
            dialog = SignInDialog(name, f"{err}\nSign in with your ECG Station account.")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            name, secret = dialog.credentials()
    raise PermissionDeniedError(f"Sign-in refused {MAX_SIGN_IN_ATTEMPTS} times; ask an administrator.")


def _fatal(message: str) -> int:
    box = QMessageBox(QMessageBox.Icon.Critical, APP_TITLE, message, QMessageBox.StandardButton.Ok)
    box.exec()
    return 1


def run_gui(argv: Sequence[str] | None = None) -> int:
    """Run the GUI until its window closes and return the exit status (1 when the workstation cannot start).

    ``argv`` are the command-line arguments after the program name (``None``: take them from
    ``sys.argv``). Qt's own options (e.g. ``-platform offscreen``) are honoured; the remaining
    arguments are ECG files, imported (into "Unassigned / samples") and the last one opened. On a
    fresh database the bundled sample records are imported first, with a progress dialog.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    pg.setConfigOptions(antialias=True)
    app = _application(["ecgstation", *args])
    with traced("start the workstation") as trace_id:
        try:
            session = sign_in()
        except EcgStationError as err:
            logger.info("workstation cannot start: %s", err)
            return _fatal(str(err))
        except Exception:  # a bug: logged with its trace id, a short message for the user
            logger.exception("internal error while starting the workstation")
            return _fatal(
                f"ECG Station could not start because of an internal error (trace {trace_id}). "
                "The details are in the log; please report them."
            )
    if session is None:
        return 1
    try:
        preferences = load_preferences()
        apply_theme(preferences.theme)
        window = MainWindow(session, preferences)
        window.show()
        files = [a for a in app.arguments()[1:] if not a.startswith("-")]
        try:
            samples = bundled_sample_paths(session)
        except EcgStationError as err:
            logger.warning("cannot check for the bundled samples: %s", err)
            samples = []
        if samples:
            window.import_files(samples, open_last=False, remember=False, title="Adding the bundled sample records",
                                into_selected_patient=False)  # fmt: skip
            if files:

                def then_import_files(_outcomes: object) -> None:
                    window.importFinished.disconnect(then_import_files)
                    window.import_files(files, into_selected_patient=False)

                window.importFinished.connect(then_import_files)
        elif files:
            logger.info("importing %s", files)
            window.import_files(files, into_selected_patient=False)
        if os.environ.get(SIMULATED_PATCH_ENV, "1") != "0" and session.can(Permission.MONITOR):
            # the embedded defaults include one simulated patch, so the ward shows a live bed at once
            window.monitoring.add_simulated_bed(DEFAULT_SIMULATED_SAMPLE)
        status = int(app.exec())
        window.shutdown()
        return status
    finally:
        session.close()

