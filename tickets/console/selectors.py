"""Reads for the live console: the technician's queue snapshot, the events a console missed, the ticket panel and
the page's configuration. Every shape here follows the console contract (rows are `tickets.selectors.ticket_row`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q
from django.urls import reverse

from security.sessions import sessions_users
from tickets.console.queue import console_snapshot, dumps
from tickets.lifecycle import PRIORITY_MATRIX, TECHNICIAN, TRANSITIONS
from tickets.models import Agency, AgencyMembership, Attachment, Comment, SavedReply, Team, Ticket, TicketEvent
from tickets.selectors import (
    EVENT_MESSAGE_RELATED,
    event_cursor_latest,
    event_list_since,
    event_message,
    iso_or_none,
    on_a_team,
    ticket_row,
    user_display_name,
    user_is_technician,
    user_ref,
)
from tickets.sentences import choice_labels, event_sentence


def console_me(*, user: User | AnonymousUser) -> dict[str, Any] | None:
    """The technician as their console knows them, or None for anyone who is not a technician."""
    if not isinstance(user, User) or not user_is_technician(user):
        return None
    team_ids = sorted(Team.objects.filter(members=user).values_list("pk", flat=True))
    return {"id": user.pk, "name": user_display_name(user), "team_ids": team_ids}


def heartbeat_seconds() -> float:
    return settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS


RESYNC_PART_EVENTS = 200


def console_resync(*, me: dict[str, Any], since: int) -> list[str]:
    """The resync messages as the JSON texts to send: exactly the events after `since`, in id order, in parts that
    stay under daphne's 1 MiB message cap; a fresh snapshot instead when more were missed than a resync replays."""
    limit = settings.HELPDESK_CONSOLE_RESYNC_LIMIT
    cursor = event_cursor_latest()
    events = event_list_since(cursor=since, limit=limit + 1)
    if len(events) > limit:
        return console_snapshot(me=me, reason="resync").texts
    parts = [events[start : start + RESYNC_PART_EVENTS] for start in range(0, len(events), RESYNC_PART_EVENTS)]
    last = max([cursor, *(event.pk for event in events)])
    return [
        dumps(
            {
                "type": "resync",
                "since": since,
                # A part's cursor is its own last event, so a console cut off between parts resumes correctly.
                "cursor": part[-1].pk if index < len(parts) - 1 else last,
                "more": index < len(parts) - 1,
                "events": [event_message(event) for event in part],
            }
        )
        for index, part in enumerate(parts or [[]])
    ]


def console_access_lost(*, sockets: list[tuple[int, str]]) -> list[str | None]:
    """For each console socket, given as (user id, session key), why it may no longer stay open: "session" when its
    login session has ended (logged out, expired, or its user's password changed since), "rights" when its user is
    no longer an active technician; None while it may. Every console asks at each heartbeat, so the users and their
    rights come in one query for all the sockets, and the sessions in one read of the cache (security.sessions)."""
    users = User.objects.only("password", "is_active").annotate(team_member=on_a_team())
    # Read with the `team_member` annotation, which the type of a generic queryset does not carry.
    signed_in: list[Any] = sessions_users(users=users, sockets=sockets)
    answers: list[str | None] = []
    for user in signed_in:
        if user is None:
            answers.append("session")
        elif not (user.is_active and user.team_member):
            answers.append("rights")
        else:
            answers.append(None)
    return answers


def console_ticket_get(*, number: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("agency", "service", "team", "assignee", "requester", "escalation")
        .filter(number=number)
        .first()
    )


def _attachment_url(attachment: Attachment) -> str:
    """The download view checks who may read the file; the media URL would bypass it."""
    return reverse("ticket_attachment", kwargs={"number": attachment.ticket.number, "attachment_id": attachment.pk})


def ticket_panel(*, ticket: Ticket) -> dict[str, Any]:
    """Everything a technician sees in the ticket panel, internal notes and private events included; each event's
    sentence is told in the active language."""
    events = list(ticket.events.select_related("actor").order_by("id"))
    comment_ids = [event.after.get("comment_id") for event in events if event.after.get("comment_id")]
    comments = {comment.pk: comment for comment in Comment.objects.filter(pk__in=comment_ids)}
    timeline = []
    for event in events:
        comment = comments.get(event.after.get("comment_id"))
        timeline.append(
            {
                "id": event.pk,
                "kind": event.kind,
                "sentence": event_sentence(event),
                "actor": user_ref(event.actor),
                "channel": event.channel,
                "before": event.before,
                "after": event.after,
                "public": event.public,
                "created_at": iso_or_none(event.created_at),
                "comment": {"body": comment.body, "internal": comment.internal} if comment is not None else None,
            }
        )
    return {
        "ticket": ticket_row(ticket),
        "description": ticket.description,
        "requester": user_ref(ticket.requester),
        "requester_name": ticket.requester_name,
        "caller_phone": ticket.caller_phone,
        "contact_phone": ticket.contact_phone,
        "agency_ticket_url": f"/tickets/{ticket.number}/",
        "timeline": timeline,
        "attachments": [
            {"name": attachment.name, "size": attachment.size, "url": _attachment_url(attachment)}
            for attachment in ticket.attachments.all()
        ],
    }


