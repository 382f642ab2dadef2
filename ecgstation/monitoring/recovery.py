"""After a crash: sessions left "active" by a dead process are closed as "interrupted", their slices kept.

How a dead session is told from a live one: every session row names its owner (host name and
pid, written at start, see migration 0004) and carries a heartbeat (written with every slice and
every ``SessionSettings.heartbeat_s``). On the owner's host a session is dead when its pid no
longer runs (or is this very process but not among ``live_session_ids``); from another host it is
dead when its heartbeat is older than ``stale_after_s``. The summary is rebuilt from the stored
slice analyses; slices whose analysis never ran count as recorded but not analysed.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Collection
from datetime import timedelta

from ecgstation.monitoring.summary import summarize
from ecgstation.storage import Actor, Database
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.errors import ConflictError
from ecgstation.storage.views import SessionOwnerView

__all__ = ["is_dead", "recover_interrupted_sessions"]

log = logging.getLogger(__name__)


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


def is_dead(owner: SessionOwnerView, live_session_ids: Collection[int] = (), stale_after_s: float = 120.0) -> bool:
    """Whether the process that ran an active session is gone (see the module docstring)."""
    if owner.session_id in live_session_ids:
        return False
    if owner.owner_host == socket.gethostname()[:128] and owner.owner_pid is not None:
        return owner.owner_pid == os.getpid() or not _pid_running(owner.owner_pid)
    last = owner.heartbeat_at or owner.started_at
    return utcnow() - last > timedelta(seconds=stale_after_s)


def recover_interrupted_sessions(
    db: Database, actor: Actor, *, live_session_ids: Collection[int] = (), stale_after_s: float = 120.0
) -> list[int]:
    """Close every dead active session as "interrupted" with a summary of its stored slices; their ids."""
    with db.reader(actor) as s:
        dead = [o.session_id for o in s.monitoring.owners() if is_dead(o, live_session_ids, stale_after_s)]
    done: list[int] = []
    for sid in dead:
        with db.reader(actor) as s:
            docs = [dict(v.analysis or {}) for v in s.monitoring.slices(sid)]
            alarms = [{"kind": a.kind} for a in s.alarms.for_session(sid)]
        analysed = [d for d in docs if "start_s" in d]
        summary = summarize(analysed, alarms=alarms, interrupted=True)
        summary["stored_slices"] = len(docs)
        summary["unanalysed_slices"] = sorted(int(d.get("index", -1)) for d in docs if "start_s" not in d)
        summary["recovered_at"] = utcnow().isoformat()
        try:
            with db.session(actor) as s:
                s.monitoring.end(sid, summary, state="interrupted")
        except ConflictError:  # another workstation recovered it first
            continue
        log.warning("monitoring session #%d was left active by a stopped process: marked interrupted", sid)
        done.append(sid)
    return done
