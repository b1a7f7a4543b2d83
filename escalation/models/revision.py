"""The revision of the settings a ticket copies when it opens."""

from __future__ import annotations

import uuid

from django.db import models


class SettingsRevision(models.Model):
    """One row (id 1) whose value changes with every write to the settings a ticket copies when it opens: escalation
    chains and their steps, SLA policies, business calendars with their hours and closure dates, and the names of
    the people a chain names. Database triggers renew it (migration 0005), whoever writes: the admin, a command, a
    shell's `queryset.update`. A process keeps what it built from those settings under the value it read before
    reading them (escalation.settings_cache)."""

    value = models.UUIDField(default=uuid.uuid4)

    class Meta:
        verbose_name = "settings revision"
