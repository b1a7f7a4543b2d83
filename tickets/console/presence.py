"""Who is on the live console, and who is viewing or typing on which ticket.

One row per open socket, keyed by its channel name, so every daphne process writes its own sockets and all of them
read the same answer. A socket's heartbeat refreshes its row; a row older than `STALE_HEARTBEATS` heartbeats belongs
to a process that died without saying goodbye: it is ignored at once and deleted by the next sweep.

The write functions return whether what others see changed; the socket then calls `presence_announce()`, which
coalesces the changes of all this process's sockets into one broadcast (`tickets.console.publish.publish_presence`). A
broadcast carries the whole state to every console, so its cost grows with the square of the consoles online: the
broadcasts are spaced by at least `ANNOUNCE_DELAY_SECONDS`, and by one second per `ANNOUNCE_CONSOLES_PER_SECOND`
consoles online, so a thousand consoles reconnecting at once cost a handful of broadcasts, not a thousand.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import uuid
import weakref
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from tickets.console import publish
from tickets.models import ConsolePresence
from tickets.selectors import person_ref

logger = logging.getLogger(__name__)

STALE_HEARTBEATS = 3
ANNOUNCE_DELAY_SECONDS = 0.5
ANNOUNCE_CONSOLES_PER_SECOND = 250


class _SweepClock:
    """When this process last swept, so that a thousand sockets' heartbeats cost one sweep a period."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dt.datetime | None = None


_sweep_clock = _SweepClock()


def _stale_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=STALE_HEARTBEATS * settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS)


def presence_state(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """The presence message: technicians online, and per ticket number who has it open and whether they type."""
    now = now or timezone.now()
    rows = (
        ConsolePresence.objects.filter(last_seen__gte=_stale_before(now))
        .select_related("user__arabic_name")
        .order_by("user__first_name", "user__last_name", "user__username", "pk")
    )
    online: dict[int, dict[str, Any]] = {}
    viewers: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:
        online.setdefault(row.user_id, person_ref(row.user))
        if row.ticket_number is None:
            continue
        viewer = viewers.setdefault(row.ticket_number, {}).setdefault(
            row.user_id, {**online[row.user_id], "typing": False}
        )
        viewer["typing"] = viewer["typing"] or row.typing
    return {
        "type": "presence",
        "online": list(online.values()),
        "tickets": {str(number): list(by_user.values()) for number, by_user in sorted(viewers.items())},
    }


def _publish() -> int:
    """Broadcast the state; return how many technicians are online. The serial lets every socket of a process reuse
    one encoding of the message."""
    state = presence_state()
    publish.publish_presence(state={**state, "serial": uuid.uuid4().hex})
    return len(state["online"])


class _Announcer:
    """At most one pending broadcast per event loop (one per daphne process)."""

    def __init__(self) -> None:
        self.pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()
        self.delay = ANNOUNCE_DELAY_SECONDS

    def request(self) -> None:
        loop = asyncio.get_running_loop()
        task = self.pending.get(loop)
        if task is None or task.done():
            self.pending[loop] = loop.create_task(self._broadcast(loop))

    async def _broadcast(self, loop: asyncio.AbstractEventLoop) -> None:
        await asyncio.sleep(self.delay)
        # Changes made while this broadcast reads the state schedule the next one.
        self.pending.pop(loop, None)
        try:
            online = await database_sync_to_async(_publish)()
            self.delay = max(ANNOUNCE_DELAY_SECONDS, online / ANNOUNCE_CONSOLES_PER_SECOND)
        except Exception:
            logger.warning("Could not announce console presence", exc_info=True)


_announcer = _Announcer()


def presence_announce() -> None:
    """Broadcast the presence state to every console soon, together with any other change made meanwhile."""
    _announcer.request()


def presence_join(*, channel_name: str, user: User, now: dt.datetime | None = None) -> None:
    """Record a newly connected socket. The announcement that follows brings the state to it as to everyone."""
    now = now or timezone.now()
    ConsolePresence.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "last_seen": now, "ticket_number": None, "typing": False}
    )


def presence_leave(*, channel_name: str) -> bool:
    deleted, _by_model = ConsolePresence.objects.filter(channel_name=channel_name).delete()
    return bool(deleted)


def presence_set(
    *,
    channel_name: str,
    user: User,
    ticket_number: int | None,
    typing: bool,
    now: dt.datetime | None = None,
) -> bool:
    """Say which ticket this socket has open and whether its user is typing on it; True if that changed."""
    now = now or timezone.now()
    with transaction.atomic():
        row, created = ConsolePresence.objects.select_for_update().get_or_create(
            channel_name=channel_name,
            defaults={"user": user, "last_seen": now, "ticket_number": ticket_number, "typing": typing},
        )
        changed = created or row.ticket_number != ticket_number or row.typing != typing
        if not created:
            row.ticket_number = ticket_number
            row.typing = typing
            row.last_seen = now
            row.save(update_fields=["ticket_number", "typing", "last_seen"])
    return changed


def presence_touch(*, sockets: dict[str, User], now: dt.datetime | None = None) -> bool:
    """The heartbeat of a process's sockets, given as {channel name: user}, in one update for all of them; True if
    what others see changed. A row swept while this process stalled is written again; at most once a heartbeat
    period per process, the stale rows of dead processes are deleted."""
    now = now or timezone.now()
    changed = False
    rows = ConsolePresence.objects.filter(channel_name__in=list(sockets))
    if rows.update(last_seen=now) < len(sockets):
        kept = set(rows.values_list("channel_name", flat=True))
        ConsolePresence.objects.bulk_create(
            [
                ConsolePresence(channel_name=channel_name, user=user, last_seen=now)
                for channel_name, user in sockets.items()
                if channel_name not in kept
            ],
            ignore_conflicts=True,
        )
        changed = True
    if presence_sweep_due(now=now) and presence_sweep(now=now):
        changed = True
    return changed


def presence_sweep_due(*, now: dt.datetime) -> bool:
    period = dt.timedelta(seconds=settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS)
    with _sweep_clock.lock:
        if _sweep_clock.last is not None and abs(now - _sweep_clock.last) < period:
            return False
        _sweep_clock.last = now
        return True


def presence_sweep(*, now: dt.datetime | None = None) -> int:
    """Delete the rows of sockets whose process stopped refreshing them; return how many went."""
    now = now or timezone.now()
    deleted, _by_model = ConsolePresence.objects.filter(last_seen__lt=_stale_before(now)).delete()
    return deleted
