"""On-call schedules (rotations of a team's technicians per layer, and overrides) and technicians' contact profiles.

The arithmetic of who holds a layer when lives in `escalation.oncall`; these models only store what an
administrator configures, and `spec()` hands it over as plain values.
"""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalation.oncall import RotationSpec
from tickets.models import Team
from tickets.phones import phone_e164

DEFAULT_TIME_ZONE = "Asia/Qatar"


def validate_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("%(name)s is not a time zone name such as Asia/Qatar."), params={"name": name}, code="time_zone"
        ) from error


def new_ics_token() -> str:
    return secrets.token_urlsafe(32)


class Layer(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")


class Rotation(models.Model):
    """A team's rota for one layer: its members take turns, each for one shift, handing off at a local time of day.
    Of a layer's rotations the one with the latest first handoff already passed is in force, so a new rota is added
    with a future start and replaces the old one from then."""

    class Length(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        DAYS = "days", _("Every N days")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations", verbose_name=_("team"))
    layer = models.CharField(_("layer"), max_length=16, choices=Layer.choices, default=Layer.PRIMARY)
    starts_on = models.DateField(_("first handoff on"), help_text=_("The first shift begins on this day."))
    handoff_time = models.TimeField(
        _("handoff time"),
        default=dt.time(8, 0),
        help_text=_("Local time of day at which one shift ends and the next begins."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    length = models.CharField(_("shift length"), max_length=8, choices=Length.choices, default=Length.WEEKLY)
    length_days = models.PositiveSmallIntegerField(
        _("days per shift"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Only for “every N days”."),
    )

    class Meta:
        verbose_name = _("on-call rotation")
        verbose_name_plural = _("on-call rotations")
        ordering = ["team", "layer", "starts_on", "id"]
        indexes = [models.Index(fields=["team", "layer"])]

    def __str__(self) -> str:
        return f"{self.team} · {self.get_layer_display()} · {self.starts_on.isoformat()}"

    @property
    def shift_days(self) -> int:
        if self.length == self.Length.DAILY:
            return 1
        if self.length == self.Length.WEEKLY:
            return 7
        return self.length_days or 1

    def clean(self) -> None:
        if self.length == self.Length.DAYS and not self.length_days:
            raise ValidationError({"length_days": _("Give the number of days each shift lasts.")})
        if self.length != self.Length.DAYS:
            self.length_days = None

    def spec(self, members: list[int]) -> RotationSpec:
        """The rotation as plain values for `escalation.oncall`; `members` are its user ids in order."""
        return RotationSpec(
            members=tuple(members),
            starts_on=self.starts_on,
            handoff=self.handoff_time,
            shift_days=self.shift_days,
            tz=ZoneInfo(self.time_zone),
            key=self.pk or 0,
        )


class RotationMember(models.Model):
    """One place in a rotation's order; the members take their shifts by ascending position."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members", verbose_name=_("rotation"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("technician")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("rotation member")
        verbose_name_plural = _("rotation members")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}: {self.user}"


class OnCallOverride(models.Model):
    """Someone covers a team's layer for a period (a swap, a holiday); an override wins over the rotations."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="oncall_overrides", verbose_name=_("team"))
    layer = models.CharField(_("layer"), max_length=16, choices=Layer.choices, default=Layer.PRIMARY)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("covered by")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("on-call override")
        verbose_name_plural = _("on-call overrides")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["team", "layer", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="oncall_override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.get_layer_display()} · {self.user}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The override must end after it starts.")})


class ContactProfile(models.Model):
    """How a technician is reached when paged, and the secret of their calendar feed."""

    class Language(models.TextChoices):
        ARABIC = "ar", _("Arabic")
        ENGLISH = "en", _("English")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_profile", verbose_name=_("user")
    )
    mobile = models.CharField(
        _("mobile number"), max_length=20, blank=True, help_text=_("Stored in international form, e.g. +97455123456.")
    )
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ARABIC
    )
    page_by_sms = models.BooleanField(_("may be paged by SMS"), default=True)
    page_by_voice = models.BooleanField(_("may be paged by voice call"), default=True)
    ics_token = models.CharField(_("calendar token"), max_length=64, unique=True, default=new_ics_token, editable=False)

    class Meta:
        verbose_name = _("contact profile")
        verbose_name_plural = _("contact profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["mobile"],
                condition=~models.Q(mobile=""),
                name="contact_mobile_unique",
                violation_error_message=_("Another person already has this mobile number."),
            )
        ]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        if self.mobile:
            try:
                self.mobile = phone_e164(self.mobile)
            except ValueError as error:
                raise ValidationError({"mobile": str(error)}) from error
