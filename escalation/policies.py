"""Which SLA policy a ticket runs on, read from the administrator's rows and returned as plain values.

A process keeps the policies it read until any of the settings a ticket copies changes (escalation.settings_cache).
Reading a policy, it also keeps the calendars it built, each under the calendar's revision, which every change to
the calendar, its hours or its closure dates renews (escalation.models.calendars): a lookup reads the policy with
its calendar's revision in one query and rebuilds the calendar only when the revision is new to this process.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from zoneinfo import ZoneInfo

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db.models import Q

from escalation.calendar import WorkingCalendar
from escalation.clock import ClockPolicy
from escalation.models import BusinessCalendar, SlaPolicy
from escalation.settings_cache import SettingsCache
from escalation.sla import AROUND_THE_CLOCK, DEFAULT_POLICIES, WORKING_WEEK

_calendars: dict[int, tuple[uuid.UUID, WorkingCalendar]] = {}


def _calendar_value(calendar: BusinessCalendar) -> WorkingCalendar:
    kept = _calendars.get(calendar.pk)
    if kept is not None and kept[0] == calendar.revision:
        return kept[1]
    hours: list[tuple[dt.time, dt.time] | None] = [None] * 7
    for weekday, opens, closes in calendar.hours.values_list("weekday", "opens", "closes"):
        hours[weekday] = (opens, closes)
    value = WorkingCalendar(
        hours=tuple(hours),
        tz=ZoneInfo(calendar.time_zone),
        holiday_country=calendar.holiday_country,
        closures=frozenset(calendar.closures.values_list("date", flat=True)),
        always_open=calendar.always_open,
    )
    _calendars[calendar.pk] = (calendar.revision, value)
    return value


def _specificity(policy: SlaPolicy) -> tuple[bool, bool]:
    return (policy.service_id is not None, policy.agency_id is not None)


_policies = SettingsCache()


def sla_policy_for(*, priority: int, agency_id: int | None, service_id: int | None) -> ClockPolicy:
    """The targets and calendar of a ticket of this priority, agency and service: the most specific row wins
    (agency and service, then service, then agency, then the default row, then DESIGN.md's defaults). A process keeps
    the policies it read until the settings change (escalation.settings_cache)."""
    key = (priority, agency_id, service_id)
    return _policies.get(key, partial(_policy_read, priority=priority, agency_id=agency_id, service_id=service_id))


def _policy_read(*, priority: int, agency_id: int | None, service_id: int | None) -> ClockPolicy:
    candidates = (
        SlaPolicy.objects.filter(priority=priority)
        .filter(Q(agency_id=agency_id) | Q(agency__isnull=True))
        .filter(Q(service_id=service_id) | Q(service__isnull=True))
        .select_related("calendar")
    )
    policy = max(candidates, key=_specificity, default=None)
    if policy is None:
        return DEFAULT_POLICIES[priority]
    return ClockPolicy(
        first_response=policy.first_response,
        resolution=policy.resolution,
        calendar=_calendar_value(policy.calendar),
    )


_DEFAULT_CALENDARS = {
    "working-week": ("Government working week", "أسبوع العمل الحكومي", WORKING_WEEK),
    "24x7": ("Around the clock (24x7)", "على مدار الساعة (24x7)", AROUND_THE_CLOCK),
}


def sla_defaults_ensure(*, apps: Apps = global_apps) -> int:
    """Create DESIGN.md's calendars and default policies where they are missing, and return how many rows were
    made; rows that exist, edited or not, are left alone. The data migration passes its historical models."""
    calendar_model = apps.get_model("escalation", "BusinessCalendar")
    hours_model = apps.get_model("escalation", "WorkingHours")
    policy_model = apps.get_model("escalation", "SlaPolicy")
    created = 0
    calendars = {}
    for code, (name_en, name_ar, value) in _DEFAULT_CALENDARS.items():
        calendar, new = calendar_model.objects.get_or_create(
            code=code,
            defaults={
                "name_en": name_en,
                "name_ar": name_ar,
                "always_open": value.always_open,
                "time_zone": value.tz.key,
                "holiday_country": value.holiday_country,
            },
        )
        calendars[value] = calendar
        if new:
            hours = [
                hours_model(calendar=calendar, weekday=weekday, opens=day[0], closes=day[1])
                for weekday, day in enumerate(value.hours)
                if day is not None
            ]
            hours_model.objects.bulk_create(hours)
            created += 1 + len(hours)
    for priority, policy in DEFAULT_POLICIES.items():
        _row, new = policy_model.objects.get_or_create(
            priority=priority,
            agency=None,
            service=None,
            defaults={
                "first_response": policy.first_response,
                "resolution": policy.resolution,
                "calendar": calendars[policy.calendar],
            },
        )
        created += new
    return created

