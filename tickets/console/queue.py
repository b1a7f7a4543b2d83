"""The technician's queue: its rule, its rows and the snapshot a console starts from.

A snapshot can hold ten thousand open tickets, so rows are read as plain column tuples (no model instances, no
per-row joins: the catalogue and the assignees are read once) and each row's JSON is kept per process. A row changes
only with a new event on its ticket (its version) or a rename of its agency, service, team or assignee, and all of
those are in the key its text is kept under; every technician's snapshot reuses the rows the previous one encoded.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q, QuerySet

from tickets.models import OPEN_STATUSES, Agency, Service, Team, Ticket
from tickets.selectors import event_cursor_latest, iso_or_none, person_ref

_OPEN = frozenset(OPEN_STATUSES)
_ROW_COLUMNS = (
    "number",
    "agency_id",
    "service_id",
    "team_id",
    "subject",
    "channel",
    "priority",
    "status",
    "assignee_id",
    "opened_at",
    "acknowledged_at",
    "response_due_at",
    "resolution_due_at",
    "resolution_warning_at",
    "responded_at",
    "sla_paused_at",
    # Changes only with an event on the ticket, so the version in the key covers it.
    "escalation__paging",
    # Last: the row's version, `columns[-1]`.
    "last_event_id",
)
# What a row's text depends on: `opened_at` tells two tickets apart that share a number and a version, which happens
# only when the tables were emptied and refilled under a running process (development and test databases).
_KEY_COLUMNS = ("number", "opened_at", "last_event_id", "agency_id", "service_id", "team_id", "assignee_id")
# Above this many rows to render, one read of the whole queue beats a long `number IN (...)`.
_RENDER_BY_NUMBER_MAX = 500


def dumps(content: Any) -> str:
    """Compact and unescaped: a snapshot of ten thousand bilingual rows is a large message."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def queue_filter(me: dict[str, Any]) -> Q:
    """The console contract's queue rule, the same one the client applies to every row it receives."""
    return Q(status__in=OPEN_STATUSES) & (
        Q(team_id__in=me["team_ids"]) | Q(assignee__isnull=True) | Q(assignee_id=me["id"])
    )


def _queue(me: dict[str, Any]) -> QuerySet[Ticket]:
    return Ticket.objects.filter(queue_filter(me)).order_by("priority", "opened_at", "number")


def _raw_tuples(queryset: QuerySet) -> list[tuple]:
    """All rows of a `values_list` query in one fetch, as the driver returns them: Django's iterator fetches a
    hundred rows a round, which costs as much as the query itself for ten thousand rows. Without Django's value
    conversions (SQLite's datetimes stay text), so only for values that are compared, never shown."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class _Lookups:
    """The catalogue and the assignees as the rows show them, read once per snapshot, with each one's JSON."""

    agencies: dict[int, dict[str, Any]]
    services: dict[int, dict[str, Any]]
    teams: dict[int, dict[str, Any]]
    assignees: dict[int, dict[str, Any]]
    encoded: dict[str, dict[int | None, str]] = field(init=False)

    def __post_init__(self) -> None:
        encoded = {
            name: {pk: dumps(value) for pk, value in getattr(self, name).items()}
            for name in ("agencies", "services", "teams", "assignees")
        }
        encoded["assignees"][None] = "null"
        object.__setattr__(self, "encoded", encoded)

    @classmethod
    def read(cls, assignee_ids: Iterable[int]) -> _Lookups:
        def names(model: type[Agency | Service | Team]) -> dict[int, dict[str, Any]]:
            rows = model.objects.values_list("pk", "code", "name_en", "name_ar")
            return {pk: {"code": code, "name_en": en, "name_ar": ar} for pk, code, en, ar in rows}

        users = get_user_model().objects.filter(pk__in=set(assignee_ids))
        return cls(
            agencies=names(Agency),
            services=names(Service),
            teams={pk: {"id": pk, **value} for pk, value in names(Team).items()},
            assignees={
                user.pk: person_ref(user)
                for user in users.select_related("arabic_name").only(
                    "first_name", "last_name", "username", "arabic_name__name"
                )
            },
        )

    def knows(self, columns: tuple) -> bool:
        """Whether everything a `_ROW_COLUMNS` tuple refers to was read (it may be newer than these lookups)."""
        return (
            columns[1] in self.agencies
            and columns[2] in self.services
            and columns[3] in self.teams
            and (columns[8] is None or columns[8] in self.assignees)
        )

    def key(self, version: int, agency_id: int, service_id: int, team_id: int, assignee_id: int | None) -> tuple:
        """What a row's text depends on besides its own columns, which change only with its version."""
        encoded = self.encoded
        return (
            version,
            encoded["agencies"][agency_id],
            encoded["services"][service_id],
            encoded["teams"][team_id],
            encoded["assignees"][assignee_id],
        )


