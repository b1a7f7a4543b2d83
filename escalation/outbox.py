"""The page outbox: a page is queued in the transaction that decides it and delivered later by the worker.

Delivery, and what "exactly once" means here. A page is taken in a short transaction (`SKIP LOCKED`, so two workers
never take the same one) that counts the attempt and moves `next_attempt_at` past the end of the send; it is sent
outside any transaction, so no lock is held while the provider answers; its outcome is written, with its
`page_attempt` event, in a second transaction. A sent page is never taken again.

The one window left is a worker dying after the provider accepted a message and before the second commit: the page
is still pending, and another worker sends it again once the first one's send deadline has passed. We choose that
rare duplicate over the opposite order (marking the page sent before sending it), which loses the page for good when
the worker dies mid-send: for an on-call service a second SMS costs less than a missed incident, and the provider
offers no idempotency key that would close the window.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Min
from django.utils import translation
from django.utils.translation import gettext as _

from escalation.models import Page
from escalation.selectors import contact_profile_get
from hotline.backends import (
    BasePhoneBackend,
    OutboundMessage,
    PhoneSendError,
    SendResult,
    mask_phone,
    phone_backend,
    send_within,
)
from tickets import services as ticket_services
from tickets.models import Priority, Ticket, TicketEvent
from tickets.selectors import iso_or_none, user_record

logger = logging.getLogger(__name__)

# Time allowed, beyond the send itself, to write an attempt's outcome (it waits for the ticket's lock) before another
# worker may take the page again.
OUTCOME_GRACE = dt.timedelta(seconds=60)
ERROR_MAX_LENGTH = Page._meta.get_field("last_error").max_length or 500


def page_text(*, ticket: Ticket, channel: str, language: str) -> str:
    """The words of a page in the recipient's language: the ticket, its priority, service and subject, and for an SMS
    how to acknowledge by reply. (A call's script asks for the keypress; the console has its button.)"""
    with translation.override(language):
        text = _("%(reference)s %(priority)s, %(service)s: %(subject)s") % {
            "reference": ticket.reference,
            "priority": Priority(ticket.priority).label,
            "service": ticket.service.name,
            "subject": ticket.subject,
        }
        if channel == Page.Channel.SMS:
            text = "\n".join([text, _("Reply ACK %(number)s to acknowledge.") % {"number": ticket.number}])
    return text


@dataclass(frozen=True)
class PageDraft:
    """One page to queue with `pages_enqueue`: the arguments of `page_enqueue` but `now`."""

    ticket_id: int
    recipient: User | None
    channel: str
    body: str
    language: str
    step: str
    to: str | None = None


def page_enqueue(
    *,
    ticket_id: int,
    recipient: User | None,
    channel: str,
    body: str,
    language: str,
    step: str,
    now: dt.datetime,
    to: str | None = None,
) -> Page:
    """Queue one page. Call it inside the transaction that decides the page: a page rolled back with its step never
    leaves. A console page reaches the console through the event that announces it, so it is recorded as sent at
    once; an SMS or a call waits for the worker. `to` is the recipient's mobile number from their contact profile
    unless given."""
    draft = PageDraft(ticket_id, recipient, channel, body, language, step, to)
    return pages_enqueue(drafts=[draft], now=now)[0]


def pages_enqueue(*, drafts: list[PageDraft], now: dt.datetime) -> list[Page]:
    """Queue many pages with one insert, as `page_enqueue` queues one (the escalation worker pages by the batch)."""
    pages = []
    for draft in drafts:
        if draft.channel not in Page.Channel.values:
            raise ValueError(f"unknown page channel {draft.channel!r}")
        delivery: dict[str, Any]
        if draft.channel == Page.Channel.CONSOLE:
            delivery = {"state": Page.State.SENT, "sent_at": now}
        else:
            to = _recipient_mobile(draft.recipient) if draft.to is None else draft.to
            delivery = {"to": to, "next_attempt_at": now}
        pages.append(
            Page(
                ticket_id=draft.ticket_id,
                recipient=draft.recipient,
                channel=draft.channel,
                language=draft.language,
                body=draft.body,
                step=draft.step,
                created_at=now,
                **delivery,
            )
        )
    return Page.objects.bulk_create(pages)


def _recipient_mobile(recipient: User | None) -> str:
    if recipient is None:
        return ""
    profile = contact_profile_get(user=recipient)
    return profile.mobile if profile is not None else ""


def outbox_deliver_due(*, now: dt.datetime, limit: int = 50) -> int:
    """Deliver, oldest first, up to `limit` pending pages due at `now`; return how many it tried (a caller calls
    again while the answer equals `limit`). See the module's docstring for why a page is sent at most once but for
    one narrow window."""
    backend = phone_backend()
    started = time.monotonic()
    tried = 0
    while tried < limit:
        page = _page_take(due_by=now, now=now + dt.timedelta(seconds=time.monotonic() - started))
        if page is None:
            break
        tried += 1
        try:
            outcome: SendResult | PhoneSendError = _send(backend, page)
        except PhoneSendError as failure:
            outcome = failure
        _attempt_record(page=page, outcome=outcome, now=now + dt.timedelta(seconds=time.monotonic() - started))
    return tried


def outbox_next_attempt_at() -> dt.datetime | None:
    """When the earliest pending page may be tried, so the worker knows how long it may sleep."""
    return Page.objects.filter(state=Page.State.PENDING).aggregate(due=Min("next_attempt_at"))["due"]


@transaction.atomic
def _page_take(*, due_by: dt.datetime, now: dt.datetime) -> Page | None:
    """Take the most overdue pending page no other worker holds, and count the attempt."""
    page = (
        Page.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("ticket", "recipient")
        .filter(state=Page.State.PENDING, next_attempt_at__lte=due_by)
        .order_by("next_attempt_at", "id")
        .first()
    )
    if page is None:
        return None
    page.attempts += 1
    page.next_attempt_at = now + dt.timedelta(seconds=settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS) + OUTCOME_GRACE
    page.save(update_fields=["attempts", "next_attempt_at"])
    return page


def _send(backend: BasePhoneBackend, page: Page) -> SendResult:
    """Send the page through the backend, waiting at most HELPDESK_PAGE_SEND_TIMEOUT_SECONDS whatever the backend
    does (see `send_within`)."""
    if not page.to:
        raise PhoneSendError("the recipient has no mobile number", retryable=False)
    message = OutboundMessage(
        channel=page.channel,
        to=page.to,
        body=page.body,
        language=page.language,
        reference=page.ticket.reference,
        page_id=page.pk,
    )
    return send_within(backend, message, timeout=settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS)


def _retry_delay(attempt: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.HELPDESK_PAGE_RETRY_SECONDS * 2 ** (attempt - 1))


@transaction.atomic
def _attempt_record(*, page: Page, outcome: SendResult | PhoneSendError, now: dt.datetime) -> None:
    """Write one attempt's outcome and its event. The event is written first: it locks the ticket, then the page row
    is locked by its update, the order in which the engine locks them too."""
    attempt = page.attempts
    details: dict[str, Any] = {
        "page_id": page.pk,
        "channel": page.channel,
        "recipient": user_record(page.recipient),
        "to": mask_phone(page.to),
        "step": page.step,
        "attempt": attempt,
    }
    changes: dict[str, Any]
    if isinstance(outcome, SendResult):
        details.update(outcome=Page.State.SENT, provider_id=outcome.provider_id)
        changes = {
            "state": Page.State.SENT,
            "sent_at": now,
            "provider_id": outcome.provider_id,
            "next_attempt_at": None,
            "last_error": "",
        }
        # Sent is final whoever holds the attempt now: a worker that took the page after our deadline finds it sent.
        pending = Page.objects.filter(pk=page.pk, state=Page.State.PENDING)
    else:
        message = str(outcome)[:ERROR_MAX_LENGTH]
        if outcome.retryable and attempt < settings.HELPDESK_PAGE_MAX_ATTEMPTS:
            next_attempt_at = now + _retry_delay(attempt)
            details.update(outcome="retry", error=message, next_attempt_at=iso_or_none(next_attempt_at))
            changes = {"next_attempt_at": next_attempt_at, "last_error": message}
        else:
            details.update(outcome=Page.State.FAILED, error=message)
            changes = {"state": Page.State.FAILED, "next_attempt_at": None, "last_error": message}
        pending = Page.objects.filter(pk=page.pk, state=Page.State.PENDING, attempts=attempt)
        logger.warning(
            "page %s (%s to %s, attempt %s): %s", page.pk, page.channel, mask_phone(page.to), attempt, message
        )
    ticket_services.ticket_escalation_record(
        ticket_id=page.ticket_id, kind=TicketEvent.Kind.PAGE_ATTEMPT, details=details, now=now
    )
    if not pending.update(**changes):
        logger.warning("page %s: another worker took it over during attempt %s", page.pk, attempt)
