"""Brute force on the login form: after repeated failures an account is locked for the address that failed
(django-axes), with a message in the user's language, until the cool-off ends or the duty manager unlocks it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

ATTACKER = "198.51.100.7"
OFFICE = "203.0.113.20"


def login(client, username, password, *, address=ATTACKER, **headers):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address,
                       **headers)


@pytest.fixture
def locked(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for attempt in range(4):
        response = login(client, "staff", f"guess-{attempt}")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    # The fifth failure locks the account for this address.
    assert login(client, "staff", "guess-4").status_code == 429
    return staff


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_for_that_address_even_with_the_right_password(client, locked):
    response = login(client, "staff", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins for this account from your address. Try again in 15 minutes" in page
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lockout_page_speaks_arabic(client, locked):
    response = login(client, "staff", PASSWORD, HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 429
    assert 'dir="rtl"' in response.content.decode()
    assert "محاولات دخول فاشلة كثيرة" in response.content.decode()


@pytest.mark.django_db
def test_the_owner_still_logs_in_from_elsewhere_and_others_from_that_address(client, locked, technician):
    assert login(client, "staff", PASSWORD, address=OFFICE).status_code == 302
    client.logout()
    assert login(client, "tech", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_protected_too(client, locked):
    response = client.post("/admin/login/", {"username": "staff", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_duty_manager_unlocks_the_account_in_the_admin(client, locked):
    manager = UserFactory(username="duty-manager", is_staff=True, is_superuser=True)
    client.force_login(manager)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = client.get(changelist).content.decode()
    assert 'value="unlock"' in page
    attempts = list(AccessAttempt.objects.filter(username="staff").values_list("pk", flat=True))
    response = client.post(changelist, {"action": "unlock", "_selected_action": attempts}, follow=True)
    assert "Unlocked: 1." in response.content.decode()
    client.logout()
    assert login(client, "staff", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(client, staff, settings):
    settings.HELPDESK_BEHIND_PROXY = True
    settings.AXES_FAILURE_LIMIT = 2
    for forged in ("10.0.0.1", "10.0.0.2"):
        login(client, "staff", "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{forged}, {ATTACKER}")
    # The client forges the first entries; the proxy's own entry is what counts.
    response = login(client, "staff", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.3, {ATTACKER}")
    assert response.status_code == 429
    response = login(client, "staff", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=OFFICE)
    assert response.status_code == 302
