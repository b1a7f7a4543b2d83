"""The /oncall/ page and the technicians' calendar feeds, as their users meet them."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from escalation.models import ContactProfile, OnCallOverride
from tests.factories import TeamFactory, UserFactory, rotation_of, technician_of

QATAR = ZoneInfo("Asia/Qatar")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=QATAR)


def qatar(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rota(team, technician, other_technician):
    """Daily primary rota tech → tech2 from 1 March 08:00 (tech2 holds it on 2 March), secondary the other way."""
    technician.first_name, technician.last_name = "Ahmed", "Al-Marri"
    technician.save()
    other_technician.first_name, other_technician.last_name = "Yousef", "Al-Khulaifi"
    other_technician.save()
    rotation_of(team, [technician, other_technician], layer="primary", length="daily")
    rotation_of(team, [other_technician, technician], layer="secondary", length="daily")
    return technician, other_technician


def feed_events(body: bytes) -> list:
    return sorted(Calendar.from_ical(body).walk("VEVENT"), key=lambda event: event.decoded("dtstart"))


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get("/oncall/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oncall/")


@pytest.mark.django_db
def test_agency_staff_cannot_see_the_rota(client, staff, rota):
    client.force_login(staff)
    response = client.get("/oncall/")
    assert response.status_code == 403
    assert "Al-Marri" not in response.content.decode()
    assert client.post("/oncall/calendar-link/").status_code == 403
    assert not ContactProfile.objects.filter(user=staff).exists()


@pytest.mark.django_db
def test_a_technician_sees_who_is_on_call_now_and_the_next_two_weeks(client, rota, team):
    technician, other = rota
    client.force_login(technician)
    response = client.get("/oncall/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Network Operations" in html
    now_cells = re.findall(r"On call now</dt>\s*<dd>\s*<strong>([^<]+)</strong>", html)
    assert now_cells == ["Yousef Al-Khulaifi", "Ahmed Al-Marri"]  # primary, then secondary
    assert 'until <time datetime="2026-03-03T08:00:00+03:00">Tue 3 Mar, 08:00</time>' in html
    # Every daily shift from the one under way to the one that begins before now + 14 days, for both layers: the
    # last begins on 16 March and ends on the 17th.
    assert html.count("<tr>") == 2 * (1 + 15)
    assert html.count('datetime="2026-03-16T08:00:00+03:00"') == 2 * 2
    assert html.count('datetime="2026-03-17T08:00:00+03:00"') == 2
    assert 'href="/oncall/"' in html and 'aria-current="page"' in html


@pytest.mark.django_db
def test_an_override_shows_on_the_page(client, rota, team):
    technician, _other = rota
    OnCallOverride.objects.create(
        team=team, layer="primary", user=technician, starts_at=qatar(2026, 3, 2, 9), ends_at=qatar(2026, 3, 2, 18)
    )
    client.force_login(technician)
    html = client.get("/oncall/").content.decode()
    assert re.search(
        r"<strong>Ahmed Al-Marri</strong>\s*<span class=\"tag tag--ok\">you</span>\s*"
        r"<span class=\"tag status--waiting\">override</span>",
        html,
    )


@pytest.mark.django_db
def test_staff_users_who_are_not_technicians_see_the_rota(client, rota):
    manager = UserFactory(username="duty", is_staff=True)
    client.force_login(manager)
    assert client.get("/oncall/").status_code == 200


@pytest.mark.django_db
def test_the_page_in_arabic_is_right_to_left_and_safe_under_the_content_security_policy(client, rota):
    client.force_login(rota[0])
    response = client.get("/oncall/", headers={"accept-language": "ar"})
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    for text in ("المناوبة", "عمليات الشبكة", "المناوب الآن", "الأساسي", "الاحتياطي", "تقويم مناوباتي"):
        assert text in html
    for english in ("On call now", "Primary", "Secondary", "My on-call calendar"):
        assert english not in html
    assert "<script" not in html
    assert "style=" not in html and "<style" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_technician_creates_their_calendar_link_and_the_feed_lists_their_shifts(client, rota, team):
    technician, _other = rota
    client.force_login(technician)
    assert "Create my calendar link" in client.get("/oncall/").content.decode()

    response = client.post("/oncall/calendar-link/", follow=True)
    assert response.redirect_chain == [("/oncall/", 302)]
    token = technician.contact_profile.ics_token
    ContactProfile.objects.filter(user=technician).update(language="en")
    html = response.content.decode()
    assert f"http://127.0.0.1:8000/oncall/{token}.ics" in html
    assert "Your calendar link is ready" in html

    feed = Client().get(f"/oncall/{token}.ics")  # a calendar app: no session
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    assert feed["Cache-Control"] == "private, no-store"
    assert b"X-PUBLISHED-TTL:PT1H" in feed.content
    events = feed_events(feed.content)
    # His shifts over a week ago .. 60 days ahead: primary on odd days from 1 March, secondary on even days.
    primary = [event for event in events if "Primary" in str(event["summary"])]
    secondary = [event for event in events if "Secondary" in str(event["summary"])]
    assert primary[0].decoded("dtstart") == qatar(2026, 3, 1, 8)
    assert primary[0].decoded("dtend") == qatar(2026, 3, 2, 8)
    assert secondary[0].decoded("dtstart") == qatar(2026, 3, 2, 8)
    assert [event.decoded("dtstart") for event in primary[:3]] == [qatar(2026, 3, d, 8) for d in (1, 3, 5)]
    assert all(event.decoded("dtstart") < NOW + dt.timedelta(days=60) for event in events)
    assert events[-1].decoded("dtend") > NOW + dt.timedelta(days=59)
    # One shift a day (primary and secondary alternate), 1 March to 1 May: 31 + 30 + 1.
    assert len(events) == 62
    assert str(primary[0]["summary"]) == "On call (Primary): Network Operations"
    assert len({str(event["uid"]) for event in events}) == len(events)


@pytest.mark.django_db
def test_the_feed_speaks_the_technicians_language_and_marks_overrides(client, rota, team):
    technician, _other = rota
    profile = ContactProfile.objects.create(user=technician, language="ar")
    OnCallOverride.objects.create(
        team=team, layer="primary", user=technician, starts_at=qatar(2026, 3, 2, 9), ends_at=qatar(2026, 3, 2, 18)
    )
    events = feed_events(client.get(f"/oncall/{profile.ics_token}.ics").content)
    covered = [event for event in events if event.decoded("dtstart") == qatar(2026, 3, 2, 9)]
    assert len(covered) == 1
    assert covered[0].decoded("dtend") == qatar(2026, 3, 2, 18)
    assert str(covered[0]["summary"]) == "مناوبة (الأساسي): عمليات الشبكة"
    assert "description" in covered[0]


@pytest.mark.django_db
def test_a_replaced_link_no_longer_works(client, rota):
    technician, _other = rota
    profile = ContactProfile.objects.create(user=technician)
    old = profile.ics_token
    assert client.get(f"/oncall/{old}.ics").status_code == 200

    client.force_login(technician)
    response = client.post("/oncall/calendar-link/", follow=True)
    assert "the old link no longer works" in response.content.decode()
    new = ContactProfile.objects.get(user=technician).ics_token
    assert new != old

    anonymous = Client()
    assert anonymous.get(f"/oncall/{old}.ics").status_code == 404
    assert anonymous.get(f"/oncall/{new}.ics").status_code == 200


@pytest.mark.django_db
def test_unknown_tokens_and_deactivated_users_get_404(client, rota):
    technician, _other = rota
    profile = ContactProfile.objects.create(user=technician)
    assert client.get("/oncall/not-a-token-of-anyone-at-all-xxxxxxxxxxxx.ics").status_code == 404
    technician.is_active = False
    technician.save()
    assert client.get(f"/oncall/{profile.ics_token}.ics").status_code == 404


@pytest.mark.django_db
def test_replacing_the_link_needs_a_post_with_the_csrf_token(rota):
    technician, _other = rota
    profile = ContactProfile.objects.create(user=technician)
    client = Client(enforce_csrf_checks=True)
    client.force_login(technician)
    assert client.get("/oncall/calendar-link/").status_code == 405
    assert client.post("/oncall/calendar-link/").status_code == 403
    assert ContactProfile.objects.get(pk=profile.pk).ics_token == profile.ics_token

    page = client.get("/oncall/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post("/oncall/calendar-link/", {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert ContactProfile.objects.get(pk=profile.pk).ics_token != profile.ics_token


@pytest.mark.django_db
def test_a_technician_outside_any_rota_gets_an_empty_calendar(client, team):
    loner = technician_of(team, username="loner")
    profile = ContactProfile.objects.create(user=loner)
    response = client.get(f"/oncall/{profile.ics_token}.ics")
    assert response.status_code == 200
    assert feed_events(response.content) == []


@pytest.mark.django_db
def test_a_technicians_own_teams_come_first(client, rota):
    TeamFactory(code="cloud", name_en="Data Centre and Cloud", name_ar="مركز البيانات والسحابة")
    client.force_login(rota[0])
    html = client.get("/oncall/").content.decode()
    assert html.index("Network Operations") < html.index("Data Centre and Cloud")
    client.force_login(UserFactory(username="duty", is_staff=True))
    html = client.get("/oncall/").content.decode()
    assert html.index("Data Centre and Cloud") < html.index("Network Operations")


@pytest.mark.django_db
def test_the_feed_is_a_published_calendar_that_names_its_owner_and_keeps_their_shifts_free(client, team):
    """The whole feed of one covered shift, as a calendar app reads it: what it is and who it belongs to, how often to
    fetch it again, and the shift in UTC, marked as an override and as time that stays free."""
    loner = technician_of(team, username="loner")
    loner.first_name, loner.last_name = "Mariam", "Al-Sada"
    loner.save()
    profile = ContactProfile.objects.create(user=loner, language="en")
    OnCallOverride.objects.create(
        team=team, layer="primary", user=loner, starts_at=qatar(2026, 3, 2, 9), ends_at=qatar(2026, 3, 2, 18)
    )
    response = client.get(f"/oncall/{profile.ics_token}.ics")
    assert response.content.decode().split("\r\n") == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Government IT Helpdesk//On-call//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:On call: Mariam Al-Sada",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "BEGIN:VEVENT",
        "SUMMARY:On call (Primary): Network Operations",
        "DTSTART:20260302T060000Z",
        "DTEND:20260302T150000Z",
        "DTSTAMP:20260302T070000Z",
        f"UID:oncall-network-ops-primary-20260302T060000Z-{loner.pk}@helpdesk",
        "DESCRIPTION:You cover this period in place of the rota.",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
