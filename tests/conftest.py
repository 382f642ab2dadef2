"""Shared pytest set-up: Qt runs offscreen; where the real ECG databases and bundled samples are."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: GUI tests render offscreen (no display needed).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The databases folder (``$ECGSTATION_DATA``, default ``../shared/data``); skips when absent."""
    path = Path(os.environ.get("ECGSTATION_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"ECG databases not found at {path} (set ECGSTATION_DATA to run data tests)")
    return path


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The sample records bundled with the repository (``resources/samples``)."""
    return REPO_ROOT / "resources" / "samples"


@pytest.fixture(autouse=True)
def _restore_ecgstation_logger() -> Iterator[None]:
    """The CLI's ``configure_logging`` takes over the "ecgstation" logger; give it back after each test.

    Otherwise a test that runs ``main([...])`` would stop later tests' ``caplog`` from seeing records.
    """
    import logging

    logger = logging.getLogger("ecgstation")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
