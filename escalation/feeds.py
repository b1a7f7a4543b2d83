"""A technician's on-call shifts as an iCalendar feed (RFC 5545) that calendar apps subscribe to."""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration
from icalendar.enums import TRANSP

from escalation.models import ContactProfile
from escalation.selectors import oncall_shifts_for_user
from tickets.selectors import user_display_name

FEED_PAST = dt.timedelta(days=7)
FEED_AHEAD = dt.timedelta(days=60)
# How often a subscribed calendar app should fetch the feed again.
REFRESH = dt.timedelta(hours=1)


def oncall_calendar(*, profile: ContactProfile, now: dt.datetime) -> bytes:
    """The profile's user's shifts from a week ago to 60 days ahead, in the language of the profile."""
    with translation.override(profile.language):
        # The properties RFC 5545 names are set through icalendar's typed attributes, which write each under its
        # own name (a misspelt one is an error, not a property no calendar app reads); the rest by name.
        calendar = Calendar()
        calendar.prodid = "-//Government IT Helpdesk//On-call//EN"
        calendar.version = "2.0"
        calendar.calscale = "GREGORIAN"
        calendar.method = "PUBLISH"
        calendar.add("x-wr-calname", _("On call: %(name)s") % {"name": user_display_name(profile.user)})
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        stamp = now.astimezone(dt.UTC)
        for team, shift in oncall_shifts_for_user(user=profile.user, start=now - FEED_PAST, end=now + FEED_AHEAD):
            event = Event()
            event.uid = f"oncall-{team.code}-{shift.layer}-{shift.start:%Y%m%dT%H%M%SZ}-{shift.user.pk}@helpdesk"
            event.DTSTAMP = stamp
            event.start = shift.start
            event.end = shift.end
            event.summary = _("On call (%(layer)s): %(team)s") % {"layer": shift.layer_label, "team": team.name}
            if shift.override:
                event.description = _("You cover this period in place of the rota.")
            event.transparency = TRANSP.TRANSPARENT
            calendar.add_component(event)
        return calendar.to_ical()
