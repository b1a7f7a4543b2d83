"""The government working calendar: Sunday to Thursday, 07:00-14:00 Asia/Qatar, less Qatar's public holidays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

QATAR = ZoneInfo("Asia/Qatar")
# Python weekday numbers: Monday is 0. Friday (4) and Saturday (5) are the weekend.
SUNDAY_TO_THURSDAY = frozenset({6, 0, 1, 2, 3})


@dataclass(frozen=True)
class WorkingCalendar:
    day_start: dt.time = dt.time(7, 0)
    day_end: dt.time = dt.time(14, 0)
    workdays: frozenset[int] = SUNDAY_TO_THURSDAY
    country: str = "QA"
    tz: ZoneInfo = QATAR
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)

    @property
    def day_length(self) -> dt.timedelta:
        return dt.datetime.combine(dt.date.min, self.day_end) - dt.datetime.combine(dt.date.min, self.day_start)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.workdays and day not in self._holidays and day not in self.extra_holidays

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant at which `duration` of working time has passed since `start`."""
        local = start.astimezone(self.tz)
        remaining = duration
        day = local.date()
        # A year of consecutive holidays cannot happen; the bound only guards against a misconfigured calendar.
        for _ in range(366 * 5):
            if self.is_working_day(day):
                opens = dt.datetime.combine(day, self.day_start, tzinfo=self.tz)
                closes = dt.datetime.combine(day, self.day_end, tzinfo=self.tz)
                begin = max(opens, local)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= available
            day += dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
        raise ValueError("The working calendar has no working time within five years.")