def _row(columns: tuple, lookups: _Lookups) -> dict[str, Any]:
    """The `tickets.selectors.ticket_row` dict of one ticket, from its `_ROW_COLUMNS` tuple."""
    (number, agency_id, service_id, team_id, subject, channel, priority, status, assignee_id, opened_at,
     acknowledged_at, response_due_at, resolution_due_at, resolution_warning_at, responded_at, sla_paused_at,
     paging, last_event_id) = columns  # fmt: skip
    return {
        "number": number,
        "reference": f"HD-{number}",
        "agency": lookups.agencies[agency_id],
        "service": lookups.services[service_id],
        "team": lookups.teams[team_id],
        "subject": subject,
        "channel": channel,
        "priority": priority,
        "status": status,
        "is_open": status in _OPEN,
        "assignee": lookups.assignees.get(assignee_id),
        "opened_at": iso_or_none(opened_at),
        "acknowledged_at": iso_or_none(acknowledged_at),
        "response_due_at": iso_or_none(response_due_at),
        "resolution_due_at": iso_or_none(resolution_due_at),
        "resolution_warning_at": iso_or_none(resolution_warning_at),
        "responded_at": iso_or_none(responded_at),
        "sla_paused_at": iso_or_none(sla_paused_at),
        "paging": paging,
        "version": last_event_id,
    }


def _iso_text(value: Any) -> str:
    if value is None:
        return "null"
    if value.tzinfo is datetime.UTC:
        # The database's datetimes come in UTC; a naive isoformat is twice as fast and gives the same text.
        return f'"{value.replace(tzinfo=None).isoformat()}+00:00"'
    return f'"{value.isoformat()}"'


def _row_text(columns: tuple, lookups: _Lookups) -> str:
    """`dumps(_row(columns, lookups))`, written out: the catalogue's JSON is encoded once per snapshot rather than
    once per row, which is most of the cost of encoding ten thousand rows."""
    (number, agency_id, service_id, team_id, subject, channel, priority, status, assignee_id, opened_at,
     acknowledged_at, response_due_at, resolution_due_at, resolution_warning_at, responded_at, sla_paused_at,
     paging, last_event_id) = columns  # fmt: skip
    encoded = lookups.encoded
    return (
        f'{{"number":{int(number)},"reference":"HD-{int(number)}","agency":{encoded["agencies"][agency_id]},'
        f'"service":{encoded["services"][service_id]},"team":{encoded["teams"][team_id]},'
        f'"subject":{encode_basestring(subject)},"channel":{encode_basestring(channel)},"priority":{int(priority)},'
        f'"status":{encode_basestring(status)},"is_open":{"true" if status in _OPEN else "false"},'
        f'"assignee":{encoded["assignees"][assignee_id]},"opened_at":{_iso_text(opened_at)},'
        f'"acknowledged_at":{_iso_text(acknowledged_at)},"response_due_at":{_iso_text(response_due_at)},'
        f'"resolution_due_at":{_iso_text(resolution_due_at)},'
        f'"resolution_warning_at":{_iso_text(resolution_warning_at)},"responded_at":{_iso_text(responded_at)},'
        f'"sla_paused_at":{_iso_text(sla_paused_at)},"paging":{dumps(paging)},'
        f'"version":{int(last_event_id)}}}'
    )


