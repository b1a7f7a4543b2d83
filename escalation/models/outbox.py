"""The page outbox and the worker's heartbeat.

A page is written in the transaction that decides it and leaves later, from the worker, through the phone backend;
a page that is not committed is never sent. The heartbeat is how `/healthz` knows a worker is alive."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket


class Page(models.Model):
    """One message to one person about one ticket. `state` goes pending -> sent or pending -> failed, never back:
    a sent page is never sent again."""

    class Channel(models.TextChoices):
        CONSOLE = "console", _("Console")
        SMS = "sms", _("SMS")
        VOICE = "voice", _("Voice call")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pages", verbose_name=_("ticket"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pages",
        verbose_name=_("recipient"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    to = models.CharField(_("phone number"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("text"))
    step = models.CharField(_("step"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # While pending: when the next attempt may start (a worker that takes the page moves it past the end of its
    # send, so a worker that died mid-send hands the page to another). None once sent or failed.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True, db_index=True)
    provider_status = models.CharField(_("provider status"), max_length=32, blank=True)
    provider_sequence = models.IntegerField(_("provider sequence"), null=True, blank=True)
    provider_updated_at = models.DateTimeField(_("provider updated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} page {self.pk} on ticket {self.ticket_id}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of one escalation worker process, written by the worker on every pass."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    last_beat_at = models.DateTimeField(_("last beat at"), db_index=True)
    # Seconds between the due instant and the handling of the most overdue row of the worker's last pass.
    last_lag = models.FloatField(_("last lag (seconds)"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-last_beat_at"]

    def __str__(self) -> str:
        return self.name
