"""The default SLA calendars and targets of DESIGN.md, as values.

P1/P2 run around the clock; P3/P4 count working time on the government working week, where a working day is the
seven hours from 07:00 to 14:00. The data migration and `seed_demo` store these as the default rows an
administrator edits; `escalation.policies` falls back to them for a priority that has no row.
"""

from __future__ import annotations

import datetime as dt

from escalation.calendar import WorkingCalendar
from escalation.clock import ClockPolicy

WORKING_WEEK = WorkingCalendar()
AROUND_THE_CLOCK = WorkingCalendar(hours=(None,) * 7, holiday_country="", always_open=True)
WORKING_DAY = dt.timedelta(hours=7)

DEFAULT_POLICIES: dict[int, ClockPolicy] = {
    1: ClockPolicy(dt.timedelta(minutes=15), dt.timedelta(hours=4), AROUND_THE_CLOCK),
    2: ClockPolicy(dt.timedelta(minutes=30), dt.timedelta(hours=8), AROUND_THE_CLOCK),
    3: ClockPolicy(dt.timedelta(hours=4), 3 * WORKING_DAY, WORKING_WEEK),
    4: ClockPolicy(WORKING_DAY, 5 * WORKING_DAY, WORKING_WEEK),
}
