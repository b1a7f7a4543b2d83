from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from escalation.calendar import WorkingCalendar
from escalation.sla import sla_deadlines

QATAR = ZoneInfo("Asia/Qatar")
UTC = dt.UTC
calendar = WorkingCalendar()


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 11, 29, 9, 0), 2, at(2026, 11, 29, 11, 0)),  # Sunday, inside the day
        (at(2026, 11, 29, 13, 0), 2, at(2026, 11, 30, 8, 0)),  # runs over into Monday morning
        (at(2026, 11, 29, 5, 30), 1, at(2026, 11, 29, 8, 0)),  # before opening: starts at 07:00
        (at(2026, 11, 26, 15, 0), 1, at(2026, 11, 29, 8, 0)),  # Thursday after hours: next is Sunday
        (at(2026, 11, 27, 10, 0), 1, at(2026, 11, 29, 8, 0)),  # Friday: weekend
        (at(2026, 5, 26, 13, 0), 2, at(2026, 5, 31, 8, 0)),  # Eid al-Adha (27-28 May), then the weekend
        (at(2026, 11, 29, 7, 0), 7, at(2026, 11, 29, 14, 0)),  # exactly one working day
    ],
)
def test_working_time_addition(start, hours, expected):
    assert calendar.add(start, dt.timedelta(hours=hours)) == expected


def test_result_keeps_the_callers_timezone():
    start = at(2026, 11, 29, 9, 0).astimezone(UTC)
    result = calendar.add(start, dt.timedelta(hours=1))
    assert result.tzinfo == UTC
    assert result == at(2026, 11, 29, 10, 0)


def test_p1_and_p2_run_around_the_clock():
    friday_night = at(2026, 11, 27, 23, 50)
    p1 = sla_deadlines(priority=1, start=friday_night)
    assert p1.response_due_at == at(2026, 11, 28, 0, 5)
    assert p1.resolution_due_at == at(2026, 11, 28, 3, 50)
    p2 = sla_deadlines(priority=2, start=friday_night)
    assert p2.resolution_due_at == at(2026, 11, 28, 7, 50)


def test_p4_targets_are_working_days():
    start = at(2026, 11, 29, 7, 0)  # Sunday opening
    p4 = sla_deadlines(priority=4, start=start)
    assert p4.response_due_at == at(2026, 11, 29, 14, 0)
    assert p4.resolution_due_at == at(2026, 12, 3, 14, 0)  # five working days: Sunday to Thursday
