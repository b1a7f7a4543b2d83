"""Rotas, overrides and contact profiles configured in the admin, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from escalation.models import ContactProfile, OnCallOverride, Rotation
from tests.factories import UserFactory, rotation_of


@pytest.fixture
def manager_client(client, db):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    return client


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def profile_form(user, **values) -> dict:
    return {"user": user.pk, "mobile": "", "language": "ar", "page_by_sms": "on", **values}


@pytest.mark.django_db
def test_changelists_and_change_pages_open_in_both_languages(manager_client, team, technician, other_technician):
    rotation = rotation_of(team, [technician, other_technician], length="days", length_days=3)
    override = OnCallOverride.objects.create(
        team=team,
        layer="secondary",
        user=technician,
        starts_at=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC),
    )
    profile = ContactProfile.objects.create(user=technician, mobile="+97455123456")
    for obj in (rotation, override, profile):
        assert manager_client.get(admin_url(type(obj), "change", obj.pk)).status_code == 200
    english = manager_client.get(admin_url(Rotation, "changelist")).content.decode()
    assert "every 3 days" in english
    arabic = manager_client.get(admin_url(Rotation, "changelist"), headers={"accept-language": "ar"}).content.decode()
    assert "جداول المناوبة" in arabic
    assert "كل 3 أيام" in arabic
    assert "الأساسي" in arabic
    assert manager_client.get(admin_url(OnCallOverride, "changelist")).status_code == 200
    assert manager_client.get(admin_url(ContactProfile, "changelist")).status_code == 200


@pytest.mark.django_db
def test_a_mobile_number_is_stored_in_e164_whatever_its_writing(manager_client, technician):
    response = manager_client.post(admin_url(ContactProfile, "add"), profile_form(technician, mobile="00974 5512 3456"))
    assert response.status_code == 302
    assert ContactProfile.objects.get(user=technician).mobile == "+97455123456"


@pytest.mark.django_db
def test_an_invalid_or_taken_mobile_number_is_refused(manager_client, technician, other_technician):
    response = manager_client.post(
        admin_url(ContactProfile, "add"), profile_form(technician, mobile="1234"), headers={"accept-language": "ar"}
    )
    assert response.status_code == 200
    assert "أدخل رقم هاتف صحيحًا" in response.content.decode()
    assert not ContactProfile.objects.exists()

    ContactProfile.objects.create(user=technician, mobile="+97455123456")
    response = manager_client.post(admin_url(ContactProfile, "add"), profile_form(other_technician, mobile="5512 3456"))
    assert response.status_code == 200
    assert "Another person already has this mobile number." in response.content.decode()
    assert not ContactProfile.objects.filter(user=other_technician).exists()


@pytest.mark.django_db
def test_a_number_written_any_way_finds_its_profile(manager_client, technician, other_technician):
    ContactProfile.objects.create(user=technician, mobile="+97455123456")
    ContactProfile.objects.create(user=other_technician, mobile="+97455000111")
    html = manager_client.get(admin_url(ContactProfile, "changelist"), {"q": "5512 3456"}).content.decode()
    assert "+97455123456" in html
    assert "+97455000111" not in html


@pytest.mark.django_db
def test_every_n_days_needs_the_number_of_days(manager_client, team):
    form = {
        "team": team.pk,
        "layer": "primary",
        "starts_on": "2026-03-01",
        "handoff_time": "08:00",
        "time_zone": "Asia/Qatar",
        "length": "days",
        "length_days": "",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }
    response = manager_client.post(admin_url(Rotation, "add"), form)
    assert response.status_code == 200
    assert "Give the number of days each shift lasts." in response.content.decode()
    response = manager_client.post(admin_url(Rotation, "add"), {**form, "time_zone": "Mars/Olympus_Mons"})
    assert "is not a time zone name" in response.content.decode()
    assert not Rotation.objects.exists()

    assert manager_client.post(admin_url(Rotation, "add"), {**form, "length_days": "4"}).status_code == 302
    assert Rotation.objects.get().shift_days == 4


@pytest.mark.django_db
def test_the_revoke_action_replaces_calendar_links(manager_client, technician, other_technician):
    first = ContactProfile.objects.create(user=technician)
    second = ContactProfile.objects.create(user=other_technician)
    response = manager_client.post(
        admin_url(ContactProfile, "changelist"),
        {"action": "regenerate_calendar_token", "_selected_action": [first.pk]},
        follow=True,
    )
    assert "1 calendar link replaced" in response.content.decode()
    first_after = ContactProfile.objects.get(pk=first.pk)
    assert first_after.ics_token != first.ics_token
    assert ContactProfile.objects.get(pk=second.pk).ics_token == second.ics_token
    assert manager_client.get(f"/oncall/{first.ics_token}.ics").status_code == 404
    assert manager_client.get(f"/oncall/{first_after.ics_token}.ics").status_code == 200
