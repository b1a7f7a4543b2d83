"""Arabic formats of the helpdesk: the English ones (Latin digits, as Qatar's government services write them and
callers key ticket numbers; with Latin digits Arabic separates decimals with a point and thousands with a comma,
CLDR's `ar` with the `latn` numbering system, not Django's "10,0"), with the Arabic comma in dates and times."""

from __future__ import annotations

from helpdesk.formats.en.formats import (  # noqa: F401 (Django reads them from this module)
    DATE_FORMAT,
    DECIMAL_SEPARATOR,
    FIRST_DAY_OF_WEEK,
    NUMBER_GROUPING,
    SHORT_DATE_FORMAT,
    THOUSAND_SEPARATOR,
    TIME_FORMAT,
)

DATETIME_FORMAT = "j M Y، H:i"
