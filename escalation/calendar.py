"""Business calendars as values: working hours per weekday in a time zone, less public holidays and closure dates,
or open around the clock. Pure: no models, no database; `escalation.policies` builds them from the admin's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays

QATAR = ZoneInfo("Asia/Qatar")
UTC = dt.UTC

# Opening and closing times by Python weekday number (Monday is 0); None for a day off.
WeeklyHours = tuple[tuple[dt.time, dt.time] | None, ...]

_GOVERNMENT_DAY = (dt.time(7, 0), dt.time(14, 0))
# The government working week: Sunday to Thursday, 07:00-14:00. Friday and Saturday are the weekend.
GOVERNMENT_HOURS: WeeklyHours = (_GOVERNMENT_DAY,) * 4 + (None, None, _GOVERNMENT_DAY)

# A year of consecutive days off cannot happen; the bound only guards against a calendar with no working time.
_SEARCH_DAYS = 366 * 5


@cache
def _country_holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


@dataclass(frozen=True)
class WorkingCalendar:
    """When an SLA clock runs. `always_open` (24x7) ignores the hours, holidays and closures."""

    hours: WeeklyHours = GOVERNMENT_HOURS
    tz: ZoneInfo = QATAR
    holiday_country: str = "QA"
    closures: frozenset[dt.date] = frozenset()
    always_open: bool = False

    def is_working_day(self, day: dt.date) -> bool:
        return (
            self.hours[day.weekday()] is not None
            and day not in self.closures
            and not (self.holiday_country and day in _country_holidays(self.holiday_country))
        )

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The day's working hours as UTC instants, or None when the calendar is closed that day."""
        hours = self.hours[day.weekday()]
        if hours is None or not self.is_working_day(day):
            return None
        opens, closes = hours
        return (
            dt.datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC),
            dt.datetime.combine(day, closes, tzinfo=self.tz).astimezone(UTC),
        )

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The first instant at which `duration` of working time has passed since `start`, in start's time zone."""
        if duration < dt.timedelta(0):
            raise ValueError("A working-time duration cannot be negative.")
        if self.always_open or not duration:
            return start + duration
        # Instants are compared and added in UTC: wall-clock arithmetic would be wrong across a DST change.
        moment = start.astimezone(UTC)
        remaining = duration
        day = start.astimezone(self.tz).date()
        for _ in range(_SEARCH_DAYS):
            window = self._window(day)
            if window is not None:
                begin = max(window[0], moment)
                if begin < window[1]:
                    if remaining <= window[1] - begin:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= window[1] - begin
            day += dt.timedelta(days=1)
        raise ValueError("The calendar has no working time within five years.")

    def working_time(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """How much working time lies between two instants (none when `end` is not after `start`)."""
        if end <= start:
            return dt.timedelta(0)
        if self.always_open:
            return end - start
        total = dt.timedelta(0)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            window = self._window(day)
            if window is not None:
                begin, finish = max(window[0], start), min(window[1], end)
                if begin < finish:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total
