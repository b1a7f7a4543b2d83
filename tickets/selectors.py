"""Reads: who may see what, and the shapes the pages and the live console show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import get_language

from tickets.models import Agency, AgencyMembership, ArabicName, Attachment, Comment, Service, Team, Ticket, TicketEvent


@dataclass(frozen=True)
class UserRole:
    technician: bool
    membership: AgencyMembership | None
    arabic_name: ArabicName | None = None


# The roles already worked out in the current request, by user id (`roles_per_request`); None outside a request, where
# every question is answered afresh (a worker's or a test's user may change between two questions).
_request_roles: ContextVar[dict[int, UserRole] | None] = ContextVar("helpdesk_request_roles", default=None)


@contextmanager
def roles_per_request() -> Iterator[None]:
    """Within this block (a request: `tickets.middleware.request_roles`), `user_role` asks the database once per
    user."""
    token = _request_roles.set({})
    try:
        yield
    finally:
        _request_roles.reset(token)


def on_a_team() -> Exists:
    """An annotation of users: whether they belong to a team (what makes a technician, with an active account)."""
    return Exists(Team.members.through.objects.filter(user_id=OuterRef("pk")))


def _users_with_role() -> QuerySet[User]:
    """Users with what `user_role` answers: their team membership, agency membership with its agency, Arabic name."""
    return User.objects.select_related("agency_membership__agency", "arabic_name").annotate(
        helpdesk_technician=on_a_team()
    )


def user_with_role(user_id: Any) -> User | None:
    """The user with that id, read with their role in the same query (`tickets.auth.RoleModelBackend`: the request's
    user then costs one query for who they are and what they may do)."""
    # Not `.first()`: its ORDER BY and LIMIT cost a third more to build than the query itself, for one row by key.
    return next(iter(_users_with_role().filter(pk=user_id)), None)


def user_role(user: User | AnonymousUser) -> UserRole:
    """Whether the user is a technician, and their agency membership with its agency, in one query (once per request
    within `roles_per_request`, none for the request's own user, read with it by `user_with_role`). The membership
    and the Arabic name are also left on the user, so that naming the request's own user costs no query."""
    if not user.is_authenticated:
        return UserRole(technician=False, membership=None)
    known = _request_roles.get()
    role = known.get(user.pk) if known is not None else None
    if role is None:
        # Outside a request every question is asked afresh, even of a user read with their role.
        read_with_role = known is not None and hasattr(user, "helpdesk_technician")
        row: Any = user if read_with_role else _users_with_role().get(pk=user.pk)
        role = UserRole(
            technician=row.helpdesk_technician and row.is_active,
            membership=getattr(row, "agency_membership", None),
            arabic_name=getattr(row, "arabic_name", None),
        )
        if known is not None:
            known[user.pk] = role
    user._state.fields_cache["agency_membership"] = role.membership
    user._state.fields_cache["arabic_name"] = role.arabic_name
    return role


def user_is_technician(user: User | AnonymousUser) -> bool:
    return user_role(user).technician


def user_has_history(user: User) -> bool:
    """Whether the user appears in the record of any ticket: such a user is deactivated, never deleted."""
    return (
        TicketEvent.objects.filter(actor=user).exists()
        or Ticket.objects.filter(Q(requester=user) | Q(assignee=user)).exists()
        or Comment.objects.filter(author=user).exists()
        or Attachment.objects.filter(uploaded_by=user).exists()
    )


def user_agency(user: User | AnonymousUser) -> Agency | None:
    membership = user_role(user).membership
    return membership.agency if membership is not None else None


def agency_suspended(user: User | AnonymousUser) -> bool:
    """Whether the user acts for an agency whose access is suspended (inactive): refused everywhere an agency's
    staff act. A technician keeps working that agency's tickets."""
    agency = user_agency(user)
    return agency is not None and not agency.active and not user_is_technician(user)


def ticket_list_for(user: User | AnonymousUser) -> QuerySet[Ticket]:
    """The tickets a user may see: all for a technician, their agency's for agency staff, none for anyone else."""
    tickets = Ticket.objects.select_related(
        "agency", "service", "team", "assignee__arabic_name", "requester__arabic_name"
    )
    if user_is_technician(user):
        return tickets
    agency = user_agency(user)
    if agency is None:
        return tickets.none()
    return tickets.filter(agency=agency)


def ticket_timeline(*, ticket: Ticket, user: User) -> QuerySet[TicketEvent]:
    events = ticket.events.select_related("actor__arabic_name").order_by("id")
    return events if user_is_technician(user) else events.filter(public=True)


def _names(obj: Any) -> dict[str, Any]:
    return {"code": obj.code, "name_en": obj.name_en, "name_ar": obj.name_ar}


def arabic_active() -> bool:
    return (get_language() or "").startswith("ar")


def user_display_name(user: User) -> str:
    """A person's name in the active language: their Arabic name when Arabic is active and they have one, else the
    account's full name, else the username. (Select `<user>__arabic_name` with many users: each one read here
    otherwise costs a query on Arabic pages.)"""
    return _arabic_name(user) if arabic_active() else _account_name(user)


def _account_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _arabic_name(user: User) -> str:
    """The user's Arabic name, else the account's name."""
    arabic = getattr(user, "arabic_name", None)
    return arabic.name if arabic is not None and arabic.name else _account_name(user)


def by_name[Named: models.Model](queryset: QuerySet[Named]) -> QuerySet[Named]:
    """Agencies, services or teams sorted by their name in the active language."""
    return queryset.order_by("name_ar" if arabic_active() else "name_en", "pk")


def service_list_active() -> QuerySet[Service]:
    return by_name(Service.objects.filter(active=True).select_related("team"))


def user_ref(user: User | None) -> dict[str, Any] | None:
    """A user as the console names them (`person_ref`), or None."""
    return person_ref(user) if user is not None else None


def person_ref(user: User) -> dict[str, Any]:
    """A user as the console names them: in the active language, and in each language (`names`), because a live
    message is shaped once, in the language of whoever made the change, and every console shows it in its own."""
    names = {"en": _account_name(user), "ar": _arabic_name(user)}
    return {"id": user.pk, "name": names["ar" if arabic_active() else "en"], "names": names}


def user_record(user: User | None) -> dict[str, Any] | None:
    """A user as a ticket event records them: by the account's own name, whichever language the writer's page was
    in, so that the record reads the same to everyone."""
    return {"id": user.pk, "name": _account_name(user)} if user is not None else None


def iso_or_none(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_paging(ticket: Ticket) -> dict[str, Any] | None:
    """The ticket's last page as the console shows it (whom, which step, when the next step fires), kept by the
    escalation engine with the ticket's escalation; None before any page."""
    escalation = getattr(ticket, "escalation", None)
    return escalation.paging if escalation is not None else None


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the live console shows it in its queue. Select agency, service, team, assignee and escalation
    with it."""
    return {
        "number": ticket.number,
        "reference": ticket.reference,
        "agency": _names(ticket.agency),
        "service": _names(ticket.service),
        "team": {"id": ticket.team_id, **_names(ticket.team)},
        "subject": ticket.subject,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "is_open": ticket.is_open,
        "assignee": user_ref(ticket.assignee),
        "opened_at": iso_or_none(ticket.opened_at),
        "acknowledged_at": iso_or_none(ticket.acknowledged_at),
        "response_due_at": iso_or_none(ticket.response_due_at),
        "resolution_due_at": iso_or_none(ticket.resolution_due_at),
        "resolution_warning_at": iso_or_none(ticket.resolution_warning_at),
        "responded_at": iso_or_none(ticket.responded_at),
        "sla_paused_at": iso_or_none(ticket.sla_paused_at),
        "paging": ticket_paging(ticket),
        "version": ticket.last_event_id,
    }


# What `event_message` reads besides the event: select it with the event.
EVENT_MESSAGE_RELATED = (
    "actor__arabic_name",
    "ticket__agency",
    "ticket__service",
    "ticket__team",
    "ticket__assignee__arabic_name",
    "ticket__escalation",
)


def event_message(event: TicketEvent) -> dict[str, Any]:
    """An event as the live console receives it, live or replayed: the change and the ticket's row after it.
    Select `EVENT_MESSAGE_RELATED` with it."""
    return {
        "cursor": event.pk,
        "event": {
            "id": event.pk,
            "kind": event.kind,
            "ticket": event.ticket.number,
            "actor": user_ref(event.actor),
            "channel": event.channel,
            "before": event.before,
            "after": event.after,
            "public": event.public,
            "created_at": iso_or_none(event.created_at),
        },
        "ticket": ticket_row(event.ticket),
    }


def event_note(event: TicketEvent, *, technician: bool) -> str:
    """The text a person wrote with a change, for whoever reads the timeline. A status note is written to the agency
    (the console labels it so); a priority change's reason is for colleagues and stays with the technicians."""
    after = event.after or {}
    note = after.get("note") or (after.get("reason") if technician else "")
    return str(note or "")


def event_list_since(*, cursor: int, limit: int) -> list[TicketEvent]:
    return list(
        TicketEvent.objects.filter(pk__gt=cursor)
        .select_related(*EVENT_MESSAGE_RELATED)
        .order_by("pk")[:limit]
    )


def event_messages_get(*, event_ids: list[int]) -> list[dict[str, Any]]:
    events = TicketEvent.objects.select_related(*EVENT_MESSAGE_RELATED).filter(pk__in=event_ids).order_by("pk")
    return [event_message(event) for event in events]


def event_cursor_latest() -> int:
    latest = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return latest or 0


def comment_list_for(*, ticket: Ticket, user: User) -> QuerySet[Comment]:
    """A ticket's comments as a user may read them: technicians see internal notes, agency staff do not."""
    comments = ticket.comments.order_by("created_at", "id")
    return comments if user_is_technician(user) else comments.filter(internal=False)


def attachment_list_for(*, ticket: Ticket, user: User) -> QuerySet[Attachment]:
    """A ticket's attachments as a user may download them: files sent with an internal note stay with the note."""
    attachments = ticket.attachments.order_by("created_at", "id")
    return attachments if user_is_technician(user) else attachments.exclude(comment__internal=True)
