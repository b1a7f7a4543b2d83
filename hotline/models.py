"""What the hotline keeps: one row per call that changed something (the idempotency key of its ticket, recording and
keypress), each received SMS with the answer it got, and what a phone number asked for (its language, STOP)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HotlineCall(models.Model):
    """A call, by Twilio's CallSid, once it has done something that must not happen twice: opened a ticket, left a
    recording, acknowledged or escalated a page. A retried webhook finds this row and changes nothing. A caller who
    only listened (a status, a wrong PIN) leaves no row."""

    class Outcome(models.TextChoices):
        NONE = "", _("None")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ESCALATED = "escalated", _("Escalated")

    call_sid = models.CharField(_("call SID"), max_length=64, unique=True)
    from_number = models.CharField(_("caller"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hotline_calls",
        verbose_name=_("ticket"),
    )
    # A technician's answer to a page call (keypress 1 or 2), recorded once.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("hotline call")
        verbose_name_plural = _("hotline calls")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.call_sid


class CallRecording(models.Model):
    """A recording Twilio made during a call (the caller's description, or a voicemail), by its RecordingSid. It is
    fetched with the account's credentials and stored as an attachment of the call's ticket. Its callback can come
    before the step that opens the ticket (a voicemail's callback races the voicemail's action), so until the call
    has a ticket the audio is kept here, in private storage, and attached when the ticket opens; a recording of a
    call that opens no ticket stays listed here for the duty manager."""

    call = models.ForeignKey(HotlineCall, on_delete=models.CASCADE, related_name="recordings", verbose_name=_("call"))
    recording_sid = models.CharField(_("recording SID"), max_length=64, unique=True)
    seconds = models.PositiveIntegerField(_("length (seconds)"), default=0)
    attachment = models.OneToOneField(
        "tickets.Attachment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attachment"),
    )
    audio = models.FileField(_("audio waiting for the ticket"), upload_to="hotline/recordings/", blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("call recording")
        verbose_name_plural = _("call recordings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.recording_sid


class InboundSms(models.Model):
    """An SMS received, by Twilio's MessageSid, with the reply it got: a retried webhook gets the same reply and
    changes nothing."""

    message_sid = models.CharField(_("message SID"), max_length=64, unique=True)
    from_number = models.CharField(_("sender"), max_length=32)
    body = models.TextField(_("text"))
    reply = models.TextField(_("reply"), blank=True)
    language = models.CharField(_("language"), max_length=8)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("received SMS")
        verbose_name_plural = _("received SMS")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.message_sid


class PhonePreference(models.Model):
    """What one phone number asked for: the language it chose on the hotline, and whether it sent STOP."""

    phone = models.CharField(_("phone"), max_length=32, unique=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sms_opt_out = models.BooleanField(_("no SMS (sent STOP)"), default=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("phone preference")
        verbose_name_plural = _("phone preferences")

    def __str__(self) -> str:
        return self.phone
