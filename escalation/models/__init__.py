"""The escalation app's models, one concept per module: calendars and SLA policies, on-call schedules and contact
profiles, escalation chains, the worker's due rows and the page outbox, and the revision of the settings that
tickets copy."""

from __future__ import annotations

from escalation.models.calendars import BusinessCalendar, ClosureDate, SlaPolicy, Weekday, WorkingHours  # noqa: F401
from escalation.models.chains import EscalationChain, EscalationStep, Target  # noqa: F401
from escalation.models.escalations import DueState, EscalationDue, TicketEscalation, Trigger  # noqa: F401
from escalation.models.oncall import ContactProfile, Layer, OnCallOverride, Rotation, RotationMember  # noqa: F401
from escalation.models.outbox import Page, WorkerHeartbeat  # noqa: F401
from escalation.models.revision import SettingsRevision  # noqa: F401
