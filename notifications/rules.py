"""Who is told what, as a table: each row names the event kind it reacts to, an optional condition on the event, the
kind of notification it makes and who receives it. To change a rule, change its row.

Audiences: "requester" is the ticket's requester and its watchers; "assignee" is the technician the ticket is
assigned to; "new_assignee" is the technician the event assigns it to. Whoever made the change is not told, but
for the confirmation of an opening (`tell_actor`): the requester who opens a ticket receives its number and due
times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Status, TicketEvent
from tickets.selectors import user_is_technician


class Kind(models.TextChoices):
    OPENED = "opened", _("Your ticket is open")
    REPLY = "reply", _("New reply from the support team")
    WAITING = "waiting", _("The support team is waiting on you")
    RESOLVED = "resolved", _("Your ticket is resolved")
    CLOSED = "closed", _("Your ticket is closed")
    CANCELLED = "cancelled", _("Your ticket is cancelled")
    ASSIGNED = "assigned", _("A ticket is assigned to you")
    AGENCY_REPLY = "agency_reply", _("The agency replied on your ticket")
    REOPENED = "reopened", _("Your ticket is reopened")
    BREACH = "breach", _("A ticket of yours breached its SLA")


REQUESTER = "requester"
ASSIGNEE = "assignee"
NEW_ASSIGNEE = "new_assignee"

# Kinds the requester side receives (the rest go to technicians); the settings page offers these to agency staff.
REQUESTER_KINDS = (Kind.OPENED, Kind.REPLY, Kind.WAITING, Kind.RESOLVED, Kind.CLOSED, Kind.CANCELLED)
TECHNICIAN_KINDS = (Kind.ASSIGNED, Kind.AGENCY_REPLY, Kind.REOPENED, Kind.BREACH)

EMAIL = "email"
SMS = "sms"
NONE = "none"
DEFAULT_CHANNEL = EMAIL
# Priorities (P1, P2) for which a user who keeps `sms_for_urgent` also gets an SMS.
URGENT_PRIORITIES = (1, 2)


def _public_reply(event: TicketEvent, by_technician: bool) -> bool:
    if not event.public or event.actor is None:
        return False
    return user_is_technician(event.actor) == by_technician


def _technician_reply(event: TicketEvent) -> bool:
    return _public_reply(event, by_technician=True)


def _agency_reply(event: TicketEvent) -> bool:
    return _public_reply(event, by_technician=False)


def _to_waiting(event: TicketEvent) -> bool:
    return (event.after or {}).get("status") == Status.WAITING


@dataclass(frozen=True)
class Rule:
    event_kind: str
    kind: Kind
    audience: str
    when: Callable[[TicketEvent], bool] | None = None
    tell_actor: bool = False


RULES: tuple[Rule, ...] = (
    Rule("opened", Kind.OPENED, REQUESTER, tell_actor=True),
    Rule("commented", Kind.REPLY, REQUESTER, when=_technician_reply),
    Rule("status_changed", Kind.WAITING, REQUESTER, when=_to_waiting),
    Rule("resolved", Kind.RESOLVED, REQUESTER),
    Rule("closed", Kind.CLOSED, REQUESTER),
    Rule("cancelled", Kind.CANCELLED, REQUESTER),
    Rule("assigned", Kind.ASSIGNED, NEW_ASSIGNEE),
    Rule("commented", Kind.AGENCY_REPLY, ASSIGNEE, when=_agency_reply),
    Rule("reopened", Kind.REOPENED, ASSIGNEE),
    Rule("sla_breached", Kind.BREACH, ASSIGNEE),
)


def rules_for(event: TicketEvent) -> list[Rule]:
    return [rule for rule in RULES if rule.event_kind == event.kind and (rule.when is None or rule.when(event))]
