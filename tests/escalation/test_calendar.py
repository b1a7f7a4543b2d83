from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from escalation.calendar import WorkingCalendar
from escalation.clock import clock_start
from escalation.sla import DEFAULT_POLICIES

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
    p1 = clock_start(policy=DEFAULT_POLICIES[1], opened_at=friday_night)
    assert p1.response_due_at == at(2026, 11, 28, 0, 5)
    assert p1.resolution_due_at == at(2026, 11, 28, 3, 50)
    assert p1.resolution_warning_at == at(2026, 11, 28, 2, 50)
    p2 = clock_start(policy=DEFAULT_POLICIES[2], opened_at=friday_night)
    assert p2.resolution_due_at == at(2026, 11, 28, 7, 50)


def test_p4_targets_are_working_days():
    start = at(2026, 11, 29, 7, 0)  # Sunday opening
    p4 = clock_start(policy=DEFAULT_POLICIES[4], opened_at=start)
    assert p4.response_due_at == at(2026, 11, 29, 14, 0)
    assert p4.resolution_due_at == at(2026, 12, 3, 14, 0)  # five working days: Sunday to Thursday


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2026, 11, 29, 9, 0), at(2026, 11, 29, 11, 30), 2.5),  # inside one day
        (at(2026, 11, 26, 13, 0), at(2026, 11, 29, 8, 0), 2),  # Thursday 13:00 over the weekend to Sunday 08:00
        (at(2026, 11, 27, 9, 0), at(2026, 11, 28, 12, 0), 0),  # all weekend
        (at(2026, 5, 26, 12, 0), at(2026, 5, 31, 9, 0), 4),  # Tuesday 2 h, Eid al-Adha, weekend, Sunday 2 h
        (at(2026, 11, 29, 12, 0), at(2026, 11, 29, 10, 0), 0),  # backwards: nothing
    ],
)
def test_working_time_between_two_instants(start, end, hours):
    assert calendar.working_time(start, end) == dt.timedelta(hours=hours)


def test_hours_differ_per_weekday_and_closure_dates_close_the_day():
    short_thursday = (dt.time(7, 0), dt.time(14, 0))
    hours = (short_thursday,) * 3 + ((dt.time(8, 0), dt.time(12, 0)), None, None, short_thursday)
    thursdays_short = WorkingCalendar(hours=hours, closures=frozenset({dt.date(2026, 11, 29)}))
    # Thursday 08:00-12:00, then Sunday 29 November is closed: Monday morning.
    assert thursdays_short.add(at(2026, 11, 26, 11, 0), dt.timedelta(hours=2)) == at(2026, 11, 30, 8, 0)
    assert not thursdays_short.is_working_day(dt.date(2026, 11, 29))


def test_around_the_clock_ignores_hours_holidays_and_closures():
    always = WorkingCalendar(always_open=True, closures=frozenset({dt.date(2026, 5, 31)}))
    eid = at(2026, 5, 27, 23, 0)
    assert always.add(eid, dt.timedelta(hours=5)) == at(2026, 5, 28, 4, 0)
    assert always.working_time(eid, at(2026, 5, 31, 23, 0)) == dt.timedelta(days=4)


def test_time_zone_with_daylight_saving_counts_real_hours():
    london = ZoneInfo("Europe/London")
    every_day = ((dt.time(0, 0), dt.time(23, 0)),) * 7
    calendar_london = WorkingCalendar(hours=every_day, tz=london, holiday_country="")
    # 29 March 2026: the clocks go forward at 01:00, so 00:00-03:00 local holds two real hours.
    start = dt.datetime(2026, 3, 29, 0, 0, tzinfo=london)
    assert calendar_london.working_time(start, dt.datetime(2026, 3, 29, 3, 0, tzinfo=london)) == dt.timedelta(hours=2)
    assert calendar_london.add(start, dt.timedelta(hours=2)) == dt.datetime(2026, 3, 29, 3, 0, tzinfo=london)
