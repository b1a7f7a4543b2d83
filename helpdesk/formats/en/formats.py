"""English formats of the helpdesk: day month year and the 24-hour clock, as in Qatar, whose week starts on Sunday."""

from __future__ import annotations

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 0
