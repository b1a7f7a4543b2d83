"""The escalation app's models, one concept per module: calendars and SLA policies, on-call schedules and contact
profiles, escalation chains, the worker's due rows and the page outbox."""

from __future__ import annotations

from escalation.models.outbox import Page as Page
from escalation.models.outbox import WorkerHeartbeat as WorkerHeartbeat
