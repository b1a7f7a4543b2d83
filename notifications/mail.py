"""The words of a notification: an e-mail (text and HTML, threaded per ticket) or a short SMS, in the recipient's
language, written at delivery from the events the notification collected."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.models import Notification
from notifications.rules import Kind
from tickets.models import Priority, Status, TicketEvent
from tickets.selectors import user_is_technician
from tickets.sentences import choice_label, event_sentence

SMS_MAX_LENGTH = 300


def _mail_domain() -> str:
    return settings.HELPDESK_MAIL_DOMAIN or urlsplit(settings.HELPDESK_PUBLIC_URL).hostname or "localhost"


def ticket_thread_id(number: int) -> str:
    """The Message-ID every mail of a ticket refers to, so mail readers thread them together."""
    return f"<ticket-{number}@{_mail_domain()}>"


def _headline(kinds: list[str]) -> str:
    if len(kinds) == 1:
        return str(Kind(kinds[0]).label)
    return _("Updates on your ticket")


def _context(notification: Notification) -> dict[str, Any]:
    ticket = notification.ticket
    events = TicketEvent.objects.filter(pk__in=notification.event_ids).select_related("actor").order_by("id")
    if not user_is_technician(notification.recipient):
        events = events.filter(public=True)
    comments = {comment.pk: comment for comment in ticket.comments.filter(internal=False)}
    url = settings.HELPDESK_PUBLIC_URL + reverse("ticket_detail", args=[ticket.number])
    return {
        "ticket": ticket,
        "headline": _headline(notification.kinds),
        "priority": choice_label(Priority, ticket.priority),
        "status": choice_label(Status, ticket.status),
        "entries": [
            {
                "event": event,
                "sentence": event_sentence(event),
                "comment": comments.get(int((event.after or {}).get("comment_id") or 0)),
                "note": str((event.after or {}).get("note") or ""),
            }
            for event in events
        ],
        "url": url,
        "confirm": ticket.status == Status.RESOLVED and Kind.RESOLVED in notification.kinds,
        "confirm_url": f"{url}#confirm-heading",
        "opened": Kind.OPENED in notification.kinds,
        "recipient": notification.recipient,
    }


def notification_email(*, notification: Notification, language: str) -> EmailMultiAlternatives:
    """The e-mail of a notification: `[HD-<n>]` and the subject, a text and an HTML part, marked as sent by a
    machine (no auto-replies) and threaded with the ticket's other mails."""
    ticket = notification.ticket
    with translation.override(language):
        context = {**_context(notification), "language": language, "rtl": language == "ar"}
        subject = f"[{ticket.reference}] {context['headline']}: {ticket.subject}"
        text = render_to_string("notifications/email.txt", context)
        html = render_to_string("notifications/email.html", context)
    thread = ticket_thread_id(ticket.number)
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Message-ID": f"<ticket-{ticket.number}.n{notification.pk}@{_mail_domain()}>",
        "In-Reply-To": thread,
        "References": thread,
    }
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " "),
        body=text,
        to=[notification.recipient.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_sms_text(*, notification: Notification, language: str) -> str:
    """A short SMS: the reference, what happened and the link."""
    ticket = notification.ticket
    with translation.override(language):
        url = settings.HELPDESK_PUBLIC_URL + reverse("ticket_detail", args=[ticket.number])
        text = f"{ticket.reference}: {_headline(notification.kinds)}. {url}"
    return text[:SMS_MAX_LENGTH]