def queue_rows(*, me: dict[str, Any]) -> list[dict[str, Any]]:
    """The queue as `ticket_row` dicts, in queue order."""
    tuples = list(_queue(me).values_list(*_ROW_COLUMNS))
    lookups = _Lookups.read(columns[8] for columns in tuples if columns[8] is not None)
    return [_row(columns, lookups) for columns in tuples]


class _RowTexts:
    """This process's encoded rows: ticket number -> (key, JSON text). Shared by the threads of the process without a
    lock: each read and write is one dict operation, and a write lost to a concurrent prune is only a later miss."""

    def __init__(self) -> None:
        self.texts: dict[int, tuple[tuple, str]] = {}

    def get(self, number: int, key: tuple) -> str | None:
        kept = self.texts.get(number)
        return kept[1] if kept is not None and kept[0] == key else None

    def put(self, number: int, key: tuple, text: str) -> None:
        self.texts[number] = (key, text)

    def keep_only(self, numbers: set[int]) -> None:
        texts = self.texts
        if len(texts) > 2 * len(numbers) + 1000:
            self.texts = {number: kept for number, kept in texts.items() if number in numbers}


_row_texts = _RowTexts()


def queue_row_texts(*, me: dict[str, Any]) -> list[str]:
    """The queue's rows as JSON texts, in queue order: rows already encoded by this process are reused, the others
    are read in full and encoded."""
    keys = _raw_tuples(_queue(me).values_list(*_KEY_COLUMNS))
    lookups = _Lookups.read(key[6] for key in keys if key[6] is not None)
    texts: dict[int, str] = {}
    stale: dict[int, Any] = {}
    for number, opened_at, *rest in keys:
        text = _row_texts.get(number, (opened_at, *lookups.key(*rest)))
        if text is None:
            stale[number] = opened_at
        else:
            texts[number] = text
    if stale:
        rows = _queue(me).order_by()
        if len(stale) <= _RENDER_BY_NUMBER_MAX:
            rows = rows.filter(number__in=list(stale))
        for columns in rows.values_list(*_ROW_COLUMNS):
            number = columns[0]
            if number in texts:
                continue
            if not lookups.knows(columns):
                lookups = _Lookups.read([*lookups.assignees, columns[8]])
            text = _row_text(columns, lookups)
            if number in stale:
                key = lookups.key(columns[-1], columns[1], columns[2], columns[3], columns[8])
                _row_texts.put(number, (stale[number], *key), text)
            texts[number] = text
    _row_texts.keep_only(set(texts))
    return [texts[number] for number, *_rest in keys if number in texts]


@dataclass(frozen=True)
class Snapshot:
    cursor: int
    # The "snapshot" message, then "snapshot.more" messages: daphne refuses a WebSocket message over 1 MiB.
    texts: list[str]


SNAPSHOT_CHUNK_ROWS = 500


def console_snapshot(*, me: dict[str, Any], reason: str | None = None) -> Snapshot:
    """The snapshot message, as JSON text: the cursor, the queue, who I am and the heartbeat period."""
    # The cursor is read before the rows: an event committed in between shows in the rows and is replayed again by
    # a resync from this cursor, which the client's version rule makes harmless; the other order would lose it.
    cursor = event_cursor_latest()
    rows = queue_row_texts(me=me)
    rest: dict[str, Any] = {"me": me, "heartbeat_seconds": settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS}
    if reason:
        rest["reason"] = reason
    chunks = [rows[start : start + SNAPSHOT_CHUNK_ROWS] for start in range(0, len(rows), SNAPSHOT_CHUNK_ROWS)] or [[]]
    texts = []
    for index, chunk in enumerate(chunks):
        kind, tail = ("snapshot", "," + dumps(rest)[1:-1]) if index == 0 else ("snapshot.more", "")
        more = "true" if index < len(chunks) - 1 else "false"
        texts.append(f'{{"type":"{kind}","cursor":{cursor},"more":{more},"tickets":[{",".join(chunk)}]{tail}}}')
    return Snapshot(cursor=cursor, texts=texts)
