"""Beat templates panel: one tile per morphology family, and relabelling a whole family at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ecgstation.core.beat_templates import BeatFamily

__all__ = ["RELABEL_CHOICES", "TILE_SIZE", "TemplatesPanel", "family_pixmap"]

#: Labels offered for a family (AAMI classes, then common MIT-BIH codes); any other text may be typed.
RELABEL_CHOICES: tuple[str, ...] = ("N", "S", "V", "F", "Q", "A", "L", "R")

#: Size of a family tile's drawing, in pixels.
TILE_SIZE = QSize(132, 96)

#: Role under which a tile keeps its family id.
FAMILY_ID_ROLE = Qt.ItemDataRole.UserRole

_LEAD_COLOURS = ((20, 20, 20), (30, 80, 170), (0, 120, 60), (150, 60, 0))


def family_pixmap(family: BeatFamily, fs: float, size: QSize = TILE_SIZE) -> QPixmap:
    """A small drawing of ``family``'s mean waveform, leads stacked, R peak marked by a grey line.

    Each lead is scaled to its own band; all leads share one amplitude scale (mV) so
    their relative sizes show.
    """
    pix = QPixmap(size)
    pix.fill(QColor(255, 255, 255))
    wave = np.asarray(family.mean_waveform, dtype=np.float64)
    painter = QPainter(pix)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = float(size.width()), float(size.height())
        n_leads, n = wave.shape if wave.ndim == 2 else (0, 0)
        if n >= 2 and n_leads:
            r_x = (-family.window_start_s * fs) / (n - 1) * (w - 4) + 2
            painter.setPen(QPen(QColor(200, 200, 200), 1))
            painter.drawLine(QPointF(r_x, 0), QPointF(r_x, h))
            band = h / n_leads
            span = float(np.nanmax(np.ptp(np.nan_to_num(wave), axis=1))) or 1.0
            xs = np.linspace(2.0, w - 2.0, n)
            for lead in range(n_leads):
                y = np.nan_to_num(wave[lead])
                mid = band * (lead + 0.5)
                centre = (float(y.max()) + float(y.min())) / 2.0
                ys = mid - (y - centre) / span * band * 0.9
                path = QPainterPath(QPointF(xs[0], ys[0]))
                for px, py in zip(xs[1:].tolist(), ys[1:].tolist()):
                    path.lineTo(px, py)
                painter.setPen(QPen(QColor(*_LEAD_COLOURS[lead % len(_LEAD_COLOURS)]), 1.3))
                painter.drawPath(path)
    finally:
        painter.end()
    return pix


def _tile_text(family: BeatFamily) -> str:
    label = "other" if family.is_other else (family.dominant_label or "?")
    return f"#{family.family_id}  {label}  ×{family.count}"


def _tooltip(family: BeatFamily, lead_names: Sequence[str]) -> str:
    lines = [f"Family {family.family_id}{' (beats that fit no family)' if family.is_other else ''}"]
    lines.append(f"{family.count} beats")
    if family.label_counts:
        counts = sorted(family.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("Labels: " + ", ".join(f"{k} {v}" for k, v in counts))
    if lead_names:
        lines.append("Leads: " + ", ".join(lead_names))
    return "\n".join(lines)


class TemplatesPanel(QWidget):
    """Tiles of beat families (mean waveform, count, dominant label) with a relabel control.

    Select a tile, choose or type a label and press "Relabel family": ``relabelRequested``
    (family id, label) is emitted. Double-click or Enter on a tile emits
    ``familyActivated(family_id)`` (e.g. to show its first beat).
    """

    relabelRequested = Signal(int, str)
    familyActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templatesPanel")
        self._families: dict[int, BeatFamily] = {}
        self.list = QListWidget(self)
        self.list.setObjectName("templateTiles")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(TILE_SIZE)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(4)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.itemDoubleClicked.connect(self._activate)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.installEventFilter(self)

        self.summary = QLabel("No beat families", self)
        self.label_combo = QComboBox(self)
        self.label_combo.setObjectName("relabelCombo")
        self.label_combo.setEditable(True)
        self.label_combo.addItems(list(RELABEL_CHOICES))
        self.label_combo.setMinimumContentsLength(6)
        self.label_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.label_combo.setToolTip("New label for every beat of the selected family (choose or type)")
        self.relabel_button = QPushButton("Relabel family", self)
        self.relabel_button.setObjectName("relabelButton")
        self.relabel_button.clicked.connect(self._relabel)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Label:", self))
        controls.addWidget(self.label_combo)
        controls.addWidget(self.relabel_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(controls)
        self._update_buttons()

    def set_families(self, families: Sequence[BeatFamily], fs: float, lead_names: Sequence[str] = ()) -> None:
        """Show ``families`` (drawn at ``fs`` Hz, leads named ``lead_names``); the selection is kept by id."""
        previous = self.selected_family_id()
        self.list.clear()
        self._families = {f.family_id: f for f in families}
        names = tuple(lead_names)
        for family in families:
            item = QListWidgetItem(QIcon(family_pixmap(family, fs)), _tile_text(family))
            item.setData(FAMILY_ID_ROLE, family.family_id)
            item.setToolTip(_tooltip(family, names))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
        total = sum(f.count for f in families)
        self.summary.setText(f"{len(families)} families, {total} beats" if families else "No beat families")
        if previous is not None and previous in self._families:
            self.select_family(previous)
        self._update_buttons()

    def family_ids(self) -> list[int]:
        """Ids of the tiles, in display order."""
        return [int(self.list.item(i).data(FAMILY_ID_ROLE)) for i in range(self.list.count())]

    def family(self, family_id: int) -> BeatFamily:
        """The family shown with ``family_id`` (KeyError if absent)."""
        return self._families[family_id]

    def selected_family_id(self) -> int | None:
        """Id of the selected family, None when none is selected."""
        items = self.list.selectedItems()
        return int(items[0].data(FAMILY_ID_ROLE)) if items else None

    def select_family(self, family_id: int) -> None:
        """Select the tile of ``family_id`` (KeyError if absent)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if int(item.data(FAMILY_ID_ROLE)) == family_id:
                self.list.setCurrentItem(item)
                item.setSelected(True)
                return
        raise KeyError(family_id)

    def item_for(self, family_id: int) -> QListWidgetItem:
        """The tile of ``family_id`` (KeyError if absent)."""
        for i in range(self.list.count()):
            if int(self.list.item(i).data(FAMILY_ID_ROLE)) == family_id:
                return self.list.item(i)
        raise KeyError(family_id)

    def _update_buttons(self) -> None:
        self.relabel_button.setEnabled(self.selected_family_id() is not None)

    def _relabel(self) -> None:
        family_id = self.selected_family_id()
        label = self.label_combo.currentText().strip()
        if family_id is None or not label:
            return
        self.relabelRequested.emit(family_id, label)

    def _activate(self, item: QListWidgetItem) -> None:
        self.familyActivated.emit(int(item.data(FAMILY_ID_ROLE)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return on the tiles activates the current family."""
        if (
            watched is self.list
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.list.currentItem() is not None
        ):
            self._activate(self.list.currentItem())
            return True
        return super().eventFilter(watched, event)
