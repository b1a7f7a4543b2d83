"""The agency's hotline code and PIN, set by an administrator: the PIN is stored hashed and never shown again."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.factories import AgencyFactory
from tickets.models import Agency


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.gov.qa", "a-long-admin-password")
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_an_administrator_sets_a_hotline_code_and_pin_which_is_stored_hashed(admin_client):
    agency = AgencyFactory(code="mm", name_en="Ministry of Municipality", name_ar="وزارة البلدية")
    form = {
        "code": "mm",
        "name_en": agency.name_en,
        "name_ar": agency.name_ar,
        "active": "on",
        "hotline_code": "4321",
        "new_hotline_pin": "2468",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/tickets/agency/{agency.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    agency.refresh_from_db()
    assert agency.hotline_code == "4321"
    assert "2468" not in agency.hotline_pin
    assert agency.check_hotline_pin("2468")
    assert not agency.check_hotline_pin("2469")

    page = admin_client.get(f"/admin/tickets/agency/{agency.pk}/change/").content.decode()
    assert "2468" not in page and agency.hotline_pin not in page

    del form["new_hotline_pin"]
    admin_client.post(f"/admin/tickets/agency/{agency.pk}/change/", form)
    agency.refresh_from_db()
    assert agency.check_hotline_pin("2468")  # an empty PIN field keeps the PIN


@pytest.mark.django_db
def test_a_pin_or_code_that_is_not_digits_is_refused(admin_client):
    agency = AgencyFactory(code="mm")
    form = {
        "code": "mm", "name_en": "M", "name_ar": "م", "active": "on", "hotline_code": "12a4",
        "new_hotline_pin": "12", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/tickets/agency/{agency.pk}/change/", form)
    assert response.status_code == 200
    assert "Enter 3 to 8 digits." in response.content.decode()
    assert "Enter 4 to 8 digits." in response.content.decode()
    assert Agency.objects.get(pk=agency.pk).hotline_code is None


def test_an_agency_without_a_pin_accepts_none():
    assert not Agency(hotline_pin="").check_hotline_pin("")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", ["hotline/hotlinecall/", "hotline/callrecording/", "hotline/inboundsms/", "hotline/phonepreference/"]
)
def test_the_hotline_records_are_listed_read_only_in_the_admin(admin_client, page):
    response = admin_client.get(f"/admin/{page}")
    assert response.status_code == 200
    assert admin_client.get(f"/admin/{page}add/").status_code == 403
