"""Reads of the agency pages' socket: who may hold one, the newest cursor of an agency, what a page missed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import OuterRef, QuerySet, Subquery

from security.sessions import sessions_users
from tickets.live.publish import agency_event_message
from tickets.models import Agency, TicketEvent
from tickets.selectors import on_a_team, user_agency, user_is_technician

RESYNC_LIMIT = 200


def live_agency_id(*, user: User | AnonymousUser) -> int | None:
    """The agency whose events the user's socket receives: their own, for active agency staff; None for anyone
    else (technicians follow tickets in the console)."""
    if not user.is_authenticated or not user.is_active or user_is_technician(user):
        return None
    agency = user_agency(user)
    return agency.pk if agency is not None else None


def live_heartbeats(*, sockets: list[tuple[int, str, int]]) -> list[str | int]:
    """For each agency socket, given as (user id, session key, agency id): why it may no longer stay open, "session"
    when its login session has ended (logged out, expired, or its user's password changed since) or "rights" when
    its user is no longer an active member of that agency; else the newest cursor of that agency. Every socket asks
    at each heartbeat, so all of them are answered with three reads: the users, the sessions, the cursors."""
    users = User.objects.select_related("agency_membership").annotate(team_member=on_a_team())
    # Read with the `team_member` annotation, which the type of a generic queryset does not carry.
    signed_in: list[Any] = sessions_users(users=users, sockets=[(user_id, key) for user_id, key, _agency in sockets])
    cursors = _cursors(agency_ids={agency_id for _user_id, _key, agency_id in sockets})
    answers: list[str | int] = []
    for user, (_user_id, _key, agency_id) in zip(signed_in, sockets, strict=True):
        if user is None:
            answers.append("session")
            continue
        membership = getattr(user, "agency_membership", None)
        if not user.is_active or user.team_member or membership is None or membership.agency_id != agency_id:
            answers.append("rights")
        else:
            answers.append(cursors.get(agency_id, 0))
    return answers


def _public_events(agency_id: int | OuterRef) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket__agency_id=agency_id, public=True)


def live_cursor(*, agency_id: int) -> int:
    """The id of the agency's newest public event."""
    return _public_events(agency_id).order_by("-pk").values_list("pk", flat=True).first() or 0


def _cursors(*, agency_ids: set[int]) -> dict[int, int]:
    """`live_cursor` of several agencies in one query."""
    newest = _public_events(OuterRef("pk")).order_by("-pk").values("pk")[:1]
    rows = Agency.objects.filter(pk__in=agency_ids).annotate(cursor=Subquery(newest)).values_list("pk", "cursor")
    return {agency_id: cursor or 0 for agency_id, cursor in rows}


def live_since(*, agency_id: int, since: int) -> dict[str, Any]:
    """The agency's public events after `since`, or `reload` when more were missed than a resync replays."""
    missed = _public_events(agency_id).filter(pk__gt=since).select_related("ticket").order_by("pk")
    events = list(missed[: RESYNC_LIMIT + 1])
    if len(events) > RESYNC_LIMIT:
        return {"type": "resync", "since": since, "reload": True, "cursor": live_cursor(agency_id=agency_id)}
    cursor = events[-1].pk if events else max(since, live_cursor(agency_id=agency_id))
    return {"type": "resync", "since": since, "cursor": cursor, "events": [agency_event_message(e) for e in events]}
