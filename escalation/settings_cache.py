"""What a process builds from the settings a ticket copies when it opens (its team's escalation chain, its SLA
policy with the calendar), kept until those settings change.

Reading a chain or a policy through the ORM cost more than a millisecond of the server's CPU for every ticket opened,
for rows that change a few times a year. A process now keeps what it built under the settings revision
(escalation.models.revision), which database triggers renew at every write to those tables, and reads only that
revision, one row by its key, before using what it keeps. The revision is read before the settings, so what is kept
under a revision was read no earlier than that revision: a change committed in between is seen at the next use."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import connection

from escalation.models import SettingsRevision

T = TypeVar("T")


def settings_revision() -> Any:
    """The current settings revision; None without the row (a database without the triggers, or emptied since)."""
    # One row by its key on every ticket opened: plain SQL, as the ORM's building of the query would cost more
    # than the query itself.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {SettingsRevision._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row is not None else None


class SettingsCache:
    """Values built from the settings, by key, all dropped when the revision changes."""

    def __init__(self) -> None:
        # The revision and the values kept under it, replaced together: threads of a process share the cache.
        self._kept: tuple[Any, dict[Hashable, Any]] = (None, {})

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        revision = settings_revision()
        if revision is None:
            return build()
        kept_revision, values = self._kept
        if kept_revision != revision:
            values = {}
            self._kept = (revision, values)
        if key not in values:
            values[key] = build()
        return values[key]