def console_row_get(*, number: int) -> dict[str, Any] | None:
    ticket = console_ticket_get(number=number)
    return ticket_row(ticket) if ticket is not None else None


def console_page_config(*, me: dict[str, Any], language: str) -> dict[str, Any]:
    """The console page's JSON configuration; its labels are in the active language."""
    technicians = (
        get_user_model()
        .objects.filter(teams__isnull=False, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return {
        "ws_path": "/ws/console/",
        "me": me,
        "teams": list(Team.objects.order_by("name_en").values("id", "code", "name_en", "name_ar")),
        "agencies": list(Agency.objects.filter(active=True).values("id", "code", "name_en", "name_ar")),
        "technicians": [{"id": user.pk, "name": user_display_name(user)} for user in technicians],
        "ticket_url": reverse("console:ticket", kwargs={"number": 0}),
        "action_url": reverse("console:action", kwargs={"number": 0, "action": "ACTION"}),
        "members_url": reverse("console:agency_members", kwargs={"agency_id": 0}),
        "search_url": reverse("console:search"),
        "heartbeat_seconds": heartbeat_seconds(),
        "language": "ar" if language.startswith("ar") else "en",
        "labels": choice_labels(),
        # The status moves a technician may make from each status (tickets.lifecycle), so the console offers no
        # other.
        "transitions": {
            current: [target for target, movers in moves.items() if TECHNICIAN in movers]
            for current, moves in TRANSITIONS.items()
        },
        "saved_replies": saved_reply_list(team_ids=me["team_ids"]),
        # The priority each impact and urgency give (tickets.lifecycle), shown in the new-ticket form before sending.
        "priority_matrix": {f"{impact}-{urgency}": priority for (impact, urgency), priority in PRIORITY_MATRIX.items()},
    }


def saved_reply_list(*, team_ids: list[int]) -> list[dict[str, Any]]:
    """The saved replies offered to a technician of `team_ids`: their teams' and the shared ones, in both languages."""
    replies = SavedReply.objects.filter(active=True).filter(Q(team__isnull=True) | Q(team_id__in=team_ids))
    return [
        {"id": reply.pk, "name_en": reply.name_en, "name_ar": reply.name_ar, "body_en": reply.body_en,
         "body_ar": reply.body_ar}
        for reply in replies.order_by("name_en", "pk")
    ]


def agency_member_list(*, agency_id: int) -> list[dict[str, Any]]:
    """The active staff of an agency, whom a technician may open a ticket for, with the phone on file."""
    memberships = (
        AgencyMembership.objects.filter(agency_id=agency_id, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [{**(user_ref(member.user) or {}), "phone": member.phone} for member in memberships]


def console_missed(*, windows: list[tuple[int, int, frozenset[int], dict[str, Any]]]) -> list[list[str]]:
    """For each socket, given as (after, upto, delivered, me), the events in (after, upto] that it did not receive
    live (the channel layer is best effort), as the messages (JSON texts) to send it now; a snapshot instead when
    more went missing than a resync replays. The caller passes windows at least one heartbeat old, so messages still
    in flight are not mistaken for lost ones. The event ids of all the windows are read in one query, and the events
    missed by any socket in one more, each encoded once."""
    open_windows = [(after, upto) for after, upto, _delivered, _me in windows if upto > after]
    if not open_windows:
        return [[] for _window in windows]
    low, high = min(after for after, _upto in open_windows), max(upto for _after, upto in open_windows)
    event_ids = list(TicketEvent.objects.filter(pk__gt=low, pk__lte=high).values_list("pk", flat=True))
    missing = [
        sorted(pk for pk in event_ids if after < pk <= upto and pk not in delivered)
        for after, upto, delivered, _me in windows
    ]
    limit = settings.HELPDESK_CONSOLE_RESYNC_LIMIT
    replayed = {pk for socket_missing in missing if len(socket_missing) <= limit for pk in socket_missing}
    events = TicketEvent.objects.filter(pk__in=replayed).select_related(*EVENT_MESSAGE_RELATED)
    texts = {event.pk: dumps({"type": "event", **event_message(event)}) for event in events.order_by()}
    return [
        console_snapshot(me=me, reason="resync").texts
        if len(socket_missing) > limit
        else [texts[pk] for pk in socket_missing]
        for socket_missing, (_after, _upto, _delivered, me) in zip(missing, windows, strict=True)
    ]
