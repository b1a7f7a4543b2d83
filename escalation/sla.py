"""SLA targets by priority and the deadlines they give a ticket.

The defaults are those of DESIGN.md: P1/P2 run on a 24x7 clock, P3/P4 on the working calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from escalation.calendar import WorkingCalendar


@dataclass(frozen=True)
class SlaTarget:
    first_response: dt.timedelta
    resolution: dt.timedelta
    working_hours_only: bool


@dataclass(frozen=True)
class SlaDeadlines:
    response_due_at: dt.datetime
    resolution_due_at: dt.datetime


DEFAULT_CALENDAR = WorkingCalendar()
_WORKING_DAY = DEFAULT_CALENDAR.day_length

DEFAULT_TARGETS: dict[int, SlaTarget] = {
    1: SlaTarget(dt.timedelta(minutes=15), dt.timedelta(hours=4), working_hours_only=False),
    2: SlaTarget(dt.timedelta(minutes=30), dt.timedelta(hours=8), working_hours_only=False),
    3: SlaTarget(dt.timedelta(hours=4), 3 * _WORKING_DAY, working_hours_only=True),
    4: SlaTarget(_WORKING_DAY, 5 * _WORKING_DAY, working_hours_only=True),
}


def sla_deadlines(*, priority: int, start: dt.datetime, calendar: WorkingCalendar | None = None) -> SlaDeadlines:
    target = DEFAULT_TARGETS[priority]
    if not target.working_hours_only:
        return SlaDeadlines(start + target.first_response, start + target.resolution)
    calendar = calendar or DEFAULT_CALENDAR
    return SlaDeadlines(calendar.add(start, target.first_response), calendar.add(start, target.resolution))
