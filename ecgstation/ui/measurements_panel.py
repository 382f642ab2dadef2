"""Measurements (HR, intervals, axis, HRV, quality) and findings with their review buttons."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ecgstation.core.analysis import AnalysisResult
from ecgstation.storage.views import FindingView

__all__ = ["MEASUREMENT_KEYS", "MeasurementsPanel", "finding_details", "format_confidence", "format_source",
           "review_text"]

#: Rows of the measurements form: key -> label.
MEASUREMENT_KEYS: dict[str, str] = {
    "hr": "Heart rate",
    "rr": "RR",
    "pr": "PR",
    "qrs": "QRS",
    "qt": "QT",
    "qtc_bazett": "QTc (Bazett)",
    "qtc_fridericia": "QTc (Fridericia)",
    "axis": "Frontal axis",
    "sdnn": "SDNN",
    "rmssd": "RMSSD",
    "beats": "Beats",
    "quality": "Signal quality",
}
_NONE = "—"
_FINDING_ID_ROLE = Qt.ItemDataRole.UserRole


def _num(value: float | None, unit: str, digits: int = 0) -> str:
    if value is None:
        return _NONE
    return f"{value:.{digits}f} {unit}"


def format_confidence(confidence: float | None) -> str:
    """Confidence 0..1 as a percentage ("87 %"), "—" when the source gives none (rules)."""
    return _NONE if confidence is None else f"{100.0 * confidence:.0f} %"


def format_source(finding: FindingView) -> str:
    """Who proposed a finding: name and version, and its kind ("ecgstation-rules 0.4 (rule)")."""
    name = finding.source_name + (f" {finding.source_version}" if finding.source_version else "")
    return f"{name} ({finding.source_kind})"


def review_text(finding: FindingView) -> str:
    """The review state in words: "proposed", or "confirmed by NAME on 2026-11-23 14:05" (UTC)."""
    if finding.status == "proposed" or not finding.reviewed_by:
        return finding.status
    when = f" on {finding.reviewed_at:%Y-%m-%d %H:%M}" if finding.reviewed_at else ""
    return f"{finding.status} by {finding.reviewed_by}{when}"


def finding_details(finding: FindingView) -> str:
    """Everything about one finding, for the line under the list."""
    lines = [f"{finding.label} ({finding.code})", f"Source: {format_source(finding)}"]
    if finding.confidence is not None:
        lines.append(f"Confidence: {format_confidence(finding.confidence)}")
    if finding.start_s is not None:
        end = f"–{finding.end_s:.1f}" if finding.end_s is not None else ""
        lines.append(f"Time: {finding.start_s:.1f}{end} s")
    lines.append(f"Status: {review_text(finding)}")
    if finding.review_note:
        lines.append(f"Note: {finding.review_note}")
    return "\n".join(lines)


class MeasurementsPanel(QWidget):
    """Shows one analysis and the findings of the recording on screen.

    ``reviewRequested(finding_id, decision, version)``: the user pressed Confirm ("confirmed")
    or Reject ("rejected") on a finding; the window stores the review. ``findingActivated``
    carries the FindingView double-clicked (e.g. to show its time in the viewer).
    """

    reviewRequested = Signal(int, str, int)
    findingActivated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("measurementsPanel")
        self._findings: dict[int, FindingView] = {}
        self._can_review = False

        self.note_label = QLabel("No recording open.", self)
        self.note_label.setObjectName("measurementsNote")
        self.note_label.setWordWrap(True)
        self._values: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, title in MEASUREMENT_KEYS.items():
            label = QLabel(_NONE, self)
            label.setObjectName(f"value_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(key == "quality")
            self._values[key] = label
            form.addRow(f"{title}:", label)
        measures = QGroupBox("Measurements", self)
        box = QVBoxLayout(measures)
        box.addWidget(self.note_label)
        box.addLayout(form)

        self.findings_tree = QTreeWidget(self)
        self.findings_tree.setObjectName("findingsTree")
        self.findings_tree.setHeaderLabels(["Finding (source)", "Conf.", "Status"])
        header = self.findings_tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.findings_tree.setRootIsDecorated(False)
        self.findings_tree.setUniformRowHeights(False)
        self.findings_tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.findings_tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.findings_tree.setWordWrap(False)
        self.findings_tree.itemSelectionChanged.connect(self._update_buttons)
        self.details_label = QLabel("", self)
        self.details_label.setObjectName("findingDetails")
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings_tree.itemDoubleClicked.connect(self._on_double_clicked)
        self.confirm_button = QPushButton("&Confirm", self)
        self.confirm_button.setObjectName("confirmButton")
        self.confirm_button.setToolTip("Confirm the selected finding (cardiologists)")
        self.reject_button = QPushButton("&Reject", self)
        self.reject_button.setObjectName("rejectButton")
        self.reject_button.setToolTip("Reject the selected finding (cardiologists)")
        self.confirm_button.clicked.connect(lambda: self._request("confirmed"))
        self.reject_button.clicked.connect(lambda: self._request("rejected"))
        self.review_note = QLabel("", self)
        self.review_note.setObjectName("reviewNote")
        self.review_note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.reject_button)
        buttons.addStretch(1)
        findings = QGroupBox("Findings", self)
        fbox = QVBoxLayout(findings)
        fbox.addWidget(self.findings_tree, 1)
        fbox.addWidget(self.details_label)
        fbox.addLayout(buttons)
        fbox.addWidget(self.review_note)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(measures)
        layout.addWidget(findings, 1)
        self._update_buttons()

    # -- measurements -----------------------------------------------------------------------

    def set_busy(self, text: str = "Analysing…") -> None:
        """Clear the values and show ``text`` while an analysis runs."""
        for label in self._values.values():
            label.setText(_NONE)
        self.note_label.setText(text)

    def set_result(self, result: AnalysisResult | None, note: str = "") -> None:
        """Show ``result`` (None: clear); ``note`` says what was analysed (e.g. "first 60 min")."""
        if result is None:
            for label in self._values.values():
                label.setText(_NONE)
            self.note_label.setText(note or "No measurements.")
            return
        iv, hrv = result.intervals, result.hrv
        values = {
            "hr": _num(result.heart_rate_bpm, "bpm"),
            "rr": _num(iv.rr_ms, "ms"),
            "pr": _num(iv.pr_ms, "ms"),
            "qrs": _num(iv.qrs_ms, "ms"),
            "qt": _num(iv.qt_ms, "ms"),
            "qtc_bazett": _num(iv.qtc_bazett_ms, "ms"),
            "qtc_fridericia": _num(iv.qtc_fridericia_ms, "ms"),
            "axis": _NONE if result.axis_deg is None else f"{result.axis_deg:.0f}°",
            "sdnn": _num(hrv.sdnn_ms, "ms"),
            "rmssd": _num(hrv.rmssd_ms, "ms"),
            "beats": str(int(result.r_peaks.size)),
            "quality": self._quality_text(result),
        }
        for key, text in values.items():
            self._values[key].setText(text)
        self.note_label.setText(note or "Automated measurements: an aid only, to be reviewed by a physician.")

    @staticmethod
    def _quality_text(result: AnalysisResult) -> str:
        parts = []
        for name, q in zip(result.lead_names, result.quality, strict=False):
            reasons = f" ({', '.join(q.reasons)})" if q.reasons else ""
            parts.append(f"{name} {q.level}{reasons}")
        return "; ".join(parts) or _NONE

    def value_text(self, key: str) -> str:
        """The text shown for one of :data:`MEASUREMENT_KEYS` (tests, accessibility)."""
        return self._values[key].text()

    # -- findings ---------------------------------------------------------------------------

    def set_findings(self, findings: Sequence[FindingView], can_review: bool) -> None:
        """List ``findings``; Confirm/Reject work only when ``can_review`` (cardiologists)."""
        selected = self.selected_finding()
        self._can_review = can_review
        self._findings = {f.id: f for f in findings}
        self.findings_tree.clear()
        for finding in findings:
            where = ""
            if finding.start_s is not None:
                where = f" at {finding.start_s:.1f} s"
            item = QTreeWidgetItem(
                [f"{finding.label}{where}\n{format_source(finding)}", format_confidence(finding.confidence),
                 finding.status]
            )  # fmt: skip
            item.setData(0, _FINDING_ID_ROLE, finding.id)
            for column in range(3):
                item.setToolTip(column, finding_details(finding))
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.findings_tree.addTopLevelItem(item)
            if selected is not None and selected.id == finding.id:
                item.setSelected(True)
                self.findings_tree.setCurrentItem(item)
        if not findings:
            self.review_note.setText("No findings for this recording.")
        elif can_review:
            self.review_note.setText("Select a finding, then confirm or reject it.")
        else:
            self.review_note.setText("Only cardiologists confirm or reject findings.")
        self._update_buttons()

    def findings(self) -> list[FindingView]:
        """The findings listed, top to bottom."""
        return list(self._findings.values())

    def selected_finding(self) -> FindingView | None:
        """The finding selected in the list, or None."""
        items = self.findings_tree.selectedItems()
        if not items:
            return None
        return self._findings.get(int(items[0].data(0, _FINDING_ID_ROLE)))

    def select_finding(self, finding_id: int) -> None:
        """Select the finding ``finding_id``; KeyError if it is not listed."""
        for row in range(self.findings_tree.topLevelItemCount()):
            item = self.findings_tree.topLevelItem(row)
            if item is not None and item.data(0, _FINDING_ID_ROLE) == finding_id:
                self.findings_tree.setCurrentItem(item)
                item.setSelected(True)
                return
        raise KeyError(finding_id)

    def _update_buttons(self) -> None:
        finding = self.selected_finding()
        self.details_label.setText("" if finding is None else finding_details(finding))
        usable = self._can_review and finding is not None
        self.confirm_button.setEnabled(usable and finding is not None and finding.status != "confirmed")
        self.reject_button.setEnabled(usable and finding is not None and finding.status != "rejected")

    def _request(self, decision: str) -> None:
        finding = self.selected_finding()
        if finding is None or not self._can_review:
            return
        self.reviewRequested.emit(finding.id, decision, finding.version)

    def _on_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        finding = self._findings.get(int(item.data(0, _FINDING_ID_ROLE)))
        if finding is not None:
            self.findingActivated.emit(finding)
