"""Reads: who receives a rule's notification, on which channels, in which language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet

from escalation.selectors import contact_profile_get
from notifications.models import Notification, NotificationPreference, Watcher
from notifications.rules import ASSIGNEE, DEFAULT_CHANNEL, EMAIL, NEW_ASSIGNEE, SMS, URGENT_PRIORITIES, Rule
from tickets.models import AgencyMembership, Ticket, TicketEvent


def watcher_list(*, ticket: Ticket) -> QuerySet[Watcher]:
    return Watcher.objects.filter(ticket=ticket).select_related("user__arabic_name").order_by("created_at", "id")


def watcher_candidates(*, ticket: Ticket) -> QuerySet[User]:
    """Colleagues of the ticket's agency who may be added as watchers (not yet watching, not the requester)."""
    members = AgencyMembership.objects.filter(agency_id=ticket.agency_id, user__is_active=True).values("user_id")
    return (
        User.objects.filter(pk__in=members)
        .exclude(pk__in=Watcher.objects.filter(ticket=ticket).values("user_id"))
        .exclude(pk=ticket.requester_id or 0)
        .select_related("arabic_name")
        .order_by("first_name", "last_name", "username")
    )


def watcher_context(*, ticket: Ticket) -> dict[str, Any]:
    """What the agency ticket page shows of its watchers: the list and the form to add a colleague."""
    from notifications.forms import WatcherForm

    return {
        "watchers": watcher_list(ticket=ticket),
        "watcher_form": WatcherForm(candidates=watcher_candidates(ticket=ticket)),
    }


def rule_recipients(*, rule: Rule, ticket: Ticket, event: TicketEvent) -> list[User]:
    """The people a rule tells of an event, without its actor and without inactive accounts."""
    people: list[User | None]
    if rule.audience == ASSIGNEE:
        people = [ticket.assignee]
    elif rule.audience == NEW_ASSIGNEE:
        assigned_id = ((event.after or {}).get("assignee") or {}).get("id")
        people = [User.objects.filter(pk=int(assigned_id)).first() if assigned_id else None]
    elif event.kind == TicketEvent.Kind.OPENED:
        # A ticket just opened has no watchers, and `ticket_open` took its requester from its agency's staff.
        people = [ticket.requester]
    else:
        # Only while they are still staff of the ticket's agency: one who moved on no longer sees the ticket.
        members = set(AgencyMembership.objects.filter(agency_id=ticket.agency_id).values_list("user_id", flat=True))
        requester_side = [ticket.requester, *(watcher.user for watcher in watcher_list(ticket=ticket))]
        people = [person for person in requester_side if person is not None and person.pk in members]
    seen: set[int] = set()
    recipients = []
    for person in people:
        if person is None or not person.is_active or person.pk in seen:
            continue
        if person.pk == event.actor_id and not rule.tell_actor:
            continue
        seen.add(person.pk)
        recipients.append(person)
    return recipients


def preference_get(*, user: User) -> NotificationPreference:
    """The user's preference; an unsaved default one when they never chose."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def user_language(*, user: User) -> str:
    profile = contact_profile_get(user=user)
    return profile.language if profile is not None else settings.LANGUAGE_CODE


def user_mobile(*, user: User) -> str:
    profile = contact_profile_get(user=user)
    return profile.mobile if profile is not None else ""


def notification_channels(*, user: User, kind: str, priority: int) -> list[str]:
    """The channels a user is told a kind on, given the ticket's priority: the chosen one if the user has its
    address, and an SMS besides for an urgent ticket when they keep that option and have a mobile number."""
    preference = preference_get(user=user)
    chosen = preference.channels.get(kind, DEFAULT_CHANNEL)
    channels: list[str] = []
    if chosen == EMAIL and user.email:
        channels.append(Notification.Channel.EMAIL)
    # The mobile number is read only when an SMS is wanted (most tickets are not urgent).
    wants_sms = chosen == SMS or (chosen == EMAIL and preference.sms_for_urgent and priority in URGENT_PRIORITIES)
    if wants_sms and user_mobile(user=user):
        channels.append(Notification.Channel.SMS)
    return channels
