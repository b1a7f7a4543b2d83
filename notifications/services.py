"""Writes: queue the notifications of a ticket event, keep watchers and preferences. (Delivery is in
notifications.delivery, which the escalation worker calls; tickets.services imports this module, never the phone
backends.)"""


from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from escalation.models import ContactProfile
from notifications.models import Notification, NotificationPreference, Watcher
from notifications.rules import EMAIL, NONE, SMS, rules_for
from notifications.selectors import notification_channels, rule_recipients
from tickets.exceptions import InvalidInput, NotAllowed
from tickets.models import AgencyMembership, Ticket, TicketEvent


def notifications_on_event(*, ticket: Ticket, event: TicketEvent) -> list[Notification]:
    """Queue what the rules say about one event. Called by `tickets.services._record` inside the event's
    transaction, with the ticket locked: a rolled-back change queues nothing. A pending notification of the same
    ticket for the same person and channel, not yet tried, takes the event in instead of a new one (a burst is one
    message); new ones wait HELPDESK_NOTIFY_DELAY_SECONDS for the rest of a burst."""
    queued: dict[int, Notification] = {}
    for rule in rules_for(event):
        for recipient in rule_recipients(rule=rule, ticket=ticket, event=event):
            for channel in notification_channels(user=recipient, kind=rule.kind, priority=ticket.priority):
                notification = _join_or_create(
                    ticket=ticket, recipient=recipient, channel=channel, kind=rule.kind, event=event
                )
                queued[notification.pk] = notification
    return list(queued.values())


def _join_or_create(*, ticket: Ticket, recipient: User, channel: str, kind: str, event: TicketEvent) -> Notification:
    # A worker that took the row has counted an attempt under its row lock; the lock below waits for it and then
    # no longer matches `attempts=0`. A ticket just opened has no notification to look for.
    pending = (
        None
        if event.kind == TicketEvent.Kind.OPENED
        else Notification.objects.select_for_update()
        .filter(ticket=ticket, recipient=recipient, channel=channel, state=Notification.State.PENDING, attempts=0)
        .order_by("id")
        .first()
    )
    if pending is None:
        return Notification.objects.create(
            ticket=ticket,
            recipient=recipient,
            channel=channel,
            kinds=[kind],
            event_ids=[event.pk],
            created_at=event.created_at,
            next_attempt_at=event.created_at + dt.timedelta(seconds=settings.HELPDESK_NOTIFY_DELAY_SECONDS),
        )
    if event.pk not in pending.event_ids:
        pending.event_ids = [*pending.event_ids, event.pk]
    if kind not in pending.kinds:
        pending.kinds = [*pending.kinds, kind]
    pending.save(update_fields=["event_ids", "kinds"])
    return pending


@transaction.atomic
def watcher_add(*, ticket: Ticket, actor: User, user: User, now: dt.datetime) -> Watcher:
    """Add a colleague of the ticket's agency as a watcher. Only the agency's own staff may add one."""
    if not AgencyMembership.objects.filter(user=actor, agency_id=ticket.agency_id).exists():
        raise NotAllowed()
    if not AgencyMembership.objects.filter(user=user, agency_id=ticket.agency_id, user__is_active=True).exists():
        raise InvalidInput(_("Only colleagues of the ticket's agency can watch it."))
    watcher, _created = Watcher.objects.get_or_create(
        ticket=ticket, user=user, defaults={"added_by": actor, "created_at": now}
    )
    return watcher


@transaction.atomic
def watcher_remove(*, ticket: Ticket, actor: User, user: User) -> None:
    if not AgencyMembership.objects.filter(user=actor, agency_id=ticket.agency_id).exists():
        raise NotAllowed()
    Watcher.objects.filter(ticket=ticket, user=user).delete()


@transaction.atomic
def preference_update(
    *, user: User, channels: dict[str, str], sms_for_urgent: bool, language: str, mobile: str
) -> NotificationPreference:
    """Store a user's choices: a channel per kind, the urgent SMS, their language and (E.164) mobile number."""
    if any(choice not in (EMAIL, SMS, NONE) for choice in channels.values()):
        raise InvalidInput(_("Unknown notification channel."))
    if mobile and ContactProfile.objects.filter(mobile=mobile).exclude(user=user).exists():
        raise InvalidInput(_("Another person already has this mobile number."))
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.channels = channels
    preference.sms_for_urgent = sms_for_urgent
    preference.save()
    profile, _created = ContactProfile.objects.select_for_update().get_or_create(user=user)
    profile.language = language
    profile.mobile = mobile
    profile.save(update_fields=["language", "mobile"])
    return preference
