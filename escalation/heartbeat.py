"""The escalation worker's heartbeat and the health `/healthz` reports from it.

Every worker pass calls `worker_beat`; `worker_status` answers whether some worker is alive and keeping up: "ok",
"missing" (no worker ever beat), "stale" (none beat for HELPDESK_WORKER_STALE_SECONDS) or "lagging" (a worker beats
but due work waits longer than that), with the last beat's age and the lag of the oldest due row.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any

from django.conf import settings
from django.db.models import Min

from escalation.models import DueState, EscalationDue, Page, WorkerHeartbeat
from tickets.selectors import iso_or_none

# A worker silent this long is gone for good (a restarted worker beats under its new name): its row is dropped.
FORGET_AFTER = dt.timedelta(days=1)


def worker_beat(*, name: str, now: dt.datetime, lag: float | None = None) -> None:
    """Record that the worker `name` (this process) is alive at `now`; `lag` is how many seconds late its last pass
    handled its most overdue row, when it knows."""
    WorkerHeartbeat.objects.bulk_create(
        [WorkerHeartbeat(name=name, host=socket.gethostname(), pid=os.getpid(), last_beat_at=now, last_lag=lag)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["host", "pid", "last_beat_at", "last_lag"],
    )
    WorkerHeartbeat.objects.filter(last_beat_at__lt=now - FORGET_AFTER).delete()


def oldest_due_at(*, now: dt.datetime) -> dt.datetime | None:
    """The due instant of the most overdue work waiting for a worker at `now`, None when nothing is overdue. Every
    kind of row the worker takes belongs here: the pages to deliver, and the engine's due escalation rows."""
    pages = Page.objects.filter(state=Page.State.PENDING, next_attempt_at__lte=now)
    rows = EscalationDue.objects.filter(state=DueState.PENDING, due_at__lte=now)
    dues = [pages.aggregate(due=Min("next_attempt_at"))["due"], rows.aggregate(due=Min("due_at"))["due"]]
    return min((due for due in dues if due is not None), default=None)


def _seconds(delta: dt.timedelta) -> float:
    return round(max(delta.total_seconds(), 0.0), 3)


def worker_status(*, now: dt.datetime, host: str | None = None) -> dict[str, Any]:
    """The workers' health at `now` (only the workers on `host` when given): `state`, the newest beat and its age in
    seconds, the lag in seconds of the oldest due row, the staleness threshold and each known worker."""
    stale_after = settings.HELPDESK_WORKER_STALE_SECONDS
    beats = WorkerHeartbeat.objects.order_by("-last_beat_at", "name")
    if host is not None:
        beats = beats.filter(host=host)
    workers = list(beats)
    newest = workers[0] if workers else None
    age = _seconds(now - newest.last_beat_at) if newest is not None else None
    due = oldest_due_at(now=now)
    lag = _seconds(now - due) if due is not None else 0.0
    if age is None:
        state = "missing"
    elif age > stale_after:
        state = "stale"
    elif lag > stale_after:
        state = "lagging"
    else:
        state = "ok"
    return {
        "state": state,
        "last_beat_at": iso_or_none(newest.last_beat_at) if newest is not None else None,
        "last_beat_age": age,
        "lag": lag,
        "stale_after": stale_after,
        "workers": [
            {
                "name": beat.name,
                "host": beat.host,
                "pid": beat.pid,
                "last_beat_at": iso_or_none(beat.last_beat_at),
                "age": _seconds(now - beat.last_beat_at),
                "lag": beat.last_lag,
            }
            for beat in workers
        ],
    }
