"""Trace ids: every user action (import, analysis, export, session) tags its log lines with one id."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator

_trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("ecgstation_trace_id", default="-")

LOG_FORMAT = "%(asctime)s %(levelname)s [%(trace_id)s] %(name)s: %(message)s"


def new_trace_id() -> str:
    """A short random id (12 hex digits) for one user action."""
    return uuid.uuid4().hex[:12]


def current_trace_id() -> str:
    """The trace id of the action running in this context, ``"-"`` outside any action."""
    return _trace_id.get()


@contextlib.contextmanager
def traced(action: str, trace_id: str | None = None) -> Iterator[str]:
    """Run a block as one user action; its log lines carry the yielded trace id."""
    tid = trace_id or new_trace_id()
    token = _trace_id.set(tid)
    log = logging.getLogger("ecgstation.action")
    log.info("%s started", action)
    try:
        yield tid
    except Exception:
        log.info("%s failed", action)
        raise
    else:
        log.info("%s finished", action)
    finally:
        _trace_id.reset(token)


class TraceIdFilter(logging.Filter):
    """Adds ``record.trace_id`` so formatters can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = _trace_id.get()
        return True


def configure_logging(level: int = logging.WARNING) -> None:
    """Log to stderr with the trace id in every line (for the CLI and the GUI entry points)."""
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger("ecgstation")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
