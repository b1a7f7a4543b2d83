"""The notification outbox, each user's choices of how to be told, and a ticket's watchers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one person on one channel about one ticket. Written in the transaction of the event that
    causes it; while it waits for its delivery time, further events on the same ticket for the same person and
    channel join it (`event_ids`), so a burst becomes one message. The text is written at delivery from the events."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("ticket")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The kinds of the events it tells, in order (notifications.rules.Kind), and the events themselves.
    kinds = models.JSONField(_("kinds"), default=list)
    event_ids = models.JSONField(_("events"), default=list)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["ticket", "recipient", "channel", "state"])]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_id} on {self.ticket_id}: {', '.join(self.kinds)}"


class NotificationPreference(models.Model):
    """How a user wants each kind of notification: `channels` maps a kind to "email", "sms" or "none"; a kind not in
    it takes the default (notifications.rules.DEFAULT_CHANNEL). Language and mobile number live in the user's
    contact profile (escalation.ContactProfile)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    channels = models.JSONField(_("channel per kind"), default=dict, blank=True)
    sms_for_urgent = models.BooleanField(
        _("SMS for P1 and P2 tickets"),
        default=True,
        help_text=_("Also send an SMS for critical and high-priority tickets, when a mobile number is set."),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class Watcher(models.Model):
    """A colleague of the ticket's agency who is told of its changes as its requester is."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="watchers", verbose_name=_("ticket")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watching", verbose_name=_("user")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("added by")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("watcher")
        verbose_name_plural = _("watchers")
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="watcher_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.ticket_id}"
