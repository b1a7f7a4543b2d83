"""Reads of the agency pages' socket: who may hold one, the newest cursor of an agency, what a page missed."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from tickets.live.publish import agency_event_message
from tickets.models import TicketEvent
from tickets.selectors import user_agency, user_is_technician

RESYNC_LIMIT = 200


def live_agency_id(*, user: User | AnonymousUser) -> int | None:
    """The agency whose events the user's socket receives: their own, for active agency staff; None for anyone
    else (technicians follow tickets in the console)."""
    if not user.is_authenticated or not user.is_active or user_is_technician(user):
        return None
    agency = user_agency(user)
    return agency.pk if agency is not None else None


def live_access_lost(*, user_id: int, session_key: str, agency_id: int) -> str | None:
    """Why an agency socket may no longer stay open: "session" when its login session has ended, "rights" when its
    user is no longer an active member of that agency; None while it may."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key or None).load()
    if session.get(SESSION_KEY) != str(user_id):
        return "session"
    user = User.objects.filter(pk=user_id).select_related("agency_membership__agency").first()
    if user is None or live_agency_id(user=user) != agency_id:
        return "rights"
    return None


def _public_events(agency_id: int) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket__agency_id=agency_id, public=True)


def live_cursor(*, agency_id: int) -> int:
    """The id of the agency's newest public event."""
    return _public_events(agency_id).order_by("-pk").values_list("pk", flat=True).first() or 0


def live_since(*, agency_id: int, since: int) -> dict[str, Any]:
    """The agency's public events after `since`, or `reload` when more were missed than a resync replays."""
    missed = _public_events(agency_id).filter(pk__gt=since).select_related("ticket").order_by("pk")
    events = list(missed[: RESYNC_LIMIT + 1])
    if len(events) > RESYNC_LIMIT:
        return {"type": "resync", "since": since, "reload": True, "cursor": live_cursor(agency_id=agency_id)}
    cursor = events[-1].pk if events else max(since, live_cursor(agency_id=agency_id))
    return {"type": "resync", "since": since, "cursor": cursor, "events": [agency_event_message(e) for e in events]}
