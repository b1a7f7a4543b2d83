"""Numbers, sizes and dates per language (FORMAT_MODULE_PATH). Django's `filesizeformat` writes sizes with the msgids
listed here; the project's catalogue gives them whole Arabic units ("10.0 ميغابايت", not Django's "10,0 م.ب"), and
listing them keeps makemessages from dropping those entries."""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

FILE_SIZE_UNITS = (
    ngettext_lazy("%(size)d byte", "%(size)d bytes"),
    gettext_noop("%s KB"),
    gettext_noop("%s MB"),
    gettext_noop("%s GB"),
    gettext_noop("%s TB"),
    gettext_noop("%s PB"),
)
