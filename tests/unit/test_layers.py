"""The house rules of the architecture, checked on the source: who may import what."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ecgstation"
QT = ("PySide6", "pyqtgraph", "shiboken6")
STDLIB = set(sys.stdlib_module_names)


def _imported_names(source: str, package: tuple[str, ...]) -> set[str]:
    """Absolute names of every module ``source`` imports; relative imports resolved against ``package``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
            else:
                base = package[: len(package) - (node.level - 1)]
                names.add(".".join(base + ((node.module,) if node.module else ())))
    return names


def _imports(path: Path) -> set[str]:
    package = ("ecgstation",) + path.relative_to(PACKAGE).parent.parts
    return _imported_names(path.read_text(encoding="utf-8"), package)


def test_relative_imports_are_resolved() -> None:
    source = "from ..ui import main_window\nfrom . import qrs\nfrom .filters import bandpass\n"
    assert _imported_names(source, ("ecgstation", "core")) == {
        "ecgstation.ui",
        "ecgstation.core",
        "ecgstation.core.filters",
    }


def _modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_imports_only_numpy_scipy_and_core(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        allowed = top in STDLIB or top in ("numpy", "scipy") or name.startswith("ecgstation.core")
        assert allowed, f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize(
    "path", [p for p in PACKAGE.rglob("*.py") if "ui" not in p.relative_to(PACKAGE).parts], ids=str
)
def test_no_qt_below_ui(path: Path) -> None:
    for name in _imports(path):
        if path.name == "cli.py" and name.startswith("ecgstation.ui"):
            continue  # the CLI starts the GUI lazily, it does not use widgets
        assert not name.startswith(QT), f"{path.relative_to(PACKAGE)} imports {name}"
        if path.relative_to(PACKAGE).parts[0] in ("core", "io"):
            assert not name.startswith("ecgstation.ui"), f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("path", _modules("io"), ids=lambda p: p.name)
def test_io_does_not_reach_up(path: Path) -> None:
    for name in _imports(path):
        if name.startswith("ecgstation."):
            layer = name.split(".")[1]
            assert layer in ("core", "io"), f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("path", _modules("inference"), ids=lambda p: p.name)
def test_inference_imports_only_numpy_scipy_onnxruntime_core_and_itself(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        allowed = (
            top in STDLIB
            or top in ("numpy", "scipy", "onnxruntime")
            or name.startswith(("ecgstation.core", "ecgstation.inference"))
        )
        assert allowed, f"{path.relative_to(PACKAGE)} imports {name}"


def test_inference_layer_exists() -> None:
    """The rule above is not vacuous: the inference package has modules to check."""
    assert len(_modules("inference")) >= 5


@pytest.mark.parametrize("path", _modules("storage"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_storage_does_not_reach_up(path: Path) -> None:
    for name in _imports(path):
        if name == "ecgstation":
            continue  # the package itself, for __version__
        if name.startswith("ecgstation."):
            layer = name.split(".")[1]
            assert layer in ("core", "io", "storage", "tracing"), f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sql_outside_storage(path: Path) -> None:
    """The repositories are the only way to the database: SQLAlchemy, Alembic and drivers stay in storage."""
    if path.relative_to(PACKAGE).parts[0] == "storage":
        return
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in ("sqlalchemy", "alembic", "psycopg", "psycopg2", "sqlite3"), (
            f"{path.relative_to(PACKAGE)} imports {name}"
        )


@pytest.mark.parametrize("path", _modules("devices"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_devices_import_only_core_io_and_themselves(path: Path) -> None:
    """Sources know the recording type and the importers (file replay), never storage, models or Qt."""
    for name in _imports(path):
        if name.startswith("ecgstation."):
            layer = name.split(".")[1]
            assert layer in ("core", "io", "devices", "tracing"), f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("path", _modules("monitoring"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_monitoring_does_not_reach_up(path: Path) -> None:
    """Monitoring sits below the UI and reports: it may use sources, models and storage."""
    for name in _imports(path):
        if name == "ecgstation":
            continue
        if name.startswith("ecgstation."):
            layer = name.split(".")[1]
            allowed = ("core", "io", "devices", "inference", "storage", "monitoring", "tracing")
            assert layer in allowed, f"{path.relative_to(PACKAGE)} imports {name}"
