"""Business calendars (working hours per weekday, closure dates) and the SLA policies that count on them."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import holidays
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from tickets.models import BilingualName, Priority


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."))


def validate_holiday_country(value: str) -> None:
    if value and value not in holidays.list_supported_countries():
        raise ValidationError(_("The holidays package has no public holidays for that country code."))


class Weekday(models.IntegerChoices):
    """Python's weekday numbers, Monday first."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(BilingualName):
    """When an SLA clock counts: working hours per weekday in a time zone, less public holidays and closure dates;
    or around the clock."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    always_open = models.BooleanField(
        _("around the clock (24x7)"),
        default=False,
        help_text=_("The clock counts every minute; working hours, holidays and closure dates are ignored."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Qatar", validators=[validate_time_zone])
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=8,
        default="QA",
        blank=True,
        validators=[validate_holiday_country],
        help_text=_("Country code whose public holidays close the calendar (QA for Qatar); empty for none."),
    )
    # Changes with every change to the calendar, its hours or its closures: the key under which a process keeps the
    # calendar it built (escalation.policies), so every process sees a change at its next lookup.
    revision = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name_en"]

    def save(self, *args, **kwargs) -> None:
        self.revision = uuid.uuid4()
        super().save(*args, **kwargs)


class CalendarPart(models.Model):
    """A row that belongs to a calendar: saving or deleting it gives the calendar a new revision."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, verbose_name=_("calendar"))

    class Meta:
        abstract = True

    def _touch_calendar(self) -> None:
        BusinessCalendar.objects.filter(pk=self.calendar_id).update(revision=uuid.uuid4())

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self._touch_calendar()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._touch_calendar()
        return result


class WorkingHours(CalendarPart):
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday"]
        default_related_name = "hours"
        constraints = [
            models.UniqueConstraint(fields=["calendar", "weekday"], name="working_hours_one_per_weekday"),
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")),
                name="working_hours_close_after_opening",
                violation_error_message=_("The closing time must be after the opening time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClosureDate(CalendarPart):
    """A day the calendar is closed besides its public holidays (an extra holiday the government announces)."""

    date = models.DateField(_("date"))
    reason_en = models.CharField(_("reason (English)"), max_length=200, blank=True)
    reason_ar = models.CharField(_("reason (Arabic)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure date")
        verbose_name_plural = _("closure dates")
        ordering = ["calendar", "date"]
        default_related_name = "closures"
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="closure_date_once_per_calendar")]

    def __str__(self) -> str:
        return self.date.isoformat()


_POSITIVE = MinValueValidator(dt.timedelta(seconds=1))
_DUPLICATE = _("This priority already has a policy for that agency and service.")


class SlaPolicy(models.Model):
    """The targets of one priority. A row without agency and service is the default; a row naming an agency, a
    service or both overrides it, and the most specific row wins (agency and service, then service, then agency)."""

    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    agency = models.ForeignKey(
        "tickets.Agency",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("agency"),
    )
    service = models.ForeignKey(
        "tickets.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("service"),
    )
    first_response = models.DurationField(
        _("first response target"),
        validators=[_POSITIVE],
        help_text=_("Working time on the calendar, for example 4:00:00 for four working hours."),
    )
    resolution = models.DurationField(
        _("resolution target"),
        validators=[_POSITIVE],
        help_text=_("Working time on the calendar: on 07:00-14:00 days, three working days are 21:00:00."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies", verbose_name=_("calendar")
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "agency", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority"],
                condition=Q(agency__isnull=True, service__isnull=True),
                name="sla_policy_default",
                violation_error_message=_DUPLICATE,
            ),
            models.UniqueConstraint(
                fields=["priority", "agency"],
                condition=Q(service__isnull=True),
                name="sla_policy_per_agency",
                violation_error_message=_DUPLICATE,
            ),
            models.UniqueConstraint(
                fields=["priority", "service"],
                condition=Q(agency__isnull=True),
                name="sla_policy_per_service",
                violation_error_message=_DUPLICATE,
            ),
            models.UniqueConstraint(
                fields=["priority", "agency", "service"],
                name="sla_policy_per_agency_service",
                violation_error_message=_DUPLICATE,
            ),
            models.CheckConstraint(
                condition=Q(first_response__gt=dt.timedelta(0)), name="sla_policy_response_target_positive"
            ),
            models.CheckConstraint(
                condition=Q(resolution__gte=F("first_response")),
                name="sla_policy_resolution_after_response",
                violation_error_message=_("The resolution target cannot be shorter than the first response target."),
            ),
        ]

    def __str__(self) -> str:
        scope = " / ".join(str(part) for part in (self.agency, self.service) if part is not None) or _("default")
        return f"{self.get_priority_display()} · {scope}"
