"""SLA policies and calendars as the administrator keeps them: defaults, overrides, and edits seen at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from escalation.models import BusinessCalendar, ClosureDate, SlaPolicy, WorkingHours
from escalation.policies import sla_defaults_ensure, sla_policy_for
from escalation.sla import AROUND_THE_CLOCK, DEFAULT_POLICIES, WORKING_WEEK
from tests.factories import AgencyFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def test_the_migration_stores_the_design_defaults():
    policies = {row.priority: row for row in SlaPolicy.objects.filter(agency=None, service=None)}
    assert {
        priority: (row.first_response, row.resolution, row.calendar.code) for priority, row in policies.items()
    } == {
        1: (dt.timedelta(minutes=15), 4 * HOUR, "24x7"),
        2: (dt.timedelta(minutes=30), 8 * HOUR, "24x7"),
        3: (4 * HOUR, 21 * HOUR, "working-week"),
        4: (7 * HOUR, 35 * HOUR, "working-week"),
    }
    week = BusinessCalendar.objects.get(code="working-week")
    assert (week.time_zone, week.holiday_country, week.always_open) == ("Asia/Qatar", "QA", False)
    assert sorted(week.hours.values_list("weekday", "opens", "closes")) == [
        (weekday, dt.time(7, 0), dt.time(14, 0)) for weekday in (0, 1, 2, 3, 6)  # Sunday to Thursday
    ]
    # The rows read back as the same values the code falls back on.
    for priority in (1, 2, 3, 4):
        assert sla_policy_for(priority=priority, agency_id=None, service_id=None) == DEFAULT_POLICIES[priority]


def test_defaults_are_made_once_and_edits_are_kept():
    SlaPolicy.objects.filter(priority=3, agency=None, service=None).update(first_response=2 * HOUR)
    SlaPolicy.objects.filter(priority=4, agency=None, service=None).delete()
    assert sla_defaults_ensure() == 1
    assert sla_defaults_ensure() == 0
    assert SlaPolicy.objects.get(priority=3, agency=None, service=None).first_response == 2 * HOUR
    assert SlaPolicy.objects.get(priority=4, agency=None, service=None).resolution == 35 * HOUR


def test_without_any_row_the_design_defaults_apply():
    SlaPolicy.objects.all().delete()
    assert sla_policy_for(priority=3, agency_id=None, service_id=None) == DEFAULT_POLICIES[3]


def test_the_most_specific_policy_wins():
    agency, other_agency = AgencyFactory(code="moi"), AgencyFactory(code="mm")
    service, other_service = ServiceFactory(code="sms-gateway"), ServiceFactory(code="office-365")
    around = BusinessCalendar.objects.get(code="24x7")
    SlaPolicy.objects.create(priority=3, agency=agency, first_response=1 * HOUR, resolution=5 * HOUR, calendar=around)
    SlaPolicy.objects.create(priority=3, service=service, first_response=2 * HOUR, resolution=6 * HOUR,
                             calendar=around)  # fmt: skip
    SlaPolicy.objects.create(priority=3, agency=agency, service=service, first_response=3 * HOUR,
                             resolution=7 * HOUR, calendar=around)  # fmt: skip

    def targets(agency_id, service_id):
        policy = sla_policy_for(priority=3, agency_id=agency_id, service_id=service_id)
        return policy.first_response, policy.resolution, policy.calendar

    assert targets(agency.pk, service.pk) == (3 * HOUR, 7 * HOUR, AROUND_THE_CLOCK)
    assert targets(other_agency.pk, service.pk) == (2 * HOUR, 6 * HOUR, AROUND_THE_CLOCK)
    assert targets(agency.pk, other_service.pk) == (1 * HOUR, 5 * HOUR, AROUND_THE_CLOCK)
    assert targets(other_agency.pk, other_service.pk) == (4 * HOUR, 21 * HOUR, WORKING_WEEK)
    assert targets(None, None) == (4 * HOUR, 21 * HOUR, WORKING_WEEK)
    # Other priorities keep their defaults.
    assert sla_policy_for(priority=1, agency_id=agency.pk, service_id=service.pk) == DEFAULT_POLICIES[1]


def test_a_change_to_a_calendar_is_seen_at_the_next_lookup():
    week = BusinessCalendar.objects.get(code="working-week")
    assert sla_policy_for(priority=3, agency_id=None, service_id=None).calendar == WORKING_WEEK
    closure = ClosureDate.objects.create(calendar=week, date=dt.date(2026, 11, 29), reason_en="National mourning")
    assert sla_policy_for(priority=3, agency_id=None, service_id=None).calendar.closures == {dt.date(2026, 11, 29)}
    WorkingHours.objects.filter(calendar=week, weekday=6).get().delete()
    calendar = sla_policy_for(priority=3, agency_id=None, service_id=None).calendar
    assert calendar.hours[6] is None
    closure.delete()
    week.refresh_from_db()
    week.time_zone = "Asia/Riyadh"
    week.save()
    calendar = sla_policy_for(priority=3, agency_id=None, service_id=None).calendar
    assert (calendar.closures, calendar.tz.key) == (frozenset(), "Asia/Riyadh")


def test_the_admin_edits_calendars_and_policies(client):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    week = BusinessCalendar.objects.get(code="working-week")
    for url in (
        reverse("admin:escalation_businesscalendar_changelist"),
        reverse("admin:escalation_businesscalendar_change", args=[week.pk]),
        reverse("admin:escalation_slapolicy_changelist"),
        reverse("admin:escalation_slapolicy_add"),
    ):
        assert client.get(url).status_code == 200, url
    policy = SlaPolicy.objects.get(priority=3, agency=None, service=None)
    url = reverse("admin:escalation_slapolicy_change", args=[policy.pk])
    form = {"priority": 3, "agency": "", "service": "", "calendar": week.pk}
    refused = client.post(url, {**form, "first_response": "05:00:00", "resolution": "04:00:00"})
    assert refused.status_code == 200
    assert "The resolution target cannot be shorter than the first response target." in refused.content.decode()
    duplicate = client.post(reverse("admin:escalation_slapolicy_add"),
                            {**form, "first_response": "01:00:00", "resolution": "04:00:00"})  # fmt: skip
    assert "This priority already has a policy for that agency and service." in duplicate.content.decode()
    assert client.post(url, {**form, "first_response": "02:00:00", "resolution": "14:00:00"}).status_code == 302
    assert sla_policy_for(priority=3, agency_id=None, service_id=None).first_response == 2 * HOUR


def test_the_admin_refuses_an_unknown_time_zone_and_closing_before_opening(client):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    url = reverse("admin:escalation_businesscalendar_add")
    response = client.post(url, {
        "code": "night", "name_en": "Night shift", "name_ar": "الوردية الليلية", "time_zone": "Mars/Olympus",
        "holiday_country": "QA",
        "hours-TOTAL_FORMS": 1, "hours-INITIAL_FORMS": 0, "hours-0-weekday": 6, "hours-0-opens": "14:00",
        "hours-0-closes": "07:00",
        "closures-TOTAL_FORMS": 0, "closures-INITIAL_FORMS": 0,
    })  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown time zone." in page
    assert "The closing time must be after the opening time." in page
    assert not BusinessCalendar.objects.filter(code="night").exists()


def test_on_an_empty_database_the_defaults_make_both_calendars_their_hours_and_the_four_policies():
    SlaPolicy.objects.all().delete()
    BusinessCalendar.objects.all().delete()

    assert sla_defaults_ensure() == 2 + 5 + 4  # two calendars, the working week's five days, four policies

    calendars = {
        row.code: (row.name_en, row.name_ar, row.always_open, row.time_zone, row.holiday_country)
        for row in BusinessCalendar.objects.all()
    }
    assert calendars == {
        "working-week": ("Government working week", "أسبوع العمل الحكومي", False, "Asia/Qatar", "QA"),
        "24x7": ("Around the clock (24x7)", "على مدار الساعة (24x7)", True, "Asia/Qatar", ""),
    }
    assert sorted(WorkingHours.objects.values_list("calendar__code", "weekday", "opens", "closes")) == [
        ("working-week", weekday, dt.time(7, 0), dt.time(14, 0)) for weekday in (0, 1, 2, 3, 6)
    ]
    policies = SlaPolicy.objects.filter(agency=None, service=None).select_related("calendar")
    assert {row.priority: (row.first_response, row.resolution, row.calendar.code) for row in policies} == {
        1: (dt.timedelta(minutes=15), 4 * HOUR, "24x7"),
        2: (dt.timedelta(minutes=30), 8 * HOUR, "24x7"),
        3: (4 * HOUR, 21 * HOUR, "working-week"),
        4: (7 * HOUR, 35 * HOUR, "working-week"),
    }
    for priority in (1, 2, 3, 4):
        assert sla_policy_for(priority=priority, agency_id=None, service_id=None) == DEFAULT_POLICIES[priority]


def test_a_missing_default_is_made_beside_an_agencys_or_a_services_own_policy():
    around = BusinessCalendar.objects.get(code="24x7")
    SlaPolicy.objects.filter(priority__in=(3, 4), agency=None, service=None).delete()
    SlaPolicy.objects.create(priority=3, agency=AgencyFactory(code="moi"), first_response=HOUR, resolution=5 * HOUR,
                             calendar=around)  # fmt: skip
    SlaPolicy.objects.create(priority=4, service=ServiceFactory(code="sms-gateway"), first_response=HOUR,
                             resolution=5 * HOUR, calendar=around)  # fmt: skip

    assert sla_defaults_ensure() == 2
    assert SlaPolicy.objects.filter(priority=3).count() == SlaPolicy.objects.filter(priority=4).count() == 2
    assert sla_policy_for(priority=3, agency_id=None, service_id=None) == DEFAULT_POLICIES[3]
    assert sla_policy_for(priority=4, agency_id=None, service_id=None) == DEFAULT_POLICIES[4]


def test_a_lookup_reads_the_calendar_it_already_built_in_one_question(django_assert_num_queries):
    first = sla_policy_for(priority=3, agency_id=None, service_id=None)
    with django_assert_num_queries(1):  # the policy with its calendar's revision; hours and closures are kept
        assert sla_policy_for(priority=3, agency_id=None, service_id=None) == first
