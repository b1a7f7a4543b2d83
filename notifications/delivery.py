"""Delivery of the notification outbox; the escalation worker calls `notifications_deliver_due` on each pass.

Delivery follows the page outbox (escalation.outbox): a row is taken in a short transaction (`SKIP LOCKED`, so two
workers never take the same one) that counts the attempt and moves `next_attempt_at` past the end of the send; it is
sent outside any transaction; its outcome is written in a second one. A sent row is never taken again. A worker
that dies after the mail server accepted a message and before the outcome commits sends it again once the
deadline has passed: the same narrow window, and the same choice, as the page outbox."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Min

from hotline.backends import OutboundMessage, PhoneSendError, phone_backend, send_within
from notifications.mail import notification_email, notification_sms_text
from notifications.models import Notification
from notifications.selectors import user_language, user_mobile

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = Notification._meta.get_field("last_error").max_length or 500
# Time allowed, beyond the send itself, to write an attempt's outcome before another worker may take the row again.
OUTCOME_GRACE = dt.timedelta(seconds=60)


def notifications_deliver_due(*, now: dt.datetime, limit: int = 50) -> int:
    """Deliver, oldest first, up to `limit` pending notifications due at `now`; return how many it tried (the
    escalation worker calls it on each pass, and again while the answer equals `limit`)."""
    started = time.monotonic()
    tried = 0
    while tried < limit:
        notification = _take(due_by=now, now=now + dt.timedelta(seconds=time.monotonic() - started))
        if notification is None:
            break
        tried += 1
        error = _send(notification)
        _outcome_record(
            notification=notification, error=error, now=now + dt.timedelta(seconds=time.monotonic() - started)
        )
    return tried


def notifications_next_attempt_at() -> dt.datetime | None:
    """When the earliest pending notification may be tried, so the worker knows how long it may sleep."""
    return Notification.objects.filter(state=Notification.State.PENDING).aggregate(due=Min("next_attempt_at"))["due"]


@transaction.atomic
def _take(*, due_by: dt.datetime, now: dt.datetime) -> Notification | None:
    notification = (
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("ticket", "ticket__service", "recipient")
        .filter(state=Notification.State.PENDING, next_attempt_at__lte=due_by)
        .order_by("next_attempt_at", "id")
        .first()
    )
    if notification is None:
        return None
    notification.attempts += 1
    notification.next_attempt_at = now + dt.timedelta(seconds=_send_bound(notification.channel)) + OUTCOME_GRACE
    notification.save(update_fields=["attempts", "next_attempt_at"])
    return notification


def _send_bound(channel: str) -> float:
    """The longest one send on `channel` may take: the SMTP timeout for a mail, the page send bound for an SMS."""
    if channel == Notification.Channel.EMAIL:
        return settings.HELPDESK_MAIL_SEND_SECONDS
    return settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS


def _send(notification: Notification) -> PhoneSendError | None:
    """Send one notification; None when it left, else the failure (retryable or not)."""
    recipient = notification.recipient
    language = user_language(user=recipient)
    try:
        if notification.channel == Notification.Channel.EMAIL:
            if not recipient.email:
                return PhoneSendError("the recipient has no e-mail address", retryable=False)
            notification_email(notification=notification, language=language).send()
        else:
            mobile = user_mobile(user=recipient)
            if not mobile:
                return PhoneSendError("the recipient has no mobile number", retryable=False)
            message = OutboundMessage(
                channel="sms",
                to=mobile,
                body=notification_sms_text(notification=notification, language=language),
                language=language,
                reference=notification.ticket.reference,
            )
            send_within(phone_backend(), message, timeout=settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS)
    except PhoneSendError as failure:
        return failure
    except smtplib.SMTPRecipientsRefused as refused:
        return PhoneSendError(f"SMTP: {refused}", retryable=False)
    except (OSError, smtplib.SMTPException) as failure:
        return PhoneSendError(f"{failure.__class__.__name__}: {failure}")
    return None


def _retry_delay(attempt: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.HELPDESK_NOTIFY_RETRY_SECONDS * 2 ** (attempt - 1))


def _outcome_record(*, notification: Notification, error: PhoneSendError | None, now: dt.datetime) -> None:
    attempt = notification.attempts
    pending = Notification.objects.filter(pk=notification.pk, state=Notification.State.PENDING)
    if error is None:
        # Sent is final whoever holds the attempt now.
        pending.update(state=Notification.State.SENT, sent_at=now, next_attempt_at=None, last_error="")
        return
    message = str(error)[:ERROR_MAX_LENGTH]
    logger.warning("notification %s (%s, attempt %s): %s", notification.pk, notification.channel, attempt, message)
    if error.retryable and attempt < settings.HELPDESK_NOTIFY_MAX_ATTEMPTS:
        pending.filter(attempts=attempt).update(next_attempt_at=now + _retry_delay(attempt), last_error=message)
    else:
        pending.filter(attempts=attempt).update(
            state=Notification.State.FAILED, next_attempt_at=None, last_error=message
        )
