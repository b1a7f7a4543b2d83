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


def test_a_calendar_in_another_time_zone_counts_on_its_own_wall_clock_and_dates():
    london = ZoneInfo("Europe/London")  # UTC+0 in winter, three hours behind Doha
    evenings = WorkingCalendar(hours=((dt.time(18, 0), dt.time(23, 0)),) * 7, tz=london, holiday_country="")
    monday = dt.date(2026, 11, 30)

    def in_london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=london)

    tuesday = monday + dt.timedelta(days=1)
    assert evenings.add(in_london(monday, 17), dt.timedelta(hours=1)) == in_london(monday, 19)
    # 22:30 in London is already Tuesday in Doha: the half hour left of Monday evening still counts.
    assert evenings.add(in_london(monday, 22, 30), dt.timedelta(hours=1)) == in_london(tuesday, 18, 30)
    assert evenings.working_time(in_london(monday, 22, 30), in_london(tuesday, 19)) == dt.timedelta(hours=1.5)

    tokyo = ZoneInfo("Asia/Tokyo")  # six hours ahead of Doha
    nights = WorkingCalendar(hours=((dt.time(0, 0), dt.time(6, 0)),) * 7, tz=tokyo, holiday_country="")
    # Tuesday 02:00 in Tokyo is still Monday in Doha: Tuesday's first two hours count.
    start = dt.datetime(2026, 11, 30, 5, 0, tzinfo=tokyo)
    assert nights.working_time(start, dt.datetime(2026, 12, 1, 2, 0, tzinfo=tokyo)) == dt.timedelta(hours=3)


def test_a_negative_duration_or_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError, match=r"^A working-time duration cannot be negative\.$"):
        calendar.add(at(2026, 11, 29, 9, 0), dt.timedelta(seconds=-1))
    never_open = WorkingCalendar(hours=(None,) * 7, holiday_country="")
    with pytest.raises(ValueError, match=r"^The calendar has no working time within five years\.$"):
        never_open.add(at(2026, 11, 29, 9, 0), dt.timedelta(hours=1))
