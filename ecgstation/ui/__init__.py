"""Qt user interface (PySide6 + pyqtgraph); the only layer that imports Qt.

Start it with :func:`ecgstation.ui.app.run_gui`. Importing this package does not import Qt.
"""

from __future__ import annotations
