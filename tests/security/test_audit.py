"""The security audit trail: logins, failed logins, lockouts, password changes and admin changes, each with who,
when and from where, readable (and only readable) by the duty manager in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from security.models import SecurityEvent
from tests.factories import PASSWORD, UserFactory
from tickets.models import Agency

OFFICE = "203.0.113.20"
BROWSER = "Mozilla/5.0 (Windows NT 10.0) Edge/130"


@pytest.fixture
def manager(db):
    return UserFactory(username="duty-manager", is_staff=True, is_superuser=True)


def trail(*, since: int = 0) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (event.kind, event.username, event.actor.username if event.actor else None, event.address)
        for event in SecurityEvent.objects.filter(pk__gt=since).select_related("actor").order_by("id")
    ]


def last_id() -> int:
    return SecurityEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.django_db
def test_logins_failures_and_logouts_are_recorded_with_the_address_and_browser(client, staff):
    client.post("/accounts/login/", {"username": "staff", "password": "wrong"}, REMOTE_ADDR=OFFICE,
                HTTP_USER_AGENT=BROWSER)
    client.post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR=OFFICE)
    client.post("/accounts/login/", {"username": "staff", "password": PASSWORD}, REMOTE_ADDR=OFFICE,
                HTTP_USER_AGENT=BROWSER)
    client.post("/accounts/logout/", REMOTE_ADDR=OFFICE)
    assert trail() == [
        ("login_failed", "staff", None, OFFICE),
        ("login_failed", "nobody", None, OFFICE),
        ("login", "staff", "staff", OFFICE),
        ("logout", "staff", "staff", OFFICE),
    ]
    assert SecurityEvent.objects.filter(kind="login").get().user_agent == BROWSER
    assert "wrong" not in str(list(SecurityEvent.objects.values_list("details", flat=True)))


@pytest.mark.django_db
def test_a_lockout_is_recorded(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "staff", "password": "wrong"}, REMOTE_ADDR=OFFICE)
    assert ("lockout", "staff", None, OFFICE) in trail()


@pytest.mark.django_db
def test_a_password_change_records_who_changed_it_and_from_where(client, technician):
    client.force_login(technician)
    since = last_id()
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-long-new-passphrase-2026",
         "new_password2": "a-long-new-passphrase-2026"},
        REMOTE_ADDR=OFFICE,
    )
    assert response.status_code == 302
    assert trail(since=since) == [("password_changed", "tech", "tech", OFFICE)]


@pytest.mark.django_db
def test_admin_changes_are_recorded_with_the_administrator_and_the_address(client, manager, technician, agency):
    client.force_login(manager)
    since = last_id()
    client.post(
        reverse("admin:auth_user_password_change", args=[technician.pk]),
        {"password1": "reset-by-the-manager-2026", "password2": "reset-by-the-manager-2026", "usable_password": "true"},
        REMOTE_ADDR=OFFICE,
    )
    changelist = reverse("admin:tickets_agency_changelist")
    client.post(
        reverse("admin:tickets_agency_change", args=[agency.pk]),
        {"code": agency.code, "name_en": "Ministry of Public Health", "name_ar": agency.name_ar,
         "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"},
        REMOTE_ADDR=OFFICE,
    )
    assert Agency.objects.get(pk=agency.pk).active is False
    client.post(reverse("admin:auth_user_changelist"),
                {"action": "deactivate", "_selected_action": [technician.pk]}, REMOTE_ADDR=OFFICE)
    events = list(SecurityEvent.objects.filter(pk__gt=since).order_by("id"))
    kinds = [(event.kind, event.actor.username, event.address) for event in events]
    assert kinds == [
        ("password_changed", "duty-manager", OFFICE),
        ("admin_change", "duty-manager", OFFICE),
        ("admin_change", "duty-manager", OFFICE),
        ("admin_change", "duty-manager", OFFICE),
    ]
    assert events[0].username == "tech"
    assert [event.details["object"] for event in events[1:]] == ["tech", "Ministry of Public Health", "tech"]
    assert events[2].details["object_type"] == "tickets.agency"
    assert "Active" in events[2].details["change"]
    assert client.get(changelist).status_code == 200


@pytest.mark.django_db
def test_the_duty_manager_reads_the_trail_and_nobody_edits_it(client, manager, staff):
    client.post("/accounts/login/", {"username": "staff", "password": "wrong"}, REMOTE_ADDR=OFFICE)
    client.force_login(manager)
    page = client.get(reverse("admin:security_securityevent_changelist")).content.decode()
    assert "Failed login" in page
    assert OFFICE in page
    event = SecurityEvent.objects.get(kind="login_failed")
    assert client.get(reverse("admin:security_securityevent_change", args=[event.pk])).status_code == 200
    assert client.post(reverse("admin:security_securityevent_delete", args=[event.pk]), {"post": "yes"}).status_code \
        == 403
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert SecurityEvent.objects.filter(kind="login_failed").count() == 1
    assert User.objects.filter(username="staff").exists()
