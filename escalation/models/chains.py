"""Escalation chains: per team, the ordered steps that page people about a ticket nobody has acknowledged, and who
the team lead and the duty manager are. A ticket copies its team's chain when it opens (`TicketEscalation.chain`),
so an edit here changes the tickets opened after it, never a running incident."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalation.models.outbox import Page
from tickets.models import Team


class Target(models.TextChoices):
    """Whom a step pages. The on-call targets are looked up when the step fires, not when the ticket opens."""

    ONCALL_PRIMARY = "oncall_primary", _("On-call primary")
    ONCALL_SECONDARY = "oncall_secondary", _("On-call secondary")
    TEAM = "team", _("The whole team")
    TEAM_LEAD = "team_lead", _("The team lead")
    DUTY_MANAGER = "duty_manager", _("The duty manager")
    USER = "user", _("A named person")


class EscalationChain(models.Model):
    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="escalation_chain", verbose_name=_("team")
    )
    team_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team lead"),
    )
    duty_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("duty manager"),
    )
    breach_repeat = models.DurationField(
        _("repeat the resolution breach page every"),
        default=dt.timedelta(hours=1),
        help_text=_("While a ticket stays open past its resolution target, the team lead and the duty manager are "
                    "paged again this often."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("escalation chain")
        verbose_name_plural = _("escalation chains")
        ordering = ["team__name_en"]

    def __str__(self) -> str:
        return str(self.team)

    def clean(self) -> None:
        if self.breach_repeat is not None and self.breach_repeat < dt.timedelta(minutes=1):
            raise ValidationError({"breach_repeat": _("Repeat the breach page at most once a minute.")})


class EscalationStep(models.Model):
    chain = models.ForeignKey(
        EscalationChain, on_delete=models.CASCADE, related_name="steps", verbose_name=_("escalation chain")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    target = models.CharField(_("pages"), max_length=32, choices=Target.choices, default=Target.ONCALL_PRIMARY)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("named person"),
        help_text=_("Only for the target “A named person”."),
    )
    delay = models.DurationField(
        _("wait for an acknowledgement"),
        default=dt.timedelta(minutes=5),
        help_text=_("How long after this step pages, with nobody acknowledging, before it repeats or the next step "
                    "pages."),
    )
    by_console = models.BooleanField(_("console"), default=True)
    by_sms = models.BooleanField(_("SMS"), default=False)
    by_voice = models.BooleanField(_("voice call"), default=False)
    repeat = models.PositiveSmallIntegerField(
        _("repeat"), default=0, help_text=_("How many more times this step pages before the next step.")
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["chain", "position"]
        constraints = [models.UniqueConstraint(fields=["chain", "position"], name="escalation_step_position_unique")]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_target_display()}"

    @property
    def channels(self) -> list[str]:
        flags = [
            (Page.Channel.CONSOLE, self.by_console),
            (Page.Channel.SMS, self.by_sms),
            (Page.Channel.VOICE, self.by_voice),
        ]
        return [str(channel) for channel, on in flags if on]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target == Target.USER and self.user_id is None:
            errors["user"] = str(_("Name the person this step pages."))
        if self.target != Target.USER and self.user_id is not None:
            errors["user"] = str(_("A named person is only for the target “A named person”."))
        if self.delay is not None and (self.delay < dt.timedelta(seconds=30) or self.delay > dt.timedelta(days=1)):
            errors["delay"] = str(_("Wait between 30 seconds and one day."))
        if not self.channels:
            errors["by_console"] = str(_("Choose at least one way to page."))
        if errors:
            raise ValidationError(errors)
